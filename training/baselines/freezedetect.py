"""ffmpeg's ``freezedetect`` filter as a freeze detector: events from frames or from a file.

``freezedetect=n=<noise>:d=<duration>`` compares every frame with a *reference* frame (the first
frame of the current still stretch) by mean absolute difference over all planes, normalised to
0..1; a frame within ``n`` of the reference is "frozen" and leaves the reference where it is,
any other frame becomes the new reference. A still stretch is reported (``freeze_start`` = the
reference's time, ``freeze_end`` = the first frame that moved) once it has lasted ``d``.

Two conventions are translated here so the events compare with the project's labels:

* **Start.** ffmpeg starts the freeze at the reference, the original frame that is then held;
  a label (contract: "a freeze event covers the REPEATED frames") starts at the first repeat,
  one frame later. ``events`` move ``start`` one frame on; the end is the same in both.
* **Open end.** A freeze still running at the end of input gets ``freeze_start`` but never a
  ``freeze_end``: it ends at the clip end.

Tuning both thresholds costs one ffmpeg pass per noise level, not one per pair: with ``d=0``
the filter reports *every* still stretch (a stretch of one frame included), and whether a
stretch would be reported at a larger ``d`` depends only on its length (the reference is
updated from the frozen/not-frozen decision, never from ``d``). ``still_runs`` gets the stretches
of several noise levels in one process (``split`` into one filter branch per level) and
``events_from_runs`` applies any ``d``. Tests check this against direct runs.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from training.baselines.ffmpeg_filter import (
    PRINT_METADATA,
    check_frames,
    file_input,
    frame_rate,
    rawvideo_input,
    run_filter,
)

MARK = re.compile(r"lavfi\.freezedetect\.freeze_(start|end)=(\S+)")
PROGRESS_END = re.compile(r"^out_time_us=(\d+)$", re.MULTILINE)
# The validation grid: noise from -70 dB (bit-exact repeats only, up to rounding in the
# RGB->YUV conversion) to -30 dB (3% mean difference: hand-held still shots pass as frozen);
# minimum durations from just above one frame at 25 fps to one second.
NOISE_DB_GRID = (-70.0, -65.0, -60.0, -55.0, -50.0, -45.0, -40.0, -35.0, -30.0)
MIN_DURATION_GRID = (0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0)


@dataclass(frozen=True)
class FreezedetectSetting:
    """The filter's two thresholds: noise in dB (``n = 10**(dB/20)``) and minimum duration."""

    noise_db: float
    min_duration_s: float

    def __post_init__(self) -> None:
        if not -120.0 <= self.noise_db <= 0.0:
            raise ValueError(f"freezedetect noise must be in -120..0 dB, got {self.noise_db}")
        if self.min_duration_s < 0:
            raise ValueError(f"freezedetect duration must be >= 0 s, got {self.min_duration_s}")

    @property
    def noise_ratio(self) -> float:
        return 10.0 ** (self.noise_db / 20.0)

    @property
    def filter(self) -> str:
        return f"freezedetect=n={self.noise_ratio:.10g}:d={self.min_duration_s:.6g}"

    def to_json(self) -> dict[str, Any]:
        return {
            "noise_db": self.noise_db,
            "noise_ratio": self.noise_ratio,
            "min_duration_s": self.min_duration_s,
            "filter": self.filter,
        }


@dataclass(frozen=True)
class StillRun:
    """One still stretch at some noise level: reference frame ``start``, frames ``start + 1 ..
    end - 1`` within the noise of it; ``open``: still running when the input ended."""

    start: int
    end: int
    open: bool


def freeze_marks(printed: str) -> list[tuple[str, float]]:
    """``[("start"|"end", seconds), ...]`` in the order ffmpeg printed them."""
    return [(kind, float(value)) for kind, value in MARK.findall(printed)]


def events_from_marks(
    marks: Sequence[tuple[str, float]], clip_end_s: float, frame_s: float, what: str = "input"
) -> list[dict[str, Any]]:
    """Pair starts with ends into events in the label convention (see the module docstring)."""
    events: list[dict[str, Any]] = []
    start: float | None = None
    for kind, seconds in marks:
        if kind == "start":
            if start is not None:
                raise ValueError(f"{what}: freezedetect printed two freeze_start without an end")
            start = seconds
        else:
            if start is None:
                raise ValueError(f"{what}: freezedetect printed freeze_end without a start")
            events.append(_event(start + frame_s, seconds))
            start = None
    if start is not None:
        events.append(_event(start + frame_s, clip_end_s))
    # With ``d`` of one frame or less the filter reports every moving frame as a one-frame
    # stretch; holding nothing, it is no freeze (empty once the start moves to the first repeat).
    return [event for event in events if event["end"] > event["start"]]


def _event(start: float, end: float) -> dict[str, Any]:
    return {"start": round(start, 6), "end": round(end, 6), "kind": "freeze"}


def freezedetect_frames(
    frames: np.ndarray | Sequence[np.ndarray],
    fps: float,
    setting: FreezedetectSetting,
    what: str = "frames",
) -> list[dict[str, Any]]:
    """Freeze events of RGB uint8 frames piped to ffmpeg raw, at their full resolution."""
    height, width = check_frames(frames, f"freezedetect on {what}")
    printed = run_filter(
        rawvideo_input(width, height, fps),
        ["-vf", f"{setting.filter},{PRINT_METADATA}"],
        f"freezedetect on {what}",
        frames,
    )
    rate = frame_rate(fps)
    return events_from_marks(
        freeze_marks(printed), float(len(frames) / rate), float(1 / rate), what
    )


@dataclass(frozen=True)
class FileResult:
    events: list[dict[str, Any]]
    duration_s: float  # end of the last decoded frame, from the start of the video stream
    fps: float


def freezedetect_file(path: str | Path, setting: FreezedetectSetting) -> FileResult:
    """Freeze events of a media file's first video stream, decoded by ffmpeg itself.

    Times count from the stream's first frame (``setpts=PTS-STARTPTS``), as a report's do;
    the clip end (for a freeze open at the end) is ffmpeg's own ``out_time`` of the stream.
    """
    from impairments import media_io

    path = Path(path)
    info = media_io.probe(path)
    if not info.video:
        raise media_io.MediaError(path, "no video stream")
    fps = float(info.video[0].fps or 0.0)
    if not fps > 0:
        raise media_io.MediaError(path, "unknown video frame rate")
    chain = f"setpts=PTS-STARTPTS,{setting.filter},{PRINT_METADATA}"
    # Progress goes to a file of its own: two writers on stdout could interleave mid-line.
    with tempfile.TemporaryDirectory(prefix="freezedetect_") as scratch:
        progress = Path(scratch) / "progress.txt"
        printed = run_filter(
            file_input(path),
            ["-vf", chain, "-progress", str(progress)],
            f"freezedetect on {path}",
        )
        ends = PROGRESS_END.findall(progress.read_text() if progress.exists() else "")
    if not ends:
        raise media_io.MediaError(path, "ffmpeg reported no progress (no frames decoded?)")
    duration = int(ends[-1]) / 1e6
    events = events_from_marks(freeze_marks(printed), duration, 1.0 / fps, str(path))
    return FileResult(events, duration, fps)


def _safe_dir(path: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_./-]+", path):
        raise ValueError(f"temporary folder {path!r} cannot be written into an ffmpeg filtergraph")
    return path


def still_runs(
    frames: np.ndarray | Sequence[np.ndarray],
    fps: float,
    noise_dbs: Sequence[float],
    what: str = "frames",
) -> dict[float, list[StillRun]]:
    """Every still stretch of the frames at each noise level, from ONE ffmpeg process.

    The frames go through ``split`` into one ``freezedetect=n=..:d=0`` branch per level; each
    branch prints its metadata to a file of its own (stdout would interleave the branches).
    """
    height, width = check_frames(frames, f"freezedetect on {what}")
    levels = list(dict.fromkeys(float(n) for n in noise_dbs))
    rate = frame_rate(fps)
    with tempfile.TemporaryDirectory(prefix="freezedetect_") as scratch:
        folder = Path(_safe_dir(scratch))
        outputs = [f"[s{i}]" for i in range(len(levels))]
        branches = [
            f"{label}{FreezedetectSetting(level, 0.0).filter},"
            f"metadata=mode=print:file={folder / f'{i}.txt'}[o{i}]"
            for i, (label, level) in enumerate(zip(outputs, levels, strict=True))
        ]
        graph = f"[0:v]split={len(levels)}{''.join(outputs)};" + ";".join(branches)
        maps = [arg for i in range(len(levels)) for arg in ("-map", f"[o{i}]", "-f", "null", "-")]
        run_filter(
            rawvideo_input(width, height, fps),
            ["-filter_complex", graph, *maps],
            f"freezedetect on {what}",
            frames,
        )
        printed = [(folder / f"{i}.txt").read_text() for i in range(len(levels))]
    return {
        level: runs_from_marks(freeze_marks(text), rate, len(frames), what)
        for level, text in zip(levels, printed, strict=True)
    }


def runs_from_marks(
    marks: Sequence[tuple[str, float]], rate: Fraction, n_frames: int, what: str = "frames"
) -> list[StillRun]:
    """Still stretches (frame indices) from a ``d=0`` pass's marks."""
    runs: list[StillRun] = []
    start: int | None = None
    for kind, seconds in marks:
        index = round(seconds * rate)
        if kind == "start":
            if start is not None:
                raise ValueError(f"{what}: freezedetect printed two freeze_start without an end")
            start = index
        else:
            if start is None:
                raise ValueError(f"{what}: freezedetect printed freeze_end without a start")
            runs.append(StillRun(start, index, open=False))
            start = None
    if start is not None:
        runs.append(StillRun(start, n_frames, open=True))
    return runs


def _microseconds(frames: int, rate: Fraction) -> int:
    return round(Fraction(frames) * 1_000_000 / rate)


def events_from_runs(
    runs: Sequence[StillRun], fps: float, min_duration_s: float
) -> list[dict[str, Any]]:
    """The events ``freezedetect=d=min_duration_s`` reports for these stretches.

    The filter declares a stretch once a frame's distance in time to the reference reaches
    ``d`` (in whole microseconds): for a closed stretch the frame that moved, ``end - start``
    frames on; for a stretch open at the end of input only its last frozen frame,
    ``end - 1 - start`` frames on.
    """
    rate = frame_rate(fps)
    needed = round(min_duration_s * 1_000_000)
    events = []
    for run in runs:
        reach = run.end - run.start - (1 if run.open else 0)
        holds_a_repeat = run.end - run.start >= 2
        if holds_a_repeat and _microseconds(reach, rate) >= needed:
            events.append(_event(float((run.start + 1) / rate), float(run.end / rate)))
    return events
