"""Artifacts are stored by content: one object per distinct bytes, checked when read back."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from quant_db.settings import StorageSettings
from quant_models.artifacts import ArtifactStore, default_url, fetch
from quant_models.errors import ArtifactError


def test_the_default_store_is_the_artifacts_folder_in_the_state_folder(tmp_path: Path) -> None:
    settings = StorageSettings(quant_state_dir=tmp_path / "state")
    assert default_url(settings) == (tmp_path / "state" / "artifacts").as_uri()
    other = StorageSettings(quant_state_dir=tmp_path, quant_artifacts_url="s3://bucket/models/")
    assert default_url(other) == "s3://bucket/models"


def test_equal_bytes_are_one_object_addressed_by_their_sha256(tmp_path: Path) -> None:
    store = ArtifactStore((tmp_path / "a").as_uri())
    first = store.put(b"model bytes")
    again = store.put(b"model bytes")
    other = store.put(b"other bytes")
    assert first == again
    assert first.sha256 == hashlib.sha256(b"model bytes").hexdigest()
    assert other.sha256 != first.sha256
    files = sorted(p for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert [p.name for p in files] == sorted([first.sha256, other.sha256])
    assert store.get(first.sha256) == b"model bytes"
    assert fetch(first.uri, first.sha256) == b"model bytes"


def test_a_corrupt_or_missing_artifact_is_an_artifact_error(tmp_path: Path) -> None:
    store = ArtifactStore((tmp_path / "a").as_uri())
    stored = store.put(b"model bytes")
    path = next(p for p in (tmp_path / "a").rglob("*") if p.is_file())
    path.write_bytes(b"tampered")
    with pytest.raises(ArtifactError, match="corrupt"):
        store.get(stored.sha256)
    with pytest.raises(ArtifactError, match="is not in"):
        store.get("0" * 64)


def test_any_store_obstore_opens_by_url_works_the_same() -> None:
    store = ArtifactStore("memory:///")
    stored = store.put(b"in memory")
    assert store.get(stored.sha256) == b"in memory"
    with pytest.raises(ArtifactError, match="cannot open the artifact store"):
        ArtifactStore("nosuchscheme://x")
