"""What a review uploads to its thread: review.md, review.sarif, the fixes that apply
together, and, when asked about structure, the architecture notes and their pictures."""

from __future__ import annotations

import hashlib

from activities.review import architecture
from activities.review.sarif import to_markdown
from workflows.review_models import Finding

Upload = tuple[str, bytes, str]  # file name, bytes, title


def architecture_notes(sarif: dict) -> tuple[str, list[Upload], str]:
    """(the review.md section, the pictures or their Graphviz sources, a card summary)."""
    found = architecture.graphs(sarif)
    tables = found.get("tables", architecture.Graph())
    proposed = architecture.boundaries(tables)
    uploads: list[Upload] = []
    for name, graph, clusters in (
        ("tables", tables, proposed),
        ("modules", found.get("modules", architecture.Graph()), None),
    ):
        if not graph.nodes:
            continue
        source = architecture.dot_source(graph, name, clusters)
        picture = architecture.draw(source)
        if picture is None:  # no Graphviz on this worker: the source, for any viewer
            uploads.append((f"{name}.dot", source.encode(), f"The {name}, as Graphviz source"))
        else:
            uploads.append((f"{name}.png", picture, f"The {name} and what refers to what"))
    notes = architecture.notes(found, [name for name, _, _ in uploads])
    if len(proposed) > 1:
        summary = "Proposed services: " + "; ".join(
            f"{b.name} ({', '.join(b.tables)})" for b in proposed
        )
    elif proposed:
        summary = "One service is right for this data model: its tables hang together."
    else:
        summary = "No database models were found to draw service boundaries from."
    return notes, uploads, summary


def uploads(
    findings: list[Finding],
    label: str,
    sarif: str,
    fixes: list[str],
    notes: str = "",
    pictures: list[Upload] = (),
    *,
    review: str,
) -> list[Upload]:
    """The files to share; each title names the review (`review`, its id), so a retry
    finds what it shared already and a second review of the same code shares its own."""
    report = to_markdown(findings, label) + (f"\n\n{notes}\n" if notes else "")
    files: list[Upload] = [("review.md", report.encode(), f"Review of {label}")]
    if sarif:
        files.append(("review.sarif", sarif.encode(), f"SARIF of {label}"))
    if fixes:
        patch = "".join(p if p.endswith("\n") else p + "\n" for p in fixes)
        files.append(("review-fixes.patch", patch.encode(), f"Fixes for {label}"))
    mark = hashlib.sha256(review.encode()).hexdigest()[:6]
    return [(name, data, f"{title} ({mark})") for name, data, title in [*files, *pictures]]
