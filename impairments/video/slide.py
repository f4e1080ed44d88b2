"""Hard negative: a slide (a still picture or a drawn graphic), maybe changed once, maybe encoded.

Slides, captions and title cards hold one picture for seconds. Encoded with x264, the held
picture comes back re-coded at every keyframe and otherwise as skip frames; captured or played
out through a real chain, every frame carries faint fresh noise on top, so consecutive frames are
near-identical but never identical. That is as close to a freeze as
clean content gets, except that it holds from its first frame instead of stopping a moving
picture. A slide may change once (a cut to the next slide). Severity is difficulty: the higher,
the fainter the noise.
"""

from __future__ import annotations

from typing import Any, ClassVar

import cv2
import numpy as np

from impairments.registry import register
from impairments.video.static_noise import noisy_copies
from impairments.video.temporal import TemporalImpairment, draw_reencode, reencoded

FAMILIES = ("still", "graphic")
_SIGMA = {1: (1.0, 2.0), 2: (0.6, 1.0), 3: (0.4, 0.6), 4: (0.25, 0.4), 5: (0.15, 0.25)}
CHANGE_SHARE = 0.4  # slides that cut to a second one inside the clip
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def draw_graphic(height: int, width: int, layout_seed: int) -> np.ndarray:
    """A presentation-like slide: a background, a title bar, lines of text and a box."""
    rng = np.random.default_rng(layout_seed)
    top, bottom = rng.integers(0, 256, size=(2, 3))
    ramp = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    slide = np.ascontiguousarray(
        np.broadcast_to(top * (1 - ramp) + bottom * ramp, (height, width, 3)).astype(np.uint8)
    )
    ink = tuple(int(v) for v in (255 - (top + bottom) // 2))
    scale = max(0.25, height / 400)
    bar = int(height * rng.uniform(0.1, 0.2))
    cv2.rectangle(slide, (0, 0), (width, bar), tuple(int(v) for v in rng.integers(0, 256, 3)), -1)
    y = bar + int(30 * scale)
    while y < height - int(10 * scale):
        words = " ".join(
            "".join(rng.choice(list(_LETTERS), size=int(rng.integers(2, 9))))
            for _ in range(int(rng.integers(2, 7)))
        )
        x = int(width * rng.uniform(0.03, 0.15))
        cv2.putText(
            slide, words, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, ink, max(1, int(scale * 2))
        )
        y += int(rng.uniform(25, 45) * scale)
    if rng.random() < 0.5:
        x0, y0 = int(width * rng.uniform(0.55, 0.7)), int(height * rng.uniform(0.3, 0.5))
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        cv2.rectangle(slide, (x0, y0), (width - x0 // 8, height - y0 // 3), colour, -1)
    return slide


@register
class Slide(TemporalImpairment):
    """One or two held pictures with faint fresh noise, optionally re-encoded with x264."""

    name = "slide"
    hard_negative = True
    reencode_share = 0.6
    severity_ranges: ClassVar = {s: {"sigma": sigma} for s, sigma in _SIGMA.items()}

    FAMILIES = FAMILIES

    def draw(
        self, rng: np.random.Generator, shape: tuple[int, int, int], fps: float
    ) -> dict[str, Any]:
        n_frames = shape[0]
        count = 2 if n_frames > 2 and rng.random() < CHANGE_SHARE else 1
        pictures = []
        for _ in range(count):
            family = str(self.pick(rng, self.families))
            picture: dict[str, Any] = {"family": family}
            if family == "still":
                picture["frame"] = int(rng.integers(n_frames))
            else:
                picture["layout_seed"] = int(rng.integers(2**31))
            pictures.append(picture)
        return {
            "pictures": pictures,
            "change_frame": int(rng.integers(1, n_frames)) if count == 2 else None,
            "sigma": round(self.uniform(rng, "sigma"), 4),
            "reencode": draw_reencode(rng, self.reencode_share),
            "fps": fps,
        }

    def apply(  # type: ignore[override]
        self, frames: np.ndarray, params: dict[str, Any], rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, None]:
        n_frames, height, width = frames.shape[:3]
        change = params["change_frame"] or n_frames
        out = np.empty_like(frames)
        for picture, (a, b) in zip(
            params["pictures"], ((0, change), (change, n_frames)), strict=False
        ):
            if picture["family"] == "still":
                still = frames[picture["frame"]]
            else:
                still = draw_graphic(height, width, picture["layout_seed"])
            out[a:b] = still
        # Encoded first, noise after: x264 turns a held picture into bit-identical skip frames,
        # so the faint per-frame difference comes from the capture/display chain that follows.
        out = reencoded(out, params["fps"], params["reencode"])
        for index in range(n_frames):
            out[index] = noisy_copies(out[index], 1, params["sigma"], "gaussian", rng)[0]
        return out, np.zeros(n_frames, dtype=np.int8), None
