"""Resumable builds: which shards of this build are already done, and whose folder this is.

A shard is done when its stats JSON exists, its tar exists with the size the stats record and (for
local outputs, or with ``verify=full``) the sha256 the stats record. Anything else — a missing
stats file, a truncated or altered tar, a leftover ``.tmp`` — is rebuilt. Because a shard's bytes
depend only on its plan entry, a rebuilt shard is byte-identical to the one an uninterrupted build
would have written, so ``kill -9`` at any moment followed by the same command gives the same
dataset.

The output folder carries a build record (``_build.json``) with a fingerprint of everything that
decides the bytes: the plan digest and the render settings. A build into a folder that holds a
different fingerprint refuses (``overwrite=true`` replaces it) instead of mixing two datasets.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from typing import Any

from impairments.builder.storage import BUILD_RECORD, ShardStore

# Settings that say where bytes go, not what they are: excluded from the fingerprint.
LOCATION_FIELDS = ("output_dir",)


class BuildConflictError(ValueError):
    """The output holds another build; the message says how to proceed."""


def build_fingerprint(plan_sha256: str, settings: Any) -> str:
    """sha256 of the plan digest and the render settings (output location excluded)."""
    if dataclasses.is_dataclass(settings) and not isinstance(settings, type):
        values = dataclasses.asdict(settings)
    else:
        values = dict(vars(settings))
    for name in LOCATION_FIELDS:
        values.pop(name, None)
    payload = json.dumps({"plan": plan_sha256, "settings": values}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def claim_output(
    store: ShardStore, fingerprint: str, description: dict[str, Any], overwrite: bool
) -> bool:
    """Make ``store`` this build's output; returns True when an earlier run of it is resumed.

    Refuses a folder that holds shards of a different build unless ``overwrite``; a folder with
    shards but no build record (written before records existed) counts as a different build.
    """
    record = store.read_json(BUILD_RECORD)
    has_shards = any(name.endswith(".tar") for name in store.list_names())
    resuming = record is not None and record.get("fingerprint") == fingerprint
    if not resuming and (record is not None or has_shards):
        if not overwrite:
            held = record.get("name", "?") if record else "an unrecorded build"
            raise BuildConflictError(
                f"{store.url}: holds a different build ({held}, fingerprint "
                f"{(record or {}).get('fingerprint', 'unknown')[:12]}, this one {fingerprint[:12]})"
                "; pass overwrite=true to replace it, or choose another output_dir"
            )
        store.clear_build()
    store.remove_temporaries()
    store.write_json(BUILD_RECORD, {**description, "fingerprint": fingerprint})
    return resuming


def finished_shards(
    store: ShardStore, names: Sequence[str], verify: str = "auto"
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """``(done: name -> stats, redo: name -> why)`` for the planned shard ``names``.

    ``verify``: ``"full"`` re-hashes every tar, ``"size"`` trusts the stats' checksum and checks
    the size, ``"auto"`` is full for local outputs and size for remote ones (hashing a bucket
    would download the dataset).
    """
    if verify not in ("auto", "full", "size"):
        raise ValueError(f"verify must be auto, full or size, got {verify!r}")
    full = verify == "full" or (verify == "auto" and not store.remote)
    done: dict[str, dict[str, Any]] = {}
    redo: dict[str, str] = {}
    for name in names:
        stats = store.read_json(f"{name}.stats.json")
        if stats is None:
            continue  # never finished: a plain build, not a repair
        size = store.size(f"{name}.tar")
        if size is None:
            redo[name] = "stats without a shard"
        elif size != stats.get("bytes"):
            redo[name] = f"size {size} != recorded {stats.get('bytes')}"
        elif full and store.sha256(f"{name}.tar") != stats.get("sha256"):
            redo[name] = "checksum differs from its stats"
        else:
            done[name] = stats
            continue
        store.remove(f"{name}.stats.json")
    return done, redo
