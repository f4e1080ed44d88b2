"""Hard negative: heavy but uniform x264 compression (clean class, empty mask).

Blocking from a low-bitrate encode covers the whole picture evenly and follows the content; block
corruption is local and contradicts it. The detector must learn that difference, so the clean
class gets compression from mild to ugly, encoded with the same encoder as ``codec_corruption``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from impairments.registry import register
from impairments.video import x264
from impairments.video.base import VideoImpairment

_CRF = {1: (30.0, 34.0), 2: (34.0, 38.0), 3: (38.0, 42.0), 4: (42.0, 46.0), 5: (46.0, 51.0)}
PRESETS = ("veryfast", "medium")


@register
class Compression(VideoImpairment):
    """Whole-clip x264 re-encode at a high CRF, no packet damage."""

    name = "compression"
    hard_negative = True
    severity_ranges: ClassVar = {
        s: {"crf": crf, "gop_frames": (12.0, 50.0)} for s, crf in _CRF.items()
    }

    def draw(
        self, rng: np.random.Generator, shape: tuple[int, int, int], fps: float
    ) -> dict[str, Any]:
        return {
            "fps": fps,
            "crf": round(self.uniform(rng, "crf"), 2),
            "gop_frames": self.randint(rng, "gop_frames"),
            "preset": str(self.pick(rng, PRESETS)),
        }

    def apply(
        self, frames: np.ndarray, params: dict[str, Any], rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        n_frames, height, width = frames.shape[:3]
        clip = x264.encode(
            x264.even_padded(frames),
            fps=params["fps"],
            crf=params["crf"],
            gop=params["gop_frames"],
            preset=params["preset"],
        )
        out, _ = x264.decode(clip.packets, clip.extradata, n_frames, height, width)
        return out, np.zeros(frames.shape[:3], dtype=bool)
