"""Mains hum and buzz: a 50/60 Hz harmonic series leaking into the signal chain.

Real hum is never a pure sine: the mains frequency drifts a little off nominal, the harmonic
profile depends on what leaks (a transformer field is mostly fundamental, rectifier ripple puts
energy at 100/120 Hz, ground loops and SCR dimmers "buzz" with strong odd harmonics far up the
spectrum), and the level breathes as loads change. Each of those is drawn and recorded so the
detector sees the whole family and the labels say exactly what was added.

Hum is added, never clipped: at severity 5 peaks may pass full scale, and headroom is the
dataset builder's decision, not a property of hum.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from impairments.base import Annotation, Impairment, db_to_gain, gain_to_db, rms
from impairments.registry import register

MAINS_HZ = (50, 60)
# Content RMS below this is treated as this: hum is still hum on a silent or near-silent passage,
# and a label whose defect sits under the 16-bit noise floor would only teach the detector noise.
ABSOLUTE_REFERENCE_DBFS = -40.0
BUZZ_PROBABILITY = 0.3
# Harmonic k has amplitude k**-rolloff (times a random spread); buzz rolls off much more slowly.
HUM_ROLLOFF = (0.7, 2.0)
BUZZ_ROLLOFF = (0.2, 0.8)
BUZZ_EVEN_GAIN = (0.05, 0.3)  # even harmonics relative to the odd ones in a buzz
HARMONIC_SPREAD = 0.5  # std of the natural-log amplitude jitter per harmonic (about ±4 dB)
NYQUIST_MARGIN = 0.45  # keep harmonics below this fraction of the sample rate
TABLE_SIZE = 8192  # one period of the harmonic waveform, read with linear interpolation

_COMMON = {
    "offset_pct": (-0.5, 0.5),
    "harmonics": (1.0, 10.0),
    "buzz_harmonics": (12.0, 40.0),
    "wobble_depth": (0.0, 0.3),
    "wobble_hz": (0.1, 1.5),
}
# Level of the added hum relative to the content RMS. Severity 1 must still be a visible line in a
# 1-second spectrum: on content with a broadband part, -32..-26 dB lifts the strongest harmonic's
# bins by about 8-11 dB (median), while at -35 dB the lift often drowns in the content's own
# bin-to-bin variation. Severity 5 is hum as loud as the content.
_LEVELS = {
    1: (-32.0, -26.0),
    2: (-26.0, -21.0),
    3: (-21.0, -16.0),
    4: (-16.0, -10.0),
    5: (-10.0, 0.0),
}


@register
class Hum(Impairment):
    """Mains hum at ``level_db`` relative to the content RMS (exact, measured on the result).

    The same hum goes on every channel: it enters through shared ground or power, upstream of
    where channels would differ.
    """

    name = "hum"
    severity_ranges: ClassVar = {
        severity: {"level_db": level, **_COMMON} for severity, level in _LEVELS.items()
    }

    def __init__(
        self, severity: int = 3, *, mains: Sequence[int] = MAINS_HZ, **overrides: Any
    ) -> None:
        super().__init__(severity, **overrides)
        self.mains = self.subset("mains", mains, MAINS_HZ)

    def draw(self, rng: np.random.Generator, n_samples: int, sample_rate: int) -> dict[str, Any]:
        mains_hz = int(self.pick(rng, self.mains))
        offset_pct = self.uniform(rng, "offset_pct")
        frequency_hz = mains_hz * (1.0 + offset_pct / 100.0)
        buzz = bool(rng.random() < BUZZ_PROBABILITY)
        wanted = self.randint(rng, "buzz_harmonics" if buzz else "harmonics")
        # Harmonics at or above Nyquist would alias to arbitrary frequencies: skip them.
        n_harmonics = int(max(1, min(wanted, NYQUIST_MARGIN * sample_rate // frequency_hz)))
        k = np.arange(1, n_harmonics + 1)
        rolloff = rng.uniform(*(BUZZ_ROLLOFF if buzz else HUM_ROLLOFF))
        amplitudes = k**-rolloff * np.exp(HARMONIC_SPREAD * rng.standard_normal(n_harmonics))
        if buzz:
            amplitudes[1::2] *= rng.uniform(*BUZZ_EVEN_GAIN, size=len(amplitudes[1::2]))
        amplitudes /= amplitudes.max()
        return {
            "mains_hz": mains_hz,
            "offset_pct": offset_pct,
            "frequency_hz": frequency_hz,
            "buzz": buzz,
            "n_harmonics": n_harmonics,
            "harmonic_amplitudes": np.round(amplitudes, 5).tolist(),
            "level_db": self.uniform(rng, "level_db"),
            "wobble_depth": self.uniform(rng, "wobble_depth"),
            "wobble_hz": self.uniform(rng, "wobble_hz"),
        }

    def apply(
        self,
        samples: np.ndarray,
        sample_rate: int,
        params: dict[str, Any],
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, Annotation]:
        n = samples.shape[1]
        amplitudes = np.asarray(params["harmonic_amplitudes"], dtype=np.float64)
        # Phases are waveform detail, not labels: they come from rng, not params.
        phases = rng.uniform(0.0, 2.0 * np.pi, size=len(amplitudes))
        start_cycle, wobble_phase = rng.random(2)
        # One band-limited period via an inverse FFT, then read at the hum's phase: costs one
        # interpolation per sample whatever the number of harmonics (a sum of 40 sines does not).
        spectrum = np.zeros(TABLE_SIZE // 2 + 1, dtype=np.complex128)
        spectrum[1 : len(amplitudes) + 1] = amplitudes * np.exp(1j * phases) * (TABLE_SIZE / 2)
        table = np.fft.irfft(spectrum, TABLE_SIZE)
        table = np.append(table, table[0])
        cycles = start_cycle + np.arange(n) * (params["frequency_hz"] / sample_rate)
        position = (cycles - np.floor(cycles)) * TABLE_SIZE
        index = position.astype(np.int64)
        frac = position - index
        index &= TABLE_SIZE - 1  # a position rounded up to TABLE_SIZE is the period's start
        hum = table[index] * (1.0 - frac) + table[index + 1] * frac
        # float32 is plenty for a slow envelope and makes the sine four times cheaper.
        wobble_cycles = np.arange(n, dtype=np.float32) * np.float32(
            params["wobble_hz"] / sample_rate
        )
        wobble = np.sin(np.float32(2.0 * np.pi) * (wobble_cycles + np.float32(wobble_phase)))
        hum *= 1.0 + params["wobble_depth"] * wobble

        content_rms = rms(samples)
        floor = db_to_gain(ABSOLUTE_REFERENCE_DBFS)
        reference = max(content_rms, floor)
        target = reference * db_to_gain(params["level_db"])
        measured = rms(hum)
        hum *= target / measured if measured > 0 else 0.0
        out = samples + hum.astype(np.float32)[None, :]
        details = dict(params)
        details.update(
            reference="content_rms" if content_rms >= floor else "absolute",
            reference_rms_db=gain_to_db(reference),
            hum_rms=rms(hum),
            hum_rms_db=gain_to_db(rms(hum)),
        )
        annotation = Annotation(
            kind=self.name, severity=self.severity, params=details, intervals=[(0, n)]
        )
        return out, annotation
