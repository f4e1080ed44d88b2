"""Real decoder damage: H.264 packets hit by the ffmpeg ``noise`` bitstream filter, then decoded.

The clip is encoded with libx264 in several slices (no B-frames, fixed GOP), chosen packets are
damaged (bytes overwritten by the ``noise`` filter) or dropped, and the stream is decoded with the
decoder's own error concealment. The label compares that decode with the CLEAN decode of the very
same encode, so ordinary compression loss is never labelled, and the damage carried forward by
prediction until the next keyframe is. A dropped packet makes the player repeat the previous
picture (so does a packet damaged beyond decoding); a repeat is labelled with the damage of the
picture it repeats, none for an intact one: a freeze is not block damage. What decodes after a
drop, predicted from the wrong reference, is labelled.

Two labels (``label=``): ``"visible"`` (default) keeps the differing blocks that the damaged frame
itself shows as damaged, a seam or a contrast change (:mod:`impairments.video.visibility`;
``contrast_masking`` sets how much a texture's contrast hides a seam);
``"difference"`` keeps every block that differs from the clean decode by ``DAMAGED_BLOCK_DIFF``,
including concealment that looks like intact picture (texture replaced by look-alike texture,
coherent drift after a dropped picture). Builds made before the visible label existed used
``"difference"``; the parameters record ``label`` (absent: difference) and ``contrast_masking``
(absent: 0).

A draw may leave nothing visible (a hit in the encoder's SEI text, or a concealment that happened
to be exact): the mask is then empty and ``params["visible"]`` False, and the caller decides
whether to treat the clip as clean or draw again.
"""

from __future__ import annotations

from typing import Any, ClassVar

import av
import numpy as np

from impairments.registry import register
from impairments.video import x264
from impairments.video.base import (
    macroblock_mean_abs_diff,
    pixels_from_macroblock_mask,
)
from impairments.video.visibility import (
    VisiblyLabelled,
    visible_damage,
)

# Per-channel mean absolute difference (8-bit levels) from the clean decode above which a
# macroblock is labelled damaged. Undamaged blocks decode bit-exactly, but concealment of a lost
# slice on smooth motion is often nearly right: on a panned photo a quarter of the differing
# blocks sit at 2-6 levels, which no viewer (and no single-frame detector) can see, while visible
# damage is mostly above 10.
DAMAGED_BLOCK_DIFF = 6.0

_COMMON = {"crf": (18.0, 30.0), "slices": (2.0, 8.0), "gop_frames": (12.0, 50.0)}
# hits: damaged packets per clip; bytes_hit: bytes overwritten per damaged packet (one or two
# bytes often land in the SEI or are concealed exactly); drop_probability: a hit loses the packet.
# Drops are kept rare: a lost P-frame makes every later frame of the GOP predict from the wrong
# reference, which on smooth motion differs from the clean decode almost everywhere (labelled)
# while looking nearly intact (a panned photo: 17k labelled blocks, about 1k of them not
# explained by a shift of up to 4 px). Override drop_probability=(0, 0) for noise-only damage.
_BY_SEVERITY = {
    1: {"hits": (1.0, 1.0), "bytes_hit": (2.0, 4.0), "drop_probability": (0.0, 0.0)},
    2: {"hits": (1.0, 2.0), "bytes_hit": (3.0, 6.0), "drop_probability": (0.05, 0.05)},
    3: {"hits": (2.0, 3.0), "bytes_hit": (4.0, 10.0), "drop_probability": (0.05, 0.05)},
    4: {"hits": (3.0, 4.0), "bytes_hit": (6.0, 16.0), "drop_probability": (0.1, 0.1)},
    5: {"hits": (4.0, 6.0), "bytes_hit": (10.0, 32.0), "drop_probability": (0.1, 0.1)},
}


def damaged_packet(packet: av.Packet, amount: int) -> av.Packet | None:
    """``packet`` through ``noise=amount=N`` (about one byte in N overwritten; 0: untouched).

    A fresh filter each time, so the filter's internal state, and hence the result, depends only
    on the packet and ``amount``.
    """
    bsf = av.bitstream.BitStreamFilterContext(f"noise=amount={amount}")
    out = bsf.filter(x264.copy_packet(packet)) + bsf.filter(None)
    return out[0] if out else None


@register
class CodecCorruption(VisiblyLabelled):
    """Packet damage and drops in a sliced x264 stream, labelled against the clean decode."""

    name = "codec_corruption"
    severity_ranges: ClassVar = {s: {**ranges, **_COMMON} for s, ranges in _BY_SEVERITY.items()}

    def draw(
        self, rng: np.random.Generator, shape: tuple[int, int, int], fps: float
    ) -> dict[str, Any]:
        n_frames = shape[0]
        n_hits = min(self.randint(rng, "hits"), n_frames)
        hit_frames = sorted(int(i) for i in rng.choice(n_frames, size=n_hits, replace=False))
        drop_probability = self.uniform(rng, "drop_probability")
        hits = [
            {
                "frame": frame,
                "drop": bool(rng.random() < drop_probability),
                "bytes_hit": self.uniform(rng, "bytes_hit"),
            }
            for frame in hit_frames
        ]
        return {
            "fps": fps,
            "crf": round(self.uniform(rng, "crf"), 2),
            "slices": self.randint(rng, "slices"),
            "gop_frames": self.randint(rng, "gop_frames"),
            "preset": "veryfast",
            "hits": hits,
        }

    def apply(
        self, frames: np.ndarray, params: dict[str, Any], rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        n_frames, height, width = frames.shape[:3]
        clip = x264.encode(
            x264.even_padded(frames),
            fps=params["fps"],
            crf=params["crf"],
            slices=params["slices"],
            gop=params["gop_frames"],
            preset=params["preset"],
        )
        packets = clip.packets
        clean, _ = x264.decode(packets, clip.extradata, n_frames, height, width)
        damaged: list[av.Packet | None] = list(packets)
        for hit in params["hits"]:
            packet = packets[hit["frame"]]
            hit["packet_bytes"] = packet.size
            hit["keyframe"] = bool(packet.is_keyframe)
            if hit["drop"]:
                damaged[hit["frame"]] = None
            else:
                # noise=amount=N changes about one byte in N: aim at the drawn number of bytes.
                # amount=0 is the filter's "leave the packet alone" (bytes_hit overridden to 0).
                wanted = hit["bytes_hit"]
                hit["amount"] = max(1, round(packet.size / wanted)) if wanted > 0 else 0
                damaged[hit["frame"]] = damaged_packet(packet, hit["amount"])
        out, source = x264.decode(damaged, clip.extradata, n_frames, height, width)
        blocks = macroblock_mean_abs_diff(clean, out) >= DAMAGED_BLOCK_DIFF
        if self.label == "visible":
            blocks = visible_damage(clean, out, blocks, self.contrast_masking)
        # A frame the decoder never output shows an earlier picture again: it carries exactly
        # that picture's damage (none if it was intact; the freeze itself is not block damage).
        # The grey shown before any picture decodes is not block damage either.
        repeated = np.flatnonzero(source != np.arange(n_frames))
        for index in repeated:
            blocks[index] = blocks[source[index]] if source[index] >= 0 else False
        params["repeated_frames"] = [int(i) for i in repeated]
        params["keyframes"] = [i for i, p in enumerate(packets) if p.is_keyframe]
        params["damaged_block_diff"] = DAMAGED_BLOCK_DIFF
        # Recorded only where they differ from what builds made before them did, so those keep
        # their bytes: no "label" means "difference", no "contrast_masking" means 0.
        if self.label == "visible":
            params["label"] = self.label
            if self.contrast_masking > 0:
                params["contrast_masking"] = self.contrast_masking
        params["visible"] = bool(blocks.any())
        return out, pixels_from_macroblock_mask(blocks, height, width)
