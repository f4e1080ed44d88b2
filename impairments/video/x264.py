"""In-process H.264 encode and decode through PyAV, set up to be bit-reproducible.

One thread everywhere (x264's and the decoder's): threaded encoding splits work by timing and
threaded decoding changes error concealment, and either would make the same seed give different
bytes. The parameter sets (SPS/PPS) travel out of band as extradata, as they do in MP4 or an RTP
session description, so packet damage lands on slice data, where transmission errors do their
visible harm, instead of sometimes wiping out the whole stream's headers.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np
from av.codec.context import Flags


@dataclass
class EncodedClip:
    """One packet per frame in frame order, plus the out-of-band parameter sets."""

    packets: list[av.Packet]
    extradata: bytes


def even_padded(frames: np.ndarray) -> np.ndarray:
    """Frames padded to even height and width by repeating the edge (4:2:0 needs even sizes)."""
    height, width = frames.shape[1:3]
    pad_y, pad_x = height % 2, width % 2
    if not (pad_y or pad_x):
        return frames
    return np.pad(frames, ((0, 0), (0, pad_y), (0, pad_x), (0, 0)), mode="edge")


def encode(
    frames: np.ndarray,
    *,
    fps: float,
    crf: float,
    slices: int = 1,
    gop: int = 25,
    preset: str = "veryfast",
) -> EncodedClip:
    """Encode ``(T, H, W, 3)`` RGB (even H, W) to H.264 packets, one per frame, in frame order.

    No B-frames, so decode order is display order and packet ``i`` carries frame ``i``; no scene
    cuts, so keyframes are exactly every ``gop`` frames and the propagation window is known.
    """
    height, width = frames.shape[1:3]
    codec = av.CodecContext.create("libx264", "w")
    codec.width, codec.height = width, height
    codec.pix_fmt = "yuv420p"
    rate = Fraction(fps).limit_denominator(1001)
    codec.time_base = 1 / rate
    codec.framerate = rate
    codec.thread_count = 1
    codec.flags |= Flags.global_header
    codec.options = {
        "crf": f"{crf:.2f}",
        "preset": preset,
        "g": str(gop),
        "bf": "0",
        "x264-params": f"slices={slices}:scenecut=0:threads=1:sliced-threads=0:keyint_min={gop}",
    }
    packets: list[av.Packet] = []
    for index, rgb in enumerate(frames):
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        frame.pts = index
        packets.extend(codec.encode(frame))
    packets.extend(codec.encode(None))
    return EncodedClip(packets=packets, extradata=bytes(codec.extradata or b""))


def decode(
    packets: list[av.Packet | None], extradata: bytes, n_frames: int, height: int, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """Decode to ``(n_frames, height, width, 3)`` RGB, aligned by pts, as a player would show it.

    ``None`` is a dropped packet. Frames the decoder never outputs (dropped, or undecodable) are
    shown as the previous picture, as a player repeats the last frame; before any picture exists,
    mid-grey, which is what the h264 decoder conceals a missing reference with. Decode errors are
    expected on damaged input and are concealed, not raised. Also returns, per frame, the index
    of the decoded picture shown there (itself, an earlier one when repeated, -1 for filler).
    """
    decoder = av.CodecContext.create("h264", "r")
    decoder.extradata = extradata
    decoder.thread_count = 1
    shown: dict[int, np.ndarray] = {}

    def collect(packet: av.Packet | None) -> None:
        try:
            for frame in decoder.decode(packet):
                if frame.pts is not None and 0 <= frame.pts < n_frames:
                    shown[int(frame.pts)] = frame.to_ndarray(format="rgb24")[:height, :width]
        except av.error.FFmpegError:
            pass  # damaged data: the decoder conceals what it can, the rest shows as repeats

    for packet in packets:
        if packet is not None:
            collect(packet)
    collect(None)
    out = np.empty((n_frames, height, width, 3), dtype=np.uint8)
    source = np.full(n_frames, -1, dtype=np.int64)
    out[:] = 128
    for index in range(n_frames):
        if index in shown:
            out[index], source[index] = shown[index], index
        elif index > 0:
            out[index], source[index] = out[index - 1], source[index - 1]
    return out, source


def copy_packet(packet: av.Packet) -> av.Packet:
    """An independent copy: bitstream filters consume the packet they are given."""
    copy = av.Packet(bytes(packet))
    copy.pts, copy.dts = packet.pts, packet.dts
    copy.time_base = packet.time_base
    copy.is_keyframe = packet.is_keyframe
    return copy
