"""Render one planned shard of a block-corruption dataset: clip windows -> impaired crops.

A planned sample of a video dataset is a clip window (``segment_s`` seconds of an item). Its
seed alone decides everything drawn here: the work region, the impairment (a positive for the
"corrupted" class; nothing or a hard negative for "clean"), its severity and the frames and crops
written, so the bytes of a shard depend only on its slice of the plan.

Impairments run on a macroblock-aligned work region at native resolution (``region``), not the
whole frame: x264 in ``codec_corruption`` then costs what a 384x384 clip costs whatever the
source size, and the 16-pixel grid of the crop still is the grid of the source frame.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

import impairments
from impairments import media_io
from impairments.builder.plan import PlannedItem, PlannedSample, PlannedShard, derive_seed
from impairments.builder.render import ShardResult, ShardWriter
from impairments.sources.video_item import probe_video, read_window, render_generator

CLEAN, CORRUPTED = "clean", "corrupted"
MACROBLOCK = 16
CROP_ALIGN = 32  # the detector's stride: crops are whole output cells


@dataclass(frozen=True)
class VideoRenderSettings:
    dataset: str
    labels: tuple[str, ...]
    output_dir: str
    segment_s: float  # clip window length
    hop_s: float
    max_height: int  # taller sources are scaled down to this first
    region: tuple[int, int]  # (h, w) work region the impairment runs on
    crop: tuple[int, int]  # (h, w) written crop; smaller frames get the largest multiple of 32
    frames_per_clip: int
    positives: tuple[str, ...]
    hard_negatives: tuple[str, ...]
    hard_negative_share: float
    redraws: int  # extra seeds tried when a corruption draw leaves no visible damage
    png_compression: int = 1
    impairment_ranges: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Draw:
    """What one clip became: the impairment applied (if any) and its result."""

    label: str
    name: str | None
    severity: int
    frames: np.ndarray
    mask: np.ndarray
    params: dict[str, Any]
    attempts: int


def _aligned(size: int, limit: int, step: int) -> int:
    """The largest multiple of ``step`` that is <= both ``size`` and ``limit`` (0 if none)."""
    return min(limit, size) // step * step


def _impair(
    settings: VideoRenderSettings,
    sample: PlannedSample,
    clip: np.ndarray,
    fps: float,
    rng: np.random.Generator,
) -> Draw:
    """Apply the clip's impairment; redraw a positive that left no visible damage, then give up
    honestly (the clip becomes clean, and the card counts it)."""
    empty = np.zeros(clip.shape[:3], dtype=bool)
    if sample.label == CORRUPTED:
        name: str | None = settings.positives[int(rng.integers(len(settings.positives)))]
        severity = sample.severity
    elif settings.hard_negatives and rng.random() < settings.hard_negative_share:
        name = settings.hard_negatives[int(rng.integers(len(settings.hard_negatives)))]
        severity = int(rng.integers(1, 6))
    else:
        return Draw(CLEAN, None, 0, clip, empty, {}, 0)
    overrides = settings.impairment_ranges.get(name) or {}
    impairment = impairments.get(name, severity=severity, **overrides)
    for attempt in range(settings.redraws + 1):
        seed = derive_seed(sample.seed, "impairment", attempt)
        out, annotation = impairment(clip, fps=fps, seed=seed)
        if sample.label == CLEAN or annotation.mask.any():
            return Draw(
                sample.label, name, severity, out, annotation.mask, annotation.params, attempt + 1
            )
    return Draw(
        CLEAN, name, severity, out, annotation.mask, annotation.params, settings.redraws + 1
    )


def _crop_origins(
    draw: Draw,
    count: int,
    grid: tuple[int, int],
    crop_blocks: tuple[int, int],
    rng: np.random.Generator,
) -> list[tuple[int, int, int]]:
    """``count`` (frame, top, left) crops in macroblocks; corrupted clips: each crop holds at least
    one corrupted macroblock of its frame (frames cycle when fewer are damaged than ``count``)."""
    rows, cols = grid
    crop_rows, crop_cols = crop_blocks
    if draw.label == CLEAN:
        frames = rng.permutation(len(draw.frames))
        return [
            (
                int(frames[i % len(frames)]),
                int(rng.integers(rows - crop_rows + 1)),
                int(rng.integers(cols - crop_cols + 1)),
            )
            for i in range(count)
        ]
    from impairments.video.base import macroblock_mask_from_pixels

    blocks = macroblock_mask_from_pixels(draw.mask)[:, :rows, :cols]
    damaged = rng.permutation(np.flatnonzero(blocks.any(axis=(1, 2))))
    origins = []
    for i in range(count):
        frame = int(damaged[i % len(damaged)])
        ys, xs = np.nonzero(blocks[frame])
        pick = int(rng.integers(len(ys)))
        y, x = int(ys[pick]), int(xs[pick])
        top = int(rng.integers(max(0, y - crop_rows + 1), min(y, rows - crop_rows) + 1))
        left = int(rng.integers(max(0, x - crop_cols + 1), min(x, cols - crop_cols) + 1))
        origins.append((frame, top, left))
    return origins


def _png(image: np.ndarray, compression: int) -> bytes:
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, compression])
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return data.tobytes()


def _render_clip(
    writer: ShardWriter,
    settings: VideoRenderSettings,
    planned: PlannedItem,
    sample: PlannedSample,
    window: np.ndarray,
    times: np.ndarray,
    first_index: int,
    fps: float,
    counts: Counter[str],
) -> None:
    rng = np.random.default_rng(sample.seed)
    height, width = window.shape[1:3]
    region_h = _aligned(height, settings.region[0], MACROBLOCK)
    region_w = _aligned(width, settings.region[1], MACROBLOCK)
    crop_h = _aligned(region_h, settings.crop[0], CROP_ALIGN)
    crop_w = _aligned(region_w, settings.crop[1], CROP_ALIGN)
    if min(crop_h, crop_w) == 0:
        counts["skipped/frame smaller than 32x32"] += settings.frames_per_clip
        return
    top = MACROBLOCK * int(rng.integers((height - region_h) // MACROBLOCK + 1))
    left = MACROBLOCK * int(rng.integers((width - region_w) // MACROBLOCK + 1))
    clip = np.ascontiguousarray(window[:, top : top + region_h, left : left + region_w])
    draw = _impair(settings, sample, clip, fps, rng)
    if draw.label != sample.label:
        counts["relabelled/no visible damage"] += 1
    grid = (region_h // MACROBLOCK, region_w // MACROBLOCK)
    crop_blocks = (crop_h // MACROBLOCK, crop_w // MACROBLOCK)
    hard_negative = draw.name if draw.label == CLEAN else None
    impairment_name = draw.name if draw.label == CORRUPTED else None
    for index, (frame, by, bx) in enumerate(
        _crop_origins(draw, settings.frames_per_clip, grid, crop_blocks, rng)
    ):
        y, x = by * MACROBLOCK, bx * MACROBLOCK
        pixels = draw.frames[frame, y : y + crop_h, x : x + crop_w]
        mask = draw.mask[frame, y : y + crop_h, x : x + crop_w]
        label = CORRUPTED if mask.any() else CLEAN
        key = f"{sample.key}_{index:02d}"
        meta = {
            "dataset": settings.dataset,
            "label": label,
            "label_index": settings.labels.index(label),
            "impairment": impairment_name,
            "hard_negative": hard_negative,
            "severity": draw.severity if label == CORRUPTED else 0,
            "impairment_severity": draw.severity,
            "params": draw.params,
            "area_ratio": round(float(mask.mean()), 6),
            "no_visible_damage": draw.name is not None and draw.label != sample.label,
            "source": planned.item.describe(),
            "source_id": planned.item.id,
            "licence": planned.item.licence,
            "split": planned.split,
            "frame_index": first_index + frame,
            "t": round(float(times[frame]), 6),
            "fps": round(fps, 6),
            "frame_size": [height, width],
            "crop": [top + y, left + x, crop_h, crop_w],
            "seed": sample.seed,
            "draw_attempts": draw.attempts,
        }
        encoded = {
            "__key__": key,
            "frame.png": _png(pixels, settings.png_compression),
            "mask.png": _png(mask.astype(np.uint8) * 255, settings.png_compression),
            "json": json.dumps(meta, sort_keys=True).encode(),
        }
        order = derive_seed(sample.seed, "order", index)
        writer.add_labelled(order, encoded, label, meta["severity"])
        counts[f"{label}/{impairment_name or hard_negative or 'none'}"] += 1


def render_video_shard(shard: PlannedShard, settings: VideoRenderSettings) -> ShardResult:
    started = time.perf_counter()
    writer = ShardWriter(settings, shard)
    counts: Counter[str] = Counter()
    for planned in shard.items:
        try:
            probe = probe_video(planned.item)
            whole = render_generator(planned.item) if planned.item.generator else None
            for sample in planned.samples:
                start_s = sample.offset_index * settings.hop_s
                frame_count = max(1, int(round(settings.segment_s * probe.fps)))
                first = int(round(start_s * probe.fps))
                if whole is not None:
                    window = whole[first : first + frame_count]
                    times = (first + np.arange(len(window))) / probe.fps
                else:
                    window, times = read_window(
                        planned.item, probe, start_s, frame_count, settings.max_height
                    )
                _render_clip(
                    writer, settings, planned, sample, window, times, first, probe.fps, counts
                )
        except media_io.MediaError as error:
            writer.skipped_items.append({"source": planned.item.describe(), "reason": error.reason})
            writer.skipped_segments["source unreadable"] += len(planned.samples)
    for name, count in counts.items():
        if name.startswith("skipped/"):
            writer.skipped_segments[name.split("/", 1)[1]] += count
    per_impairment = {k: v for k, v in counts.items() if not k.startswith("skipped/")}
    return writer.publish(shard, started, per_impairment)
