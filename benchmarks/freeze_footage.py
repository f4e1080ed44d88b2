"""Freezes and stutters made by ffmpeg itself on real footage, with the intervals they hold.

Every version of a clip is one ffmpeg filtergraph applied to a *master*: the clip's first
``n_frames`` decoded frames, re-timed to a constant rate (``setpts=N/rate/TB``: a variable-rate
source gets no duplicated or dropped frame from the retiming) and stored losslessly, so the only
repeats in a version are the ones its recipe made (plus any the source itself holds: see
``exact_repeats``). Recipes, with the frames they label (contract: a freeze covers the repeated
frames, a stutter the whole stretch whose cadence is broken, frame drops are stutters):

* ``freeze_live``  ``freezeframes``: frames a..a+L-1 replaced by frame a-1, the clock runs on
  and the picture resumes at the live position (frames after the freeze are lost).
* ``freeze_delayed`` ``loop``: frame a-1 shown L more times, then the picture resumes where it
  stopped (everything after shifts by L frames; the clip keeps its length).
* ``freeze_tail``  ``trim`` + ``tpad=stop_mode=clone``: the last L frames hold the frame before
  them: a freeze still open when the clip ends.
* ``stutter_regular`` ``select`` + ``fps``: over a stretch, every k-th frame dropped and its slot
  filled by ``fps`` with the previous frame (the judder of a bad rate conversion); labelled from
  the first repeat to the jump after the last one, the builder's rule for stutters.
* ``stutter_irregular`` the same with drops drawn at random (runs of 1-2 frames).
* ``frame_drop``  ``select`` + ``fps``: one burst of k consecutive frames lost, each slot
  filled with the last frame before them.

Draws come from a generator seeded by the clip's name, so a clip gets the same versions in
every run whatever the order. Outputs are H.264 (``--crf``, yuv420p, same settings for the clean
copy) as delivered video is; ``lossless`` writes RGB-lossless files (tests hash their frames).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from impairments import media_io
from impairments.video.temporal import FREEZE, STUTTER, stretch_labels
from training.baselines.ffmpeg_filter import frame_rate

VARIANTS = (
    "clean", "freeze_live", "freeze_delayed", "freeze_tail",
    "stutter_regular", "stutter_irregular", "frame_drop",
)  # fmt: skip
# Keep this much normal motion before the first and after the last affected frame (except
# freeze_tail, which runs to the end): an onset nobody can see is no test of a detector.
MARGIN_S = 0.4
MIN_CLIP_S = 2.0


@dataclass
class Version:
    """One file to make from a master, and its truth."""

    name: str  # file stem, unique over the run: "<source>.<variant>"
    source: str
    variant: str
    fps: float
    labels: np.ndarray  # (n_frames,) int8: 0 normal, 1 freeze, 2 stutter
    filtergraph: str | None  # None: the clean copy
    params: dict[str, Any] = field(default_factory=dict)
    schedule: np.ndarray | None = None  # (n_frames,) master frame shown at each output frame

    @property
    def n_frames(self) -> int:
        return len(self.labels)

    @property
    def label(self) -> str:
        return (
            "clean"
            if self.variant == "clean"
            else self.variant.split("_")[0].replace("frame", "stutter")
        )

    def events(self) -> list[dict[str, Any]]:
        """Runs of equal non-zero labels as events in seconds (end = last frame + 1)."""
        from training.events import frames_to_events

        return frames_to_events(self.labels, self.fps)


def clip_rng(seed: int, source: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(source.encode())])


def _frames(seconds: float, fps: float) -> int:
    return max(2, int(round(seconds * fps)))


def _place(rng: np.random.Generator, n_frames: int, length: int, margin: int) -> int:
    """First affected frame of a ``length``-frame stretch with ``margin`` frames either side."""
    latest = n_frames - margin - length
    if latest < margin:
        raise ValueError(f"a {length}-frame stretch does not fit in {n_frames} frames")
    return int(rng.integers(margin, latest + 1))


def _dropping(dropped: Sequence[int], rate: str) -> str:
    """Drop these frame indices; ``fps`` fills each slot with the frame before it."""
    terms = "+".join(f"eq(n\\,{i})" for i in dropped)
    return f"select='not({terms})',fps={rate}"


def plan_versions(
    source: str, n_frames: int, fps: float, seed: int, variants: Sequence[str] = VARIANTS
) -> list[Version]:
    """The versions of one master of ``n_frames`` frames at ``fps``."""
    if n_frames / fps < MIN_CLIP_S:
        raise ValueError(f"{source}: {n_frames / fps:.2f} s is too short (need {MIN_CLIP_S} s)")
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        raise ValueError(f"unknown variants {sorted(unknown)}; choose from {VARIANTS}")
    rng = clip_rng(seed, source)
    rate = str(frame_rate(fps))
    margin = _frames(MARGIN_S, fps)
    room = n_frames - 2 * margin  # frames available to an affected stretch
    versions = []
    for variant in VARIANTS:  # always draw every variant: a subset keeps the others' draws
        schedule = np.arange(n_frames)
        params: dict[str, Any] = {}
        graph: str | None
        if variant == "clean":
            graph = None
        elif variant in ("freeze_live", "freeze_delayed"):
            hold = min(_frames(float(rng.uniform(0.2, 3.0)), fps), room - 1)
            first = _place(rng, n_frames, hold, margin)
            schedule[first : first + hold] = first - 1
            params = {"first_repeat": first, "repeats": hold, "held_frame": first - 1}
            if variant == "freeze_live":
                graph = (
                    f"[0:v]split[main][still];[main][still]freezeframes="
                    f"first={first}:last={first + hold - 1}:replace={first - 1}"
                )
            else:
                schedule[first + hold :] -= hold
                # ``loop`` shows frame start-1 again (FFmpeg 7/8 counts from one here; the hash
                # test in tests/benchmarks pins it).
                graph = f"loop=loop={hold}:size=1:start={first},setpts=N/({rate}*TB)"
        elif variant == "freeze_tail":
            hold = min(_frames(float(rng.uniform(0.3, 2.0)), fps), n_frames - margin - 1)
            first = n_frames - hold
            schedule[first:] = first - 1
            params = {"first_repeat": first, "repeats": hold, "held_frame": first - 1}
            graph = f"trim=end_frame={first},tpad=stop_mode=clone:stop={hold}"
        elif variant in ("stutter_regular", "stutter_irregular"):
            stretch = min(_frames(float(rng.uniform(0.8, 2.5)), fps), room)
            begin = _place(rng, n_frames, stretch, margin)
            if variant == "stutter_regular":
                every = int(rng.integers(2, 6))
                dropped = list(range(begin + every - 1, begin + stretch, every))
                params = {"every": every}
            else:
                dropped = sorted(
                    i for i in range(begin, begin + stretch) if rng.random() < 0.3
                ) or [begin + stretch // 2]
            params["dropped"] = dropped
            schedule = _without(dropped, n_frames)
            graph = _dropping(dropped, rate)
        else:  # frame_drop
            burst = int(rng.integers(2, 7))
            first = _place(rng, n_frames, burst, margin)
            dropped = list(range(first, first + burst))
            params = {"dropped": dropped}
            schedule = _without(dropped, n_frames)
            graph = _dropping(dropped, rate)
        if variant in variants:
            label = FREEZE if variant.startswith("freeze") else STUTTER
            labels = labels_of(schedule, label) if graph else np.zeros(n_frames, np.int8)
            name = f"{source}.{variant}"
            versions.append(Version(name, source, variant, fps, labels, graph, params, schedule))
    return versions


def _without(dropped: Sequence[int], n_frames: int) -> np.ndarray:
    """The schedule after ``select`` + ``fps``: a dropped frame's slot shows the frame before."""
    schedule = np.arange(n_frames)
    for index in sorted(dropped):
        schedule[index] = schedule[index - 1]
    return schedule


def labels_of(schedule: np.ndarray, label: int) -> np.ndarray:
    """The builder's label rule on a schedule (``schedule[i]``: master frame shown at ``i``).

    A freeze labels its repeats (a frame showing the same master frame as its predecessor); a
    stutter the whole stretch from the first to the last cadence break, the jump after the
    last repeat included, as ``impairments.video.temporal.stretch_labels`` does for the dataset.
    """
    if label == FREEZE:
        labels = np.zeros(len(schedule), dtype=np.int8)
        labels[1:][np.diff(schedule) == 0] = FREEZE
        return labels
    return stretch_labels(schedule, STUTTER)


def _encoder(lossless: bool, crf: int) -> list[str]:
    if lossless:
        return ["-c:v", "libx264rgb", "-crf", "0", "-preset", "ultrafast", "-pix_fmt", "rgb24"]
    return ["-c:v", "libx264", "-crf", str(crf), "-preset", "veryfast", "-pix_fmt", "yuv420p"]


def even_size(height: int, width: int, max_height: int) -> tuple[int, int]:
    """``(height, width)`` scaled to at most ``max_height`` lines, both even (yuv420p)."""
    from impairments.sources.video_item import scaled_size

    h, w = scaled_size(height, width, max_height)
    return h - h % 2, w - w % 2


def make_master(
    path: Path, out: Path, seconds: float, max_height: int
) -> tuple[int, float, tuple[int, int]]:
    """The lossless constant-rate master of ``path``'s first ``seconds``.

    Returns ``(n_frames, fps, (height, width))``; ``MediaError`` names the file when it has no
    usable video or is shorter than ``MIN_CLIP_S``.
    """
    info = media_io.probe(path)
    if not info.video:
        raise media_io.MediaError(path, "no video stream")
    stream = info.video[0]
    fps = float(stream.fps or 0.0)
    if not fps > 0:
        raise media_io.MediaError(path, "unknown video frame rate")
    height, width = even_size(stream.height, stream.width, max_height)
    wanted = _frames(seconds, fps)
    rate = frame_rate(fps)
    out.parent.mkdir(parents=True, exist_ok=True)
    command = [
        "-i", str(path), "-map", "0:v:0", "-frames:v", str(wanted),
        "-vf", f"setpts=N/({rate}*TB),scale={width}:{height}:flags=area",
        "-fps_mode", "cfr", "-r", str(rate), *_encoder(True, 0), str(out),
    ]  # fmt: skip
    media_io.run_ffmpeg(command, f"{path} (master)")
    n_frames = sum(1 for _ in media_io.iter_video_frames(out))
    if n_frames / fps < MIN_CLIP_S:
        raise media_io.MediaError(path, f"only {n_frames / fps:.2f} s of video (< {MIN_CLIP_S} s)")
    return n_frames, fps, (height, width)


def make_version(
    master: Path, version: Version, out: Path, lossless: bool = False, crf: int = 18
) -> Path:
    """Apply the version's recipe to the master and encode it (exactly ``n_frames`` frames)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    graph = ["-filter_complex", version.filtergraph] if version.filtergraph else []
    rate = frame_rate(version.fps)
    command = [
        "-i", str(master), *graph, "-frames:v", str(version.n_frames), "-an",
        "-fps_mode", "cfr", "-r", str(rate), *_encoder(lossless, crf), str(out),
    ]  # fmt: skip
    media_io.run_ffmpeg(command, f"{version.name} ({out})")
    return out


def exact_repeats(path: Path) -> int:
    """Decoded frames bit-identical to the frame before them (source stills, not our doing)."""
    count, previous = 0, None
    for _, frame in media_io.iter_video_frames(path):
        if previous is not None and np.array_equal(frame, previous):
            count += 1
        previous = frame
    return count
