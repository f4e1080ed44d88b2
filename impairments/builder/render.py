"""Render one planned shard: decode its items once, cut, impair, encode, write atomically.

Runs in a worker process. Everything it needs arrives in its arguments (the shard's slice of the
plan and the settings), so its output bytes depend on nothing else.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import webdataset as wds

import impairments
from impairments import media_io
from impairments.builder.plan import PlannedItem, PlannedSample, PlannedShard
from impairments.screening import ScreeningSettings, screen
from impairments.sources import load_audio

# Shards must be byte-identical across builds: fixed tar metadata, no wall-clock times inside.
_TAR_MTIME = 0.0


@dataclass(frozen=True)
class RenderSettings:
    dataset: str
    labels: tuple[str, ...]
    sample_rate: int
    channels: int
    segment_s: float
    hop_s: float
    silence_dbfs: float
    output_dir: str
    impairment_ranges: dict[str, dict[str, Any]] = field(default_factory=dict)
    screening: ScreeningSettings = field(default_factory=ScreeningSettings)

    @property
    def segment_len(self) -> int:
        return int(round(self.segment_s * self.sample_rate))

    @property
    def hop_len(self) -> int:
        return int(round(self.hop_s * self.sample_rate))


@dataclass
class ShardResult:
    name: str
    split: str
    path: str
    count: int
    per_class: dict[str, int]
    per_severity: dict[str, int]
    skipped_items: list[dict[str, str]]
    screened_items: list[dict[str, Any]]
    skipped_segments: dict[str, int]
    substituted: int
    sha256: str
    bytes: int
    seconds: float
    # Video datasets: samples per "<label>/<impairment or none>" and per hard negative.
    per_impairment: dict[str, int] = field(default_factory=dict)


def write_atomically(path: Path, data: bytes) -> None:
    """Write next to the target, fsync, rename: a reader never sees half a file."""
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def segment_levels_dbfs(
    audio: np.ndarray, segment_len: int, hop_len: int, count: int
) -> np.ndarray:
    """RMS level in dBFS of every grid segment, computed once per item."""
    if count == 0:
        return np.zeros(0)
    if hop_len == segment_len:  # the usual tiling: one float32 dot product per segment
        tiles = audio[:, : count * segment_len].reshape(audio.shape[0], count, segment_len)
        energy = np.einsum("cns,cns->n", tiles, tiles, dtype=np.float64)
        mean_power = energy / (audio.shape[0] * segment_len)
    else:
        square = np.square(audio, dtype=np.float64).mean(axis=0)
        power = np.concatenate([[0.0], np.cumsum(square)])
        starts = np.arange(count) * hop_len
        mean_power = (power[starts + segment_len] - power[starts]) / segment_len
    return 10.0 * np.log10(np.maximum(mean_power, 1e-20))


class ShardWriter:
    """Collects a shard's samples, then writes them interleaved across items, atomically.

    Items are decoded one after another, but a training shuffle buffer mixes better when
    neighbouring samples come from different items: samples are written in the order of their
    (random, plan-derived) seeds, which is deterministic.
    """

    def __init__(self, settings: Any, shard: PlannedShard) -> None:
        self.settings = settings  # RenderSettings, or any settings with an ``output_dir``
        self.final = Path(settings.output_dir) / f"{shard.name}.tar"
        self.samples: list[tuple[int, str, dict[str, Any]]] = []
        self.per_class: Counter[str] = Counter()
        self.per_severity: Counter[str] = Counter()
        self.skipped_items: list[dict[str, str]] = []
        self.screened_items: list[dict[str, Any]] = []
        self.skipped_segments: Counter[str] = Counter()
        self.substituted = 0

    def add(self, sample: PlannedSample, encoded: dict[str, Any]) -> None:
        self.add_labelled(sample.seed, encoded, sample.label, sample.severity)

    def add_labelled(self, order: int, encoded: dict[str, Any], label: str, severity: int) -> None:
        """Add a sample whose label is known only after rendering (a video crop's mask decides)."""
        self.samples.append((order, encoded["__key__"], encoded))
        self.per_class[label] += 1
        self.per_severity[f"{label}/{severity}"] += 1

    def publish(
        self, shard: PlannedShard, started: float, per_impairment: dict[str, int] | None = None
    ) -> ShardResult:
        """Write the shard, then its stats file (the mark of a finished shard); its summary."""
        sha256, size = self.finish()
        result = ShardResult(
            name=shard.name,
            split=shard.split,
            path=str(self.final),
            count=sum(self.per_class.values()),
            per_class=dict(sorted(self.per_class.items())),
            per_severity=dict(sorted(self.per_severity.items())),
            skipped_items=self.skipped_items,
            screened_items=self.screened_items,
            skipped_segments=dict(sorted(self.skipped_segments.items())),
            substituted=self.substituted,
            sha256=sha256,
            bytes=size,
            seconds=round(time.perf_counter() - started, 3),
            per_impairment=dict(sorted((per_impairment or {}).items())),
        )
        stats = json.dumps(result.__dict__, indent=2, sort_keys=True).encode()
        write_atomically(self.final.with_name(f"{shard.name}.stats.json"), stats)
        return result

    def finish(self) -> tuple[str, int]:
        temporary = self.final.with_name(self.final.name + ".tmp")
        with open(temporary, "wb") as handle:
            tar = wds.TarWriter(handle, user="", group="", mtime=_TAR_MTIME, encoder=False)
            for _, _, encoded in sorted(self.samples, key=lambda row: row[:2]):
                tar.write(encoded)
            tar.close()
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.final)
        digest = hashlib.sha256()
        with open(self.final, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest(), self.final.stat().st_size


def render_shard(shard: PlannedShard, settings: RenderSettings) -> ShardResult:
    started = time.perf_counter()
    writer = ShardWriter(settings, shard)
    for planned in shard.items:
        try:
            audio = load_audio(planned.item, settings.sample_rate, settings.channels)
        except media_io.MediaError as error:
            writer.skipped_items.append({"source": planned.item.describe(), "reason": error.reason})
            writer.skipped_segments["source unreadable"] += len(planned.samples)
            continue
        if _screened_out(writer, planned, audio):
            continue
        _render_item(writer, planned, audio)
    return writer.publish(shard, started)


def _screened_out(writer: ShardWriter, planned: PlannedItem, audio: np.ndarray) -> bool:
    """Screen file sources for defects they already carry; True when the item must be left out."""
    settings = writer.settings.screening
    if not settings.enabled or planned.item.path is None:
        return False
    result = screen(audio, writer.settings.sample_rate, settings)
    if not result.problems:
        return False
    excluded = settings.exclude
    writer.screened_items.append(
        {
            "source": planned.item.describe(),
            "id": planned.item.id,
            "excluded": excluded,
            "problems": list(result.problems),
            "hum_hz": result.hum_hz,
            "hum_prominence_db": result.hum_prominence_db,
            "clipped_share": result.clipped_share,
        }
    )
    if excluded:
        writer.skipped_segments["source screened out"] += len(planned.samples)
    return excluded


def _render_item(writer: ShardWriter, planned: PlannedItem, audio: np.ndarray) -> None:
    settings = writer.settings
    seg, hop = settings.segment_len, settings.hop_len
    available = 0 if audio.shape[1] < seg else (audio.shape[1] - seg) // hop + 1
    levels = segment_levels_dbfs(audio, seg, hop, available)
    usable = levels >= settings.silence_dbfs
    taken = {s.offset_index for s in planned.samples}
    for sample in planned.samples:
        index = sample.offset_index
        if index >= available or not usable[index]:
            reason = "beyond decoded end" if index >= available else "silent"
            index = _substitute(index, usable, taken)
            if index is None:
                writer.skipped_segments[reason] += 1
                continue
            taken.add(index)
            writer.substituted += 1
        clean = audio[:, index * hop : index * hop + seg]
        writer.add(sample, _encode_sample(settings, planned, sample, index, clean, levels[index]))


def _substitute(index: int, usable: np.ndarray, taken: set[int]) -> int | None:
    """The nearest audible grid segment of the same item that no other sample uses."""
    candidates = [i for i in np.flatnonzero(usable).tolist() if i not in taken]
    if not candidates:
        return None
    return min(candidates, key=lambda i: (abs(i - index), i))


def _encode_sample(
    settings: RenderSettings,
    planned: PlannedItem,
    sample: PlannedSample,
    index: int,
    clean: np.ndarray,
    level_dbfs: float,
) -> dict[str, Any]:
    annotation = None
    audio = clean
    if sample.severity > 0:
        overrides = settings.impairment_ranges.get(sample.label) or {}
        impairment = impairments.get(sample.label, severity=sample.severity, **overrides)
        audio, result = impairment(clean, sample_rate=settings.sample_rate, seed=sample.seed)
        annotation = result.to_json()
    key = sample.key if index == sample.offset_index else f"{sample.key}_sub{index:06d}"
    meta = {
        "dataset": settings.dataset,
        "label": sample.label,
        "label_index": settings.labels.index(sample.label),
        "severity": sample.severity,
        "impairment": annotation,
        "source_id": planned.item.id,
        "source": planned.item.describe(),
        "licence": planned.item.licence,
        "split": planned.split,
        "offset_s": round(index * settings.hop_s, 6),
        "duration_s": settings.segment_s,
        "sample_rate": settings.sample_rate,
        "channels": settings.channels,
        "clean_level_dbfs": round(float(level_dbfs), 3),
        "seed": sample.seed,
        "substituted_for_offset_s": (
            None if index == sample.offset_index else round(sample.offset_index * settings.hop_s, 6)
        ),
    }
    return {
        "__key__": key,
        "flac": media_io.encode_audio(audio, settings.sample_rate),
        "json": json.dumps(meta, sort_keys=True).encode(),
    }
