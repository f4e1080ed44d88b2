"""Where finished shards live: a local folder, or any fsspec URL (``s3://bucket/prefix``, ``gs://``).

Shards are always *rendered* into a local folder (tar writing needs a seekable file and the
renderers write ``.tmp`` + fsync + rename). For a local output that folder is the output itself;
for a remote one it is a staging folder on the worker, and :meth:`ShardStore.publish` uploads the
tar first and its stats JSON last, then deletes the local copies. A shard counts as done only when
its stats exist, so an upload cut off half way is never mistaken for a finished shard.

A store is rebuilt from ``(url, options)`` inside each worker (it pickles as those two values), so
a Ray task on another node writes to the same bucket with its own connection.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Object stores whose PUT is atomic: a reader sees the whole object or none. Elsewhere an upload
# goes to a temporary name first and is moved into place.
ATOMIC_PUT_PROTOCOLS = {"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "memory"}
TEMPORARY_SUFFIX = ".tmp"


def is_remote(url: str | os.PathLike[str]) -> bool:
    text = str(url)
    return "://" in text and not text.startswith("file://")


@dataclass
class ShardStore:
    """Read/write access to one build's output location."""

    url: str
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.url = str(self.url).rstrip("/")
        self.remote = is_remote(self.url)
        self._fs: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {"url": self.url, "options": self.options}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.url, self.options = state["url"], state["options"]
        self.__post_init__()

    @property
    def fs(self) -> Any:
        if self._fs is None:
            import fsspec

            self._fs, _ = fsspec.core.url_to_fs(self.url, **self.options)
        return self._fs

    def path(self, name: str) -> str:
        return f"{self.url}/{name}" if self.remote else str(Path(self.url) / name)

    # -- local staging -------------------------------------------------------------------------
    def staging_dir(self, build_id: str) -> Path:
        """Where renderers write: the output folder itself, or a per-build folder under the
        system temporary directory (``SYNTHDEFECTS_STAGING`` overrides it) for remote outputs."""
        if not self.remote:
            folder = Path(self.url)
        else:
            root = Path(os.environ.get("SYNTHDEFECTS_STAGING", tempfile.gettempdir()))
            folder = root / f"synthdefects-staging-{build_id[:16]}"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def publish(self, local_tar: Path, local_stats: Path) -> None:
        """Make a locally finished shard visible in the store (remote: upload, then clean up)."""
        if not self.remote:
            return
        for local in (local_tar, local_stats):  # stats last: it is the completion marker
            target = self.path(local.name)
            if self.fs.protocol and set(_protocols(self.fs)) & ATOMIC_PUT_PROTOCOLS:
                self.fs.put_file(str(local), target)
            else:
                self.fs.put_file(str(local), target + TEMPORARY_SUFFIX)
                self.fs.mv(target + TEMPORARY_SUFFIX, target)
        local_tar.unlink(missing_ok=True)
        local_stats.unlink(missing_ok=True)

    # -- reading -------------------------------------------------------------------------------
    def exists(self, name: str) -> bool:
        if self.remote:
            return bool(self.fs.exists(self.path(name)))
        return Path(self.path(name)).exists()

    def size(self, name: str) -> int | None:
        try:
            if self.remote:
                return int(self.fs.size(self.path(name)))
            return Path(self.path(name)).stat().st_size
        except (FileNotFoundError, OSError):
            return None

    def read_json(self, name: str) -> dict[str, Any] | None:
        """A JSON file of the store, or None when it is missing or not valid JSON (half-written
        by a build that died is the same as missing)."""
        try:
            if self.remote:
                with self.fs.open(self.path(name), "rb") as handle:
                    data = handle.read()
            else:
                data = Path(self.path(name)).read_bytes()
            value = json.loads(data)
        except (FileNotFoundError, OSError, ValueError):
            return None
        return value if isinstance(value, dict) else None

    def sha256(self, name: str) -> str:
        digest = hashlib.sha256()
        opener = self.fs.open if self.remote else open
        with opener(self.path(name), "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()

    # -- writing and cleaning ------------------------------------------------------------------
    def write_json(self, name: str, payload: Any) -> None:
        data = (json.dumps(payload, indent=2, sort_keys=True) + "\n").encode()
        if self.remote:
            with self.fs.open(self.path(name), "wb") as handle:
                handle.write(data)
            return
        path = Path(self.path(name))
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + TEMPORARY_SUFFIX)
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)

    def list_names(self) -> list[str]:
        if self.remote:
            try:
                return [p.rsplit("/", 1)[-1] for p in self.fs.ls(self.url, detail=False)]
            except FileNotFoundError:
                return []
        folder = Path(self.url)
        return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []

    def remove(self, name: str) -> None:
        if self.remote:
            if self.fs.exists(self.path(name)):
                self.fs.rm(self.path(name))
        else:
            Path(self.path(name)).unlink(missing_ok=True)

    def remove_temporaries(self) -> int:
        """Delete ``*.tmp`` left by a build that died mid-write; returns how many."""
        stale = [n for n in self.list_names() if n.endswith(TEMPORARY_SUFFIX)]
        for name in stale:
            self.remove(name)
        return len(stale)

    def clear_build(self) -> None:
        """Delete a previous build's shards, stats and build record (nothing else)."""
        for name in self.list_names():
            if name.endswith((".tar", ".stats.json", TEMPORARY_SUFFIX)) or name == BUILD_RECORD:
                self.remove(name)


BUILD_RECORD = "_build.json"


def _protocols(fs: Any) -> tuple[str, ...]:
    protocol = fs.protocol
    return (protocol,) if isinstance(protocol, str) else tuple(protocol)


def clear_local_staging(folder: Path) -> None:
    """Remove a remote build's staging folder once the build is over."""
    shutil.rmtree(folder, ignore_errors=True)
