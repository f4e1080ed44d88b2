"""Run an ffmpeg analysis filter over in-memory RGB frames or a media file; return what it printed.

The signal-processing baselines (``blockdetect``, ``freezedetect``) are ffmpeg filters that
publish their findings as frame metadata. They all need the same invocation: frames piped in as
raw ``rgb24`` (at full resolution, no lossy re-encode between the clip and the filter) or a file
decoded by ffmpeg itself, the filter chain ending in ``metadata=mode=print:file=-`` so the values
arrive on stdout, ffmpeg's own log silenced, and a failure raised with ffmpeg's last words.
"""

from __future__ import annotations

import contextlib
import subprocess
import threading
from collections.abc import Iterable, Sequence
from fractions import Fraction
from pathlib import Path
from typing import IO

import numpy as np

PRINT_METADATA = "metadata=mode=print:file=-"


def frame_rate(fps: float) -> Fraction:
    """``fps`` as the rational ffmpeg should see (22.1311... -> 1350/61, 29.97 -> 30000/1001)."""
    if not fps > 0:
        raise ValueError(f"frame rate must be > 0, got {fps}")
    return Fraction(fps).limit_denominator(1001)


def rawvideo_input(width: int, height: int, fps: float | None = None) -> list[str]:
    """Input arguments for ``rgb24`` frames on stdin (timestamps = frame index / ``fps``)."""
    rate = ["-framerate", str(frame_rate(fps))] if fps is not None else []
    return [
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", *rate, "-i", "pipe:0",
    ]  # fmt: skip


def check_frames(frames: np.ndarray | Sequence[np.ndarray], what: str) -> tuple[int, int]:
    """``(height, width)`` of RGB uint8 frames, or a ValueError saying what is wrong."""
    first = frames[0] if len(frames) else None
    if first is None:
        raise ValueError(f"{what}: no frames")
    if first.ndim != 3 or first.shape[2] != 3 or first.dtype != np.uint8:
        raise ValueError(f"{what}: frames must be (H, W, 3) uint8, got {first.shape} {first.dtype}")
    return int(first.shape[0]), int(first.shape[1])


def run_filter(
    input_args: Sequence[str],
    filter_args: Sequence[str],
    what: str,
    frames: Iterable[np.ndarray] = (),
    ffmpeg: str | None = None,
) -> str:
    """Run ``ffmpeg <input_args> <filter_args> -f null -`` and return its stdout.

    ``filter_args`` is ``["-vf", chain]`` or a ``-filter_complex`` graph with its ``-map``s and
    outputs. ``frames`` are written to stdin frame by frame from this thread while two readers
    drain stdout and stderr, so a long clip never sits in memory twice and a filter that prints a
    lot cannot dead-lock the pipe. ``what`` names the input in errors.
    """
    from impairments.media_io import ffmpeg_binary

    command = [
        ffmpeg or ffmpeg_binary(), "-nostdin", "-hide_banner", "-loglevel", "error",
        *input_args, *filter_args,
    ]  # fmt: skip
    if "-filter_complex" not in filter_args:
        command += ["-f", "null", "-"]
    piped = "pipe:0" in input_args
    process = subprocess.Popen(
        command,
        stdin=subprocess.PIPE if piped else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    captured: dict[str, bytes] = {}

    def drain(name: str, stream: IO[bytes]) -> None:
        captured[name] = stream.read()

    readers = [
        threading.Thread(target=drain, args=(name, stream), daemon=True)
        for name, stream in (("stdout", process.stdout), ("stderr", process.stderr))
    ]
    for reader in readers:
        reader.start()
    if piped:
        assert process.stdin is not None
        # A BrokenPipeError means ffmpeg stopped reading: its exit status and stderr say why.
        with contextlib.suppress(BrokenPipeError):
            for frame in frames:
                process.stdin.write(np.ascontiguousarray(frame).tobytes())
        with contextlib.suppress(BrokenPipeError):
            process.stdin.close()
    code = process.wait()
    for reader in readers:
        reader.join()
    if code != 0:
        tail = captured.get("stderr", b"").decode(errors="replace").strip().splitlines()[-3:]
        raise RuntimeError(f"{what}: ffmpeg failed ({code}): {' | '.join(tail)}")
    return captured.get("stdout", b"").decode(errors="replace")


def file_input(path: Path) -> list[str]:
    """Input arguments for a media file (its first video stream is what the filters see)."""
    return ["-i", str(path), "-map", "0:v:0"]
