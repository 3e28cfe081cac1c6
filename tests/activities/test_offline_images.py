"""Air-gapped builds: the base image is Debian made here, and packages come from the host.

The README: the base image is built from a Debian mirror with debootstrap (minbase plus
python3, venv and CA certificates) and `docker import`; inside a build, `pip install
--no-index` reads only the wheelhouse the worker filled on the host; generated
Dockerfiles take the base image as a build argument whose default is the official
`python:3.12-slim`. The base image checked is the one on this machine's engine (made
by `shipmate doctor --fix`); the install runs the generated Dockerfile's own install
step in a container of that image with no network at all.
"""

from __future__ import annotations

import re

from activities import images
from activities.scaffold.generator import render_service, write_service
from understanding import parse_request


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments left out."""
    joined = re.sub(r"\\\n\s*", " ", dockerfile)
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def test_generated_dockerfiles_take_the_base_image_defaulting_to_python_3_12_slim():
    for request in ("build a todo api", "build an orders api with postgresql and jwt auth"):
        steps = instructions(render_service(parse_request(request).spec)["Dockerfile"])
        first_from = next(i for i, (word, _) in enumerate(steps) if word == "FROM")
        args = dict(a.split("=", 1) for word, a in steps[:first_from] if word == "ARG")
        assert args == {"BASE_IMAGE": "python:3.12-slim"}, request
        stages: list[str] = []
        for word, rest in steps:
            if word == "FROM":
                image, *named = rest.split()
                assert image == "${BASE_IMAGE}" or image in stages, (request, rest)
                stages.append(named[-1])
        assert "runtime" in stages and "test-deps" in stages


def test_the_base_image_is_debootstrapped_debian_imported_and_never_pulled(settings, docker_ready):
    engine = images.docker_client(settings)
    image = engine.images.get(settings.base_image)
    assert image.attrs["RepoDigests"] == []  # never came from (or went to) a registry
    (layer,) = image.history()  # one file system, as `docker import` makes it
    assert layer["Comment"] == "Imported from -" and not layer["CreatedBy"]
    assert image.attrs["Config"]["Cmd"] == ["python3"]
    assert "LANG=C.UTF-8" in image.attrs["Config"]["Env"]

    script = (
        "cat /etc/debian_version; dpkg-query -W -f='${Package}\\n'; "
        "ls /var/lib/apt/lists | grep -c _ || true; "
        "python3 -c 'import venv, ssl; print(ssl.get_default_verify_paths().cafile)'"
    )
    out = engine.containers.run(
        settings.base_image, ["sh", "-c", script], network_mode="none", remove=True
    ).decode()
    version, *rest = out.splitlines()
    assert version.startswith("12.")  # bookworm
    packages, lists, cafile = set(rest[:-2]), rest[-2], rest[-1]
    assert {"python3", "python3-venv", "ca-certificates"} <= packages
    assert not {"cron", "iproute2", "whiptail"} & packages  # minbase: no "important" ones
    assert lists == "0"  # apt's caches went before the import
    assert cafile == "/usr/lib/ssl/cert.pem"


def test_image_packages_install_from_the_host_wheelhouse_with_no_network(
    settings, docker_ready, tmp_path
):
    project = tmp_path / "todo"
    write_service(parse_request("build a todo api").spec, project)
    images.prepare_build_context(settings, project)
    assert list((project / "wheelhouse").glob("*.whl"))  # filled on the host
    steps = instructions((project / "Dockerfile").read_text())
    deps = steps[next(i for i, (w, rest) in enumerate(steps) if rest.endswith("AS deps")) :]
    install = next(rest for word, rest in deps if word == "RUN" and "pip install" in rest)
    assert "--no-index" in install

    engine = images.docker_client(settings)
    container = engine.containers.run(
        settings.base_image,
        [
            "sh",
            "-c",
            f"python3 -m venv /opt/venv && cd /ctx && {install} && "
            "/opt/venv/bin/python -c 'import fastapi, sqlalchemy, alembic, uvicorn'",
        ],
        network_mode="none",
        volumes={
            str(project): {"bind": "/ctx", "mode": "ro"},
            str(project / "wheelhouse"): {"bind": "/wheelhouse", "mode": "ro"},
        },
        # an index pip would be told about if the step ever looked past the wheelhouse
        environment={"PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_RETRIES": "0"},
        detach=True,
    )
    try:
        exit_code = container.wait(timeout=600)["StatusCode"]
        out = container.logs().decode()
    finally:
        container.remove(force=True)
    assert exit_code == 0, out[-3000:]
    assert "Looking in links: /wheelhouse" in out
    assert "Looking in indexes" not in out and "127.0.0.1:9" not in out
