"""Turn WebDataset clip samples (dataset ``freeze``) into tensors: features, frame labels, meta.

Shard schema: ``thumbs.npy`` uint8 (T, 96, 128), ``stats.npy`` float32 (T, F) — exactly
``impairments.video.frame_differences.clip_features`` of the clip — ``labels.npy`` int8 (T,)
(0 normal, 1 freeze, 2 stutter) and ``json`` (label, impairment / hard negative, severity,
events in seconds, fps...). Clips differ in length (3 s at 25 or 30 fps), so batches are padded
in time and carry a ``valid`` mask; training crops a random window so batches are short and
uniform, evaluation sees whole clips.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import default_collate

from training.data.image_decode import CLEAN_GROUP, OTHER_GROUP, sample_group

PAD_LABEL = -1  # frames added by padding: ignored by the loss and the metrics


class FreezeClipSample:
    """Decoded sample -> ``{"stats", "thumbs", "labels", "label", "severity", "group",
    "hard_negative", "fps", "events", "key"}`` (``events`` as JSON text: it collates as a list)."""

    def __init__(self, groups: Sequence[str]) -> None:
        self.groups = list(groups)
        missing = {CLEAN_GROUP, OTHER_GROUP} - set(self.groups)
        if missing:
            raise ValueError(f"groups must include {sorted(missing)}, got {self.groups}")

    def __call__(self, sample: dict[str, Any]) -> dict[str, Any]:
        key, url = sample.get("__key__", "?"), sample.get("__url__", "?")
        parts = [sample.get(k) for k in ("thumbs.npy", "stats.npy", "labels.npy", "json")]
        if any(part is None for part in parts):
            raise KeyError(
                f"{url}: sample {key} needs thumbs.npy, stats.npy, labels.npy and json, has "
                f"{sorted(k for k in sample if not k.startswith('__'))}"
            )
        thumbs, stats, labels, meta = parts
        if not (len(thumbs) == len(stats) == len(labels)) or thumbs.ndim != 3 or stats.ndim != 2:
            raise ValueError(
                f"{url}: sample {key}: thumbs {thumbs.shape}, stats {stats.shape} and labels "
                f"{labels.shape} must share their first axis (frames)"
            )
        return {
            "stats": torch.from_numpy(np.ascontiguousarray(stats, dtype=np.float32)),
            "thumbs": torch.from_numpy(np.ascontiguousarray(thumbs)),
            "labels": torch.from_numpy(labels.astype(np.int64)),
            "label": int(meta["label_index"]),
            "severity": int(meta.get("severity") or 0),
            "group": sample_group(meta, self.groups),
            "hard_negative": bool(meta.get("hard_negative")),
            "fps": float(meta["fps"]),
            "events": json.dumps(meta.get("events") or []),
            "key": key,
        }


class RandomTimeCrop:
    """Train-time window of ``frames`` consecutive frames at a random offset (whole clip if
    shorter). Events cut by the window edge keep their frame labels; ``events`` (seconds) are
    only used by evaluation, which sees whole clips."""

    def __init__(self, frames: int = 64) -> None:
        if frames < 8:
            raise ValueError(f"RandomTimeCrop: frames must be >= 8, got {frames}")
        self.frames = int(frames)

    def __call__(self, sample: dict[str, Any]) -> dict[str, Any]:
        length = int(sample["labels"].shape[0])
        if length <= self.frames:
            return sample
        start = int(torch.randint(0, length - self.frames + 1, ()).item())
        window = slice(start, start + self.frames)
        return {
            **sample,
            "stats": sample["stats"][window],
            "thumbs": sample["thumbs"][window],
            "labels": sample["labels"][window],
        }


def pad_collate(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Pad clips to the batch's longest (zeros, label ``PAD_LABEL``) and add ``valid`` (B, T)."""
    longest = max(int(s["labels"].shape[0]) for s in samples)
    padded = []
    for sample in samples:
        length = int(sample["labels"].shape[0])
        extra = longest - length
        valid = torch.zeros(longest, dtype=torch.bool)
        valid[:length] = True
        if extra:
            sample = {
                **sample,
                "stats": torch.cat(
                    [sample["stats"], sample["stats"].new_zeros(extra, sample["stats"].shape[1])]
                ),
                "thumbs": torch.cat(
                    [
                        sample["thumbs"],
                        sample["thumbs"].new_zeros(extra, *sample["thumbs"].shape[1:]),
                    ]
                ),
                "labels": torch.cat(
                    [sample["labels"], sample["labels"].new_full((extra,), PAD_LABEL)]
                ),
            }
        padded.append({**sample, "valid": valid})
    return default_collate(padded)
