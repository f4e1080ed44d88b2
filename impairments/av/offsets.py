"""Constant offsets, linear drift and splice steps of the audio against the picture.

Severity is the size of the error a viewer would see: |offset| 80-120 ms at 1 (just past what
BT.1359 calls detectable for late audio), up to 0.4-1 s at 5. Drift and steps reach the same bands
at the clip's middle (drift) or after the jump (step), so one severity means one visible size for
all three.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from impairments.av.base import AVImpairment, retime, shift_constant, splice
from impairments.registry import register

_MAGNITUDE_MS = {
    1: (80.0, 120.0),
    2: (120.0, 200.0),
    3: (200.0, 300.0),
    4: (300.0, 400.0),
    5: (400.0, 1000.0),
}


def _to_samples(ms: float, sample_rate: int) -> int:
    return int(round(ms * sample_rate / 1000.0))


@register
class AVOffset(AVImpairment):
    """The whole audio track shifted by ``offset_ms`` (positive = audio late)."""

    name = "av_offset"
    severity_ranges: ClassVar[Mapping[int, Mapping[str, tuple[float, float]]]] = {
        s: {"offset_ms": r} for s, r in _MAGNITUDE_MS.items()
    }

    def draw(self, rng: np.random.Generator, duration_s: float) -> dict[str, Any]:
        return {"offset_ms": round(self.signed(rng, "offset_ms"), 3)}

    def offset_at(self, params: dict[str, Any], times_s: np.ndarray) -> np.ndarray:
        return np.full(times_s.shape, params["offset_ms"], dtype=np.float64)

    def retime_audio(
        self, audio: np.ndarray, sample_rate: int, params: dict[str, Any]
    ) -> np.ndarray:
        return shift_constant(audio, _to_samples(params["offset_ms"], sample_rate))


@register
class AVDrift(AVImpairment):
    """Offset growing linearly (a clock-rate mismatch between the audio and video paths).

    ``mid_ms`` is the offset at the clip's middle (the severity band); ``rate_ms_per_s`` how fast
    it changes. Real mismatches are small (48 000 vs 48 048 Hz is 1 ms/s): the upper end here is
    deliberately beyond broadcast practice so a short clip still shows a visible change, and stays
    below ~4% speed, where the pitch shift itself would become the giveaway.
    """

    name = "av_drift"
    severity_ranges: ClassVar[Mapping[int, Mapping[str, tuple[float, float]]]] = {
        s: {"mid_ms": r, "rate_ms_per_s": (2.0, 40.0)} for s, r in _MAGNITUDE_MS.items()
    }

    def draw(self, rng: np.random.Generator, duration_s: float) -> dict[str, Any]:
        mid = self.signed(rng, "mid_ms")
        rate = self.uniform(rng, "rate_ms_per_s") * (1.0 if rng.random() < 0.5 else -1.0)
        return {
            "mid_ms": round(mid, 3),
            "rate_ms_per_s": round(rate, 4),
            "start_ms": round(mid - rate * duration_s / 2.0, 3),
        }

    def offset_at(self, params: dict[str, Any], times_s: np.ndarray) -> np.ndarray:
        return params["start_ms"] + params["rate_ms_per_s"] * times_s

    def retime_audio(
        self, audio: np.ndarray, sample_rate: int, params: dict[str, Any]
    ) -> np.ndarray:
        return retime(audio, sample_rate, params["start_ms"], params["rate_ms_per_s"])


@register
class AVStep(AVImpairment):
    """The offset jumps once (a splice or a dropped audio packet run): one side in sync
    (|offset| <= ``settled_ms``), the other in the severity band; which side is drawn."""

    name = "av_step"
    severity_ranges: ClassVar[Mapping[int, Mapping[str, tuple[float, float]]]] = {
        s: {"offset_ms": r, "settled_ms": (-20.0, 20.0), "at": (0.2, 0.8)}
        for s, r in _MAGNITUDE_MS.items()
    }

    def draw(self, rng: np.random.Generator, duration_s: float) -> dict[str, Any]:
        off = self.signed(rng, "offset_ms")
        settled = self.uniform(rng, "settled_ms")
        goes_out = bool(rng.random() < 0.5)
        before, after = (settled, off) if goes_out else (off, settled)
        return {
            "before_ms": round(before, 3),
            "after_ms": round(after, 3),
            "step_s": round(self.uniform(rng, "at") * duration_s, 4),
        }

    def offset_at(self, params: dict[str, Any], times_s: np.ndarray) -> np.ndarray:
        return np.where(times_s < params["step_s"], params["before_ms"], params["after_ms"])

    def retime_audio(
        self, audio: np.ndarray, sample_rate: int, params: dict[str, Any]
    ) -> np.ndarray:
        before = shift_constant(audio, _to_samples(params["before_ms"], sample_rate))
        after = shift_constant(audio, _to_samples(params["after_ms"], sample_rate))
        return splice(
            [before, after], [_to_samples(params["step_s"] * 1000.0, sample_rate)], sample_rate
        )
