"""Offset -> in sync / out of sync, one rule for impairments, datasets, metrics and reports.

Sign convention, used everywhere in this project: **positive = audio late** (at picture time t you
hear what was said at t - offset). ITU-R BT.1359 puts detectability at about 45 ms of audio early
and 125 ms late, acceptability at about 90 ms early and 185 ms late. Labels are counted in video
frames because that is the resolution a lip-sync detector works at: |offset| <= 1 frame is in
sync, >= 3 frames is out of sync, and the 2-frame zone between is ``"borderline"``, kept out of
binary metrics (or reported on its own) rather than forced into either class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SyncLabel = Literal["in_sync", "borderline", "out_of_sync"]


@dataclass(frozen=True)
class SyncBands:
    """Frame-count thresholds of the three bands (defaults as the issue and BT.1359 suggest)."""

    in_sync_frames: float = 1.0
    out_of_sync_frames: float = 3.0

    def __post_init__(self) -> None:
        if not 0 <= self.in_sync_frames < self.out_of_sync_frames:
            raise ValueError(
                "SyncBands: need 0 <= in_sync_frames < out_of_sync_frames, got "
                f"{self.in_sync_frames} and {self.out_of_sync_frames}"
            )


def sync_label(offset_ms: float, fps: float, bands: SyncBands | None = None) -> SyncLabel:
    """The band of one offset at a frame rate; a small tolerance absorbs float round-off."""
    bands = bands or SyncBands()
    if fps <= 0:
        raise ValueError(f"sync_label: fps must be positive, got {fps!r}")
    frames = abs(offset_ms) * fps / 1000.0
    if frames <= bands.in_sync_frames + 1e-6:
        return "in_sync"
    if frames >= bands.out_of_sync_frames - 1e-6:
        return "out_of_sync"
    return "borderline"
