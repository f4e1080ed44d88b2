"""Video from a source item, whatever it is: a file on disk or a procedural recipe.

The builder only ever asks two questions: how long is the item (and at what frame rate), and
which frames lie in a window of it. Both are answered here for every kind of item, so the
builder needs no branching on where the pixels come from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from impairments import media_io
from impairments.sources.item import SourceItem


@dataclass(frozen=True)
class VideoProbe:
    duration_s: float
    fps: float
    height: int
    width: int


def probe_video(item: SourceItem) -> VideoProbe:
    """Duration, frame rate and native size of an item's video; MediaError when it has none."""
    if item.generator is not None:
        spec = item.generator
        frames, fps = int(spec["frames"]), float(spec["fps"])
        return VideoProbe(frames / fps, fps, int(spec["height"]), int(spec["width"]))
    path = item.path or ""
    info = media_io.probe(path)
    if not info.video:
        kinds = ", ".join(s.codec for s in info.audio) or "none"
        raise media_io.MediaError(path, f"no video stream (audio: {kinds})")
    stream = info.video[0]
    duration = stream.duration_s or info.duration_s
    if not duration or duration <= 0:
        raise media_io.MediaError(path, "unknown or zero video duration")
    if not stream.fps or stream.fps <= 0:
        raise media_io.MediaError(path, "unknown video frame rate")
    return VideoProbe(float(duration), float(stream.fps), int(stream.height), int(stream.width))


def scaled_size(height: int, width: int, max_height: int) -> tuple[int, int]:
    """(height, width) after scaling down to at most ``max_height`` lines (even sizes, as codecs
    want); sources at or below it keep their native size."""
    if height <= max_height:
        return height, width
    scale = max_height / height
    return max_height, max(2, int(round(width * scale / 2)) * 2)


def render_generator(item: SourceItem) -> np.ndarray:
    """All frames of a procedural item (they are small, and rendering is cheaper than seeking)."""
    from impairments.sources.procedural_video import render

    assert item.generator is not None
    return render(item.generator)


def read_window(
    item: SourceItem, probe: VideoProbe, start_s: float, frame_count: int, max_height: int
) -> tuple[np.ndarray, np.ndarray]:
    """``frame_count`` consecutive frames from ``start_s`` (fewer at the end), ``(T, H, W, 3)``,
    and their presentation times in seconds.

    Files taller than ``max_height`` are scaled down while decoding (720p keeps macroblocks the
    size they have in the programmes the detector will see).
    """
    if item.generator is not None:
        first = int(round(start_s * probe.fps))
        frames = render_generator(item)[first : first + frame_count]
        return frames, (first + np.arange(len(frames))) / probe.fps
    height, width = scaled_size(probe.height, probe.width, max_height)
    size = None if (height, width) == (probe.height, probe.width) else (width, height)
    frames: list[np.ndarray] = []
    times: list[float] = []
    for time, frame in media_io.iter_video_frames(item.path or "", size=size, start_s=start_s):
        frames.append(frame)
        times.append(time)
        if len(frames) >= frame_count:
            break
    if not frames:
        raise media_io.MediaError(item.path or "", f"no frames decoded from {start_s:.3f} s")
    return np.stack(frames), np.asarray(times, dtype=np.float64)
