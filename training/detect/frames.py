"""Frame-level detection over a video: decode, (optionally) sample at ``fps``, score in batches,
merge flagged frames into events, summarise, and draw a contact sheet of flagged frames.

Sampling at ``fps`` keeps the first decoded frame at or after each point of a regular grid
starting at the first frame, so ``fps`` above the video's rate analyses every frame once.
Frames stream through: only one batch (and the contact-sheet thumbnails) is held in memory.

Events: a run of consecutive analysed frames that are flagged; it starts at its first frame's
time and ends where the next analysed frame starts (or one frame step after the last one).
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from training.detect.frame_runtime import FrameMapModel
from training.overlays import overlay_map

DECISIONS = ("v1", "v2")


def sample_at_fps(
    frames: Iterator[tuple[float, np.ndarray]], fps: float | None
) -> Iterator[tuple[int, float, np.ndarray]]:
    """``(decoded index, time, frame)`` of every frame, or of those on an ``fps`` grid."""
    if fps is not None and fps <= 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    next_time: float | None = None
    for index, (t, frame) in enumerate(frames):
        if fps is None:
            yield index, t, frame
            continue
        if next_time is None:
            next_time = t
        if t >= next_time - 1e-6:
            yield index, t, frame
            steps = math.floor((t - next_time) * fps + 1e-6) + 1
            next_time += steps / fps


def flag_frames(outputs: dict[str, np.ndarray], decision: dict[str, Any], rule: str) -> np.ndarray:
    if rule == "v1":
        return outputs["area_ratio"] > float(decision["area_threshold"])
    return outputs["frame_score"] > float(decision["frame_threshold"])


def merge_events(times: list[float], flags: list[bool], step: float) -> list[dict[str, float]]:
    events: list[dict[str, float]] = []
    start: float | None = None
    for i, (t, flagged) in enumerate(zip(times, flags, strict=True)):
        if flagged and start is None:
            start = t
        end_of_run = start is not None and (not flagged or i == len(times) - 1)
        if end_of_run:
            end = t if not flagged else t + step
            events.append({"start": round(start, 3), "end": round(end, 3)})  # type: ignore[arg-type]
            start = None
    return events


class ContactSheet:
    """Thumbnails of flagged frames with the map overlaid, written as one PNG grid."""

    def __init__(self, limit: int = 48, width: int = 320, columns: int = 4) -> None:
        self.limit, self.width, self.columns = int(limit), int(width), int(columns)
        self.tiles: list[np.ndarray] = []
        self.flagged = 0

    def add(self, frame: np.ndarray, cell_map: np.ndarray, caption: str) -> None:
        import cv2

        self.flagged += 1
        if len(self.tiles) >= self.limit:
            return
        tile = overlay_map(frame, cell_map, alpha=0.55)
        height = max(1, round(tile.shape[0] * self.width / tile.shape[1]))
        tile = cv2.resize(tile, (self.width, height), interpolation=cv2.INTER_AREA)
        tile = np.concatenate([np.zeros((22, self.width, 3), np.uint8), tile], axis=0)
        cv2.putText(tile, caption, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1)
        self.tiles.append(tile)

    def write(self, path: Path) -> Path | None:
        import cv2

        if not self.tiles:
            return None
        height = max(t.shape[0] for t in self.tiles)
        padded = [np.pad(t, ((0, height - t.shape[0]), (0, 0), (0, 0))) for t in self.tiles]
        padded += [np.zeros_like(padded[0])] * (-len(padded) % self.columns)
        rows = [
            np.concatenate(padded[i : i + self.columns], axis=1)
            for i in range(0, len(padded), self.columns)
        ]
        path.parent.mkdir(parents=True, exist_ok=True)
        if not cv2.imwrite(str(path), cv2.cvtColor(np.concatenate(rows), cv2.COLOR_RGB2BGR)):
            raise OSError(f"{path}: cannot write the contact sheet")
        return path


def _expected_frames(stream: Any, fps: float | None) -> int | None:
    """Frames the progress bar should expect (None: unknown, the bar just counts)."""
    if fps is not None and stream.duration_s:
        return int(stream.duration_s * fps) + 1
    return stream.frame_count


def analyse_video(
    path: Path,
    model: FrameMapModel,
    fps: float | None,
    batch_size: int,
    rule: str = "v2",
    contact_sheet: Path | None = None,
    progress: bool | None = None,
) -> dict[str, Any]:
    """The report for one video (``training/block_corruption.md``); ``MediaError`` on bad input.

    ``progress``: None shows a bar only on a terminal.
    """
    from tqdm import tqdm

    from impairments import media_io

    if rule not in DECISIONS:
        raise ValueError(f"decision must be one of {DECISIONS}, got {rule!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    info = media_io.probe(path)
    if not info.video:
        raise media_io.MediaError(path, "no video stream")
    native_fps = info.video[0].fps or 25.0
    step = 1.0 / (fps or native_fps)
    sheet = ContactSheet() if contact_sheet is not None else None
    rows: list[dict[str, Any]] = []
    timing = {"decode": 0.0, "inference": 0.0}
    bar = tqdm(
        total=_expected_frames(info.video[0], fps),
        unit="frame",
        desc=path.name,
        file=sys.stderr,
        disable=None if progress is None else not progress,  # None: only on a terminal
    )

    def infer(batch: list[tuple[int, float, np.ndarray]]) -> None:
        started = time.perf_counter()
        outputs = model(np.stack([frame for _, _, frame in batch]))
        timing["inference"] += time.perf_counter() - started
        flags = flag_frames(outputs, model.decision, rule)
        for j, (index, t, frame) in enumerate(batch):
            rows.append(
                {
                    "t": round(float(t), 4),
                    "index": int(index),
                    "corrupted": bool(flags[j]),
                    "area_ratio": round(float(outputs["area_ratio"][j]), 5),
                    "score": round(float(outputs["frame_score"][j]), 5),
                }
            )
            if sheet is not None and flags[j]:
                caption = f"t={t:.2f}s #{index} p={float(outputs['frame_score'][j]):.2f}"
                sheet.add(frame, outputs["corruption_map"][j], caption)
        bar.update(len(batch))

    def timed(frames: Iterator[tuple[int, float, np.ndarray]]) -> Iterator[Any]:
        while True:
            started = time.perf_counter()
            item = next(frames, None)
            timing["decode"] += time.perf_counter() - started
            if item is None:
                return
            yield item

    batch: list[tuple[int, float, np.ndarray]] = []
    for item in timed(sample_at_fps(media_io.iter_video_frames(path), fps)):
        if batch and batch[0][2].shape != item[2].shape:  # a size change mid-stream
            infer(batch)
            batch = []
        batch.append(item)
        if len(batch) == batch_size:
            infer(batch)
            batch = []
    if batch:
        infer(batch)
    bar.close()
    if not rows:
        raise media_io.MediaError(path, "video stream decodes to no frames")
    times, flags = [r["t"] for r in rows], [r["corrupted"] for r in rows]
    events = merge_events(times, flags, step)
    flagged = sum(flags)
    report: dict[str, Any] = {
        "duration_s": round(times[-1] - times[0] + step, 3),
        "fps": fps,
        "video_fps": native_fps,
        "size": [info.video[0].width, info.video[0].height],
        "decision": rule,
        "frames": rows,
        "events": events,
        "summary": {
            "frames_analysed": len(rows),
            "frames_corrupted": flagged,
            "corrupted_share": round(flagged / len(rows), 5),
            "events": len(events),
            "corrupted_s": round(sum(e["end"] - e["start"] for e in events), 3),
            "max_score": round(max(r["score"] for r in rows), 5),
        },
        "timing_s": {k: round(v, 3) for k, v in timing.items()},
    }
    if sheet is not None:
        written = sheet.write(contact_sheet)  # type: ignore[arg-type]
        report["contact_sheet"] = str(written) if written else None
        report["contact_sheet_frames"] = {"shown": len(sheet.tiles), "flagged": sheet.flagged}
    return report
