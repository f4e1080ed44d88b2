"""The build plan: which segments of which items become which samples, in which shard.

Computed before any decoding from probed durations only. Classes are assigned per split over the
planned segments, cyclically after a seeded shuffle, so each split is balanced exactly (up to one
sample) before rendering; the only imbalance that can appear later comes from segments that turn
out silent with no substitute, or items that fail to decode, and the card counts both.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import astuple, dataclass, field

import numpy as np

from impairments.sources import SPLITS, SourceItem, unit_hash

NONE_LABEL = "none"


@dataclass(frozen=True)
class PlannedSample:
    key: str
    offset_index: int  # segment index on the hop grid of the item
    label: str
    severity: int  # 0 for the clean class
    seed: int


@dataclass
class PlannedItem:
    item: SourceItem
    split: str
    duration_s: float
    samples: list[PlannedSample] = field(default_factory=list)


@dataclass
class PlannedShard:
    split: str
    index: int
    items: list[PlannedItem]

    @property
    def name(self) -> str:
        return f"{self.split}-{self.index:06d}"

    @property
    def sample_count(self) -> int:
        return sum(len(p.samples) for p in self.items)


def segment_grid(duration_s: float, segment_s: float, hop_s: float) -> int:
    """How many whole segments fit on the hop grid of an item this long."""
    if duration_s < segment_s:
        return 0
    return int(math.floor((duration_s - segment_s) / hop_s + 1e-9)) + 1


def pick_evenly(count: int, limit: int | None) -> list[int]:
    """Up to ``limit`` grid indices spread over the whole item, not bunched at its start."""
    if limit is None or count <= limit:
        return list(range(count))
    return sorted({int(i) for i in np.linspace(0, count - 1, limit).round()})


def derive_seed(master_seed: int, *parts: str | int) -> int:
    return int(unit_hash("/".join(map(str, parts)), salt=str(master_seed)) * 2**63)


def item_key(item_id: str) -> str:
    return hashlib.sha256(item_id.encode()).hexdigest()[:16]


def make_plan(
    items: Sequence[tuple[SourceItem, str, float]],
    labels: Sequence[str],
    *,
    seed: int,
    segment_s: float,
    hop_s: float,
    max_segments_per_item: int | None,
    samples_per_shard: int,
    clean_label: str = NONE_LABEL,
) -> list[PlannedShard]:
    """``items`` are (item, split, duration_s) for every usable item; ``clean_label`` is the
    class that gets severity 0 (a segment of a video dataset is a clip window)."""
    if samples_per_shard <= 0:
        raise ValueError("samples_per_shard must be positive")
    shards: list[PlannedShard] = []
    for split in SPLITS:
        members = sorted(
            (PlannedItem(item, s, d) for item, s, d in items if s == split),
            key=lambda p: unit_hash(p.item.id, salt=f"order/{seed}"),
        )
        slots = [
            (member, index)
            for member in members
            for index in pick_evenly(
                segment_grid(member.duration_s, segment_s, hop_s), max_segments_per_item
            )
        ]
        rng = np.random.default_rng(derive_seed(seed, "labels", split))
        order = rng.permutation(len(slots))
        start = int(rng.integers(len(labels)))
        for rank, slot in enumerate(order):
            member, index = slots[int(slot)]
            label = labels[(start + rank) % len(labels)]
            key = f"{item_key(member.item.id)}_{index:06d}"
            severity = 0 if label == clean_label else int(rng.integers(1, 6))
            member.samples.append(
                PlannedSample(key, index, label, severity, derive_seed(seed, "sample", key))
            )
        for member in members:
            member.samples.sort(key=lambda s: s.offset_index)
        shards.extend(_pack(split, [m for m in members if m.samples], samples_per_shard))
    return shards


def _pack(split: str, members: list[PlannedItem], capacity: int) -> list[PlannedShard]:
    """Fill shards in order, keeping each item whole so it is decoded once.

    A shard closes before an item that would overflow it; only an item with more samples than a
    whole shard holds is cut into shard-sized pieces (each piece then decodes the item again).
    """
    shards: list[PlannedShard] = []
    current: list[PlannedItem] = []

    def close() -> None:
        nonlocal current
        if current:
            shards.append(PlannedShard(split, len(shards), current))
            current = []

    for member in members:
        if current and sum(len(p.samples) for p in current) + len(member.samples) > capacity:
            close()
        if len(member.samples) <= capacity:
            current.append(member)
            continue
        for start in range(0, len(member.samples), capacity):
            piece = member.samples[start : start + capacity]
            current.append(PlannedItem(member.item, member.split, member.duration_s, piece))
            close()
    close()
    return shards


def plan_digest(shards: Sequence[PlannedShard]) -> str:
    """A hash of the whole plan: two builds with the same digest write the same samples."""
    digest = hashlib.sha256()
    for shard in shards:
        digest.update(shard.name.encode())
        for planned in shard.items:
            digest.update(json.dumps(planned.item.to_json(), sort_keys=True).encode())
            digest.update(repr([astuple(s) for s in planned.samples]).encode())
    return digest.hexdigest()
