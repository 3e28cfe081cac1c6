"""Fixes as unified diffs that `git apply` takes (a/ and b/ paths, exact context)."""

from __future__ import annotations

import ast
import difflib
import re

MAX_LINE = 100  # a patched line longer than this is laid out one argument a line


def unified_diff(path: str, old: str, new: str) -> str:
    """The diff from old to new text of one file; "" when they are the same."""
    if old == new:
        return ""
    before, after = _lines(old), _lines(new)
    out = []
    for line in difflib.unified_diff(before, after, f"a/{path}", f"b/{path}", n=3):
        if not line.endswith("\n"):  # the file's last line has no newline: git says so
            line += "\n\\ No newline at end of file\n"
        out.append(line)
    return "".join(out)


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _offset(lines: list[str], line: int, column: int) -> int:
    """Character offset of (1-based line, 0-based UTF-8 byte column) in the text."""
    start = sum(len(text) for text in lines[: line - 1])
    encoded = lines[line - 1].encode("utf-8")[:column]
    return start + len(encoded.decode("utf-8", errors="ignore"))


def add_keyword(path: str, text: str, call: ast.Call, keyword: str) -> str:
    """The patch adding `keyword` (e.g. "timeout=10") as the call's last argument, in the
    call's own layout: one argument a line when it has that, or would grow too long."""
    if any(kw.arg is None for kw in call.keywords) or call.end_lineno is None:
        return ""  # **kwargs may already carry it
    lines = _lines(text)
    arguments = [*call.args, *call.keywords]
    if not arguments:
        at = _offset(lines, call.end_lineno, (call.end_col_offset or 1) - 1)
        if text[at : at + 1] != ")":
            return ""
        return unified_diff(path, text, text[:at] + keyword + text[at:])
    last = max(arguments, key=lambda node: (node.end_lineno or 0, node.end_col_offset or 0))
    at = _offset(lines, last.end_lineno or 1, last.end_col_offset or 0)
    if call.lineno == call.end_lineno:
        segments = [_segment(text, lines, node) for node in arguments]
        return replace_segment(
            path, text, call, call_source(text, lines, call, [*segments, keyword])
        )
    if (last.end_lineno or 0) < call.end_lineno and text[at : at + 1] == ",":
        indent = re.match(r"\s*", lines[(last.end_lineno or 1) - 1]).group()
        return unified_diff(path, text, text[: at + 1] + f"\n{indent}{keyword}," + text[at + 1 :])
    return unified_diff(path, text, text[:at] + f", {keyword}" + text[at:])


def _segment(text: str, lines: list[str], node: ast.AST) -> str:
    start = _offset(lines, node.lineno, node.col_offset)
    end = _offset(lines, node.end_lineno or node.lineno, node.end_col_offset or 0)
    return text[start:end]  # a keyword's node spans its `name=` too


def call_source(text: str, lines: list[str], call: ast.Call, arguments: list[str]) -> str:
    """`f(a, b)` on one line, or one argument a line when the line would pass the limit."""
    callee = _segment(text, lines, call.func)
    flat = f"{callee}({', '.join(arguments)})"
    line = lines[call.lineno - 1]
    width = len(line.rstrip("\n")) - (call.end_col_offset or 0) + call.col_offset + len(flat)
    if width <= MAX_LINE:
        return flat
    indent = re.match(r"\s*", line).group()
    inner = "".join(f"{indent}    {argument},\n" for argument in arguments)
    return f"{callee}(\n{inner}{indent})"


def replace_segment(path: str, text: str, node: ast.AST, new_source: str) -> str:
    """The patch replacing one node's source (on one line) with new_source."""
    if node.lineno != node.end_lineno:
        return ""
    lines = _lines(text)
    start = _offset(lines, node.lineno, node.col_offset)
    end = _offset(lines, node.end_lineno, node.end_col_offset or 0)
    return unified_diff(path, text, text[:start] + new_source + text[end:])
