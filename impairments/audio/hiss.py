"""Hiss: broadband noise with a spectral tilt, mixed in at an exact signal-to-noise ratio.

The noise is generated here rather than with audiomentations' ``AddColorNoise``/``AddGaussianSNR``
for three reasons: those draw from the global ``random``/``np.random`` state (a seeded call would
still disturb every other user of that state); they fix the colour to a few presets while tape,
preamp and converter noise come with any tilt in between; and the SNR here is exact on the result,
because the noise is rescaled to its measured power rather than to its expected power.

Hiss is added, never clipped: at 0 dB SNR peaks may pass full scale, and headroom is the dataset
builder's decision, not a property of hiss.
"""

from __future__ import annotations

import functools
from typing import Any, ClassVar

import numpy as np
import scipy.fft

from impairments.base import Annotation, Impairment, db_to_gain, gain_to_db, rms
from impairments.registry import register

# Content RMS below this is treated as this, so silence still gets audible hiss (see hum.py).
ABSOLUTE_REFERENCE_DBFS = -40.0
# The tilt pivots at 1 kHz and flattens below 20 Hz, so brown noise does not become a DC drift.
PIVOT_HZ = 1000.0
LOWEST_SHAPED_HZ = 20.0
DB_PER_OCTAVE_PER_EXPONENT = 20.0 * np.log10(2.0)  # amplitude ~ f**a tilts by 6.02*a dB/octave

# SNR in dB. Severity 1 (30-35 dB) is the hiss of a noisy preamp or a cassette, audible in pauses
# and quiet passages; severity 5 (0-10 dB) buries the content. The tilt spans brown (-6 dB/oct)
# through pink (-3) and white (0) to blue (+3) and violet (+6), the same at every severity.
_SNRS = {1: (30.0, 35.0), 2: (24.0, 30.0), 3: (18.0, 24.0), 4: (10.0, 18.0), 5: (0.0, 10.0)}


@functools.lru_cache(maxsize=16)
def _log_relative_frequency(size: int, sample_rate: int) -> np.ndarray:
    """``log(f / PIVOT_HZ)`` per rFFT bin, floored at LOWEST_SHAPED_HZ; cached per length."""
    freqs = np.maximum(np.fft.rfftfreq(size, 1.0 / sample_rate), LOWEST_SHAPED_HZ)
    log_freqs = np.log(freqs / PIVOT_HZ).astype(np.float32)
    log_freqs.flags.writeable = False
    return log_freqs


@register
class Hiss(Impairment):
    """Tilted broadband noise at ``snr_db``, independent per channel."""

    name = "hiss"
    severity_ranges: ClassVar = {
        severity: {"snr_db": snr, "tilt_db_per_octave": (-6.0, 6.0)}
        for severity, snr in _SNRS.items()
    }

    def draw(self, rng: np.random.Generator, n_samples: int, sample_rate: int) -> dict[str, Any]:
        return {
            "snr_db": self.uniform(rng, "snr_db"),
            "tilt_db_per_octave": self.uniform(rng, "tilt_db_per_octave"),
        }

    def apply(
        self,
        samples: np.ndarray,
        sample_rate: int,
        params: dict[str, Any],
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, Annotation]:
        channels, n = samples.shape
        # White Gaussian noise drawn straight in the frequency domain (its spectrum is complex
        # Gaussian per bin), tilted, then one inverse FFT on a length the FFT likes and cropped:
        # cropping circularly shaped noise leaves stationary noise with the same spectrum.
        size = scipy.fft.next_fast_len(n, real=True)
        spectrum = rng.standard_normal((channels, size // 2 + 1, 2), dtype=np.float32)
        spectrum = spectrum.view(np.complex64)[..., 0]
        exponent = np.float32(params["tilt_db_per_octave"] / DB_PER_OCTAVE_PER_EXPONENT)
        spectrum *= np.exp(exponent * _log_relative_frequency(size, sample_rate))
        spectrum[:, 0] = 0.0  # no DC
        noise = scipy.fft.irfft(spectrum, n=size, axis=-1)[:, :n].astype(np.float64)
        if not np.all(np.any(noise, axis=1)):
            noise = rng.standard_normal((channels, n))  # one sample is too short to shape

        content_rms = rms(samples)
        floor = db_to_gain(ABSOLUTE_REFERENCE_DBFS)
        reference = max(content_rms, floor)
        target = reference * db_to_gain(-params["snr_db"])
        # Every channel gets the same noise power, so the SNR holds per channel for equal-level
        # channels and exactly over all channels together.
        per_channel = np.sqrt(np.mean(np.square(noise), axis=1, keepdims=True))
        noise *= target / np.where(per_channel > 0, per_channel, 1.0)
        out = samples + noise.astype(np.float32)
        details = dict(params)
        details.update(
            reference="content_rms" if content_rms >= floor else "absolute",
            reference_rms_db=gain_to_db(reference),
            noise_rms_db=gain_to_db(rms(noise)),
        )
        annotation = Annotation(
            kind=self.name, severity=self.severity, params=details, intervals=[(0, n)]
        )
        return out, annotation
