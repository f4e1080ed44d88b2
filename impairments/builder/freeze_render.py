"""Render one planned shard of the ``freeze`` dataset: clip windows -> re-timed clips -> features.

A planned sample is a ``segment_s`` clip window of a source item. Its class comes from the plan
(clean / freeze / stutter, balanced per split); its seed alone decides the rest: which positive
impairment (``freeze`` for the freeze class; ``stutter`` or ``frame_drop`` for the stutter class)
or, for clean clips, whether and which look-alike, and every parameter drawn. The shard stores
what the detector reads, ``clip_features`` of the impaired frames (96x128 luma thumbnails and
per-frame difference statistics), the per-frame labels and a JSON record; not the pictures.

Two rules keep the labels honest:

- A freeze or stutter is only a defect where the content moves: on a still stretch a repeat is
  invisible, and the detector would learn to flag still shots. Each positive is checked against
  the clean window's own motion over the frames it labels (median mean |difference| of luma
  thumbnails >= ``min_motion``); a draw that fails is redrawn with a new seed (new position),
  and after ``redraws`` the clip is written clean, counted in the card as relabelled.
- Impairments draw from the clip length and rate only, never the frame size, and decisions are
  taken on the analysis-resolution frames, so :func:`render_freeze_clip` re-creates a sample at
  full resolution with the same defect and labels (the freezedetect baseline needs pictures).

Sources above ``max_fps`` are decimated by the smallest integer step that brings them to or
below it (50 -> 25, 59.94 -> 29.97): picking frames on an irregular grid would put judder into
clean clips.
"""

from __future__ import annotations

import io
import json
import math
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

import impairments
from impairments import media_io
from impairments.builder.plan import PlannedItem, PlannedSample, PlannedShard, derive_seed
from impairments.builder.render import ShardResult, ShardWriter
from impairments.sources.video_item import VideoProbe, probe_video, read_window, render_generator

if TYPE_CHECKING:
    from impairments.video.temporal import TemporalAnnotation

# The video stack (OpenCV, x264 through PyAV, the frame features) is imported where it is used:
# the builder's other datasets import this module for its dispatch and should not pay for it.

CLEAN = "clean"
NATIVE_HEIGHT = 1 << 30  # read_window's max_height meaning "no scaling"


@dataclass(frozen=True)
class FreezeRenderSettings:
    dataset: str
    labels: tuple[str, ...]  # [clean, freeze, stutter]: order = label_index
    output_dir: str
    segment_s: float  # clip length in seconds (``clip_s`` in the config)
    hop_s: float
    max_fps: float
    positives: dict[str, tuple[str, ...]]  # class -> impairments that make it
    hard_negatives: tuple[str, ...]
    hard_negative_share: float
    redraws: int
    min_motion: float  # thumbnail luma levels; see the module docstring
    feature_version: str
    impairment_ranges: dict[str, dict[str, Any]] = field(default_factory=dict)

    # One sample per clip window (the block dataset writes several crops per window).
    frames_per_clip = 1

    @classmethod
    def from_config(cls, data: Any, output_dir: str) -> FreezeRenderSettings:
        """From the ``dataset`` node of the build config (``conf/dataset/freeze.yaml``)."""
        from omegaconf import OmegaConf

        from impairments.video.frame_differences import FEATURE_VERSION

        positives = OmegaConf.to_container(data.positives, resolve=True) or {}
        labels = tuple(str(label) for label in data.labels)
        unknown = set(positives) - set(labels[1:])  # type: ignore[arg-type]
        if labels[0] != CLEAN or unknown or set(labels[1:]) - set(positives):  # type: ignore[arg-type]
            raise ValueError(
                f"dataset.positives must map every class after {CLEAN!r} in dataset.labels "
                f"{list(labels)} to its impairments, got {positives}"
            )
        settings = cls(
            dataset=str(data.kind),
            labels=labels,
            output_dir=str(output_dir),
            segment_s=float(data.segment_s),
            hop_s=float(data.hop_s),
            max_fps=float(data.max_fps),
            positives={str(k): tuple(map(str, v)) for k, v in positives.items()},  # type: ignore[union-attr]
            hard_negatives=tuple(str(name) for name in data.hard_negatives),
            hard_negative_share=float(data.hard_negative_share),
            redraws=int(data.redraws),
            min_motion=float(data.min_motion),
            feature_version=FEATURE_VERSION,
            impairment_ranges=OmegaConf.to_container(data.impairments, resolve=True) or {},  # type: ignore[arg-type]
        )
        named = [*settings.hard_negatives, *(n for v in settings.positives.values() for n in v)]
        for name in named:  # fail now, with the impairment's own message, not inside a worker
            _impairment(settings, name, 3)
        return settings

    def card_info(self) -> dict[str, Any]:
        return {
            "clip_s": self.segment_s,
            "hop_s": self.hop_s,
            "max_fps": self.max_fps,
            "feature_version": self.feature_version,
            "positives": {k: list(v) for k, v in self.positives.items()},
            "hard_negatives": list(self.hard_negatives),
            "hard_negative_share": self.hard_negative_share,
            "min_motion": self.min_motion,
        }


@dataclass
class FreezeClip:
    """One rendered sample: the impaired frames, their labels and the JSON record written."""

    key: str
    frames: np.ndarray  # (T, H, W, 3) uint8, impaired
    labels: np.ndarray  # (T,) int8: 0 normal, 1 freeze, 2 stutter
    meta: dict[str, Any]
    annotation: TemporalAnnotation | None


@dataclass(frozen=True)
class Window:
    frames: np.ndarray  # at the clip rate, native size
    fps: float
    t0: float  # start in the source, seconds
    step: int  # source frames per clip frame (decimation)


def decimation_step(fps: float, max_fps: float) -> int:
    """Smallest integer step that brings ``fps`` to ``max_fps`` or below."""
    return max(1, math.ceil(fps / max_fps - 1e-6))


def clip_frame_count(settings: FreezeRenderSettings, fps: float) -> int:
    return max(2, int(round(settings.segment_s * fps)))


def read_clip_window(
    settings: FreezeRenderSettings,
    planned: PlannedItem,
    sample: PlannedSample,
    probe: VideoProbe,
    whole: np.ndarray | None = None,
) -> Window | None:
    """The sample's window at native size and the clip rate; None when the source ends early."""
    step = decimation_step(probe.fps, settings.max_fps)
    fps = probe.fps / step
    count = clip_frame_count(settings, fps)
    start_s = sample.offset_index * settings.hop_s
    if whole is not None:
        first = int(round(start_s * probe.fps))
        frames = whole[first : first + count * step : step]
        t0 = first / probe.fps
    else:
        decoded, times = read_window(planned.item, probe, start_s, count * step, NATIVE_HEIGHT)
        frames, t0 = decoded[::step], float(times[0])
    if len(frames) < count:
        return None
    return Window(np.ascontiguousarray(frames), fps, round(t0, 6), step)


def clean_motion(analysis: np.ndarray) -> np.ndarray:
    """Mean |luma difference| of consecutive thumbnails, per frame (frame 0 copies frame 1)."""
    from impairments.video.frame_differences import thumbnails

    thumbs = thumbnails(analysis).astype(np.int16)
    motion = np.zeros(len(thumbs), dtype=np.float32)
    if len(thumbs) > 1:
        motion[1:] = np.abs(np.diff(thumbs, axis=0)).mean(axis=(1, 2))
        motion[0] = motion[1]
    return motion


@dataclass(frozen=True)
class Draw:
    """What one clip became."""

    label: str
    impairment: str | None  # the positive applied
    hard_negative: str | None
    severity: int
    attempts: int
    seed: int | None  # the impairment's own seed
    relabelled: str | None = None  # why a planned positive was written clean


def decide(
    settings: FreezeRenderSettings, sample: PlannedSample, analysis: np.ndarray, fps: float
) -> tuple[Draw, np.ndarray, TemporalAnnotation | None]:
    """Choose and apply the clip's impairment on the analysis frames; returns the decision,
    the frames to write and the annotation. Everything depends on the sample's seed and the
    analysis frames only, so a re-render at full resolution can replay the decision."""
    rng = np.random.default_rng(sample.seed)
    if sample.label != CLEAN:
        choices = settings.positives[sample.label]
        name = choices[int(rng.integers(len(choices)))]
        impairment = _impairment(settings, name, sample.severity)
        motion = clean_motion(analysis)
        for attempt in range(settings.redraws + 1):
            seed = derive_seed(sample.seed, "impairment", attempt)
            out, annotation = impairment(analysis, fps=fps, seed=seed)
            labelled = annotation.frame_labels.astype(bool)
            if labelled.any() and float(np.median(motion[labelled])) >= settings.min_motion:
                draw = Draw(sample.label, name, None, sample.severity, attempt + 1, seed)
                return draw, out, annotation
        reason = "no visible motion" if labelled.any() else "clip too short"
        draw = Draw(CLEAN, None, None, 0, settings.redraws + 1, None, f"{name}: {reason}")
        return draw, analysis, None
    if settings.hard_negatives and rng.random() < settings.hard_negative_share:
        name = settings.hard_negatives[int(rng.integers(len(settings.hard_negatives)))]
        severity = int(rng.integers(1, 6))
        seed = derive_seed(sample.seed, "impairment", 0)
        out, annotation = _impairment(settings, name, severity)(analysis, fps=fps, seed=seed)
        return Draw(CLEAN, None, name, severity, 1, seed), out, annotation
    return Draw(CLEAN, None, None, 0, 0, None), analysis, None


def _impairment(settings: FreezeRenderSettings, name: str, severity: int) -> Any:
    return impairments.get(name, severity=severity, **settings.impairment_ranges.get(name, {}))


def sample_record(
    settings: FreezeRenderSettings,
    planned: PlannedItem,
    sample: PlannedSample,
    window: Window,
    draw: Draw,
    annotation: TemporalAnnotation | None,
    size: tuple[int, int],
    source_repeats: int,
) -> dict[str, Any]:
    """The sample's ``json`` (the shard schema of the freeze contract, plus provenance)."""
    n_frames = len(window.frames)
    return {
        "dataset": settings.dataset,
        "label": draw.label,
        "label_index": settings.labels.index(draw.label),
        "impairment": draw.impairment,
        "hard_negative": draw.hard_negative,
        "severity": draw.severity if draw.impairment else 0,
        "impairment_severity": draw.severity,
        "params": annotation.params if annotation is not None else {},
        "events": annotation.events if draw.impairment and annotation is not None else [],
        "source_index": (
            [int(i) for i in annotation.source_index]
            if annotation is not None and annotation.source_index is not None
            else None
        ),
        "relabelled": draw.relabelled,
        "fps": round(window.fps, 6),
        "source_fps": round(window.fps * window.step, 6),
        "frame_step": window.step,
        "n_frames": n_frames,
        "duration_s": round(n_frames / window.fps, 6),
        "source": planned.item.describe(),
        "source_id": planned.item.id,
        "licence": planned.item.licence,
        "split": planned.split,
        "t0": window.t0,
        "size": [int(size[0]), int(size[1])],
        "source_repeats": source_repeats,
        "seed": sample.seed,
        "impairment_seed": draw.seed,
        "draw_attempts": draw.attempts,
        "feature_version": settings.feature_version,
    }


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def render_window(
    settings: FreezeRenderSettings,
    planned: PlannedItem,
    sample: PlannedSample,
    window: Window,
    full_resolution: bool = False,
) -> FreezeClip:
    """Impair one window; ``full_resolution`` re-applies the decided impairment to the native
    frames (same seed, same draws) instead of returning the analysis-resolution ones."""
    from impairments.video.frame_differences import analysis_frames
    from impairments.video.temporal import repeated_frames

    analysis = analysis_frames(window.frames)
    draw, frames, annotation = decide(settings, sample, analysis, window.fps)
    if full_resolution and frames.shape != window.frames.shape:
        frames, annotation = _replay(settings, draw, window)
    labels = (
        annotation.frame_labels
        if annotation is not None and draw.impairment
        else np.zeros(len(frames), dtype=np.int8)
    )
    source_repeats = int(repeated_frames(analysis).sum())
    meta = sample_record(
        settings, planned, sample, window, draw, annotation, analysis.shape[1:3], source_repeats
    )
    return FreezeClip(sample.key, frames, labels.astype(np.int8), meta, annotation)


def _replay(
    settings: FreezeRenderSettings, draw: Draw, window: Window
) -> tuple[np.ndarray, TemporalAnnotation | None]:
    name = draw.impairment or draw.hard_negative
    if name is None or draw.seed is None:
        return window.frames, None
    impairment = _impairment(settings, name, draw.severity)
    return impairment(window.frames, fps=window.fps, seed=draw.seed)


def render_freeze_shard(shard: PlannedShard, settings: FreezeRenderSettings) -> ShardResult:
    from impairments.video.frame_differences import clip_features

    started = time.perf_counter()
    writer = ShardWriter(settings, shard)
    counts: Counter[str] = Counter()
    for planned in shard.items:
        try:
            probe = probe_video(planned.item)
            whole = render_generator(planned.item) if planned.item.generator else None
            for sample in planned.samples:
                window = read_clip_window(settings, planned, sample, probe, whole)
                if window is None:
                    writer.skipped_segments["window shorter than the clip"] += 1
                    continue
                clip = render_window(settings, planned, sample, window)
                features = clip_features(clip.frames)
                encoded = {
                    "__key__": clip.key,
                    "thumbs.npy": _npy(features["thumbs"]),
                    "stats.npy": _npy(features["stats"].astype(np.float32)),
                    "labels.npy": _npy(clip.labels),
                    "json": json.dumps(clip.meta, sort_keys=True).encode(),
                }
                label = clip.meta["label"]
                writer.add_labelled(sample.seed, encoded, label, clip.meta["severity"])
                meta = clip.meta
                counts[f"{label}/{meta['impairment'] or meta['hard_negative'] or 'none'}"] += 1
                if meta["relabelled"]:
                    counts[f"relabelled/{meta['relabelled']}"] += 1
        except media_io.MediaError as error:
            writer.skipped_items.append({"source": planned.item.describe(), "reason": error.reason})
            writer.skipped_segments["source unreadable"] += len(planned.samples)
    return writer.publish(shard, started, dict(counts))


def render_freeze_clip(
    settings: FreezeRenderSettings,
    planned: PlannedItem,
    sample: PlannedSample,
    full_resolution: bool = True,
) -> FreezeClip | None:
    """Re-create one planned sample: its frames (native size with ``full_resolution``, else the
    analysis size the shard's features were computed at), labels and JSON record, exactly as the
    build decided them. None when the source no longer yields a whole window."""
    probe = probe_video(planned.item)
    whole = render_generator(planned.item) if planned.item.generator else None
    window = read_clip_window(settings, planned, sample, probe, whole)
    if window is None:
        return None
    return render_window(settings, planned, sample, window, full_resolution)


def iter_planned_clips(
    overrides: Sequence[str] = ("dataset=freeze",),
    split: str = "test",
    full_resolution: bool = True,
) -> Iterator[FreezeClip]:
    """Every planned sample of ``split`` for the build config ``conf/build.yaml`` + ``overrides``
    (the same overrides the build was run with), re-rendered in plan order.

    This is how an evaluation gets the dataset's test clips as pictures, e.g. to run ffmpeg
    ``freezedetect`` on them: ``for clip in iter_planned_clips(["dataset=freeze"], "test")``.
    ``dataset=freeze`` is added when ``overrides`` names no dataset.
    """
    from hydra import compose, initialize_config_dir

    from impairments.build import CONFIG_DIR
    from impairments.builder.run import plan_dataset

    overrides = list(overrides)
    if not any(o.split("=")[0].lstrip("+~") == "dataset" for o in overrides):
        overrides.insert(0, "dataset=freeze")
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose(config_name="build", overrides=overrides)
    if str(cfg.dataset.kind) != "freeze":
        raise ValueError(f"iter_planned_clips needs a freeze dataset, got {cfg.dataset.kind!r}")
    plan = plan_dataset(cfg)
    settings = FreezeRenderSettings.from_config(cfg.dataset, str(cfg.output_dir))
    for shard in plan.shards:
        if shard.split != split:
            continue
        for planned in shard.items:
            for sample in planned.samples:
                clip = render_freeze_clip(settings, planned, sample, full_resolution)
                if clip is not None:
                    yield clip
