"""The local OpenID Connect issuer a generated service's own tests use, started here for
Shipmate's tests: the same one the service's repository carries (tests/issuer.py), so
what is tested against is what the service's owners test against."""

from __future__ import annotations

import importlib.util
import uuid
from pathlib import Path

from activities.scaffold.generator import render_service
from workflows.spec import ServiceSpec

ISSUER_MODULE = "tests/issuer.py"


def local_issuer(project: Path):
    """The generated project's issuer, running on loopback; None for a service that keeps
    its own passwords or signs nobody in."""
    path = project / ISSUER_MODULE
    if not path.exists():
        return None
    loaded = importlib.util.spec_from_file_location(f"issuer_{uuid.uuid4().hex}", path)
    module = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(module)
    return module.LocalIssuer()


def local_issuer_for(spec: ServiceSpec, where: Path):
    """The issuer of `spec`'s repository, without writing the rest of it."""
    (where / "tests").mkdir(parents=True, exist_ok=True)
    (where / ISSUER_MODULE).write_text(render_service(spec)[ISSUER_MODULE])
    return local_issuer(where)
