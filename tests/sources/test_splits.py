"""Splits are decided per source item (and per group), stably, and never leave a split empty."""

from __future__ import annotations

import pytest

from impairments.sources import SourceItem, assign_splits

FRACTIONS = {"train": 0.8, "val": 0.1, "test": 0.1}


def items(count: int, prefix: str = "file") -> list[SourceItem]:
    return [SourceItem(id=f"{prefix}{i:04d}.wav", path=f"/x/{prefix}{i}.wav") for i in range(count)]


def test_hash_split_is_stable_when_the_catalogue_grows() -> None:
    small, _ = assign_splits(items(500), FRACTIONS, salt="s")
    large, method = assign_splits(items(500) + items(300, "new"), FRACTIONS, salt="s")
    assert method == "hash"
    assert all(large[key] == value for key, value in small.items())
    shares = {s: sum(v == s for v in large.values()) / len(large) for s in FRACTIONS}
    assert shares["train"] == pytest.approx(0.8, abs=0.05)


def test_groups_stay_together_and_forced_splits_win() -> None:
    grouped = [
        SourceItem(id=f"movie/ch{c}", path="/x/movie.mp4", channel=c, group="movie")
        for c in range(6)
    ]
    pinned = SourceItem(id="pinned", path="/x/p.wav", split="val")
    result, _ = assign_splits(grouped + items(50) + [pinned], FRACTIONS)
    assert len({result[i.id] for i in grouped}) == 1
    assert result["pinned"] == "val"
    forced, method = assign_splits([*items(20), pinned], FRACTIONS, force="test")
    assert method == "forced" and forced["pinned"] == "val"
    assert {v for k, v in forced.items() if k != "pinned"} == {"test"}


def test_few_items_still_fill_every_split() -> None:
    result, method = assign_splits(items(5), FRACTIONS, salt="x")
    assert set(result.values()) == {"train", "val", "test"}
    assert method.startswith("hash") and result == assign_splits(items(5), FRACTIONS, salt="x")[0]


def test_bad_fractions_and_splits_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown splits"):
        assign_splits(items(3), {"train": 1, "dev": 1})
    with pytest.raises(ValueError, match="not one of"):
        assign_splits(items(3), FRACTIONS, force="holdout")
    with pytest.raises(ValueError, match="split"):
        SourceItem(id="x", path="/x", split="holdout")
