"""Where a stage's output waits for the next stage: a store every worker reaches.

Any worker on the task queue may run any stage, and a second worker cannot see the
first one's disk. So the scaffolded repository travels as a tarball named by the
SHA-256 of its bytes, through a directory (the default: under the state dir, enough for
one worker; or a mount every worker shares) or an S3 bucket. The name is the content:
a copy that does not hash to its name is refused, and a worker that fetched one keeps
it in its own cache, where it is also made ready to build (the wheelhouse beside it).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Protocol

from botocore.exceptions import BotoCoreError, ClientError

from activities.deploy_targets.ecs_resources import aws_client
from shipmate.settings import Settings

LEFT_OUT = {".git", "wheelhouse", "__pycache__", ".pytest_cache"}  # made again where needed


class ArtifactMissing(Exception):
    """The store does not hold (or no longer holds) what a stage needs; says where it looked."""


class ArtifactStore(Protocol):
    def put(self, key: str, data: bytes) -> None: ...
    def get(self, key: str) -> bytes: ...
    def delete(self, key: str) -> None: ...


class DirectoryStore:
    """A directory: the state dir's for one worker, or a shared mount for several."""

    def __init__(self, root: Path):
        self.root = root.resolve()

    def put(self, key: str, data: bytes) -> None:
        path = self.root / key
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as out:
            out.write(data)
        os.replace(out.name, path)  # readers never see half a file

    def get(self, key: str) -> bytes:
        try:
            return (self.root / key).read_bytes()
        except FileNotFoundError:
            raise ArtifactMissing(f"{key} is not in {self.root}") from None

    def delete(self, key: str) -> None:
        (self.root / key).unlink(missing_ok=True)  # gone already is what was asked


class S3Store:
    """A bucket (and prefix): what several workers on several machines share."""

    def __init__(self, settings: Settings, bucket: str, prefix: str):
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.s3 = aws_client(settings, "s3")

    def _name(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=self._name(key), Body=data)

    def get(self, key: str) -> bytes:
        try:
            return self.s3.get_object(Bucket=self.bucket, Key=self._name(key))["Body"].read()
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchKey", "NoSuchBucket", "404"):
                raise ArtifactMissing(f"{key} is not in s3://{self.bucket}/{self.prefix}") from None
            raise

    def delete(self, key: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=self._name(key))  # none: no error


def store_for(settings: Settings) -> ArtifactStore:
    where = settings.artifact_store
    if where.startswith("s3://"):
        bucket, _, prefix = where.removeprefix("s3://").partition("/")
        return S3Store(settings, bucket, prefix)
    return DirectoryStore(Path(where) if where else settings.state_dir / "artifacts")


def pack(repo: Path) -> bytes:
    """The repository as a gzipped tar that is byte-for-byte the same for the same files."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as zipped:
        with tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for path in sorted(_files(repo)):
                info = tarfile.TarInfo(path.relative_to(repo).as_posix())
                data = path.read_bytes()
                info.size, info.mtime = len(data), 0
                info.mode = 0o755 if os.access(path, os.X_OK) else 0o644
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _files(repo: Path):
    for root, dirs, files in os.walk(repo):
        dirs[:] = [d for d in dirs if d not in LEFT_OUT]
        for name in files:
            yield Path(root) / name


def save(settings: Settings, service: str, repo: Path) -> str:
    """Store the repository; returns its key, `<service>/<sha256>.tar.gz`."""
    data = pack(repo)
    key = f"{service}/{hashlib.sha256(data).hexdigest()}.tar.gz"
    try:
        store_for(settings).put(key, data)
    except (BotoCoreError, ClientError) as exc:
        raise ArtifactMissing(f"could not store {key} ({settings.artifact_store}): {exc}") from None
    return key


def checkout(settings: Settings, key: str, prepare) -> Path:
    """The repository named by key, in this worker's cache; fetched, checked and prepared
    (by `prepare(path)`) once, then moved into place whole, so concurrent stages share it."""
    ready = settings.state_dir.resolve() / "checkouts" / key.removesuffix(".tar.gz")
    if ready.is_dir():
        return ready
    data = fetch(settings, key)
    ready.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=ready.parent, prefix=".fetching-"))
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            tar.extractall(staging, filter="data")
        prepare(staging)
        os.rename(staging, ready)
    except OSError:
        if not ready.is_dir():  # another stage on this worker won the race: use its copy
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ready


def fetch(settings: Settings, key: str) -> bytes:
    """A stored repository's tarball, refused unless it hashes to its name."""
    try:
        data = store_for(settings).get(key)
    except (BotoCoreError, ClientError) as exc:
        raise ArtifactMissing(f"could not fetch {key} ({settings.artifact_store}): {exc}") from None
    if not key.endswith(f"/{hashlib.sha256(data).hexdigest()}.tar.gz"):
        raise ArtifactMissing(f"{key} in the artifact store does not match its hash")
    return data


def files_under(settings: Settings, key: str, folder: str) -> dict[str, bytes]:
    """The files under `folder/` of a stored repository (path -> bytes), nothing unpacked."""
    with tarfile.open(fileobj=io.BytesIO(fetch(settings, key)), mode="r:gz") as tar:
        return {
            member.name: tar.extractfile(member).read()
            for member in tar.getmembers()
            if member.isfile() and member.name.startswith(f"{folder.rstrip('/')}/")
        }
