"""A small FastAPI + SQLAlchemy orders service with seven bugs a review must find, and
where each one is: (the reviewer's rule family, file, line).

The lines are found by searching the files for a statement of each bug, so editing the
service moves them without anyone recounting. Nothing in the service marks its bugs.
"""

from __future__ import annotations

from pathlib import Path

SEEDED_DIR = Path(__file__).resolve().parent / "seeded_bugs"

# (rule family, file, a text that occurs on the bug's line and nowhere else in the file)
_MARKERS = [
    ("sql-from-string", "app/routes/customers.py", 'text(f"SELECT'),
    ("hardcoded-secret", "app/security.py", 'SECRET_KEY = "'),
    ("write-without-auth", "app/routes/orders.py", "def delete_order("),
    ("n-plus-one", "app/routes/orders.py", "order.customer.name"),
    ("unindexed-column", "app/models.py", "customer_id: Mapped[int] = mapped_column("),
    ("swallowed-exception", "app/routes/customers.py", "except Exception:"),
    ("http-without-timeout", "app/clients.py", "requests.post("),
]


def _line(path: str, marker: str) -> int:
    lines = (SEEDED_DIR / path).read_text().splitlines()
    found = [number for number, text in enumerate(lines, start=1) if marker in text]
    if len(found) != 1:
        raise RuntimeError(f"{marker!r} is on {len(found)} lines of {path}, not one")
    return found[0]


SEEDED: list[tuple[str, str, int]] = [
    (family, path, _line(path, marker)) for family, path, marker in _MARKERS
]
