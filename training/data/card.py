"""Read a dataset card (written by ``impairments.build``): counts, shard list, classes, checksum.

The card is the single source of the numbers a streaming loader cannot know by itself: how many
samples an epoch has (so Lightning can show progress and schedulers know their length) and how
many samples each shard holds (so batches per loader worker are exact, which keeps val/test from
being cut short). Its ``card_sha256`` is logged with every run to pin the data down.
"""

from __future__ import annotations

import json
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class SplitInfo:
    count: int
    per_class: dict[str, int] = field(default_factory=dict)
    shard_counts: dict[str, int] = field(default_factory=dict)  # shard file name -> samples


@dataclass(frozen=True)
class DatasetCard:
    path: Path
    dataset: str
    classes: list[str]
    sample_rate: int | None
    segment_s: float | None
    splits: dict[str, SplitInfo]
    sha256: str | None
    raw: dict[str, Any]

    @classmethod
    def load(cls, path: str | Path) -> DatasetCard:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(
                f"dataset card not found: {path} (build the dataset first: `make dataset`)"
            )
        raw = json.loads(path.read_text())
        splits = {}
        for name, info in raw.get("splits", {}).items():
            shards = {Path(s["path"]).name: int(s["count"]) for s in info.get("shards", [])}
            splits[name] = SplitInfo(
                count=int(info.get("count", sum(shards.values()))),
                per_class=dict(info.get("per_class", {})),
                shard_counts=shards,
            )
        return cls(
            path=path,
            dataset=str(raw.get("dataset", raw.get("name", path.stem))),
            classes=list(raw.get("classes", raw.get("labels", []))),
            sample_rate=raw.get("sample_rate"),
            segment_s=raw.get("segment_s"),
            splits=splits,
            sha256=raw.get("card_sha256"),
            raw=raw,
        )

    @property
    def content_sha256(self) -> str:
        """Identity of the shards themselves (cards written before it existed: computed)."""
        from impairments.builder.card import content_digest

        return str(self.raw.get("content_sha256") or content_digest(self.raw.get("splits", {})))

    def shard_count(self, split: str, shard: str | Path) -> int:
        """Samples in ``shard``; from the card, else counted in the tar (a card from an older
        build may lack per-shard counts)."""
        name = Path(shard).name
        known = self.splits.get(split, SplitInfo(0)).shard_counts.get(name)
        return known if known is not None else count_tar_samples(shard)


def count_tar_samples(path: str | Path) -> int:
    """Number of distinct sample keys in a WebDataset tar (key = name up to the first dot)."""
    with tarfile.open(path) as archive:
        keys = {m.name.split("/")[-1].split(".", 1)[0] for m in archive if m.isfile()}
    return len(keys)
