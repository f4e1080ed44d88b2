"""The temporal side of the video contract: impairments that change WHEN pictures are shown.

A freeze or a stutter does not damage pixels; it changes which source picture appears at each
tick of the clock. Positives are therefore written as a *schedule*: ``source_index[i]`` is the
input frame shown at output frame ``i`` (the output keeps the input's length and rate, because
time goes on while the picture stops). Labels are derived from that schedule, never drawn
separately, so they cannot disagree with what was done:

- a repeat is an output frame that shows the same source frame as its predecessor;
- a freeze labels its repeated frames (first repeat .. last repeat), not the held original;
- a stutter labels the whole stretch where the cadence is broken (first .. last frame whose step
  through the source is not exactly one), repeats, jumps and the normal frames between them.

Clean-class look-alikes (a still shot with noise, a slide, a slow pan, a dissolve, slow motion)
label nothing and must never contain a bit-identical repeat: a repeat IS the defect.

Temporal annotations keep the pixel-mask interface of :class:`VideoAnnotation` with an empty
mask (a freeze is not block damage), so every video impairment answers the same questions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

from impairments.video import x264
from impairments.video.base import VideoAnnotation, VideoImpairment, check_frames, macroblock_grid

NORMAL, FREEZE, STUTTER = 0, 1, 2
EVENT_KINDS = {FREEZE: "freeze", STUTTER: "stutter"}
LIVE, DELAYED = "live", "delayed"
# x264 settings of the optional re-encode: repeats come back near-identical, not identical.
REENCODE_CRF = (18.0, 32.0)
REENCODE_GOP = (12.0, 50.0)


def events_from_labels(labels: np.ndarray, fps: float) -> list[dict[str, Any]]:
    """Contiguous runs of one non-zero label as ``{"start", "end", "kind"}`` in seconds.

    ``end`` is (last labelled frame + 1) / fps: a one-frame event lasts one frame period.
    """
    events: list[dict[str, Any]] = []
    values = np.asarray(labels)
    index = 0
    while index < len(values):
        label = int(values[index])
        stop = index + 1
        while stop < len(values) and values[stop] == label:
            stop += 1
        if label != NORMAL:
            events.append(
                {
                    "start": round(index / fps, 6),
                    "end": round(stop / fps, 6),
                    "kind": EVENT_KINDS[label],
                }
            )
        index = stop
    return events


def repeated_frames(frames: np.ndarray) -> np.ndarray:
    """Bool ``(T,)``: frame ``i`` is bit-identical to frame ``i - 1`` (frame 0 never is)."""
    flat = np.ascontiguousarray(frames).reshape(len(frames), -1)
    if flat.shape[1] % 8 == 0:  # compare 8 bytes at a time: several times faster on big frames
        flat = flat.view(np.uint64)
    out = np.zeros(len(frames), dtype=bool)
    for index in range(1, len(flat)):
        out[index] = np.array_equal(flat[index], flat[index - 1])
    return out


def cadence_breaks(source_index: np.ndarray) -> np.ndarray:
    """Bool ``(T,)``: output frame ``i`` does not advance exactly one source frame (a repeat,
    a skip, or a step back). Frame 0 has no predecessor and never breaks."""
    breaks = np.zeros(len(source_index), dtype=bool)
    breaks[1:] = np.diff(source_index) != 1
    return breaks


def stretch_labels(source_index: np.ndarray, label: int) -> np.ndarray:
    """``label`` from the first to the last cadence break (inclusive), 0 elsewhere."""
    labels = np.zeros(len(source_index), dtype=np.int8)
    broken = np.flatnonzero(cadence_breaks(source_index))
    if len(broken):
        labels[broken[0] : broken[-1] + 1] = label
    return labels


def draw_reencode(rng: np.random.Generator, share: float) -> dict[str, Any] | None:
    """With probability ``share``, the x264 settings of a re-encode after the defect."""
    if rng.random() >= share:
        return None
    return {
        "crf": round(float(rng.uniform(*REENCODE_CRF)), 2),
        "gop_frames": int(rng.integers(int(REENCODE_GOP[0]), int(REENCODE_GOP[1]) + 1)),
    }


def reencoded(frames: np.ndarray, fps: float, settings: dict[str, Any] | None) -> np.ndarray:
    """``frames`` through one x264 encode/decode (as after a transcode); unchanged if None.

    A repeated input frame then decodes as a near-identical picture: the encoder refines it
    toward the source over the following P-frames, and a keyframe inside a freeze re-codes it.
    """
    if settings is None:
        return frames
    n_frames, height, width = frames.shape[:3]
    clip = x264.encode(
        x264.even_padded(frames), fps=fps, crf=settings["crf"], gop=settings["gop_frames"]
    )
    out, _ = x264.decode(clip.packets, clip.extradata, n_frames, height, width)
    return out


def break_repeats(frames: np.ndarray) -> tuple[np.ndarray, int]:
    """Make every frame differ from its predecessor by at least one level in one pixel.

    Clean look-alikes must contain no repeat at all. Fresh noise makes an exact repeat
    astronomically unlikely on real frame sizes, but a tiny test frame, a flat slide or an
    encoder's skip blocks can still produce one; one pixel nudged by one level keeps the clip
    clean by definition without changing how it looks. Returns the frames and how many were
    nudged (recorded in the params, so a build can see if it ever happens).
    """
    nudged = 0
    out = frames
    for index in range(1, len(frames)):
        if np.array_equal(out[index], out[index - 1]):
            if nudged == 0:
                out = frames.copy()
            pixel = out[index, 0, 0, 0]
            out[index, 0, 0, 0] = pixel + 1 if pixel < 255 else pixel - 1
            nudged += 1
    return out, nudged


@dataclass(eq=False)
class TemporalAnnotation(VideoAnnotation):
    """Ground truth of a temporal impairment: per-frame labels, events, the shown schedule.

    ``frame_labels`` is int8 ``(T,)`` (0 normal, 1 freeze, 2 stutter); ``source_index`` the input
    frame shown at each output frame (``None`` for look-alikes, which re-time nothing). The pixel
    mask is an empty broadcast view: no memory, and no pixel damage to report.
    """

    fps: float = 25.0
    frame_labels: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    source_index: np.ndarray | None = None

    @cached_property
    def macroblock_mask(self) -> np.ndarray:
        frames, height, width = self.mask.shape
        return np.zeros((frames, *macroblock_grid(height, width)), dtype=bool)

    @property
    def frames(self) -> list[int]:
        return []

    def area_ratios(self) -> list[float]:
        return [0.0] * len(self.mask)

    @property
    def events(self) -> list[dict[str, Any]]:
        return events_from_labels(self.frame_labels, self.fps)

    @property
    def labelled_frames(self) -> list[int]:
        return [int(i) for i in np.flatnonzero(self.frame_labels)]

    def to_json(self) -> dict[str, Any]:
        out = super().to_json()
        out.update(
            fps=float(self.fps),
            frame_labels=[int(v) for v in self.frame_labels],
            events=self.events,
        )
        if self.source_index is not None:
            out["source_index"] = [int(v) for v in self.source_index]
        return out


class TemporalImpairment(VideoImpairment):
    """Base of freeze/stutter positives and their clean look-alikes.

    Subclasses implement :meth:`draw` (from ``rng``, the clip length and fps only, never the
    frame size, so a clip re-rendered at another resolution gets the same defect) and
    :meth:`apply`, returning ``(frames_out, frame_labels, source_index or None)``.
    """

    # The label a positive writes (FREEZE or STUTTER); NORMAL for look-alikes.
    label: ClassVar[int] = NORMAL
    # Share of draws re-encoded with x264 after the defect (see :func:`reencoded`).
    reencode_share: ClassVar[float] = 0.0

    def __init__(
        self, severity: int = 3, *, reencode_share: float | None = None, **overrides: Any
    ) -> None:
        super().__init__(severity, **overrides)
        share = type(self).reencode_share if reencode_share is None else float(reencode_share)
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"{self.name}: reencode_share must lie in [0, 1], got {share!r}")
        self.reencode_share = share

    def frames_for(self, seconds: float, fps: float, low: int = 1) -> int:
        return max(low, int(round(seconds * fps)))

    def apply(  # type: ignore[override]
        self, frames: np.ndarray, params: dict[str, Any], rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        raise NotImplementedError

    def __call__(  # type: ignore[override]
        self, frames: np.ndarray, *, fps: float = 25.0, seed: int | np.random.Generator
    ) -> tuple[np.ndarray, TemporalAnnotation]:
        clip = check_frames(frames, self.name)
        if not (isinstance(fps, int | float) and math.isfinite(fps) and fps > 0):
            raise ValueError(f"{self.name}: fps must be a positive number, got {fps!r}")
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        params = self.draw(rng, clip.shape[:3], float(fps))
        out, labels, source_index = self.apply(clip, params, rng)
        if self.hard_negative:
            out, params["nudged_repeats"] = break_repeats(out)
        if out.shape != clip.shape or out.dtype != np.uint8 or labels.shape != clip.shape[:1]:
            raise AssertionError(f"{self.name}: apply broke the frame/label shape contract")
        annotation = TemporalAnnotation(
            kind=self.name,
            severity=self.severity,
            params=params,
            mask=np.broadcast_to(np.zeros((), dtype=bool), clip.shape[:3]),
            fps=float(fps),
            frame_labels=labels.astype(np.int8),
            source_index=source_index,
            intervals=[
                (int(round(e["start"] * fps)), int(round(e["end"] * fps)))
                for e in events_from_labels(labels, float(fps))
            ],
        )
        return out, annotation
