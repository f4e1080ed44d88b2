"""Turn ``lip_sync`` WebDataset samples into network inputs (schema: ``lipsync`` contract).

A shard sample is one face track of one 4-second fragment: ``faces.npy`` uint8 (N, 96, 96, 3),
``audio.npy`` int16 (V, (N + 2C) * 640) with row 0 in sync and rows 1.. shifted by the offsets
listed in ``json["variants"]``, C = ``json["context_frames"]`` frames of audio before and after,
and (builds with ``landmarks: true``) ``lips.npy`` float32 (N, 40, 2), FaceMesh's lip points on
the crops. ``visual`` picks the network's visual input (``sync_inputs.visual_input``): mouth
pixels, or lip landmarks (computed from the crops when a sample has none).

- Training (:class:`SyncExcerpt`): a random ``frames``-long excerpt of the track with the
  in-sync audio around it (+-C frames), augmented (``sync_augment``); the network learns to pick
  the true alignment among the 31 candidates, so no label is needed beyond "row 0 is in sync".
- Evaluation (:class:`SyncTrack`): the whole track and every variant, for the offset search.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from impairments.talking_face.landmarks import lip_landmarks
from training.data.sync_augment import augment_audio, augment_faces, augment_lips, warp_bands
from training.features.sync_inputs import (
    SAMPLE_RATE,
    SAMPLES_PER_FRAME,
    audio_logmel,
    check_visual_kind,
    lip_shape_input,
    visual_input,
)

INT16_SCALE = 32768.0


class SyncSample:
    """Decoded shard sample -> ``{"faces", "audio", "meta", "key"}``, checked against the
    schema so a malformed shard fails with its URL and key, not deep inside a transform."""

    def __call__(self, sample: dict[str, Any]) -> dict[str, Any]:
        key, url = sample.get("__key__", "?"), sample.get("__url__", "?")
        faces, audio, meta = (sample.get(k) for k in ("faces.npy", "audio.npy", "json"))
        if faces is None or audio is None or meta is None:
            raise KeyError(
                f"{url}: sample {key} needs faces.npy, audio.npy and json, has "
                f"{sorted(k for k in sample if not k.startswith('__'))}"
            )
        context = int(meta["context_frames"])
        expected = (len(faces) + 2 * context) * SAMPLES_PER_FRAME
        if faces.ndim != 4 or audio.ndim != 2 or audio.shape[1] != expected:
            raise ValueError(
                f"{url}: sample {key}: faces {faces.shape} and audio {audio.shape} do not match "
                f"(audio rows must hold (frames + 2 * {context}) * {SAMPLES_PER_FRAME} samples)"
            )
        if len(meta["variants"]) != len(audio):
            raise ValueError(
                f"{url}: sample {key}: {len(meta['variants'])} variants listed for "
                f"{len(audio)} audio rows"
            )
        lips = sample.get("lips.npy")
        if lips is not None and (lips.ndim != 3 or len(lips) != len(faces)):
            raise ValueError(
                f"{url}: sample {key}: lips {lips.shape} do not match faces {faces.shape}"
            )
        return {"faces": faces, "audio": audio, "lips": lips, "meta": meta, "key": key}


class SyncExcerpt:
    """Decoded sample -> ``{"visual" (T, 32, 64) or (T, 80), "mel" (40, 4 (T + 2C))}`` for
    training.

    ``frames`` is the excerpt length T; tracks shorter than that are used whole and batches are
    grouped by length in :func:`excerpt_collate`. Randomness comes from torch's generator, so
    ``seed_everything`` and the loader's per-worker seeding make runs repeatable.
    """

    def __init__(
        self, frames: int = 24, augment: bool = True, visual: str = "pixels", warp: float = 0.0
    ) -> None:
        if frames < 8:
            raise ValueError(f"SyncExcerpt: frames must be >= 8, got {frames}")
        if not 0.0 <= warp < 0.5:
            raise ValueError(f"SyncExcerpt: warp must be in [0, 0.5), got {warp}")
        self.frames = int(frames)
        self.augment = bool(augment)
        self.warp = float(warp)  # vocal tract length perturbation of the mel bands (+-warp)
        self.visual = check_visual_kind(visual)

    def __call__(self, sample: dict[str, Any]) -> dict[str, Any]:
        faces, audio, meta = sample["faces"], sample["audio"], sample["meta"]
        context = int(meta["context_frames"])
        rng = np.random.default_rng(int(torch.randint(0, 2**62, ()).item()))
        length = min(self.frames, len(faces))
        start = int(rng.integers(0, len(faces) - length + 1))
        faces = faces[start : start + length]
        span = slice(start * SAMPLES_PER_FRAME, (start + length + 2 * context) * SAMPLES_PER_FRAME)
        samples = audio[0, span].astype(np.float32) / INT16_SCALE
        if self.augment:
            samples = augment_audio(samples, rng, SAMPLE_RATE)
        if self.visual == "landmarks":
            lips = sample.get("lips")  # None: an older build without lips.npy
            lips = lip_landmarks(faces) if lips is None else lips[start : start + length]
            visual = lip_shape_input(augment_lips(lips, rng) if self.augment else lips)
        else:
            visual = visual_input(augment_faces(faces, rng) if self.augment else faces)
        mel = audio_logmel(samples)
        if self.augment and self.warp > 0:
            mel = warp_bands(mel, rng, self.warp)
        return {
            "visual": torch.from_numpy(visual),
            "mel": torch.from_numpy(mel),
            "context": context,
        }


def excerpt_collate(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Stack the excerpts of the most common length (short tracks are rare; the others of a
    batch wait for the next one rather than being padded with frames that do not exist)."""
    lengths = [int(s["visual"].shape[0]) for s in samples]
    length = max(set(lengths), key=lambda n: (lengths.count(n), n))
    kept = [s for s in samples if int(s["visual"].shape[0]) == length]
    return {
        "visual": torch.stack([s["visual"] for s in kept]),
        "mel": torch.stack([s["mel"] for s in kept]),
        "context": int(kept[0]["context"]),
    }


class SyncTrack:
    """Decoded sample -> the whole track for evaluation: the visual input (N, 32, 64) or (N, 80),
    one log-mel per variant (V, 40, 4 (N + 2C)), the variants' offsets (frames) and labels, and
    the track's speaker (``group``) and key."""

    def __init__(self, visual: str = "pixels") -> None:
        self.visual = check_visual_kind(visual)

    def __call__(self, sample: dict[str, Any]) -> dict[str, Any]:
        faces, audio, meta = sample["faces"], sample["audio"], sample["meta"]
        variants = meta["variants"]
        mels = np.stack([audio_logmel(row.astype(np.float32) / INT16_SCALE) for row in audio])
        return {
            "key": sample["key"],
            "group": str(meta.get("group") or meta.get("source_id") or "?"),
            "visual": torch.from_numpy(visual_input(faces, self.visual, sample.get("lips"))),
            "mels": torch.from_numpy(mels),
            "offsets_frames": [float(v["offset_frames"]) for v in variants],
            "offsets_ms": [float(v["offset_ms"]) for v in variants],
            "labels": [str(v["label"]) for v in variants],
            "context": int(meta["context_frames"]),
        }


def track_collate(samples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tracks differ in length: evaluation batches are plain lists."""
    return list(samples)
