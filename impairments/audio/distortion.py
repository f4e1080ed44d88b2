"""Distortion: the nonlinear and lossy families that damage a waveform, one drawn per call.

- ``hard_clip``: the signal is flattened at a threshold set relative to its own peak (an
  overdriven converter or a clipping limiter);
- ``clipping_distortion``: the same flattening with the threshold set by the share of samples
  clipped (audiomentations' ``ClippingDistortion`` percentile rule, reimplemented on numpy so it
  never touches global random state and takes fractional percentiles);
- ``soft_saturation``: tanh overdrive (pedalboard's ``Distortion`` is exactly ``tanh(gain * x)``;
  numpy adds a bias for the even harmonics of asymmetric tube/tape stages and skips the plugin's
  per-call overhead);
- ``bitcrush``: pedalboard ``Bitcrush`` quantisation;
- ``lossy``: extreme low-bitrate MP3 or Opus, encoded and decoded in memory with PyAV, at the
  low sample rates such encoders pick, and aligned back to the input sample for sample
  (audiomentations' ``Mp3Compression`` covers MP3 only and is too slow for the builder's budget).

Levels are set relative to the content peak, as if the content had been gain-staged to full
scale, and every family ends by restoring the input RMS (without pushing peaks past the input's
range): the detector must learn what distortion sounds like, not that distorted clips are louder
or quieter.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from math import gcd
from typing import Any, ClassVar

import av
import numpy as np
import pedalboard
from scipy.signal import butter, correlate, firwin, resample_poly, sosfilt

from impairments.base import Annotation, Impairment, db_to_gain, gain_to_db, rms
from impairments.registry import register

TYPES = ("hard_clip", "clipping_distortion", "soft_saturation", "bitcrush", "lossy")
CODECS = ("mp3", "opus")
# Below this content peak there is nothing to distort: the input is passed through unchanged.
SILENCE_PEAK = 1e-7
MP3_KBPS = (8, 16, 24, 32, 40)  # MPEG-2/2.5 layer III bitrates that low-bitrate LAME uses
OPUS_RATE = 48000  # libopus takes 48 kHz and the native decoder always returns 48 kHz
MP3_QUALITY = "7"  # LAME -q7: about twice as fast as the default, same low-bitrate character
OPUS_COMPLEXITY = "1"  # a low-end VoIP setting: half the encoding time of the default
PROBE_MAX_LAG = 64  # largest residual codec delay looked for, in samples at the codec rate

_RANGES = {
    1: {
        "clip_threshold_db": (-6.0, -3.0),
        "clip_percentile": (0.5, 2.0),
        "drive_db": (3.0, 6.0),
        "bit_depth": (7.0, 8.0),
        "mp3_kbps": (32.0, 40.0),
        "opus_kbps": (12.0, 16.0),
    },
    2: {
        "clip_threshold_db": (-9.0, -6.0),
        "clip_percentile": (2.0, 6.0),
        "drive_db": (6.0, 12.0),
        "bit_depth": (6.0, 7.0),
        "mp3_kbps": (24.0, 32.0),
        "opus_kbps": (10.0, 12.0),
    },
    3: {
        "clip_threshold_db": (-13.0, -9.0),
        "clip_percentile": (6.0, 15.0),
        "drive_db": (12.0, 18.0),
        "bit_depth": (5.0, 6.0),
        "mp3_kbps": (16.0, 24.0),
        "opus_kbps": (8.0, 10.0),
    },
    4: {
        "clip_threshold_db": (-18.0, -13.0),
        "clip_percentile": (15.0, 30.0),
        "drive_db": (18.0, 26.0),
        "bit_depth": (4.0, 5.0),
        "mp3_kbps": (16.0, 16.0),
        "opus_kbps": (7.0, 8.0),
    },
    5: {
        "clip_threshold_db": (-26.0, -18.0),
        "clip_percentile": (30.0, 50.0),
        "drive_db": (26.0, 36.0),
        "bit_depth": (3.0, 4.0),
        "mp3_kbps": (8.0, 8.0),
        "opus_kbps": (6.0, 7.0),
    },
}
ASYMMETRY = (0.0, 0.3)  # tanh input bias, in units of the content peak


def _mp3_rate(kbps: int) -> int:
    """The sample rate LAME itself picks at such bitrates; MPEG-1 rates cannot go below 32 kbps."""
    return 8000 if kbps <= 8 else 16000 if kbps <= 16 else 24000


@functools.lru_cache(maxsize=32)
def _resampler(from_rate: int, to_rate: int) -> tuple[int, int, np.ndarray]:
    """``resample_poly``'s own default filter, designed once per rate pair instead of per call."""
    common = gcd(from_rate, to_rate)
    up, down = to_rate // common, from_rate // common
    widest = max(up, down)
    taps = firwin(20 * widest + 1, 1.0 / widest, window=("kaiser", 5.0))
    return up, down, taps


def _resample(x: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    if from_rate == to_rate:
        return x
    up, down, taps = _resampler(from_rate, to_rate)
    # A symmetric FIR that resample_poly centres: resampling keeps the sample alignment.
    return resample_poly(x, up, down, axis=-1, window=taps)


def _codec_roundtrip(
    mono: np.ndarray, codec: str, rate: int, bit_rate: int, lead: int, delay: int = 0
) -> np.ndarray:
    """Encode and decode one channel at ``rate``; returns as many samples as went in.

    ``lead`` zeros go in first so that the codec's frame grid falls at a drawn place in the
    content, as it would anywhere in a real stream. The decoders drop the encoder delay they know
    of themselves; ``delay`` is what remains (see :func:`_residual_delay`).
    """
    encoder = av.CodecContext.create("libmp3lame" if codec == "mp3" else "libopus", "w")
    encoder.sample_rate = rate
    encoder.layout = "mono"
    encoder.format = "fltp" if codec == "mp3" else "flt"
    encoder.bit_rate = bit_rate
    encoder.options = {"compression_level": MP3_QUALITY if codec == "mp3" else OPUS_COMPLEXITY}
    encoder.open()
    frame_size = encoder.frame_size
    n = len(mono)
    total = -(-(lead + n + max(delay, 0) + frame_size) // frame_size) * frame_size
    padded = np.zeros((1, total), dtype=np.float32)
    padded[0, lead : lead + n] = mono
    decoder = av.CodecContext.create("mp3float" if codec == "mp3" else "opus", "r")
    decoder.sample_rate = rate
    decoder.layout = "mono"
    if encoder.extradata:
        decoder.extradata = encoder.extradata
    # One frame for the whole signal: PyAV re-frames it to the codec's frame size internally,
    # which gives the same packets as feeding frame by frame, with less Python overhead.
    frame = av.AudioFrame.from_ndarray(padded, format=encoder.format.name, layout="mono")
    frame.sample_rate = rate
    frame.pts = 0
    decoded = [
        decoded_frame.to_ndarray().reshape(-1)
        for packet in [*encoder.encode(frame), *encoder.encode(None)]
        for decoded_frame in decoder.decode(packet)
    ]
    decoded.extend(f.to_ndarray().reshape(-1) for f in decoder.decode(None))
    out = np.concatenate(decoded) if decoded else np.zeros(0, dtype=np.float32)
    start = lead + delay
    if start < 0:
        out, start = np.concatenate([np.zeros(-start, dtype=out.dtype), out]), 0
    out = out[start : start + n]
    return np.pad(out, (0, n - len(out)))


@functools.lru_cache(maxsize=64)
def _residual_delay(codec: str, rate: int, bit_rate: int) -> int:
    """Delay left after the decoder's own compensation, measured once per codec setting.

    FFmpeg's decoders drop the padding the encoder announces, but not every delay inside the
    codec: Opus below about 10 kbps runs SILK in narrowband mode, whose resamplers add 6 samples
    at 48 kHz that no header mentions. Measuring with a fixed probe (band-limited noise, so the
    correlation has one sharp peak) keeps the alignment right whatever the codec versions do.
    """
    probe_rng = np.random.default_rng(20260101)
    lowpass = butter(4, min(2500.0, 0.3 * rate), fs=rate, output="sos")
    probe = (0.2 * sosfilt(lowpass, probe_rng.standard_normal(rate // 2))).astype(np.float32)
    decoded = _codec_roundtrip(probe, codec, rate, bit_rate, lead=0)
    # scores[k] = sum_t decoded[t + lag] * probe[t] with lag = k - (len(probe) - 1).
    scores = correlate(decoded.astype(np.float64), probe.astype(np.float64), method="fft")
    zero = len(probe) - 1
    window = scores[zero - PROBE_MAX_LAG : zero + PROBE_MAX_LAG + 1]
    return int(np.argmax(window)) - PROBE_MAX_LAG


@register
class Distortion(Impairment):
    """One distortion family per call, drawn from ``types`` and recorded as ``type``."""

    name = "distortion"
    severity_ranges: ClassVar = {
        severity: {**ranges, "asymmetry": ASYMMETRY} for severity, ranges in _RANGES.items()
    }

    def __init__(
        self, severity: int = 3, *, types: Sequence[str] = TYPES, **overrides: Any
    ) -> None:
        super().__init__(severity, **overrides)
        self.types = self.subset("types", types, TYPES)

    def draw(self, rng: np.random.Generator, n_samples: int, sample_rate: int) -> dict[str, Any]:
        kind = self.pick(rng, self.types)
        params: dict[str, Any] = {"type": kind}
        if kind == "hard_clip":
            params["threshold_db"] = self.uniform(rng, "clip_threshold_db")
        elif kind == "clipping_distortion":
            params["percentile"] = self.uniform(rng, "clip_percentile")
        elif kind == "soft_saturation":
            params["drive_db"] = self.uniform(rng, "drive_db")
            params["asymmetry"] = self.uniform(rng, "asymmetry")
        elif kind == "bitcrush":
            params["bit_depth"] = self.uniform(rng, "bit_depth")
        else:
            codec = CODECS[int(rng.integers(len(CODECS)))]
            if codec == "mp3":
                wanted = self.uniform(rng, "mp3_kbps")
                kbps = min(MP3_KBPS, key=lambda valid: (abs(valid - wanted), valid))
                rate, frame = _mp3_rate(kbps), 576
            else:
                kbps = round(self.uniform(rng, "opus_kbps"))
                rate, frame = OPUS_RATE, 960
            params.update(
                codec=codec, kbps=kbps, codec_rate=rate, frame_offset=int(rng.integers(frame))
            )
        return params

    def apply(
        self,
        samples: np.ndarray,
        sample_rate: int,
        params: dict[str, Any],
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, Annotation]:
        peak = float(np.max(np.abs(samples))) if samples.size else 0.0
        details = dict(params)
        if peak < SILENCE_PEAK:
            details.update(changed=False, makeup_db=0.0, peak_limited=False)
            return samples.copy(), self._annotate(details, samples.shape[1])
        kind = params["type"]
        if kind == "hard_clip":
            threshold = peak * db_to_gain(params["threshold_db"])
            out = np.clip(samples, -threshold, threshold)
            details["clipped_fraction"] = float(np.mean(np.abs(samples) > threshold))
        elif kind == "clipping_distortion":
            half = params["percentile"] / 2.0
            low, high = np.percentile(samples, [half, 100.0 - half])
            out = np.clip(samples, low, high)
            threshold = max(abs(low), abs(high))
            details.update(
                clip_low=float(low),
                clip_high=float(high),
                clipped_fraction=float(np.mean((samples < low) | (samples > high))),
            )
        elif kind == "soft_saturation":
            drive = db_to_gain(params["drive_db"])
            bias = params["asymmetry"]
            shaped = np.tanh(drive * (samples / peak + bias)) - np.tanh(drive * bias)
            out = shaped * (peak / drive)  # unity gain for small signals: makeup_db = compression
        elif kind == "bitcrush":
            crusher = pedalboard.Bitcrush(bit_depth=params["bit_depth"])
            # Bitcrush is per-sample: one flat row avoids pedalboard guessing the channel axis.
            flat = (samples / peak).reshape(1, -1)
            out = crusher(flat, sample_rate).reshape(samples.shape) * peak
        else:
            out = self._lossy(samples, sample_rate, params)

        # Restore the input RMS, but never push peaks past the input's own range.
        limit = max(1.0, peak)
        out_rms, out_peak = rms(out), float(np.max(np.abs(out)))
        makeup = rms(samples) / out_rms if out_rms > 0 else 1.0
        peak_limited = out_peak * makeup > limit
        if peak_limited:
            makeup = limit / out_peak
        out = (out * makeup).astype(np.float32)
        details.update(
            changed=True,
            makeup_db=gain_to_db(makeup),
            peak_limited=bool(peak_limited),
            reference_peak_db=gain_to_db(peak),
        )
        if kind in ("hard_clip", "clipping_distortion"):
            details["ceiling"] = float(threshold * makeup)
        return out, self._annotate(details, samples.shape[1])

    @staticmethod
    def _lossy(samples: np.ndarray, sample_rate: int, params: dict[str, Any]) -> np.ndarray:
        """Each channel is coded on its own: MP3 is stereo at most and the result is comparable."""
        rate = int(params["codec_rate"])
        coded = _resample(samples, sample_rate, rate).astype(np.float32)
        bit_rate = round(float(params["kbps"]) * 1000)
        lead = int(params["frame_offset"])
        delay = _residual_delay(params["codec"], rate, bit_rate)
        coded = np.stack(
            [
                _codec_roundtrip(channel, params["codec"], rate, bit_rate, lead, delay)
                for channel in coded
            ]
        )
        return _resample(coded, rate, sample_rate)[:, : samples.shape[1]]

    def _annotate(self, details: dict[str, Any], n: int) -> Annotation:
        return Annotation(
            kind=self.name, severity=self.severity, params=details, intervals=[(0, n)]
        )
