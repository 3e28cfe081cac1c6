"""The generated tests catch real bugs: each mutation below is a mistake a person could
make in the generated code, and the generated suite must fail on every one of them.

A suite that still passes after a mutation checks status codes, not behaviour.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.activities.test_scaffold import PYTHON, SPECS, generate

# (spec, file, the generated line, what the mistake makes of it)
MUTATIONS = {
    "an update that ignores a field": (
        "relations",
        "app/routers/order.py",
        "    values = body.model_dump(by_alias=False, exclude_unset=True)\n",
        "    values = body.model_dump(by_alias=False, exclude_unset=True)\n"
        '    values.pop("total", None)\n',
    ),
    "a create that swaps two fields": (
        "relations",
        "app/routers/customer.py",
        "    values = body.model_dump(by_alias=False)\n",
        "    values = body.model_dump(by_alias=False)\n"
        '    values["name"], values["email"] = values["email"], values["name"]\n',
    ),
    "a delete without its role check": (
        "relations",
        "app/routers/customer.py",
        '    dependencies=[Depends(require_role("admin"))],\n',
        "",
    ),
    "a delete that forgets the rows depending on it": (
        "relations",
        "app/routers/customer.py",
        "    if count := crud.count_rows(",
        "    if False and crud.count_rows(",
    ),
    "a reference that is not checked": (
        "relations",
        "app/routers/order.py",
        "def _references_exist(session: Session, values: dict) -> None:\n",
        "def _references_exist(session: Session, values: dict) -> None:\n    return\n",
    ),
    "tokens without an expiry accepted": (
        "relations",
        "app/security.py",
        'options={"require": ["exp", "sub"]}',
        "options={}",
    ),
    "no sign-in throttle": (
        "relations",
        "app/routers/auth.py",
        "    if wait := sign_ins.wait(who):\n",
        "    if wait := 0:\n",
    ),
    "an OpenID Connect token for another audience accepted": (
        "okta sign-in, graphql",
        "app/security.py",
        'options={"require": ["exp", "iss", "aud", "sub"]}',
        'options={"require": ["exp", "iss", "sub"], "verify_aud": False}',
    ),
    "an OpenID Connect token from another issuer accepted": (
        "okta sign-in, graphql",
        "app/security.py",
        "            issuer=settings.oidc_issuer,\n",
        "",
    ),
    "roles read from the wrong claim": (
        "okta sign-in, graphql",
        "app/security.py",
        'for step in settings.oidc_roles_claim.split("."):',
        'for step in ["roles"]:',
    ),
    "the issuer fetched again for every made-up key id": (
        "okta sign-in, graphql",
        "app/issuer.py",
        "REFETCH_SECONDS = 5.0",
        "REFETCH_SECONDS = 0.0",
    ),
    "a visit deleted without the vet role": (
        "okta sign-in, graphql",
        "app/routers/visit.py",
        '    dependencies=[Depends(require_role("admin", "vet"))],\n',
        "",
    ),
    "datetimes kept in the offset they came in": (
        "every type",
        "app/schemas.py",
        ", AfterValidator(_utc)]",
        "]",
    ),
    "list filters ignored": (
        "every type",
        "app/crud.py",
        "            query = query.where(getattr(model, name) == value)\n",
        "            pass\n",
    ),
    "an update the audit trail never hears of": (
        "relations",
        "app/crud.py",
        '            audit.record(session, _entity(type(row)), "updated", row.id, changed)\n',
        "            pass\n",
    ),
    "an audit trail that forgets who signed in": (
        "okta sign-in, graphql",
        "app/security.py",
        '    audit.acting_as(claims["sub"])\n',
        "",
    ),
    "an audit trail that records every field as changed": (
        "graphql on mysql",
        "app/crud.py",
        " if getattr(row, key) != before[key]]\n",
        "]\n",
    ),
    "a failed statement logged with its values": (
        "every type",
        "app/db.py",
        "        hide_parameters=True,\n",
        "",
    ),
    "an export and erasure that leave out the rows linked to the subject": (
        "relations",
        "app/privacy.py",
        '            found.setdefault("Order", {})[each.id] = each\n',
        "            continue\n",
    ),
    "an erasure that keeps the email": (
        "relations",
        "app/privacy.py",
        "        row.email = value\n",
        "        pass\n",
    ),
    "events that drop the trace of the request that wrote them": (
        "events",
        "app/events.py",
        '        "trace": tracing.carried(),\n',
        '        "trace": {},\n',
    ),
    "request log lines that cannot be found from a trace": (
        "one entity",
        "app/middleware.py",
        '        "trace_id": tracing.trace_id(),\n',
        '        "trace_id": "",\n',
    ),
    "database calls left out of the request's trace": (
        "relations",
        "app/tracing.py",
        "    SQLAlchemyInstrumentor().instrument(\n",
        "    return\n    SQLAlchemyInstrumentor().instrument(\n",
    ),
    "spans exported with the values people sent": (
        "relations",
        "app/tracing.py",
        "        return self.exporter.export([_without_values(span) for span in spans])\n",
        "        return self.exporter.export(list(spans))\n",
    ),
    "a read that answers another row": (
        "one entity",
        "app/crud.py",
        "    return session.get(model, row_id)\n",
        "    return session.get(model, row_id) or session.get(model, row_id - 1)\n",
    ),
}


@pytest.fixture(scope="module")
def projects(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("generated")
    labels = {spec for spec, *_ in MUTATIONS.values()}
    return {label: generate(SPECS[label], root / label.replace(" ", "-")) for label in labels}


@pytest.mark.parametrize("mistake", MUTATIONS)
def test_the_generated_tests_catch(mistake, projects, tmp_path):
    label, path, original, mutated = MUTATIONS[mistake]
    project = shutil.copytree(projects[label], tmp_path / "service")
    source = (project / path).read_text()
    assert source.count(original) == 1, f"{original!r} is no longer generated in {path}"
    (project / path).write_text(source.replace(original, mutated))
    result = subprocess.run(
        [PYTHON, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, f"{mistake} went unnoticed:\n{result.stdout[-1500:]}"
    assert " failed" in result.stdout.splitlines()[-1]
