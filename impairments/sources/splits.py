"""Split assignment per source item (never per clip), so no content crosses train/val/test.

The default is a hash threshold: an item's split depends only on its group id and the salt, so
adding files to a catalogue never moves the items already there. With a handful of items a hash
can leave a split empty; then (and only then) items are cut by hash rank instead, which still
depends on nothing but the ids. The method used is recorded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

from impairments.sources.item import SPLITS, SourceItem


def unit_hash(text: str, salt: str = "") -> float:
    """A stable number in [0, 1) from a string (sha256; Python's hash() is salted per process)."""
    digest = hashlib.sha256(f"{salt}\x00{text}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _normalised(fractions: Mapping[str, float]) -> list[tuple[str, float]]:
    unknown = set(fractions) - set(SPLITS)
    if unknown:
        raise ValueError(f"split fractions name unknown splits {sorted(unknown)}; use {SPLITS}")
    values = [(name, float(fractions.get(name, 0.0))) for name in SPLITS]
    total = sum(v for _, v in values)
    if total <= 0 or any(v < 0 for _, v in values):
        raise ValueError(f"split fractions must be >= 0 with a positive sum, got {dict(fractions)}")
    return [(name, v / total) for name, v in values]


def _by_threshold(position: float, cuts: list[tuple[str, float]]) -> str:
    edge = 0.0
    for name, share in cuts:
        edge += share
        if position < edge:
            return name
    return cuts[-1][0]


def _quotas(count: int, cuts: list[tuple[str, float]]) -> list[tuple[str, int]]:
    """Items per split for a rank cut: at least one per wanted split, the rest by share."""
    wanted = [(name, share) for name, share in cuts if share > 0]
    quotas = {name: 1 for name, _ in wanted}
    for _ in range(count - len(wanted)):
        name = max(wanted, key=lambda w: w[1] * count - quotas[w[0]])[0]
        quotas[name] += 1
    return [(name, quotas.get(name, 0)) for name, _ in cuts]


def assign_splits(
    items: Sequence[SourceItem],
    fractions: Mapping[str, float],
    salt: str = "",
    force: str | None = None,
) -> tuple[dict[str, str], str]:
    """Map item id -> split, and say which method decided.

    ``force`` puts every item in one split (an evaluation set built from a held-out catalogue);
    a manifest's own ``split`` column always wins for the items that have one.
    """
    if force is not None and force not in SPLITS:
        raise ValueError(f"sources.split={force!r} is not one of {SPLITS}")
    cuts = _normalised(fractions)
    groups = sorted({item.split_group for item in items if item.split is None})
    position = {group: unit_hash(group, salt) for group in groups}
    method = "forced" if force else "hash"
    group_split = {g: force or _by_threshold(position[g], cuts) for g in groups}
    wanted = [name for name, share in cuts if share > 0]
    if not force and len(groups) >= len(wanted) and set(wanted) - set(group_split.values()):
        ranked = sorted(groups, key=lambda g: position[g])
        quotas = _quotas(len(ranked), cuts)
        labels = [name for name, count in quotas for _ in range(count)]
        group_split = dict(zip(ranked, labels, strict=True))
        method = "hash rank (the hash threshold left a split empty)"
    result = {item.id: item.split or group_split[item.split_group] for item in items}
    return result, method
