"""Augmentations for lip-sync training: what changes between catalogues but not the sync.

One draw per training excerpt, applied to every frame alike (a real track has one camera, one
encode, one microphone), plus the small per-frame box jitter a face tracker leaves:

- picture: scale/position/rotation of the face crop (a different detector or margin), mirror,
  brightness/contrast/gamma, blur (focus, downscaled sources) and JPEG compression (codecs);
- sound: additive noise at a random SNR and a random low-pass (telephone to full band).

Never anything that moves one stream in time against the other: that is the label.
"""

from __future__ import annotations

import cv2
import numpy as np


def augment_faces(faces: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(N, S, S, 3) uint8 face crops -> the same shape, one random look for the whole excerpt."""
    count, size = faces.shape[0], faces.shape[1]
    scale = rng.uniform(0.88, 1.12)
    angle = rng.uniform(-6.0, 6.0)
    shift = rng.uniform(-0.06, 0.06, size=2) * size
    base = cv2.getRotationMatrix2D((size / 2, size / 2), angle, scale)
    base[:, 2] += shift
    flip = rng.random() < 0.5
    contrast, brightness = rng.uniform(0.6, 1.4), rng.uniform(-30, 30)
    gamma = rng.uniform(0.7, 1.4)
    blur = rng.uniform(0.6, 1.8) if rng.random() < 0.3 else 0.0
    quality = int(rng.integers(20, 90)) if rng.random() < 0.5 else 0
    table = np.clip(((np.arange(256) / 255.0) ** gamma) * 255 * contrast + brightness, 0, 255)
    table = table.astype(np.uint8)
    out = np.empty_like(faces)
    for i in range(count):
        matrix = base.copy()
        matrix[:, 2] += rng.normal(0.0, 0.01 * size, size=2)  # tracker jitter
        frame = cv2.warpAffine(
            faces[i], matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        if flip:
            frame = frame[:, ::-1]
        frame = cv2.LUT(np.ascontiguousarray(frame), table)
        if blur:
            frame = cv2.GaussianBlur(frame, (0, 0), blur)
        if quality:
            ok, encoded = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
            frame = cv2.imdecode(encoded, cv2.IMREAD_UNCHANGED) if ok else frame
        out[i] = frame
    return out


def augment_audio(audio: np.ndarray, rng: np.random.Generator, sample_rate: int) -> np.ndarray:
    """float32 mono samples -> noisy and/or band-limited copy (length kept)."""
    out = np.asarray(audio, dtype=np.float32).copy()
    if rng.random() < 0.3:
        cutoff = rng.uniform(3000.0, 7000.0)
        spectrum = np.fft.rfft(out)
        freqs = np.fft.rfftfreq(len(out), 1.0 / sample_rate)
        spectrum *= 1.0 / (1.0 + (freqs / cutoff) ** 8)
        out = np.fft.irfft(spectrum, n=len(out)).astype(np.float32)
    if rng.random() < 0.5:
        power = float(np.mean(out**2)) + 1e-10
        snr_db = rng.uniform(5.0, 40.0)
        noise = rng.standard_normal(len(out)).astype(np.float32)
        out += noise * np.sqrt(power / 10 ** (snr_db / 10))
    return out


def augment_lips(lips: np.ndarray, rng: np.random.Generator, size: int = 96) -> np.ndarray:
    """(N, 40, 2) lip points in crop pixels -> a plausible other measurement of the same motion.

    Shifts, scales and roll of the whole crop are normalised away by the landmark features, so
    what is varied is what survives them: the mouth's apparent aspect (head pitch and yaw squash
    the opening against the width), mirror images (left/right points swapped), FaceMesh's own
    per-point jitter, and frames it missed (NaN, as in real tracks).
    """
    from impairments.talking_face.landmarks import MIRRORED

    out = np.asarray(lips, dtype=np.float32).copy()
    centre = np.nanmean(out, axis=(0, 1)) if np.isfinite(out).any() else np.zeros(2)
    out -= centre
    out[..., 1] *= rng.uniform(0.8, 1.25)
    out[..., 0] *= rng.uniform(0.9, 1.1)
    if rng.random() < 0.5:
        out = out[:, list(MIRRORED)]
        out[..., 0] *= -1.0
    out += rng.normal(0.0, rng.uniform(0.0, 0.6), size=out.shape).astype(np.float32)
    if rng.random() < 0.3 and len(out) > 2:
        missed = rng.random(len(out)) < rng.uniform(0.02, 0.15)
        out[missed] = np.nan
    return out + centre.astype(np.float32)


def warp_bands(mel: np.ndarray, rng: np.random.Generator, max_warp: float = 0.12) -> np.ndarray:
    """(bands, frames) log-mel -> the same with its frequency axis stretched by 1 +- max_warp.

    Vocal tract length perturbation (Jaitly & Hinton 2013): a longer or shorter vocal tract
    moves every formant by one factor, so stretching the band axis makes another plausible
    voice saying the same thing at the same time. With a handful of training speakers the audio
    stream otherwise learns their voices rather than what the mouth does.
    """
    factor = 1.0 + rng.uniform(-max_warp, max_warp)
    bands = np.arange(mel.shape[0], dtype=np.float64)
    source = np.clip(bands / factor, 0, mel.shape[0] - 1)
    low = np.floor(source).astype(int)
    high = np.minimum(low + 1, mel.shape[0] - 1)
    weight = (source - low)[:, None]
    return ((1 - weight) * mel[low] + weight * mel[high]).astype(np.float32)
