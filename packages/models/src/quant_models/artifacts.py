"""Model artifacts in an object store, addressed by their content's sha256.

A local folder under the state folder by default; any store obstore opens by URL otherwise
(s3://bucket/prefix with the AWS_* environment for S3-compatible servers, file:///dir,
memory:///). Writing the same bytes twice is one object; reading checks the checksum.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import obstore
from obstore.exceptions import BaseError, NotFoundError
from obstore.store import ObjectStore, from_url

from quant_db.settings import StorageSettings
from quant_models.errors import ArtifactError

PREFIX = "models/sha256"


@dataclass(frozen=True, slots=True)
class StoredArtifact:
    sha256: str
    uri: str
    size: int


def default_url(settings: StorageSettings) -> str:
    """QUANT_ARTIFACTS_URL, or the `artifacts` folder in the platform's state folder."""
    if settings.quant_artifacts_url:
        return settings.quant_artifacts_url.rstrip("/")
    return (settings.quant_state_dir / "artifacts").resolve().as_uri()


def _open(url: str) -> ObjectStore:
    try:
        if url.startswith("file://"):
            Path(url.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
        return from_url(url)
    except (ValueError, OSError, BaseError) as exc:
        reason = str(exc).splitlines()[0]
        raise ArtifactError(f"cannot open the artifact store {url!r}: {reason}") from None


class ArtifactStore:
    """Content-addressed bytes: `put` returns the checksum and the URI the registry keeps."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self._store = _open(self.url)

    @classmethod
    def from_settings(cls, settings: StorageSettings) -> ArtifactStore:
        return cls(default_url(settings))

    @staticmethod
    def key(sha256: str) -> str:
        return f"{PREFIX}/{sha256[:2]}/{sha256}"

    def put(self, raw: bytes) -> StoredArtifact:
        digest = hashlib.sha256(raw).hexdigest()
        key = self.key(digest)
        try:
            obstore.put(self._store, key, raw)
        except (OSError, BaseError) as exc:
            reason = str(exc).splitlines()[0]
            raise ArtifactError(
                f"cannot write to the artifact store {self.url}: {reason}"
            ) from None
        return StoredArtifact(sha256=digest, uri=f"{self.url}/{key}", size=len(raw))

    def get(self, sha256: str) -> bytes:
        """The artifact's bytes, checked against its checksum.

        Raises:
            ArtifactError: no such object, or bytes whose sha256 differs (a corrupt copy).
        """
        return _checked(self._store, self.key(sha256), sha256, self.url)


def fetch(uri: str, sha256: str) -> bytes:
    """The bytes at a registry's artifact URI (whatever store it names), checksum checked."""
    base, _, name = uri.rpartition("/")
    if not base or not name:
        raise ArtifactError(f"{uri!r} is not an artifact URI")
    store = _open(base)
    return _checked(store, name, sha256, base)


def _checked(store: ObjectStore, key: str, sha256: str, where: str) -> bytes:
    try:
        raw = bytes(obstore.get(store, key).bytes())
    except (FileNotFoundError, NotFoundError):
        raise ArtifactError(f"artifact {sha256[:12]} is not in {where}") from None
    except (OSError, BaseError) as exc:
        reason = str(exc).splitlines()[0]
        raise ArtifactError(f"cannot read artifact {sha256[:12]} from {where}: {reason}") from None
    found = hashlib.sha256(raw).hexdigest()
    if found != sha256:
        raise ArtifactError(
            f"artifact {sha256[:12]} in {where} is corrupt: its bytes hash to {found[:12]}"
        )
    return raw
