"""Architecture notes, where a review is asked about structure ("how should we split
orders-api into services?"): the tables and modules drawn as pictures, and service
boundaries proposed from the data model with the APIs and events between them.

The graphs come from the analyzer (SARIF `run.graphs`). Boundaries are the table
graph's communities by modularity (networkx's greedy method: tables that refer to each
other more than to the rest stay together), with a child table kept beside the parent
it is named after (order_lines with orders). A foreign key that crosses a boundary
becomes a lookup through the owner's API and an event the owner publishes, since two
services do not share a database. Pictures are drawn by Graphviz's `dot` when the
worker has it; otherwise the `.dot` source is uploaded and the notes say so.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field

import networkx as nx
from networkx.algorithms.community import greedy_modularity_communities

DOT_SECONDS = 20


@dataclass
class Graph:
    nodes: dict[str, str] = field(default_factory=dict)  # id -> label
    edges: list[tuple[str, str, str]] = field(default_factory=list)  # from, to, label


@dataclass
class Boundary:
    name: str
    tables: list[str]


def graphs(sarif: dict) -> dict[str, Graph]:
    """The analyzer's graphs by their description ('tables', 'modules')."""
    found: dict[str, Graph] = {}
    for run in sarif.get("runs", []):
        for graph in run.get("graphs", []):
            made = Graph(
                nodes={n["id"]: n.get("label", {}).get("text", n["id"]) for n in graph["nodes"]},
                edges=[
                    (e["sourceNodeId"], e["targetNodeId"], e.get("label", {}).get("text", ""))
                    for e in graph.get("edges", [])
                ],
            )
            found[graph.get("description", {}).get("text", "graph")] = made
    return found


def boundaries(tables: Graph) -> list[Boundary]:
    """Proposed services, largest first; one boundary when the tables all hang together."""
    graph = nx.Graph()
    graph.add_nodes_from(tables.nodes)
    graph.add_edges_from((a, b) for a, b, _ in tables.edges if a != b)
    if graph.number_of_edges() == 0:
        return [Boundary(_name(sorted(tables.nodes)), sorted(tables.nodes))] if tables.nodes else []
    groups = [set(group) for group in greedy_modularity_communities(graph)]
    for group in groups:  # a child stays with the parent it is named after
        for table in list(group):
            parent = _named_after(table, tables)
            home = next((g for g in groups if parent in g), None) if parent else None
            if home is not None and home is not group:
                group.discard(table)
                home.add(table)
    groups = [g for g in groups if g]
    return sorted(
        (
            Boundary(_name(sorted(g, key=lambda t: (-graph.degree(t), t))), sorted(g))
            for g in groups
        ),
        key=lambda b: (-len(b.tables), b.name),
    )


def crossings(tables: Graph, proposed: list[Boundary]) -> list[str]:
    """What each foreign key across two boundaries becomes."""
    owner = {table: b.name for b in proposed for table in b.tables}
    said = []
    for child, parent, column in tables.edges:
        if owner.get(child) and owner.get(parent) and owner[child] != owner[parent]:
            said.append(
                f"`{child}.{column}` → `{parent}`: {owner[child]} keeps the id only, reads "
                f"`GET /{parent}/{{id}}` from {owner[parent]}, and listens to its "
                f"`{_singular(parent)}.deleted` / `.updated` events"
            )
    return said


def notes(found: dict[str, Graph], pictures: list[str]) -> str:
    """The review.md section."""
    tables = found.get("tables", Graph())
    lines = ["## Architecture", ""]
    if pictures:
        lines += [f"Drawn in {', '.join(pictures)}, in the thread.", ""]
    if not tables.nodes:
        return "\n".join(lines + ["No database models were found to draw boundaries from."])
    proposed = boundaries(tables)
    if len(proposed) == 1:
        lines.append(
            f"The {len(tables.nodes)} tables hang together: one service is right for this data "
            "model; splitting it would turn its joins into calls between services."
        )
        return "\n".join(lines)
    lines.append(f"Proposed services ({len(proposed)}), from how the tables refer to each other:")
    lines += [f"- **{b.name}**: {', '.join(f'`{t}`' for t in b.tables)}" for b in proposed]
    crossing = crossings(tables, proposed)
    if crossing:
        lines += ["", "Between them (no shared database):"] + [f"- {c}" for c in crossing]
    return "\n".join(lines)


def dot_source(graph: Graph, title: str, proposed: list[Boundary] | None = None) -> str:
    """Graphviz source; tables are clustered by the proposed boundary. Every name comes
    from the reviewed code, so each is quoted: it can only ever be a name."""
    q = _quoted
    out = [f'digraph "{q(title)}" {{', "  rankdir=LR;", '  node [shape=box, fontname="Helvetica"];']
    placed: set[str] = set()
    for number, boundary in enumerate(proposed or []):
        out.append(f'  subgraph cluster_{number} {{ label="{q(boundary.name)}"; style=rounded;')
        out += [f'    "{q(t)}" [label="{q(graph.nodes.get(t, t))}"];' for t in boundary.tables]
        out.append("  }")
        placed.update(boundary.tables)
    out += [
        f'  "{q(n)}" [label="{q(label)}"];' for n, label in graph.nodes.items() if n not in placed
    ]
    out += [f'  "{q(a)}" -> "{q(b)}" [label="{q(label)}"];' for a, b, label in graph.edges]
    return "\n".join([*out, "}"]) + "\n"


def draw(source: str) -> bytes | None:
    """A PNG of the Graphviz source; None when `dot` is not on this worker or fails."""
    dot = shutil.which("dot")
    if dot is None:
        return None
    try:
        made = subprocess.run(
            [dot, "-Tpng"], input=source.encode(), capture_output=True, timeout=DOT_SECONDS
        )
    except subprocess.TimeoutExpired:
        return None
    return made.stdout if made.returncode == 0 and made.stdout else None


def _named_after(table: str, tables: Graph) -> str | None:
    """'order_lines' is named after 'orders' (when it refers to it)."""
    parents = [parent for child, parent, _ in tables.edges if child == table]
    return next((p for p in parents if table.startswith(_singular(p) + "_")), None)


def _name(tables: list[str]) -> str:
    return f"{_singular(tables[0]).replace('_', '-')}-service"


def _singular(table: str) -> str:
    return table[:-1] if table.endswith("s") and not table.endswith("ss") else table


def _quoted(text: str) -> str:
    """Inside a Graphviz double-quoted string: backslashes and quotes escaped, one line."""
    return " ".join(text.split()).replace("\\", "\\\\").replace('"', '\\"')
