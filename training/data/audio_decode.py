"""Turn WebDataset audio samples into tensors: FLAC/WAV decode, label fields, optional augmentation.

WebDataset has no audio decoder of its own for lossless bytes, so ``decode_audio`` is registered as
a handler for the ``flac``/``wav`` extensions. ``AudioSegmentSample`` is the detector-facing view
of a decoded sample: ``{"waveform", "label", "severity"}`` with fixed length, so batches collate.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import soundfile
import torch

AUDIO_EXTENSIONS = ("flac", "wav")


def decode_audio(key: str, data: bytes) -> np.ndarray | None:
    """WebDataset decode handler: ``(key, bytes) -> (channels, n) float32`` for audio extensions.

    Returns ``None`` for other keys so later handlers (JSON, text) get their turn.
    """
    extension = key.rsplit(".", 1)[-1].lower()
    if extension not in AUDIO_EXTENSIONS:
        return None
    samples, sample_rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    audio = np.ascontiguousarray(samples.T)
    # Keep the rate with the samples so the sample map can check it against the detector's.
    return {"samples": audio, "sample_rate": int(sample_rate)}  # type: ignore[return-value]


def fit_length(waveform: np.ndarray, num_samples: int) -> np.ndarray:
    """Crop or zero-pad the last axis to ``num_samples`` (builders write exact lengths; this only
    guards against an off-by-one encoder)."""
    n = waveform.shape[-1]
    if n == num_samples:
        return waveform
    if n > num_samples:
        return waveform[..., :num_samples]
    pad = [(0, 0)] * (waveform.ndim - 1) + [(0, num_samples - n)]
    return np.pad(waveform, pad)


class WaveformAugment:
    """Label-preserving waveform augmentation for training: random attenuation and polarity.

    Only transforms that cannot fake or hide a defect: no gain *boost* (it would clip clean audio
    into the distortion class), no time shift with wrap-around (the seam is a click).
    Randomness comes from torch's generator, which Lightning seeds per worker.
    """

    def __init__(
        self, max_attenuation_db: float = 6.0, polarity_p: float = 0.5, key: str = "waveform"
    ) -> None:
        if max_attenuation_db < 0 or not 0 <= polarity_p <= 1:
            raise ValueError("max_attenuation_db must be >= 0 and polarity_p in [0, 1]")
        self.max_attenuation_db = float(max_attenuation_db)
        self.polarity_p = float(polarity_p)
        self.key = key

    def __call__(self, sample: dict[str, Any]) -> dict[str, Any]:
        gain_db = -self.max_attenuation_db * float(torch.rand(()))
        sign = -1.0 if float(torch.rand(())) < self.polarity_p else 1.0
        return {**sample, self.key: sample[self.key] * (sign * 10.0 ** (gain_db / 20.0))}


class AudioSegmentSample:
    """Decoded WebDataset sample -> ``{"waveform": (n,), "label": int, "severity": int}``."""

    def __init__(
        self,
        sample_rate: int = 32000,
        num_samples: int = 32000,
        audio_key: str = "flac",
    ) -> None:
        self.sample_rate = int(sample_rate)
        self.num_samples = int(num_samples)
        self.audio_key = audio_key

    def __call__(self, sample: dict[str, Any]) -> dict[str, Any]:
        key = sample.get("__key__", "?")
        audio = sample.get(self.audio_key)
        meta = sample.get("json")
        if audio is None or meta is None:
            raise KeyError(f"sample {key}: needs .{self.audio_key} and .json, has {sorted(sample)}")
        if audio["sample_rate"] != self.sample_rate:
            raise ValueError(
                f"sample {key}: {audio['sample_rate']} Hz, detector expects {self.sample_rate} Hz"
            )
        mono = (
            audio["samples"].mean(axis=0) if audio["samples"].shape[0] > 1 else audio["samples"][0]
        )
        waveform = torch.from_numpy(fit_length(mono, self.num_samples).astype(np.float32))
        return {
            "waveform": waveform,
            "label": int(meta["label_index"]),
            "severity": int(meta.get("severity") or 0),
            "key": key,
        }
