"""Roles restrict what the request said they restrict (#29 item 10): "only doctors can
prescribe" is a rule the generated service enforces on REST and GraphQL, that its own
tests try for every role, and that an admin can staff with accounts of each role.

Checked as a user would, on one running service (uvicorn, real PostgreSQL): an admin
adds a doctor and a receptionist, and each tries what the request gave or kept from them.
"""

from __future__ import annotations

import httpx
import pytest

from tests.activities.test_generated_security import bearer, service_env, sign_in
from tests.activities.test_scaffold import generate, run_generated_tests, serving
from understanding import parse_request

REQUEST = (
    "a clinic api with graphql and rest: patients have name; prescriptions have patient "
    "(required), drug and dose. Only doctors can prescribe, and receptionists can delete "
    "patients"
)
PASSWORD = "a-long-password-for-staff"


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return generate(REQUEST, tmp_path_factory.mktemp("clinic") / "service")


@pytest.fixture(scope="module")
def clinic(project, database_servers):
    with database_servers.postgres_database() as url, serving(project, service_env(url)) as base:
        admin = bearer(sign_in(base))
        staff = {}
        for role in ("doctor", "receptionist"):
            added = httpx.post(
                f"{base}/auth/accounts",
                json={"username": f"a-{role}", "password": PASSWORD, "role": role},
                headers=admin,
            )
            assert added.status_code == 201, added.text
            token = httpx.post(
                f"{base}/auth/token", data={"username": f"a-{role}", "password": PASSWORD}
            )
            staff[role] = bearer(token.json()["access_token"])
        yield base, admin, staff


def test_the_request_reads_as_two_rules_the_plan_names():
    spec = parse_request(REQUEST).spec
    kept = {e.name: {a.value: r for a, r in e.permissions.items()} for e in spec.entities}
    assert kept == {"Patient": {"delete": ["receptionist"]}, "Prescription": {"create": ["doctor"]}}
    assert set(spec.roles) == {"doctor", "receptionist"}


def test_only_a_doctor_prescribes(clinic):
    base, admin, staff = clinic
    patient = httpx.post(f"{base}/patients", json={"name": "Ada"}, headers=admin).json()
    prescription = {"patient_id": patient["id"], "drug": "aspirin", "dose": "100 mg"}
    refused = httpx.post(f"{base}/prescriptions", json=prescription, headers=staff["receptionist"])
    assert refused.status_code == 403
    assert "doctor" in refused.json()["detail"]
    assert httpx.get(f"{base}/prescriptions", headers=admin).json() == []
    made = httpx.post(f"{base}/prescriptions", json=prescription, headers=staff["doctor"])
    assert made.status_code == 201, made.text
    # what the request did not restrict stays open to every signed-in account
    assert httpx.get(f"{base}/prescriptions", headers=staff["receptionist"]).status_code == 200


def test_graphql_keeps_the_same_rule(clinic):
    base, admin, staff = clinic
    patient = httpx.post(f"{base}/patients", json={"name": "Bo"}, headers=admin).json()
    mutation = {
        "query": "mutation($d: PrescriptionInput!) { create_prescription(data: $d) { id } }",
        "variables": {"d": {"patient_id": patient["id"], "drug": "ibuprofen", "dose": "1"}},
    }
    before = len(httpx.get(f"{base}/prescriptions", headers=admin).json())
    answer = httpx.post(f"{base}/graphql", json=mutation, headers=staff["receptionist"]).json()
    assert "needs role" in answer["errors"][0]["message"]
    assert len(httpx.get(f"{base}/prescriptions", headers=admin).json()) == before
    answer = httpx.post(f"{base}/graphql", json=mutation, headers=staff["doctor"]).json()
    assert "errors" not in answer, answer


def test_a_receptionist_deletes_patients_and_a_doctor_does_not(clinic):
    base, admin, staff = clinic
    patient = httpx.post(f"{base}/patients", json={"name": "Cy"}, headers=admin).json()
    refused = httpx.delete(f"{base}/patients/{patient['id']}", headers=staff["doctor"])
    assert refused.status_code == 403
    assert httpx.get(f"{base}/patients/{patient['id']}", headers=admin).status_code == 200
    gone = httpx.delete(f"{base}/patients/{patient['id']}", headers=staff["receptionist"])
    assert gone.status_code == 204


def test_only_an_admin_adds_accounts(clinic):
    base, _, staff = clinic
    forged = {"username": "self-made", "password": PASSWORD, "role": "admin"}
    refused = httpx.post(f"{base}/auth/accounts", json=forged, headers=staff["doctor"])
    assert refused.status_code == 403
    tried = httpx.post(f"{base}/auth/token", data={"username": "self-made", "password": PASSWORD})
    assert tried.status_code == 401


def test_the_services_own_tests_try_every_role_against_each_rule(project):
    tests = (project / "tests/test_roles.py").read_text()
    for name in (
        "test_create_prescription_is_refused_to",
        "test_create_prescription_is_allowed_to",
        "test_create_prescription_is_refused_the_same_way_in_graphql",
        "test_delete_patient_is_refused_to",
        "test_delete_patient_is_allowed_to",
        "test_delete_prescription_is_refused_to",
    ):
        assert f"def {name}(" in tests
    summary = run_generated_tests(project)
    assert "passed" in summary and "failed" not in summary
