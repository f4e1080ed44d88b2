"""The dataset card: what was built, from what, how, and the checksums that pin it down.

The card is deterministic for a given config and seed (timings live in the separate build log),
so its own checksum identifies a dataset exactly; training logs that checksum.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import platform
import subprocess
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from impairments.builder.render import ShardResult, write_atomically
from impairments.sources import SPLITS

_VERSIONED = (
    "numpy",
    "scipy",
    "soundfile",
    "av",
    "pedalboard",
    "audiomentations",
    "webdataset",
    "hydra-core",
    "synthdefects",
)


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_commit() -> str | None:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return result.stdout.strip() or None


def display_path(path: str | Path) -> str:
    """Relative to the working directory when inside it, so cards move with the repository;
    URLs (``s3://...``) unchanged."""
    if "://" in str(path):
        return str(path)
    resolved = Path(path).resolve()
    try:
        return resolved.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return resolved.as_posix()


def split_summary(results: Sequence[ShardResult], labels: Sequence[str]) -> dict[str, Any]:
    splits: dict[str, Any] = {}
    for split in SPLITS:
        mine = sorted((r for r in results if r.split == split), key=lambda r: r.name)
        per_class: Counter[str] = Counter({label: 0 for label in labels})
        per_severity: Counter[str] = Counter()
        skipped_segments: Counter[str] = Counter()
        per_impairment: Counter[str] = Counter()
        for result in mine:
            per_class.update(result.per_class)
            per_severity.update(result.per_severity)
            skipped_segments.update(result.skipped_segments)
            per_impairment.update(result.per_impairment)
        extra = {"per_impairment": dict(sorted(per_impairment.items()))} if per_impairment else {}
        splits[split] = {
            "count": sum(per_class.values()),
            "per_class": {label: per_class[label] for label in labels},
            "per_severity": dict(sorted(per_severity.items())),
            "skipped_segments": dict(sorted(skipped_segments.items())),
            "substituted_segments": sum(r.substituted for r in mine),
            **extra,
            "shards": [
                {
                    "path": display_path(r.path),
                    "sha256": r.sha256,
                    "count": r.count,
                    "bytes": r.bytes,
                }
                for r in mine
            ],
        }
    return splits


def content_digest(splits: dict[str, Any]) -> str:
    """sha256 over the shards' own checksums: the identity of the *data*, unlike the card's
    checksum, which also covers the config, package versions and git commit of the build."""
    lines = sorted(
        f"{split}/{Path(shard['path']).name}:{shard['sha256']}"
        for split, summary in splits.items()
        for shard in summary.get("shards", [])
    )
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def finalise(card: dict[str, Any]) -> dict[str, Any]:
    card = {**card, "content_sha256": content_digest(card.get("splits", {}))}
    body = {k: v for k, v in card.items() if k != "card_sha256"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return {**body, "card_sha256": hashlib.sha256(canonical).hexdigest()}


def write_json(path: Path, payload: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, (json.dumps(payload, indent=2, sort_keys=False) + "\n").encode())


def write_jsonl(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(row, sort_keys=True) + "\n" for row in rows)
    write_atomically(path, text.encode())
