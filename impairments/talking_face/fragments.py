"""A fragment: a few seconds of picture on a 25 fps grid and the 16 kHz mono audio under it.

Frames are picked by timestamp (nearest frame to each 40 ms grid point), so any source frame rate
works. Audio is aligned to the *picture's* timeline, not to sample 0 of the audio stream: the two
streams of a container may start at different presentation times (``start_s`` in
:func:`impairments.media_io.probe`), and ignoring that would itself be an A/V offset. Audio before
its stream starts or after it ends is silence.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from impairments import media_io
from impairments.media_io import MediaError

FPS = 25
SAMPLE_RATE = 16_000
SAMPLES_PER_FRAME = SAMPLE_RATE // FPS  # 640: one video frame of audio
FRAGMENT_S = 4.0
MIN_FRAGMENT_FRAMES = 10  # 0.4 s: below this a file holds no usable lip motion


@dataclass(frozen=True)
class Fragment:
    """``frames`` (T, H, W, 3) uint8 RGB at 25 fps; ``audio`` float32 (T * 640,) at 16 kHz.

    ``start_s`` is the picture time of frame 0 in the source file; audio sample ``k`` is heard at
    picture time ``start_s + k / 16000``.
    """

    path: str
    start_s: float
    frames: np.ndarray
    audio: np.ndarray

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])

    @property
    def duration_s(self) -> float:
        return self.num_frames / FPS


def check_talking_media(path: str | os.PathLike[str]) -> media_io.MediaInfo:
    """Probe ``path`` and insist on one video and one audio stream; raises MediaError otherwise."""
    info = media_io.probe(path)
    if not info.video:
        raise MediaError(path, "no video stream (the talking-face pipeline needs a picture)")
    if not info.audio:
        raise MediaError(path, "no audio stream (lip sync needs sound)")
    return info


def _stream_start(value: float | None) -> float:
    return float(value) if value is not None else 0.0


def read_fragment(
    path: str | os.PathLike[str],
    start_s: float = 0.0,
    duration_s: float = FRAGMENT_S,
    max_side: int | None = None,
) -> Fragment:
    """Decode ``duration_s`` seconds from ``start_s`` (seconds after the picture's first frame).

    ``max_side`` downscales large pictures (aspect kept, even sizes) so that a 4K source does not
    cost 4K decoding memory; faces are found at a few hundred pixels anyway.
    """
    path = Path(path)
    info = check_talking_media(path)
    video_info, audio_info = info.video[0], info.audio[0]
    size = _scaled_size(video_info.width, video_info.height, max_side)
    video_start = _stream_start(video_info.start_s)
    clip = media_io.read_video_frames(
        path, fps=FPS, size=size, start_s=video_start + start_s, duration_s=duration_s
    )
    frames = clip.frames[: int(round(duration_s * FPS))]
    if len(frames) < MIN_FRAGMENT_FRAMES:
        raise MediaError(
            path, f"too short: {len(frames)} frames at {FPS} fps (need >= {MIN_FRAGMENT_FRAMES})"
        )
    picture_start = float(clip.timestamps[0])
    audio = _aligned_audio(path, picture_start - _stream_start(audio_info.start_s), len(frames))
    return Fragment(str(path), picture_start - video_start, frames, audio)


def _scaled_size(width: int, height: int, max_side: int | None) -> tuple[int, int] | None:
    if not max_side or max(width, height) <= max_side:
        return None
    scale = max_side / max(width, height)
    return (max(2, int(round(width * scale / 2)) * 2), max(2, int(round(height * scale / 2)) * 2))


def _aligned_audio(path: Path, offset_s: float, num_frames: int) -> np.ndarray:
    """Mono 16 kHz samples heard from audio-stream time ``offset_s`` on, padded with silence."""
    wanted = num_frames * SAMPLES_PER_FRAME
    lead = max(0, int(round(-offset_s * SAMPLE_RATE)))  # picture starts before the audio does
    read_from = max(0.0, offset_s)
    audio = media_io.read_audio(
        path,
        sample_rate=SAMPLE_RATE,
        channels=1,
        start_s=read_from,
        duration_s=wanted / SAMPLE_RATE,
    )[0]
    out = np.zeros(wanted, dtype=np.float32)
    usable = audio[: max(0, wanted - lead)]
    out[lead : lead + len(usable)] = usable
    return out


def fragment_starts(
    duration_s: float, length_s: float = FRAGMENT_S, hop_s: float = FRAGMENT_S
) -> list[float]:
    """Window starts covering ``duration_s``; no window starts in the last second (too short)."""
    if duration_s <= length_s:
        return [0.0]
    starts = list(np.arange(0.0, duration_s - 1.0, hop_s))
    return [float(s) for s in starts]


def picture_aligned_audio(path: str) -> np.ndarray:
    """The item's mono 16 kHz audio with sample 0 at the picture's first frame.

    Container streams may start at different times (``start_s``); a lead or lag between them is
    the file's own alignment and is kept: audio before the picture starts is dropped, a late
    audio start is padded with silence. Read once per item (64 kB per second, 230 MB per hour of
    programme) so that every fragment's offsets can reach the item's real neighbouring audio.
    """
    info = media_io.probe(path)
    audio = media_io.read_audio(path, sample_rate=SAMPLE_RATE, channels=1)[0]
    video_start = _stream_start(info.video[0].start_s)
    audio_start = _stream_start(info.audio[0].start_s)
    lead = int(round((audio_start - video_start) * SAMPLE_RATE))
    if lead > 0:
        return np.concatenate([np.zeros(lead, dtype=np.float32), audio])
    return np.ascontiguousarray(audio[-lead:], dtype=np.float32)


def shifted_window(audio: np.ndarray, start: int, length: int, shift: int) -> np.ndarray:
    """``shift_constant(audio[None], shift)[0, start:start + length]``, zeros outside the file,
    without shifting the whole item (an hour of audio per variant would be wasted work).

    Sample ``i`` of the shifted item is ``audio[i - shift]`` when both ``i`` and ``i - shift`` lie
    in the file, else silence: the av_offset impairment keeps the item's length.
    """
    n = len(audio)
    positions = np.arange(start, start + length)
    source = positions - shift
    valid = (positions >= 0) & (positions < n) & (source >= 0) & (source < n)
    out = np.zeros(length, dtype=np.float32)
    out[valid] = audio[source[valid]]
    return out


def iter_fragments(
    path: str | os.PathLike[str],
    length_s: float = FRAGMENT_S,
    hop_s: float = FRAGMENT_S,
    max_side: int | None = None,
    audio: np.ndarray | None = None,
) -> Iterator[Fragment]:
    """Every fragment of a whole file in one sequential decode (detect.py's reader).

    :func:`read_fragment` seeks, and a seek decodes from the previous keyframe: on broadcast and
    phone encodes with keyframes seconds apart, reading 4-second windows one by one decodes much
    of the file twice or more. Here frames stream once, are put on the 25 fps grid (nearest
    frame to each 40 ms point) and cut into windows of ``length_s`` every ``hop_s``; the audio is
    :func:`picture_aligned_audio` (pass it if already read). Frames the hop leaves uncovered at
    the end get one more window, aligned to end with the file and as long as the others (it
    overlaps the one before): a short tail window would be judged on less lip motion than the
    rest, and the confidence of an offset estimate falls with the frames averaged (the policy
    of ``training.detect.segments.segment_starts`` for audio, here while streaming). A file
    shorter than one window is one window, down to ``MIN_FRAGMENT_FRAMES``.
    """
    path = Path(path)
    info = check_talking_media(path)
    size = _scaled_size(info.video[0].width, info.video[0].height, max_side)
    audio = picture_aligned_audio(str(path)) if audio is None else audio
    length, hop = int(round(length_s * FPS)), max(1, int(round(hop_s * FPS)))
    grid: list[np.ndarray] = []  # frames on the 25 fps grid not yet past every window
    dropped = 0  # grid frames already discarded before grid[0]
    next_start = 0
    origin: float | None = None
    previous: tuple[float, np.ndarray] | None = None

    def window(first: int, count: int) -> Fragment:
        frames = np.stack(grid[first - dropped : first - dropped + count])
        begin = first * SAMPLES_PER_FRAME
        samples = np.zeros(count * SAMPLES_PER_FRAME, dtype=np.float32)
        piece = audio[begin : begin + len(samples)]
        samples[: len(piece)] = piece
        return Fragment(str(path), first / FPS, frames, samples)

    for time, frame in media_io.iter_video_frames(path, size):
        if origin is None:
            origin = time
        while origin + (dropped + len(grid)) / FPS <= time + 1e-9:
            point = origin + (dropped + len(grid)) / FPS
            use_previous = previous is not None and point - previous[0] < time - point
            grid.append(previous[1] if use_previous and previous else frame)
        previous = (time, frame)
        while dropped + len(grid) >= next_start + length:
            yield window(next_start, length)
            next_start += hop
            # Keep the last `length` frames too: the end-aligned tail window may need them.
            keep_from = max(0, min(next_start, dropped + len(grid) - length) - dropped)
            del grid[:keep_from]
            dropped += keep_from
    if origin is None:
        raise MediaError(path, "video stream decodes to no frames")
    total = dropped + len(grid)
    remaining = total - next_start
    if next_start > 0 and remaining > length - hop:  # frames no window has covered yet
        yield window(total - length, length)
    elif next_start == 0 and remaining >= MIN_FRAGMENT_FRAMES:
        yield window(0, remaining)
    elif next_start == 0:
        raise MediaError(
            path, f"too short: {remaining} frames at {FPS} fps (need >= {MIN_FRAGMENT_FRAMES})"
        )
