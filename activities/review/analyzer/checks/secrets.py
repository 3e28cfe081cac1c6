"""Secrets in code: a password, token or key written into the source is in every clone,
every image layer and every backup of the repository, and cannot be rotated without a
release. Names that say "secret" holding a real-looking value, and the shapes of known
keys (AWS, OpenAI, Stripe, GitHub, Slack, private keys) anywhere; in tests (whose fixture
passwords are meant to be there) only the known shapes."""

from __future__ import annotations

import ast
import re

from ..sarif_runs import Issue
from ..source import Project
from .common import string_value

SECRET_NAME = re.compile(
    r"(pass(word|wd)?|pwd|secret|token|api_?key|apikey|private_?key|access_?key|auth_?key"
    r"|signing_?key|credentials?)(_?(key|value|str))?$",
    re.I,
)
NOT_A_SECRET_NAME = re.compile(
    r"(_url|_uri|_path|_file|_dir|_header|_name|_field|_type|_env|_var|_prefix|_length"
    r"|_len|_min|_max|_pattern|_regex|_param|_kind|_label|_id)$",
    re.I,
)
PLACEHOLDERS = re.compile(
    r"^(|x+|\*+|\.+|-+|none|null|changeme|change[-_ ]?me.*|secret|password|passw0rd|token"
    r"|your[-_ ].*|<.*>|\{.*\}|\$\{.*\}|\$[A-Z_]+|%\(.*\)s|example.*|dummy.*|fake.*|test.*"
    r"|placeholder.*|todo|tbd|redacted)$",
    re.I,
)
ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]{2,}$")
WORDS = re.compile(r"^_*([a-z]+([-_.][a-z]+)+|[A-Z]+([-_][A-Z]+)+|[A-Za-z]+)$")
STAND_IN = re.compile(
    r"(example|dummy|fake|sample|placeholder|emulator|changeme|not-?a-?secret)", re.I
)
REGEX = re.compile(r"(\(\?|\[\^|\\[sdwb]|\][*+?]|\[[A-Za-z0-9]-[A-Za-z0-9])")
KEY_SHAPES = {
    "an AWS access key id": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "an OpenAI API key": re.compile(r"\bsk-(proj-)?(?=[\w-]*\d)[\w-]{20,}"),
    "a Stripe secret key": re.compile(r"\b(sk|rk)_live_[A-Za-z0-9]{16,}"),
    "a GitHub token": re.compile(r"\b(ghp|gho|ghs|ghu|github_pat)_[A-Za-z0-9_]{30,}"),
    "a Slack token": re.compile(r"\bxox[abposr]-\d{6,}-[A-Za-z0-9-]{10,}"),
    "a Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "a private key": re.compile(r"-----BEGIN ((RSA|EC|DSA|OPENSSH|ENCRYPTED) )?PRIVATE KEY-----"),
}
WHY = (
    "Anyone who can read the repository, an image built from it or a copy of either has "
    "this secret, and changing it needs a new release: read it from the environment or a "
    "secret manager instead, and rotate the one that leaked."
)


def check(project: Project) -> list[Issue]:
    issues: list[Issue] = []
    for module in project.modules:
        seen: set[int] = set()
        for name, value, node in [] if module.is_test else _named_values(module.tree):
            what = _known_shape(value) or (
                f"`{name}` set to a literal" if _looks_secret(name, value) else ""
            )
            if what and node.lineno not in seen:
                seen.add(node.lineno)
                issues.append(_issue(module.path, node, what, module.is_test))
        for node in ast.walk(module.tree):
            value = string_value(node)
            shape = _known_shape(value) if value else ""
            if shape and node.lineno not in seen:
                seen.add(node.lineno)
                issues.append(_issue(module.path, node, shape, module.is_test))
    return issues


def _issue(path: str, node: ast.AST, what: str, in_test: bool) -> Issue:
    return Issue(
        rule="hardcoded-secret",
        severity="low" if in_test else "high",
        path=path,
        line=node.lineno,
        column=node.col_offset + 1,
        message=f"A secret is written into the code: {what}",
        why=WHY,
    )


def _named_values(tree: ast.Module):
    """(name, string value, node) for assignments, keyword arguments and dict entries."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            value = string_value(node.value)
            for target in node.targets:
                name = _target_name(target)
                if name and value is not None:
                    yield name, value, node
        elif isinstance(node, ast.AnnAssign | ast.NamedExpr):
            name, value = _target_name(node.target), string_value(node.value)
            if name and value is not None:
                yield name, value, node
        elif isinstance(node, ast.Call):
            for kw in node.keywords:
                value = string_value(kw.value)
                if kw.arg and value is not None:
                    yield kw.arg, value, kw.value
        elif isinstance(node, ast.Dict):
            for key, item in zip(node.keys, node.values, strict=True):
                name, value = string_value(key), string_value(item)
                if name and value is not None:
                    yield name, value, item
        elif isinstance(node, ast.Compare) and len(node.comparators) == 1:
            name = _target_name(node.left)  # `if password == "hunter2-admin":`
            value = string_value(node.comparators[0])
            if name and value is not None and isinstance(node.ops[0], ast.Eq):
                yield name, value, node


def _target_name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):
        return string_value(node.slice) or ""
    return ""


def _looks_secret(name: str, value: str) -> bool:
    if not SECRET_NAME.search(name) or NOT_A_SECRET_NAME.search(name):
        return False
    value = value.strip()
    if len(value) < 8 or len(value) > 500 or PLACEHOLDERS.match(value):
        return False
    if ENV_NAME.match(value) or value.startswith(("/", "http://", "https://", "./")):
        return False  # the name of a variable, a path or a URL
    if any(ch.isspace() for ch in value) or len(set(value)) < 5:
        return False  # a sentence (a help text) or "aaaaaaaa"
    if WORDS.match(value):
        return False  # `next_token`, `AWSSecretKey`, `no-password-required`: labels
    if STAND_IN.search(value) or REGEX.search(value):
        return False  # says it is a stand-in, or is a pattern that finds secrets
    return value.lower() not in name.lower()


def _known_shape(value: str | None) -> str:
    if not value:
        return ""
    if "EXAMPLE" in value.upper() or STAND_IN.search(value):
        return ""  # AKIAIOSFODNN7EXAMPLE is the documentation's
    return next((what for what, shape in KEY_SHAPES.items() if shape.search(value)), "")
