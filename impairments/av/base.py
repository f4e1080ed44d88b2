"""The A/V side of the impairment contract: picture kept, audio re-timed, offset per frame out.

An A/V offset is not damage to either stream; it is a wrong *relation* between them. So the
impairment takes both (frames, or only their count and rate, plus the samples), returns the
picture untouched and the audio re-timed, and its ground truth is the offset at every video
frame. Time-varying offsets (drift, steps) are described by one function, ``offset_at(t)``,
from which both the audio and the per-frame labels are computed, so the two cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import soxr

from impairments.av.labels import SyncBands, sync_label
from impairments.base import Annotation, Impairment, as_channels_first, restore_layout

SPLICE_FADE_S = 0.005  # crossfade at an offset jump, so a splice does not also add a click


@dataclass(eq=False)
class AVAnnotation(Annotation):
    """Ground truth of one A/V impairment: the offset (ms, positive = audio late) per frame."""

    fps: float = 25.0
    offsets_ms: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))

    def labels(self, bands: SyncBands | None = None) -> list[str]:
        bands = bands or SyncBands()
        return [sync_label(float(o), self.fps, bands) for o in self.offsets_ms]

    def to_json(self) -> dict[str, Any]:
        base = super().to_json()
        offsets = np.asarray(self.offsets_ms, dtype=np.float64)
        base.update(
            fps=float(self.fps),
            offsets_ms=[round(float(o), 2) for o in offsets],
            offset_ms_mean=round(float(offsets.mean()), 2) if offsets.size else 0.0,
            offset_ms_range=(
                [round(float(offsets.min()), 2), round(float(offsets.max()), 2)]
                if offsets.size
                else [0.0, 0.0]
            ),
        )
        return base


def shift_constant(audio: np.ndarray, shift: int) -> np.ndarray:
    """``(channels, n)`` delayed by ``shift`` samples (advanced if negative), length kept.

    The gap that opens is silence: what a player outputs when audio is late, and what an encoder
    writes when audio is cut early. Digital silence is itself a cue a detector could learn, so
    datasets should prefer windows away from the clip edges (the labels say where they are).
    """
    out = np.zeros_like(audio)
    n = audio.shape[1]
    if shift >= n or -shift >= n:
        return out
    if shift >= 0:
        out[:, shift:] = audio[:, : n - shift]
    else:
        out[:, : n + shift] = audio[:, -shift:]
    return out


def retime(audio: np.ndarray, sample_rate: int, start_ms: float, rate: float) -> np.ndarray:
    """Audio whose offset grows linearly: ``offset(t) = start_ms + rate * t`` (rate in ms per s).

    out(t) = in(t - offset(t)) = in((1 - r) t - o0) with r = rate / 1000: the input played at
    speed (1 - r) — exactly what a clock-rate mismatch does — then delayed by o0 / (1 - r) (the
    delay applies on the stretched time axis). The speed change is a sinc resampling (soxr VHQ),
    not sample repetition, so no artefact marks it.
    """
    speed = 1.0 - rate / 1000.0
    if speed <= 0.5 or speed >= 2.0:
        raise ValueError(f"retime: drift rate {rate} ms/s is not a clock mismatch")
    n = audio.shape[1]
    if abs(speed - 1.0) < 1e-12:
        stretched = audio
    else:
        stretched = soxr.resample(audio.T, sample_rate, sample_rate / speed, quality="VHQ").T
    stretched = np.ascontiguousarray(stretched[:, :n], dtype=np.float32)
    if stretched.shape[1] < n:
        stretched = np.pad(stretched, ((0, 0), (0, n - stretched.shape[1])))
    return shift_constant(stretched, int(round(start_ms / speed * sample_rate / 1000.0)))


def splice(parts: list[np.ndarray], boundaries: list[int], sample_rate: int) -> np.ndarray:
    """Join versions of the same-length audio at sample ``boundaries`` with short crossfades."""
    out = parts[0].copy()
    fade = max(1, int(SPLICE_FADE_S * sample_rate))
    for part, boundary in zip(parts[1:], boundaries, strict=True):
        start = max(0, boundary - fade // 2)
        stop = min(out.shape[1], start + fade)
        ramp = np.linspace(0.0, 1.0, stop - start, dtype=np.float32)
        out[:, start:stop] = out[:, start:stop] * (1.0 - ramp) + part[:, start:stop] * ramp
        out[:, stop:] = part[:, stop:]
    return out


class AVImpairment(Impairment):
    """Base of the A/V impairments: ``imp(samples, sample_rate=, fps=, n_frames=, seed=)``.

    Subclasses implement :meth:`draw` (offset parameters in ms), :meth:`offset_at` (the offset in
    ms at times in seconds, from the drawn params alone) and :meth:`retime_audio`.
    """

    media: ClassVar[str] = "av"
    DIRECTIONS: ClassVar[tuple[str, ...]] = ("late", "early")

    def __init__(
        self,
        severity: int = 3,
        directions: tuple[str, ...] | list[str] = DIRECTIONS,
        **overrides: Any,
    ) -> None:
        super().__init__(severity, **overrides)
        self.directions = self.subset("directions", directions, self.DIRECTIONS)
        self.signed_ranges = frozenset(overrides)

    def signed(self, rng: np.random.Generator, key: str) -> float:
        """An offset from the ``key`` range.

        The severity tables hold magnitudes, and the direction (late/early) is drawn. A range the
        caller passes is a *signed* offset range and is used as is: ``offset_ms=-200`` on the
        command line means exactly 200 ms early, never a drawn sign.
        """
        value = self.uniform(rng, key)
        if key in self.signed_ranges:
            return value
        direction = self.pick(rng, self.directions)
        return value if direction == "late" else -value

    def offset_at(self, params: dict[str, Any], times_s: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def retime_audio(
        self, audio: np.ndarray, sample_rate: int, params: dict[str, Any]
    ) -> np.ndarray:
        raise NotImplementedError

    def draw(  # type: ignore[override]
        self, rng: np.random.Generator, duration_s: float
    ) -> dict[str, Any]:
        raise NotImplementedError

    def __call__(  # type: ignore[override]
        self,
        samples: np.ndarray,
        *,
        sample_rate: int,
        fps: float,
        n_frames: int | None = None,
        seed: int | np.random.Generator,
    ) -> tuple[np.ndarray, AVAnnotation]:
        """Re-timed audio (same shape) and the offset at each of ``n_frames`` frames.

        ``n_frames`` defaults to the frames the audio spans at ``fps``.
        """
        if not isinstance(sample_rate, int | np.integer) or sample_rate <= 0:
            raise ValueError(
                f"{self.name}: sample_rate must be a positive int, got {sample_rate!r}"
            )
        if not fps or fps <= 0:
            raise ValueError(f"{self.name}: fps must be positive, got {fps!r}")
        audio, was_mono = as_channels_first(samples, self.name)
        duration_s = audio.shape[1] / sample_rate
        frames = int(n_frames) if n_frames is not None else int(duration_s * fps)
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        params = self.draw(rng, duration_s)
        out = self.retime_audio(audio, int(sample_rate), params)
        offsets = self.offset_at(params, np.arange(frames) / float(fps)).astype(np.float32)
        annotation = AVAnnotation(
            kind=self.name,
            severity=self.severity,
            params=params,
            fps=float(fps),
            offsets_ms=offsets,
        )
        out = np.nan_to_num(out.astype(np.float32, copy=False), nan=0.0, posinf=1.0, neginf=-1.0)
        return restore_layout(out, was_mono), annotation
