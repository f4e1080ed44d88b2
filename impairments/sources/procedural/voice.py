"""Voices: speech-like utterances, singing and animal calls from a source-filter model.

A band-limited glottal source (jittered pitch contour) and a noise source (frication,
aspiration, plosive bursts) are shaped frame by frame in the STFT domain by moving formant
resonances. Why the STFT rather than time-domain resonators: formants must glide continuously
between vowels, and a time-varying IIR either needs a per-sample Python loop or switches
coefficients in steps that click. Masks that change every 8 ms, overlap-added, are smooth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.fft as sfft

from impairments.sources.procedural._dsp import (
    F32,
    Ctx,
    Spectrum,
    harmonics,
    lookup,
    noise,
    phase_varying,
    smooth_curve,
    spectrum,
)
from impairments.sources.procedural.instruments import make_instrument, midi_hz, render
from impairments.sources.procedural.theory import Meter, draw_key, melody, progression

# (F1, F2, F3) of an adult male voice, Peterson & Barney style averages.
VOWELS = np.array(
    [
        (270, 2290, 3010),
        (390, 1990, 2550),
        (530, 1840, 2480),
        (660, 1720, 2410),
        (730, 1090, 2440),
        (570, 840, 2410),
        (440, 1020, 2240),
        (300, 870, 2240),
        (640, 1190, 2390),
        (490, 1350, 1690),
    ],
    dtype=np.float64,
)
# Frication: (centre Hz, width in octaves) for s, sh, f/th, h-like, and plosive bursts t, k, p.
FRICATIVES = np.array([(6000, 0.8), (3200, 0.9), (5000, 2.5), (1500, 2.5)], dtype=np.float64)
BURSTS = np.array([(4000, 1.5), (2000, 1.0), (1000, 1.5)], dtype=np.float64)


@dataclass
class Tracks:
    """Frame-rate control of the voice. ``formants`` is (frames, 4) in Hz."""

    f0: np.ndarray
    voicing: np.ndarray
    formants: np.ndarray
    fric: np.ndarray
    fric_centre: np.ndarray
    fric_octaves: np.ndarray
    breath: float


class Frames:
    """Frame grid shared by the tracks and the STFT: ~32 ms windows, 50% overlap (sqrt-Hann
    analysis and synthesis windows multiply to a Hann, which sums to one at this hop)."""

    def __init__(self, sr: int, n: int) -> None:
        self.size = int(2 ** np.ceil(np.log2(0.032 * sr)))
        self.hop = self.size // 2
        self.count = (n + self.size) // self.hop + 2
        self.n = n
        self.sr = sr

    def index(self, seconds: float) -> int:
        """Frame whose window is centred nearest to ``seconds``."""
        frame = round((seconds * self.sr + self.size / 2) / self.hop)
        return int(np.clip(frame, 0, self.count - 1))

    def span(self, seconds: float) -> int:
        """A duration in frames."""
        return round(seconds * self.sr / self.hop)

    def time_of(self, frame: int) -> float:
        return (frame * self.hop - self.size / 2) / self.sr

    def times(self) -> np.ndarray:
        return (np.arange(self.count) * self.hop - self.size / 2) / self.sr

    def upsample(self, track: np.ndarray) -> np.ndarray:
        """Linear interpolation to the sample rate: continuous, so amplitudes never step."""
        v = track.astype(F32)
        ramp = np.arange(self.hop, dtype=F32) / F32(self.hop)
        full = (v[:-1, None] + (v[1:] - v[:-1])[:, None] * ramp[None, :]).ravel()
        full = full[self.size // 2 : self.size // 2 + self.n]  # frame 0 is centred at -size/2
        return full if len(full) == self.n else np.pad(full, (0, self.n - len(full)), "edge")


def smooth(track: np.ndarray, frames: int) -> np.ndarray:
    """Hann-kernel smoothing of a frame track (coarticulation, glides)."""
    if frames <= 1 or len(track) < 2:
        return track
    kernel = np.hanning(frames + 2)[1:-1]
    kernel /= kernel.sum()
    pad = frames // 2 + 1
    ext = np.concatenate([np.full(pad, track[0]), track, np.full(pad, track[-1])])
    return np.convolve(ext, kernel, mode="same")[pad:-pad]


def _formant_gain(freqs: np.ndarray, formants: np.ndarray, bands: np.ndarray) -> np.ndarray:
    """|H(f)| of cascaded two-pole resonances, unity at DC: (frames, bins)."""
    f2 = np.square(freqs, dtype=F32)[None, :]
    gain = np.ones((formants.shape[0], len(freqs)), dtype=F32)
    for k in range(formants.shape[1]):
        fk2 = np.square(formants[:, k : k + 1].astype(F32))
        gain *= fk2 / np.sqrt(np.square(fk2 - f2) + f2 * F32(bands[k] ** 2))
    return gain


def render_voice(ctx: Ctx, fr: Frames, tr: Tracks, source: Spectrum) -> np.ndarray:
    """Source-filter synthesis by STFT masking. The noise source is drawn directly as random
    spectra (one STFT fewer): overlap-added, independent frames are stationary noise."""
    sr, n, size, hop = ctx.sr, ctx.n, fr.size, fr.hop
    f0 = fr.upsample(tr.f0) * (F32(1) + F32(0.006) * smooth_curve(ctx.rng, n, sr, 40.0))
    voiced = lookup(source.table(ctx, float(tr.f0.max()) * 1.05), phase_varying(f0, sr, 0))
    voiced *= fr.upsample(tr.voicing)

    window = np.sqrt(np.hanning(size + 1)[:-1]).astype(F32)
    total = fr.count * hop + size

    def stft(x: np.ndarray) -> np.ndarray:
        padded = np.zeros(total, F32)
        padded[size : size + n] = x
        view = np.lib.stride_tricks.sliding_window_view(padded, size)[::hop][: fr.count]
        return sfft.rfft(view * window, axis=1)

    freqs = np.arange(size // 2 + 1, dtype=F32) * F32(sr / size)
    bands = np.array([70.0, 100.0, 150.0, 250.0]) * ctx.rng.uniform(0.8, 1.4)
    gain_v = _formant_gain(freqs, tr.formants, bands)
    centre = np.log2(np.maximum(tr.fric_centre, 100.0)).astype(F32)[:, None]
    width = tr.fric_octaves.astype(F32)[:, None]
    gain_u = np.exp(-0.5 * np.square((np.log2(np.maximum(freqs, 50)) - centre) / width))
    gain_u = gain_u * (tr.fric[:, None] > 0.01) + gain_v * F32(tr.breath)
    spec = stft(voiced) * gain_v
    gate = np.maximum(tr.fric, tr.voicing * tr.breath).astype(F32) * F32(np.sqrt(size / 4))
    bins = size // 2 + 1
    turb = noise(ctx.rng, 2 * fr.count * bins).view(np.complex64).reshape(fr.count, bins)
    noise_spec = turb * (gate[:, None] * gain_u)
    # A harmonic landing on a narrow formant peak can jump 20 dB; voices (and singers, who
    # tune their formants) do not. Take most of that back, frame by frame.
    e_v = np.sum(np.square(np.abs(spec)), axis=1)
    voiced_frames = tr.voicing > 0.05 * max(float(tr.voicing.max()), 1e-9)
    if voiced_frames.any():
        per_amp = e_v / np.maximum(np.square(tr.voicing), 1e-6)
        ref = float(np.median(per_amp[voiced_frames]))
        level = np.where(
            voiced_frames, np.clip((ref / np.maximum(per_amp, 1e-20)) ** 0.35, 0.25, 4.0), 1.0
        )
        level = smooth(level, 2).astype(F32)
        spec *= level[:, None]
        e_v = e_v * np.square(level)
    # Calibrate frame against frame: a fricative sits 8-20 dB below a vowel, as in speech.
    e_u = np.sum(np.square(np.abs(noise_spec)), axis=1)
    vowel = float(np.median(e_v[tr.voicing > 0.3 * tr.voicing.max()])) if e_v.any() else 0.0
    fric = float(np.median(e_u[tr.fric > 0.3 * tr.fric.max()])) if tr.fric.any() else 0.0
    if vowel > 0 and fric > 0:
        below = ctx.rng.uniform(8, 20) if tr.voicing.any() else 0.0
        spec += noise_spec * F32(np.sqrt(vowel / fric * 10 ** (-below / 10)))
    else:
        spec += noise_spec
    frames = sfft.irfft(spec, size, axis=1).astype(F32) * window
    out = np.zeros(total + size, F32)
    blocks = size // hop
    for j in range(blocks):
        part = frames[:, j * hop : (j + 1) * hop].ravel()
        out[j * hop : j * hop + len(part)] += part
    return out[size : size + n] / F32(blocks / 2)  # sum of Hann windows at this overlap


def glottal_source(rng: np.random.Generator, tilt: float) -> Spectrum:
    """Glottal flow derivative + lip radiation: roughly -6 dB/octave harmonics."""
    k = harmonics(64)
    return spectrum(rng, k ** (-tilt) * (1 + 0.3 * rng.random(len(k))))


def _fill(track: np.ndarray, a: int, b: int, value: float | np.ndarray) -> None:
    track[a:b] = value


def speech_like(ctx: Ctx) -> np.ndarray:
    """Utterances (read speech, or isolated words like spoken digits) from a drawn speaker:
    syllables at 3.5-6.5 Hz, vowel formant targets with coarticulation, fricatives, plosive
    bursts, declining and accented pitch (80-300 Hz), pauses between phrases."""
    rng = ctx.rng
    fr = Frames(ctx.sr, ctx.n)
    speaker = rng.choice(["male", "female", "child"], p=[0.45, 0.45, 0.1])
    base = {"male": (85, 150), "female": (160, 250), "child": (220, 300)}[str(speaker)]
    f0_base = rng.uniform(*base)
    scale = {"male": 1.0, "female": 1.15, "child": 1.3}[str(speaker)] * rng.uniform(0.95, 1.05)
    isolated = rng.random() < 0.3
    rate = rng.uniform(3.5, 6.5)
    tracks = _empty_tracks(fr, f0_base, scale)
    t = rng.uniform(0.0, 0.4)
    dur = ctx.n / ctx.sr
    while t < dur:
        words = int(rng.integers(1, 3)) if isolated else int(rng.integers(3, 14))
        start = t
        syllables = words * (1 if isolated else int(rng.integers(1, 3)))
        for i in range(syllables):
            if t >= dur:
                break
            length = 1.0 / rate * rng.uniform(0.6, 1.5)
            # Frame indices saturate at the buffer end: never let time stand still.
            t = max(t + 0.01, _syllable(rng, fr, tracks, t, length, i == 0))
        span = (fr.index(start), fr.index(t))
        decl = np.linspace(rng.uniform(1.1, 1.3), rng.uniform(0.8, 0.92), max(1, span[1] - span[0]))
        tracks.f0[span[0] : span[1]] *= decl
        t += rng.uniform(0.4, 1.2) if isolated else rng.uniform(0.12, 0.7)
    tracks.f0 = np.clip(tracks.f0, 80.0, 300.0)  # accents and declination stay in voice range
    return _finish_voice(ctx, fr, tracks, smooth_frames=2, tilt=rng.uniform(0.9, 1.5))


def _empty_tracks(fr: Frames, f0: float, scale: float) -> Tracks:
    formants = np.tile(np.r_[VOWELS[8], 3500.0] * scale, (fr.count, 1))
    z = np.zeros(fr.count)
    return Tracks(np.full(fr.count, f0), z.copy(), formants, z.copy(), z + 4000.0, z + 1.0, 0.02)


def _syllable(
    rng: np.random.Generator, fr: Frames, tr: Tracks, t: float, length: float, stressed: bool
) -> float:
    """Write one (consonant +) vowel (+ coda) into the tracks; returns the end time."""
    scale = tr.formants[0, 3] / 3500.0
    onset = rng.choice(["none", "fric", "plosive", "sonorant"], p=[0.25, 0.25, 0.3, 0.2])
    a = fr.index(t)
    if onset == "fric":
        end = fr.index(t + rng.uniform(0.05, 0.12))
        kind = FRICATIVES[int(rng.integers(len(FRICATIVES)))]
        _fill(tr.fric, a, end, rng.uniform(0.4, 1.0))
        _fill(tr.fric_centre, a, end, kind[0])
        _fill(tr.fric_octaves, a, end, kind[1])
        a = end
    elif onset == "plosive":
        closure = fr.index(t + rng.uniform(0.03, 0.07))
        burst_end = closure + max(1, fr.span(rng.uniform(0.01, 0.025)))
        kind = BURSTS[int(rng.integers(len(BURSTS)))]
        _fill(tr.fric, closure, burst_end, rng.uniform(0.3, 0.7))
        _fill(tr.fric_centre, closure, burst_end, kind[0])
        _fill(tr.fric_octaves, closure, burst_end, kind[1])
        a = burst_end
    vowel_end = fr.index(t + length)
    if vowel_end <= a:
        vowel_end = a + 1
    if onset == "sonorant":  # nasal / liquid: low F1, weak, voiced
        son = fr.span(rng.uniform(0.04, 0.08))
        _fill(tr.voicing, a, a + son, 0.35)
        _fill(tr.formants, a, a + son, np.r_[250, 1200, 2500, 3500] * scale)
        a += son
    vowel = VOWELS[int(rng.integers(len(VOWELS)))] * scale * rng.uniform(0.93, 1.07, 3)
    _fill(tr.formants, a, vowel_end, np.r_[vowel, 3500 * scale])
    _fill(tr.voicing, a, vowel_end, rng.uniform(0.6, 1.0) * (1.25 if stressed else 1.0))
    if stressed:
        tr.f0[a:vowel_end] *= rng.uniform(1.05, 1.3)
    if rng.random() < 0.25:  # coda fricative
        end = vowel_end + fr.span(rng.uniform(0.04, 0.1))
        kind = FRICATIVES[int(rng.integers(len(FRICATIVES)))]
        _fill(tr.fric, vowel_end, end, rng.uniform(0.3, 0.8))
        _fill(tr.fric_centre, vowel_end, end, kind[0])
        _fill(tr.fric_octaves, vowel_end, end, kind[1])
        vowel_end = end
    return fr.time_of(vowel_end)


def _finish_voice(ctx: Ctx, fr: Frames, tr: Tracks, smooth_frames: int, tilt: float) -> np.ndarray:
    """Coarticulate (smooth the tracks), keep everything below Nyquist, synthesise."""
    tr.formants = np.stack([smooth(tr.formants[:, k], smooth_frames * 2) for k in range(4)], 1)
    tr.formants = np.minimum(tr.formants, ctx.f_max * np.array([0.5, 0.75, 0.9, 0.98]))
    tr.voicing = np.clip(smooth(tr.voicing, smooth_frames), 0, None)
    tr.fric = np.clip(smooth(tr.fric, 2), 0, None)
    tr.f0 = smooth(tr.f0, smooth_frames * 2)
    tr.fric_centre = np.minimum(tr.fric_centre, ctx.f_max * 0.8)
    return render_voice(ctx, fr, tr, glottal_source(ctx.rng, tilt))


def singing_like(ctx: Ctx) -> np.ndarray:
    """Sung melody: sustained vowels with delayed vibrato (4.5-6.5 Hz), legato glides, a
    singer's formant cluster near 3 kHz for trained voices, short consonants between words,
    sometimes over soft chords."""
    rng = ctx.rng
    fr = Frames(ctx.sr, ctx.n)
    key = draw_key(rng)
    meter = Meter(int(rng.choice([3, 4])), 60.0 / rng.uniform(60, 130))
    chords = progression(rng, key, int(ctx.n / ctx.sr / meter.bar_s) + 2)
    register = int(rng.choice([45, 50, 55, 60, 64]))  # bass .. soprano
    notes = melody(rng, key, chords, meter, register, rng.uniform(0.3, 0.9), legato=True)
    scale = 1.0 + (register - 45) / 60
    tr = _empty_tracks(fr, float(midi_hz(register, key.a4)), scale)
    vib_cents = rng.uniform(30, 100)
    vib_rate = rng.uniform(4.5, 6.5)
    times = fr.times()
    for onset, dur, midi, vel in notes:
        a, b = fr.index(onset), fr.index(onset + dur)
        if b <= a:
            continue
        local = times[a:b] - times[a]
        vib = vib_cents * np.clip((local - 0.2) / 0.4, 0, 1) * np.sin(2 * np.pi * vib_rate * local)
        tr.f0[a:b] = midi_hz(midi + vib / 100, key.a4)
        vowel = VOWELS[int(rng.integers(len(VOWELS)))] * scale
        tr.formants[a:b] = np.r_[vowel, 3500 * scale]
        tr.voicing[a:b] = vel
        if rng.random() < 0.3:  # consonant at the word start
            c = min(b, a + fr.span(rng.uniform(0.03, 0.07)))
            kind = FRICATIVES[int(rng.integers(len(FRICATIVES)))]
            tr.fric[a:c] = rng.uniform(0.3, 0.6)
            tr.fric_centre[a:c] = kind[0]
            tr.fric_octaves[a:c] = kind[1]
    if rng.random() < 0.5:  # trained voice: singer's formant
        tr.formants[:, 3] = np.minimum(tr.formants[:, 3], 2900 * rng.uniform(0.95, 1.1))
    tr.breath = rng.uniform(0.01, 0.06)
    out = _finish_voice(ctx, fr, tr, smooth_frames=3, tilt=rng.uniform(0.8, 1.3))
    if rng.random() < 0.5:
        inst = make_instrument(rng, str(rng.choice(["piano", "guitar", "pad", "strings"])))
        comp = [
            (b * meter.bar_s, meter.bar_s, p, 0.5)
            for b, d in enumerate(chords)
            for p in key.chord(d, 48)
        ]
        acc = render(ctx, inst, comp, key.a4)
        out += acc * F32(_rms(out) / max(_rms(acc), 1e-9) * rng.uniform(0.2, 0.6))
    return out


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0


def animal_calls(ctx: Ctx) -> np.ndarray:
    """Dog-like barks in bouts, howls and whines (long pitch glides), growls (low, rough):
    harmonic, noisy-onset vocalisations unlike speech."""
    rng = ctx.rng
    fr = Frames(ctx.sr, ctx.n)
    size = rng.uniform(0.8, 1.6)  # small dogs bark higher
    tr = _empty_tracks(fr, 500.0, 1.3 / size)
    tr.breath = rng.uniform(0.05, 0.2)
    dur = ctx.n / ctx.sr
    t = rng.uniform(0.0, 0.5)
    times = fr.times()
    while t < dur + 0.3:
        call = rng.choice(["bark", "bark", "howl", "growl", "whine"])
        if call == "bark":
            for _ in range(int(rng.integers(1, 6))):
                length = rng.uniform(0.08, 0.25)
                a, b = fr.index(t), fr.index(t + length)
                local = times[a:b] - times[a]
                f0 = rng.uniform(350, 900) / size
                tr.f0[a:b] = f0 * (1.25 - 0.5 * local / max(length, 1e-3))
                tr.voicing[a:b] = rng.uniform(0.6, 1.0)
                noisy = min(b, a + 2)
                tr.fric[a:noisy] = rng.uniform(0.3, 0.8)
                tr.fric_centre[a:noisy], tr.fric_octaves[a:noisy] = 1500, 2.0
                tr.formants[a:b] = np.r_[VOWELS[4][:3] * 1.3 / size, 4000 / size]
                t += length + rng.uniform(0.12, 0.45)
        else:
            length = rng.uniform(1.0, 3.5) if call != "growl" else rng.uniform(0.5, 1.5)
            a, b = fr.index(t), fr.index(t + length)
            local = (times[a:b] - times[a]) / max(length, 1e-3)
            if call == "growl":
                tr.f0[a:b] = rng.uniform(70, 140) * (1 + 0.1 * np.sin(2 * np.pi * 25 * local))
                tr.fric[a:b] = 0.2
                tr.fric_centre[a:b], tr.fric_octaves[a:b] = 800, 2.0
            else:
                peak = rng.uniform(500, 1100) if call == "howl" else rng.uniform(700, 1500)
                tr.f0[a:b] = peak * (0.7 + 0.3 * np.sin(np.pi * local))
            tr.voicing[a:b] = np.sin(np.pi * np.clip(local, 0, 1)) ** 0.5 * rng.uniform(0.5, 0.9)
            tr.formants[a:b] = np.r_[VOWELS[int(rng.integers(len(VOWELS)))] * 1.3 / size, 4000]
            t += length
        t += rng.uniform(0.4, 2.5)
    tr.f0 = np.minimum(tr.f0, ctx.f_max / 3)
    return _finish_voice(ctx, fr, tr, smooth_frames=1, tilt=rng.uniform(0.6, 1.0))
