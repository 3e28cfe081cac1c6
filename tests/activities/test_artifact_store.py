"""The artifact store: what one worker scaffolds, another fetches, byte for byte.

Against the real stores: a directory, and an S3 bucket on moto in server mode. Each
"worker" below has its own state dir, as two machines would.
"""

from __future__ import annotations

import os
import uuid
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest

from activities import artifacts


def _repository(root):
    (root / "app").mkdir(parents=True)
    (root / "app" / "main.py").write_text("print('hello')\n")
    (root / "run.sh").write_text("#!/bin/sh\nexec python app/main.py\n")
    (root / "run.sh").chmod(0o755)
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (root / "wheelhouse").mkdir()
    (root / "wheelhouse" / "big.whl").write_bytes(b"x" * 1000)
    return root


def _tree(root):
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(params=["directory", "s3"])
def store(request, settings, tmp_path):
    if request.param == "directory":
        return str(tmp_path / "shared")
    bucket = f"shipmate-artifacts-{uuid.uuid4().hex[:8]}"
    boto3.client(
        "s3", endpoint_url=settings.aws_endpoint_url, region_name=settings.aws_region
    ).create_bucket(Bucket=bucket)
    return f"s3://{bucket}/team"


def _worker(settings, tmp_path, name, store):
    return settings.model_copy(update={"state_dir": tmp_path / name, "artifact_store": store})


def test_another_worker_gets_the_same_files_ready_to_build(settings, tmp_path, store):
    first, second = (_worker(settings, tmp_path, n, store) for n in ("first", "second"))
    repo = _repository(tmp_path / "first" / "services" / "todo")
    key = artifacts.save(first, "todo", repo)
    assert key.startswith("todo/") and key.endswith(".tar.gz")

    prepared = []
    copy = artifacts.checkout(second, key, prepared.append)

    assert str(copy).startswith(str(tmp_path / "second"))
    assert _tree(copy) == {"app/main.py": b"print('hello')\n", "run.sh": _tree(repo)["run.sh"]}
    assert os.access(copy / "run.sh", os.X_OK)
    assert len(prepared) == 1  # made ready once, before it was moved into place
    assert artifacts.checkout(second, key, prepared.append) == copy
    assert len(prepared) == 1


def test_the_same_files_get_the_same_key_whenever_they_are_written(settings, tmp_path):
    worker = _worker(settings, tmp_path, "w", str(tmp_path / "shared"))
    one = _repository(tmp_path / "one")
    key = artifacts.save(worker, "todo", one)
    os.utime(one / "app" / "main.py", (1, 1))  # a rerun of the stage writes them later
    assert artifacts.save(worker, "todo", one) == key
    (one / "app" / "main.py").write_text("print('changed')\n")
    assert artifacts.save(worker, "todo", one) != key


def test_a_copy_that_does_not_match_its_name_is_refused(settings, tmp_path):
    worker = _worker(settings, tmp_path, "w", str(tmp_path / "shared"))
    key = artifacts.save(worker, "todo", _repository(tmp_path / "repo"))
    (tmp_path / "shared" / key).write_bytes(b"not what was stored")
    with pytest.raises(artifacts.ArtifactMissing, match="does not match its hash"):
        artifacts.checkout(worker, key, lambda path: None)


def test_a_missing_artifact_says_where_it_was_looked_for(settings, tmp_path, store):
    worker = _worker(settings, tmp_path, "w", store)
    with pytest.raises(artifacts.ArtifactMissing) as missing:
        artifacts.checkout(worker, "todo/" + "0" * 64 + ".tar.gz", lambda path: None)
    assert "todo/" in str(missing.value)
    assert store.removeprefix("s3://").split("/")[0] in str(missing.value)


def test_stages_fetching_at_once_share_one_copy(settings, tmp_path):
    worker = _worker(settings, tmp_path, "w", str(tmp_path / "shared"))
    key = artifacts.save(worker, "todo", _repository(tmp_path / "repo"))
    with ThreadPoolExecutor(4) as pool:
        copies = set(pool.map(lambda _: artifacts.checkout(worker, key, lambda p: None), range(8)))
    assert len(copies) == 1
    (copy,) = copies
    assert sorted(p.name for p in copy.parent.iterdir()) == [copy.name]  # no half-made dirs
