"""What a pristine source is, independent of where it came from (folder, manifest, built-in)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from impairments import media_io

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class SourceItem:
    """One pristine item: a media file (``path``) or a procedural recipe (``generator``).

    ``group`` ties items that share content (the six channels of one 5.1 file, two edits of one
    programme) so they always land in the same split; it defaults to ``id``. ``split`` is a split
    forced by a manifest; None lets the hash decide.
    """

    id: str
    path: str | None = None
    generator: dict[str, Any] | None = None
    channel: int | None = None
    group: str | None = None
    split: str | None = None
    licence: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if (self.path is None) == (self.generator is None):
            raise ValueError(f"source {self.id!r}: give exactly one of path or generator")
        if self.split is not None and self.split not in SPLITS:
            raise ValueError(f"source {self.id!r}: split {self.split!r} is not one of {SPLITS}")

    @property
    def split_group(self) -> str:
        return self.group or self.id

    def describe(self) -> str:
        if self.path is not None:
            return self.path
        spec = self.generator or {}
        return "procedural:" + ",".join(f"{key}={spec[key]}" for key in sorted(spec))

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "group": self.split_group}
        if self.path is not None:
            data["path"] = self.path
        if self.generator is not None:
            data["generator"] = dict(self.generator)
        if self.channel is not None:
            data["channel"] = self.channel
        if self.licence:
            data["licence"] = self.licence
        if self.meta:
            data["meta"] = dict(self.meta)
        return data


def load_audio(item: SourceItem, sample_rate: int, channels: int = 1) -> np.ndarray:
    """The item's audio as float32 ``(channels, n)`` at ``sample_rate``; MediaError if unusable."""
    if item.generator is not None:
        from impairments.sources.procedural_audio import generate

        spec = item.generator
        mono = generate(spec["kind"], int(spec["seed"]), float(spec["duration_s"]), sample_rate)
        return np.repeat(mono[np.newaxis, :], channels, axis=0).astype(np.float32, copy=False)
    assert item.path is not None
    if item.channel is None:
        return media_io.read_audio(item.path, sample_rate=sample_rate, channels=channels)
    every = media_io.read_audio(item.path, sample_rate=sample_rate)
    if item.channel >= every.shape[0]:
        raise media_io.MediaError(
            item.path, f"has {every.shape[0]} channels, source asks for channel {item.channel}"
        )
    picked = every[item.channel : item.channel + 1]
    return np.repeat(picked, channels, axis=0)
