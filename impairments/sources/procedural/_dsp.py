"""Signal-processing primitives shared by the procedural generators.

Why these shapes: the dataset builder renders clips on the fly, so every primitive is O(n) numpy
(or one FFT) in float32, with no per-sample Python. Oscillators are table look-ups driven by a
uint32 phase accumulator (wrap-around is free and exact), events are impulse trains pushed through
IIR filters instead of per-event loops, and every amplitude change is a raised-cosine ramp so a
clean signal never contains a step that a click detector could mistake for a defect.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import scipy.fft as sfft
import scipy.signal as ss

F32 = np.float32
TABLE_BITS = 13
TABLE_SIZE = 1 << TABLE_BITS
PHASE_SHIFT = np.uint32(32 - TABLE_BITS)
PHASE_ONE = float(1 << 32)
# Never put energy closer to Nyquist than this: resamplers and codecs roll off there too.
NYQUIST_MARGIN = 0.45


@dataclass
class Ctx:
    """What every generator receives: its random stream, the rate and the length to fill.

    ``rng`` is the only randomness allowed. ``tables`` caches wavetables for the call so a melody
    of fifty notes does not rebuild the same spectrum fifty times.
    """

    rng: np.random.Generator
    sr: int
    n: int
    tables: dict[tuple[object, ...], np.ndarray] = field(default_factory=dict)

    @property
    def f_max(self) -> float:
        """Highest frequency worth synthesising at this rate."""
        return NYQUIST_MARGIN * self.sr

    def child(self) -> Ctx:
        """An independent stream, so adding a draw to one layer does not reshuffle the others."""
        return Ctx(self.rng.spawn(1)[0], self.sr, self.n, self.tables)

    def zeros(self) -> np.ndarray:
        return np.zeros(self.n, dtype=F32)

    def seconds(self, s: float) -> int:
        """A duration in samples, never longer than the buffer (templates past it are waste)."""
        return max(1, min(round(s * self.sr), self.n))


# ---------------------------------------------------------------- envelopes and ramps


@lru_cache(maxsize=512)
def rise(length: int) -> np.ndarray:
    """Raised-cosine ramp 0 -> 1: smooth in value and slope, so note edges never click.

    Cached (read-only) because every note asks for the same few attack and release lengths.
    """
    if length <= 0:
        ramp = np.zeros(0, dtype=F32)
    else:
        t = (np.arange(length, dtype=F32) + F32(0.5)) / F32(length)
        ramp = (F32(0.5) - F32(0.5) * np.cos(F32(np.pi) * t)).astype(F32)
    ramp.flags.writeable = False
    return ramp


def note_envelope(
    length: int,
    sr: int,
    attack_s: float,
    decay_s: float,
    sustain: float,
    release_s: float,
    visible: int | None = None,
) -> np.ndarray:
    """Attack / exponential decay to ``sustain`` / raised-cosine release that ends at exactly 0.

    The release always closes the note, so legato notes and reverb never inherit a step. Only
    the first ``visible`` samples are computed: a long chord in a short clip costs the clip.
    """
    if length <= 0:
        return np.zeros(0, dtype=F32)
    shown = length if visible is None else max(0, min(visible, length))
    if sustain >= 1.0:
        env = np.ones(shown, dtype=F32)
    else:
        t = np.arange(shown, dtype=F32) * F32(-1.0 / (max(decay_s, 1e-3) * sr))
        env = F32(sustain) + F32(1.0 - sustain) * np.exp(t)
    attack = min(length // 2, max(2, round(attack_s * sr)))
    env[: min(attack, shown)] *= rise(attack)[:shown]
    release = min(length - attack, max(2, round(release_s * sr)))
    if release > 0 and length - release < shown:
        env[length - release :] *= rise(release)[::-1][: shown - (length - release)]
    return env.astype(F32, copy=False)


def smooth_curve(rng: np.random.Generator, n: int, sr: int, rate_hz: float) -> np.ndarray:
    """Band-limited random curve in [-1, 1]: gusts, swells, slow timbre drift.

    Control points every 1/rate_hz seconds joined by cosine interpolation (smooth, never steps).
    """
    if n <= 0:
        return np.zeros(0, dtype=F32)
    step = max(2, round(sr / max(rate_hz, 1e-3)))
    points = rng.uniform(-1.0, 1.0, n // step + 2).astype(F32)
    w = F32(1) - rise(step)
    curve = points[:-1, None] * w[None, :] + points[1:, None] * (F32(1) - w)[None, :]
    return curve.ravel()[:n]


# ---------------------------------------------------------------- oscillators


def phase_steady(length: int, freq: float, sr: int, start: int) -> np.ndarray:
    """uint32 phase of a constant-frequency oscillator (a full cycle is 2**32)."""
    inc = np.uint32(round(min(freq, sr * 0.5) / sr * PHASE_ONE) % (1 << 32))
    return np.arange(length, dtype=np.uint32) * inc + np.uint32(start % (1 << 32))


def phase_varying(freq: np.ndarray, sr: int, start: int) -> np.ndarray:
    """uint32 phase of an oscillator with a frequency contour (vibrato, glides, chirps)."""
    inc = np.clip(freq, 0.0, sr * 0.5) * (PHASE_ONE / sr)
    inc = inc.astype(np.uint32)
    if inc.size:
        inc[0] = np.uint32(start % (1 << 32))
    return np.cumsum(inc, dtype=np.uint32)


PHASE_MASK = np.uint32((1 << (32 - TABLE_BITS)) - 1)
PHASE_FRAC = F32(1.0 / (1 << (32 - TABLE_BITS)))


def with_slopes(values: np.ndarray) -> np.ndarray:
    """(2, TABLE_SIZE) table: values and the step to the next entry (wrapping)."""
    values = values.astype(F32)
    return np.stack([values, np.roll(values, -1) - values]).astype(F32)


def lookup(table: np.ndarray, phase: np.ndarray) -> np.ndarray:
    """Linearly interpolated table read. Nearest-entry reads would add phase-quantisation
    noise some 45 dB under bright tones: a faint hiss riding on every note."""
    idx = (phase >> PHASE_SHIFT).astype(np.intp)
    frac = np.bitwise_and(phase, PHASE_MASK).astype(F32)
    frac *= PHASE_FRAC
    out = table[1].take(idx)
    out *= frac
    out += table[0].take(idx)
    return out


_SINE = with_slopes(np.sin(2 * np.pi * np.arange(TABLE_SIZE) / TABLE_SIZE))


def sine(phase: np.ndarray) -> np.ndarray:
    return lookup(_SINE, phase)


@dataclass(frozen=True)
class Spectrum:
    """A harmonic recipe (amplitude per harmonic, fixed random phases) turned into wavetables.

    Tables are band-limited per note (harmonics above ``f_max`` dropped), which is what keeps high
    notes free of aliasing, the one synthesis artefact that would look like distortion.
    """

    amps: np.ndarray
    phases: np.ndarray
    key: int

    def harmonics(self, ctx: Ctx, f0: float) -> int:
        """How many harmonics of ``f0`` fit under the usable band."""
        return int(min(len(self.amps), max(1, ctx.f_max // max(f0, 1.0))))

    def table(self, ctx: Ctx, f0: float) -> np.ndarray:
        count = self.harmonics(ctx, f0)
        cache_key = (self.key, count)
        table = ctx.tables.get(cache_key)
        if table is None:
            spec = np.zeros(TABLE_SIZE // 2 + 1, dtype=np.complex128)
            spec[1 : count + 1] = self.amps[:count] * np.exp(1j * self.phases[:count])
            table = np.fft.irfft(spec, TABLE_SIZE)
            table = with_slopes(table / max(np.abs(table).max(), 1e-9))
            ctx.tables[cache_key] = table
        return table


def spectrum(rng: np.random.Generator, amps: np.ndarray) -> Spectrum:
    amps = np.asarray(amps, dtype=np.float64)
    phases = rng.uniform(0, 2 * np.pi, len(amps))
    return Spectrum(amps, phases, int(rng.integers(1 << 62)))


def harmonics(count: int = 48) -> np.ndarray:
    return np.arange(1, count + 1, dtype=np.float64)


# ---------------------------------------------------------------- noise and filters


def noise(rng: np.random.Generator, n: int) -> np.ndarray:
    """Unit-variance white noise; uniform draws are 4x cheaper than normal ones and, once
    filtered, sound the same."""
    return (rng.random(n, dtype=F32) - F32(0.5)) * F32(3.4641016)


def _clamp_hz(hz: float, sr: int) -> float:
    return float(np.clip(hz, 5.0, NYQUIST_MARGIN * sr * 1.05))


def _butterworth(hz: float, sr: int, order: int, high: bool) -> np.ndarray:
    """Butterworth low/high-pass as second-order sections, in closed form (bilinear transform
    with pre-warping, as ``scipy.signal.butter`` does): filters are designed per clip with drawn
    corner frequencies, and scipy's general designer costs more than filtering a short clip."""
    w0 = 2 * np.pi * _clamp_hz(hz, sr) / sr
    cos_w, sin_w = np.cos(w0), np.sin(w0)
    rows = []
    for k in range(order // 2):
        q = 1.0 / (2 * np.sin((2 * k + 1) * np.pi / (2 * order)))
        alpha = sin_w / (2 * q)
        b0 = (1 + cos_w) / 2 if high else (1 - cos_w) / 2
        b1 = -(1 + cos_w) if high else 1 - cos_w
        a0 = 1 + alpha
        rows.append([b0 / a0, b1 / a0, b0 / a0, 1.0, -2 * cos_w / a0, (1 - alpha) / a0])
    if order % 2:
        k_ = np.tan(w0 / 2)
        norm = 1 + k_
        b0 = 1 / norm if high else k_ / norm
        rows.append([b0, -b0 if high else b0, 0.0, 1.0, (k_ - 1) / norm, 0.0])
    return np.array(rows, dtype=F32)


def sos_lowpass(hz: float, sr: int, order: int = 2) -> np.ndarray:
    return _butterworth(hz, sr, order, high=False)


def sos_highpass(hz: float, sr: int, order: int = 2) -> np.ndarray:
    return _butterworth(hz, sr, order, high=True)


def sos_bandpass(lo: float, hi: float, sr: int, order: int = 2) -> np.ndarray:
    """High-pass at ``lo`` then low-pass at ``hi`` (each ``order`` poles)."""
    lo = _clamp_hz(lo, sr)
    hi = _clamp_hz(hi, sr)
    if hi <= lo * 1.05:
        hi = min(lo * 1.5, 0.47 * sr)
        lo = min(lo, hi / 1.5)
    return np.concatenate([_butterworth(lo, sr, order, True), _butterworth(hi, sr, order, False)])


def sos_resonator(hz: float, bandwidth_hz: float, sr: int) -> np.ndarray:
    """Two-pole resonance: the impulse response is one damped sinusoid (a drop, a woodblock)."""
    hz = _clamp_hz(hz, sr)
    r = np.exp(-np.pi * max(bandwidth_hz, 1.0) / sr)
    w = 2 * np.pi * hz / sr
    gain = (1 - r) * np.sqrt(1 - 2 * r * np.cos(2 * w) + r * r)
    return np.array([[gain, 0.0, 0.0, 1.0, -2 * r * np.cos(w), r * r]], dtype=F32)


def filt(sos: np.ndarray, x: np.ndarray) -> np.ndarray:
    if x.size == 0:
        return x
    return ss.sosfilt(sos, x).astype(F32, copy=False)


def one_pole_decay(x: np.ndarray, tau_s: float, sr: int) -> np.ndarray:
    """Each impulse in ``x`` becomes an exponential decay: envelopes of many events at once."""
    a = np.exp(-1.0 / max(tau_s * sr, 1.0))
    b_coef = np.array([1.0 - a], dtype=F32)
    a_coef = np.array([1.0, -a], dtype=F32)
    return ss.lfilter(b_coef, a_coef, x.astype(F32, copy=False)).astype(F32, copy=False)


def impulses(n: int, positions: np.ndarray, amps: np.ndarray) -> np.ndarray:
    """Sparse event train (summing coincident events) as a dense float32 array."""
    keep = (positions >= 0) & (positions < n)
    return np.bincount(positions[keep], weights=amps[keep], minlength=n).astype(F32)


def poisson_times(
    rng: np.random.Generator, rate: np.ndarray | float, n: int, sr: int
) -> np.ndarray:
    """Sample positions of a (possibly time-varying) Poisson process, vectorised by thinning."""
    rate_arr = np.broadcast_to(np.asarray(rate, dtype=np.float64), (max(n, 1),))
    peak = float(rate_arr.max()) if n else 0.0
    if peak <= 0 or n <= 0:
        return np.zeros(0, dtype=np.int64)
    count = rng.poisson(peak * n / sr)
    pos = np.sort(rng.integers(0, n, count))
    keep = rng.random(count) * peak < rate_arr[pos]
    return pos[keep]


def place(buf: np.ndarray, start: int, sig: np.ndarray) -> None:
    """Add ``sig`` into ``buf`` at ``start``, cropping whatever falls outside."""
    end = min(len(buf), start + len(sig))
    if start < 0:
        sig = sig[-start:]
        end = min(len(buf), len(sig))
        start = 0
    if end > start:
        buf[start:end] += sig[: end - start]


# ---------------------------------------------------------------- rooms, bands and dynamics


def room_ir(rng: np.random.Generator, sr: int, rt60_s: float, wet: float) -> np.ndarray:
    """Impulse response: direct sound, a few early reflections, then exponentially decaying
    noise whose highs die first (two bands with different decay), like a real room."""
    length = max(2, round(min(rt60_s, 4.0) * sr))
    t = np.arange(length, dtype=F32) / F32(sr)
    tau = F32(rt60_s / 6.91)
    tail = noise(rng, length) * np.exp(-t / tau)
    dull = filt(sos_lowpass(rng.uniform(1500, 4000), sr, 1), noise(rng, length))
    tail = F32(0.45) * tail * np.exp(-t / (tau * F32(0.5))) + dull * np.exp(-t / tau)
    predelay = round(rng.uniform(0.004, 0.03) * sr)
    tail = np.concatenate([np.zeros(predelay, F32), tail])[:length]
    fade_in = min(length, max(2, round(0.004 * sr)))
    tail[:fade_in] *= rise(fade_in)
    for _ in range(int(rng.integers(3, 8))):
        pos = round(rng.uniform(0.003, 0.04) * sr)
        if pos < length:
            tail[pos] += rng.uniform(-1.0, 1.0) * 3.0
    tail *= F32(wet) / F32(np.sqrt(np.sum(np.square(tail, dtype=np.float64)) + 1e-12))
    tail[0] += F32(1.0)
    return tail.astype(F32)


def fft_post(
    x: np.ndarray,
    sr: int,
    ir: np.ndarray | None,
    lowpass_hz: float | None,
    highpass_hz: float | None,
) -> np.ndarray:
    """One FFT pass for the whole room + channel: reverb, band limit, DC/rumble removal.

    Zero-phase masks with short cosine transitions, so band limits look like a resampler's, not
    like a filter with ringing. The reverb tail of the last notes is dropped (the clip ends).
    """
    n = len(x)
    if n == 0:
        return x
    needs_lowpass = lowpass_hz is not None and lowpass_hz < 0.5 * sr
    if ir is None and not needs_lowpass:
        # Only rumble/DC removal left: a 2nd-order high-pass is enough and 5x cheaper.
        return filt(sos_highpass(highpass_hz or 10.0, sr, 2), x - F32(x[:64].mean()))
    if ir is not None:
        ir = ir[:n]  # output sample i only needs ir[:i + 1]
    pad = len(ir) if ir is not None else 0
    size = sfft.next_fast_len(n + pad + max(64, sr // 50), real=True)
    spec = sfft.rfft(x, size)
    if ir is not None:
        spec *= sfft.rfft(ir, size)
    freqs = np.arange(len(spec), dtype=F32) * F32(sr / size)
    if lowpass_hz is not None and lowpass_hz < 0.5 * sr:
        edge = F32(lowpass_hz * 0.92)
        width = F32(lowpass_hz) - edge
        spec *= 1 - _smoothstep((freqs - edge) / width)
    if highpass_hz is not None:
        spec *= _smoothstep((freqs - F32(highpass_hz * 0.3)) / F32(highpass_hz * 0.7))
    spec[0] = 0
    return sfft.irfft(spec, size)[:n].astype(F32, copy=False)


def _smoothstep(z: np.ndarray) -> np.ndarray:
    z = np.clip(z, 0, 1)
    return z * z * (3 - 2 * z)


def soft_saturate(x: np.ndarray, drive: float) -> np.ndarray:
    """tanh waveshaper (gain ~1 for small signals) with first-order antiderivative
    anti-aliasing: a plain tanh at 8-16 kHz folds its harmonics back as inharmonic fizz, the
    signature of digital distortion rather than of an amplifier.

    y[n] = (F(u[n]) - F(u[n-1])) / (u[n] - u[n-1]) with F = log cosh. Where consecutive inputs
    are within 0.01 the quotient would cancel float32 digits, and tanh of the midpoint is the
    same value to second order.
    """
    u = x.astype(F32) * F32(drive)
    if u.size < 2:
        return (np.tanh(u) / F32(np.tanh(drive))).astype(F32)
    a = np.abs(u)
    big_f = a + np.log1p(np.exp(F32(-2) * a))
    prev_u = np.concatenate([u[:1], u[:-1]])
    du = u - prev_u
    close = np.abs(du) < F32(0.01)
    du[close] = F32(1.0)
    y = np.diff(big_f, prepend=big_f[:1]) / du
    y[close] = np.tanh(F32(0.5) * (u[close] + prev_u[close]))
    return (y / F32(np.tanh(drive))).astype(F32)


def upsample_linear(values: np.ndarray, step: int, n: int, first: int) -> np.ndarray:
    """Linear interpolation of control values at positions ``first + k * step`` (first <= 0) to
    ``n`` samples: continuous gain and amplitude curves at a fraction of the per-sample cost."""
    v = values.astype(F32)
    if len(v) < 2:
        return np.full(n, v[0] if len(v) else 0.0, dtype=F32)
    ramp = np.arange(step, dtype=F32) / F32(step)
    full = (v[:-1, None] + (v[1:] - v[:-1])[:, None] * ramp[None, :]).ravel()[-first:]
    if len(full) < n:
        full = np.concatenate([full, np.full(n - len(full), v[-1], F32)])
    return full[:n]


def _blocks(x: np.ndarray, w: int) -> np.ndarray:
    count = -(-len(x) // w)
    padded = np.zeros(count * w, F32)
    padded[: len(x)] = x
    return padded.reshape(count, w)


def peak_limit(x: np.ndarray, sr: int, ceiling: float, lookahead_s: float = 0.003) -> np.ndarray:
    """Look-ahead limiter with a continuous gain (no clipping corners) that never lets a peak
    through. Block maxima over +-1 block bound the level around every sample; interpolating the
    block gains linearly between block centres stays below what every sample needs."""
    n = len(x)
    if n == 0:
        return x
    w = max(2, round(lookahead_s * sr))
    peak = np.abs(_blocks(x, w)).max(axis=1)
    padded = np.concatenate([[peak[0]], peak, [peak[-1]]])
    peak = np.maximum(np.maximum(padded[:-2], padded[1:-1]), padded[2:])
    gain = np.minimum(F32(1.0), F32(ceiling) / np.maximum(peak, F32(1e-9)))
    gain = np.concatenate([gain[:1], gain, gain[-1:]])
    return (x * upsample_linear(gain, w, n, w // 2 - w)).astype(F32)


def compress(
    x: np.ndarray, sr: int, threshold_db: float, ratio: float, knee_db: float, release_s: float
) -> np.ndarray:
    """Soft-knee feed-forward compressor (RMS-ish detector, ~5 ms attack, drawn release).

    The detector runs on 1 ms block powers and the gain is interpolated back, so a loud master
    costs a few passes over the samples; the quadratic knee is what makes it dense, not clipped.
    """
    n = len(x)
    if n == 0:
        return x
    w = max(2, round(0.001 * sr))
    power = np.mean(np.square(_blocks(x, w)), axis=1)
    block_sr = max(1, round(sr / w))
    power = one_pole_decay(power, 0.005, block_sr)
    power = np.maximum(power, one_pole_decay(power, release_s, block_sr))
    level_db = F32(10.0) * np.log10(np.maximum(power, F32(1e-12)) * F32(2.0))
    over = level_db - F32(threshold_db)
    half = F32(knee_db / 2)
    slope = F32(1.0 - 1.0 / ratio)
    in_knee = np.abs(over) <= half
    gr = np.where(over > half, slope * over, 0.0).astype(F32)
    gr = np.where(in_knee, slope * (over + half) ** 2 / (F32(2) * max(knee_db, 1e-3)), gr)
    gain = np.power(F32(10.0), -gr / F32(20.0)).astype(F32)
    gain = np.concatenate([gain[:1], gain, gain[-1:]])
    return (x * upsample_linear(gain, w, n, w // 2 - w)).astype(F32)


def normalise_rms(x: np.ndarray, target: float = 0.1) -> np.ndarray:
    level = float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0
    return (x * F32(target / level)).astype(F32) if level > 1e-12 else x
