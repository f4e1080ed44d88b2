"""``detect.py detector=freeze``: freezes and stutters over a whole video file of any length.

Frames are decoded one at a time (memory stays flat: only a window of features is held),
decimated like the build (sources above 30 fps by the smallest integer step), turned into the
same features the model was trained on (``frame_differences``), and scored in windows of
``window_frames`` with ``overlap_frames`` of context on each side, wider than the network's
receptive field, so every frame is judged with full context and window seams change nothing.

Per-frame decisions become events (runs of ``min_event_frames`` or more). A freeze longer than
the receptive field looks, from its middle, like a still shot, and the network may stop calling
it a freeze there; so a freeze event is *extended* while the following frames stay repeats at
the noise level measured inside the event (exact or near-exact zero change), the one cue a still
shot with sensor noise does not give.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from impairments.video.frame_differences import (
    FEATURE_VERSION,
    STAT_NAMES,
    THUMB_SIZE,
    difference_stats,
    thumbnails,
)
from training.detect.runtime import ModelLoadError, load_graph, read_export_card
from training.events import decisions_to_events

MAX_FPS = 30.0
ZERO = STAT_NAMES.index("zero_share")
MEAN = STAT_NAMES.index("mean_abs")
CLASSES = ("normal", "freeze", "stutter")


class ClipModel:
    """An exported freeze/stutter network behind ONNX Runtime (or TorchScript)."""

    def __init__(self, export_dir: Path, runtime: str = "auto", threads: int | None = None):
        folder, self.card = read_export_card(export_dir)
        self.path = str(folder)
        if self.card.get("feature_version") != FEATURE_VERSION:
            raise ValueError(
                f"{folder}: trained on features {self.card.get('feature_version')!r}, this "
                f"code computes {FEATURE_VERSION!r}; re-export or use the matching version"
            )
        self._graph = load_graph(export_dir, self.card, runtime, threads)
        self.runtime = self._graph.runtime

    def __call__(self, stats: np.ndarray, thumbs: np.ndarray) -> np.ndarray:
        """(T, F), (T, 96, 128) -> (T, 3) probabilities."""
        inputs = {"stats": stats[None], "thumbs": thumbs[None]}
        return self._graph(inputs, ["probabilities"])[0][0]


def _decimated(
    frames: Iterator[tuple[float, np.ndarray]], fps: float
) -> tuple[float, Iterator[tuple[float, np.ndarray]]]:
    step = max(1, math.ceil(fps / MAX_FPS - 1e-6))
    return fps / step, (item for index, item in enumerate(frames) if index % step == 0)


def _features(frames: Iterator[tuple[float, np.ndarray]], chunk: int = 64) -> Iterator[Any]:
    """Yield ``(times, stats, thumbs)`` chunks; statistics use 2 frames of context before."""
    context: list[np.ndarray] = []
    batch: list[np.ndarray] = []
    times: list[float] = []
    for t, frame in frames:
        batch.append(frame)
        times.append(t)
        if len(batch) == chunk:
            yield _chunk(context, batch, times)
            context, batch, times = batch[-2:], [], []
    if batch:
        yield _chunk(context, batch, times)


def _chunk(context: list[np.ndarray], batch: list[np.ndarray], times: list[float]) -> Any:
    if context and context[0].shape != batch[0].shape:
        context = []  # a resolution change mid-stream: start over (the first frame copies)
    stats = difference_stats(np.stack(context + batch))[len(context) :]
    return np.asarray(times), stats, thumbnails(np.stack(batch))


def analyse_clip_video(
    path: Path,
    model: ClipModel,
    window: int = 250,
    overlap: int = 64,
    min_event_frames: int = 3,
    smooth_frames: int = 1,
    merge_gap_frames: int = 0,
) -> dict[str, Any]:
    """The report body for one file (see module docstring)."""
    from impairments import media_io

    started = time.perf_counter()
    info = media_io.probe(path)
    if not info.video:
        raise media_io.MediaError(path, "no video stream")
    native_fps = info.video[0].fps or 25.0
    fps, frames = _decimated(media_io.iter_video_frames(path), native_fps)
    times: list[np.ndarray] = []
    stats_parts: list[np.ndarray] = []
    thumb_parts: list[np.ndarray] = []
    probabilities: list[np.ndarray] = []
    zero_share: list[np.ndarray] = []
    mean_abs: list[np.ndarray] = []
    scored = 0  # frames whose probabilities are final
    buffered_from = 0  # index of the first frame still held in the buffers
    inference_s = 0.0
    for chunk_times, stats, thumbs in _features(frames):
        times.append(chunk_times)
        stats_parts.append(stats)
        thumb_parts.append(thumbs)
        zero_share.append(stats[:, ZERO])
        mean_abs.append(stats[:, MEAN])
        held = sum(len(s) for s in stats_parts)
        while held - (scored - buffered_from) >= window + overlap:
            tick = time.perf_counter()
            all_stats, all_thumbs = np.concatenate(stats_parts), np.concatenate(thumb_parts)
            start = scored - buffered_from
            lo = max(0, start - overlap)
            probs = model(
                all_stats[lo : start + window + overlap], all_thumbs[lo : start + window + overlap]
            )
            probabilities.append(probs[start - lo : start - lo + window])
            scored += window
            inference_s += time.perf_counter() - tick
            keep = scored - overlap - buffered_from  # drop what no later window needs
            if keep > 0:
                stats_parts, thumb_parts = [all_stats[keep:]], [all_thumbs[keep:]]
                buffered_from += keep
            held = sum(len(s) for s in stats_parts)
    total = sum(len(t) for t in times)
    if total == 0:
        raise media_io.MediaError(path, "no frames decoded")
    if scored < total:
        tick = time.perf_counter()
        all_stats, all_thumbs = np.concatenate(stats_parts), np.concatenate(thumb_parts)
        start = scored - buffered_from
        lo = max(0, start - overlap)
        probs = model(all_stats[lo:], all_thumbs[lo:])
        probabilities.append(probs[start - lo :])
        inference_s += time.perf_counter() - tick
    probs = np.concatenate(probabilities)
    stamps = np.concatenate(times)
    labels = probs.argmax(axis=1)
    events = decisions_to_events(probs, fps, min_event_frames, smooth_frames, merge_gap_frames)
    events = extend_freezes(events, np.concatenate(zero_share), np.concatenate(mean_abs), fps)
    start_time = float(stamps[0]) if len(stamps) else 0.0
    for event in events:  # clip-relative seconds -> the file's own timeline
        event["start"] = round(event["start"] + start_time, 4)
        event["end"] = round(event["end"] + start_time, 4)
    return {
        "fps": round(fps, 4),
        "native_fps": round(native_fps, 4),
        "duration_s": round(total / fps, 3),
        "frames": [
            {
                "t": round(float(stamps[i]), 4),
                "index": i,
                "p_freeze": round(float(probs[i, 1]), 4),
                "p_stutter": round(float(probs[i, 2]), 4),
                "label": CLASSES[int(labels[i])],
            }
            for i in range(total)
        ],
        "events": events,
        "summary": {
            "events": len(events),
            "freeze_events": sum(e["kind"] == "freeze" for e in events),
            "stutter_events": sum(e["kind"] == "stutter" for e in events),
            "defect_seconds": round(sum(e["end"] - e["start"] for e in events), 3),
        },
        "timing_s": {
            "total": round(time.perf_counter() - started, 3),
            "inference": round(inference_s, 3),
        },
        "thumb_size": list(THUMB_SIZE),
    }


def extend_freezes(
    events: list[dict[str, Any]], zero_share: np.ndarray, mean_abs: np.ndarray, fps: float
) -> list[dict[str, Any]]:
    """Grow each freeze over the following frames that stay repeats at the event's own level."""
    out: list[dict[str, Any]] = []
    for event in events:
        if event["kind"] == "freeze":
            first, stop = int(round(event["start"] * fps)), int(round(event["end"] * fps))
            floor = float(zero_share[first:stop].min()) - 0.01
            ceiling = float(mean_abs[first:stop].max()) * 1.5 + 0.05
            while (
                stop < len(zero_share) and zero_share[stop] >= floor and mean_abs[stop] <= ceiling
            ):
                stop += 1
            event = {**event, "end": round(stop / fps, 6)}
        if out and out[-1]["kind"] == event["kind"] and event["start"] <= out[-1]["end"] + 2 / fps:
            out[-1] = {**out[-1], "end": max(out[-1]["end"], event["end"])}
        else:
            out.append(event)
    return out


def clip_analyser(cfg: Any) -> tuple[Any, ClipModel] | str:
    """``(analyse(media, report_path) -> report, model)`` for detect.py, or an error line."""
    try:
        model = ClipModel(Path(str(cfg.checkpoint)), cfg.get("runtime", "auto"), cfg.get("threads"))
    except (ModelLoadError, ValueError) as error:
        return str(error)
    expected = cfg.detector.name
    if model.card.get("detector") not in (None, expected):
        return f"{cfg.checkpoint}: is a {model.card.get('detector')} model, not {expected}"
    defaults = {**(cfg.detector.get("detect") or {}), **(model.card.get("detect") or {})}

    def analyse(path: Path, report_path: Path | None) -> dict[str, Any]:
        body = analyse_clip_video(
            path,
            model,
            window=int(defaults.get("window_frames", 250)),
            overlap=int(defaults.get("overlap_frames", 64)),
            min_event_frames=int(defaults.get("min_event_frames", 3)),
            smooth_frames=int(defaults.get("smooth_frames", 1)),
            merge_gap_frames=int(defaults.get("merge_gap_frames", 0)),
        )
        return {
            "input": str(path),
            "detector": model.card.get("detector"),
            "model": {
                "path": model.path,
                "runtime": model.runtime,
                "feature_version": FEATURE_VERSION,
            },
            **body,
        }

    return analyse, model
