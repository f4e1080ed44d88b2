"""Procedural generator of varied CLEAN audio: the built-in, download-free default source.

Why it exists: a defect detector learns whatever separates its classes. If the clean class held
only pleasant tones, drums would read as clicks, an organ pedal as hum, rain as hiss and a loud
master as distortion. So next to music, speech and singing, every kind that imitates a defect
by nature (percussion, fire, organ drones, bass, rain, wind, applause, overdriven guitar,
limited masters) is here on purpose, at varied levels, dynamics and bandwidths.

Contract: ``generate(kind, seed, duration_s, sample_rate)`` is a pure function. It draws only
from ``numpy.random.default_rng`` seeded by (kind, seed), so the same call gives the same bytes
in any process and order, and it returns mono float32 (the builder makes channels).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from impairments.sources.procedural import ambience, drums, mixes, music, voice
from impairments.sources.procedural._dsp import (
    F32,
    Ctx,
    fft_post,
    filt,
    noise,
    one_pole_decay,
    rise,
    room_ir,
    smooth_curve,
    sos_lowpass,
)

__all__ = ["KINDS", "describe", "generate"]

Reverb = tuple[float, float, float, float, float]  # probability, rt60 lo/hi s, wet lo/hi


@dataclass(frozen=True)
class KindSpec:
    """How one kind is made and finished. ``band``: "any" draws a bandwidth per clip (full,
    16, 11, 7 or 4 kHz); "narrow" always band-limits (telephone, AM, 8 kHz files)."""

    make: Callable[[Ctx], np.ndarray]
    about: str
    level_db: tuple[float, float] = (-30.0, -1.0)
    reverb: Reverb | None = (0.6, 0.2, 1.5, 0.05, 0.35)
    dynamics: bool = True
    room_tone: bool = True
    band: str = "any"
    preroll: bool = True


def _lofi(ctx: Ctx) -> np.ndarray:
    """Content of another kind; the narrow band is applied by the finishing stage."""
    source = ctx.rng.choice(
        [
            "speech_like",
            "speech_like",
            "tonal_music",
            "singing_like",
            "solo_melody",
            "drum_groove",
            "chords_pad",
        ]
    )
    return _SPECS[str(source)].make(ctx)


HALL: Reverb = (0.9, 1.2, 3.5, 0.15, 0.5)
ROOM: Reverb = (0.5, 0.15, 0.6, 0.03, 0.2)
_SPECS: dict[str, KindSpec] = {
    "tonal_music": KindSpec(
        music.tonal_music,
        "small band in a drawn style (waltz, ragtime stride, country boom-chick, ballad "
        "arpeggios, chorale, walking bass): bass, accompaniment and melody",
    ),
    "chords_pad": KindSpec(
        music.chords_pad,
        "slow sustained chords (pads, strings, organ, brass), long attacks, sometimes an arpeggio",
        reverb=HALL,
    ),
    "orchestral_like": KindSpec(
        music.orchestral_like,
        "string chords, basses, a woodwind/brass/violin melody and timpani under pp-ff arcs",
        reverb=HALL,
    ),
    "solo_melody": KindSpec(
        music.solo_melody,
        "one wind or bowed instrument alone (trumpet, flute, clarinet, violin, sax, horn, "
        "whistle) with vibrato, slurs, breaths and expressive loudness",
    ),
    "quiet_sparse": KindSpec(
        music.quiet_sparse,
        "a few soft notes with long decays and near-silence between them: wide dynamic range",
        level_db=(-40.0, -12.0),
        reverb=HALL,
    ),
    "percussion": KindSpec(
        drums.percussion,
        "hand percussion and isolated hits (congas, claves, woodblocks, shakers, claps, toms) "
        "on a grid or in free time: impulsive hard negatives for clicks",
        reverb=ROOM,
    ),
    "drum_groove": KindSpec(
        drums.drum_groove,
        "drum-kit grooves (rock, funk, shuffle, march, waltz, half-time, drum & bass 160-180 "
        "bpm), sometimes with bass and chords",
        reverb=ROOM,
    ),
    "speech_like": KindSpec(
        voice.speech_like,
        "source-filter speech: jittered 80-300 Hz pitch, moving vowel formants, fricatives, "
        "plosives, 3.5-6.5 Hz syllables, phrase pauses; read speech or isolated words",
        reverb=ROOM,
        preroll=False,
    ),
    "singing_like": KindSpec(
        voice.singing_like,
        "sung melody with sustained vowels, delayed vibrato, glides and a singer's formant, "
        "sometimes over soft chords",
    ),
    "animal_calls": KindSpec(
        voice.animal_calls,
        "dog-like barks in bouts, howls, whines and growls",
        reverb=ROOM,
        preroll=False,
    ),
    "ambience_rain": KindSpec(
        ambience.ambience_rain,
        "rain wash and drops on surfaces, or a bubbling stream: hiss- and click-like",
        reverb=None,
        room_tone=False,
    ),
    "ambience_wind": KindSpec(
        ambience.ambience_wind,
        "gusting wind, sometimes whistling resonances: hiss-like",
        reverb=None,
        room_tone=False,
    ),
    "breath_surf": KindSpec(
        ambience.breath_surf,
        "breathing, surf, steam or distant traffic: noise swelling over seconds",
        reverb=None,
        room_tone=False,
    ),
    "fire_crackle": KindSpec(
        ambience.fire_crackle,
        "fire roar and hiss under clustered, heavy-tailed crackles: impulsive hard negative",
        reverb=None,
        room_tone=False,
    ),
    "applause": KindSpec(
        ambience.applause,
        "applause from a few people to a hall, sometimes cheering: dense broadband transients",
        reverb=ROOM,
        room_tone=False,
    ),
    "birdsong": KindSpec(
        ambience.birdsong,
        "chirps, sweeps and trills from one to three birds at different distances",
        reverb=(0.4, 0.3, 1.2, 0.05, 0.3),
        room_tone=False,
        preroll=False,
    ),
    "organ_drone": KindSpec(
        music.organ_drone,
        "held organ/reed/synth pedal at 30-110 Hz (often next to 50/60 Hz) under slow chords "
        "or fifths, sometimes with tremulant: hum-like hard negative",
        reverb=HALL,
    ),
    "bass_line": KindSpec(
        music.bass_line,
        "plucked, upright, organ or sub bass lines (35-120 Hz fundamentals), sometimes with "
        "a kick drum: hum-like hard negative",
        reverb=ROOM,
    ),
    "distorted_guitar_like": KindSpec(
        mixes.distorted_guitar_like,
        "overdriven guitar through an amp and cabinet (chugs, power chords, riffs, leads), "
        "alone or with a rock band: distortion-like hard negative",
        reverb=ROOM,
    ),
    "compressed_master": KindSpec(
        mixes.compressed_master,
        "full arrangement through soft-knee compression and a smooth look-ahead limiter: "
        "loud, dense, peaks near 0 dBFS but never clipped",
        level_db=(-1.0, -0.1),
        reverb=None,
        dynamics=False,
        room_tone=False,
    ),
    "lofi_bandlimited": KindSpec(
        _lofi,
        "speech or music band-limited like a telephone (300-3400 Hz), AM radio, an old record "
        "or an 8 kHz file: narrow band without noise or distortion",
        band="narrow",
    ),
}

KINDS: tuple[str, ...] = tuple(_SPECS)


def describe() -> dict[str, str]:
    """Kind -> one-line description, for the dataset card."""
    return {kind: spec.about for kind, spec in _SPECS.items()}


def generate(kind: str, seed: int, duration_s: float, sample_rate: int) -> np.ndarray:
    """Mono float32 (n,) clean audio of ``kind``, n = round(duration_s * sample_rate).

    Peak-normalised to a drawn level (about -30..-1 dBFS; near 0 dBFS for compressed_master),
    no DC, no clipping, no steps. Very short clips may fall between events and be silent.
    """
    if kind not in _SPECS:
        raise ValueError(f"unknown procedural audio kind {kind!r}; kinds: {', '.join(KINDS)}")
    if int(seed) < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    if sample_rate < 4000:
        raise ValueError(f"sample_rate must be >= 4000 Hz, got {sample_rate}")
    if not duration_s >= 0:
        raise ValueError(f"duration_s must be >= 0, got {duration_s}")
    n = round(duration_s * sample_rate)
    if n == 0:
        return np.zeros(0, dtype=F32)
    spec = _SPECS[kind]
    # Mixing the kind into the seed decorrelates kinds that share a seed.
    rng = np.random.default_rng([zlib.crc32(kind.encode()), int(seed)])
    finish = rng.spawn(1)[0]
    # Pre-roll starts the clip mid-performance (notes and reverb already sounding); post-roll
    # keeps the band-limiting filters' response to the end of the buffer out of the clip.
    pre = round(finish.uniform(0.0, 0.5) * sample_rate) if spec.preroll else 0
    post = round(0.05 * sample_rate)
    ctx = Ctx(rng, int(sample_rate), pre + n + post)
    x = np.asarray(spec.make(ctx), dtype=F32)
    x = _finish(finish, spec, x, int(sample_rate))[pre : pre + n]
    return _to_level(finish, spec, x - F32(x.mean()))


def _finish(rng: np.random.Generator, spec: KindSpec, x: np.ndarray, sr: int) -> np.ndarray:
    """Performance dynamics, room tone, room and channel bandwidth, in one FFT pass."""
    n = len(x)
    if spec.dynamics:
        x = x * _dynamics(rng, n, sr)
    if spec.room_tone and rng.random() < 0.3:
        tone = one_pole_decay(noise(rng, n), 1.0 / (2 * np.pi * rng.uniform(80, 500)), sr)
        tone = filt(sos_lowpass(rng.uniform(800, 3000), sr, 1), tone)
        x = x + tone * F32(_rms(x) / max(_rms(tone), 1e-12) * 10 ** (-rng.uniform(45, 65) / 20))
    ir = None
    if spec.reverb is not None and rng.random() < spec.reverb[0]:
        _p, rt_lo, rt_hi, wet_lo, wet_hi = spec.reverb
        ir = room_ir(rng, sr, rng.uniform(rt_lo, rt_hi), rng.uniform(wet_lo, wet_hi))
    low, high = _bandwidth(rng, spec.band)
    return fft_post(x, sr, ir, low, high)


def _bandwidth(rng: np.random.Generator, band: str) -> tuple[float | None, float]:
    """(lowpass Hz or None, highpass Hz): the channel the content went through."""
    if band == "narrow":
        choice = rng.choice(["telephone", "file8k", "am", "shellac"])
        return {
            "telephone": (rng.uniform(3300, 3500), rng.uniform(250, 350)),
            "file8k": (rng.uniform(3700, 3950), rng.uniform(20, 80)),
            "am": (rng.uniform(4000, 5000), rng.uniform(80, 150)),
            "shellac": (rng.uniform(4500, 6000), rng.uniform(80, 200)),
        }[str(choice)]
    choice = rng.choice(["full", "16k", "11k", "7k", "4k"], p=[0.55, 0.1, 0.15, 0.05, 0.15])
    low = {
        "full": None,
        "16k": 16000.0,
        "11k": rng.uniform(10000, 11000),
        "7k": rng.uniform(6500, 7500),
        "4k": rng.uniform(3600, 4000),
    }[str(choice)]
    return low, rng.uniform(12.0, 25.0)


def _dynamics(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """A performance's level changes: none, slow swells, a fade, or a quiet section."""
    mode = rng.choice(["none", "swell", "fade", "quiet"], p=[0.45, 0.25, 0.15, 0.15])
    if mode == "none":
        return np.ones(n, dtype=F32)
    db = np.zeros(n, dtype=F32)
    if mode == "swell":
        db = smooth_curve(rng, n, sr, rng.uniform(0.1, 0.5)) * F32(rng.uniform(3, 12))
    elif mode == "fade":
        length = min(n, round(rng.uniform(0.5, 5.0) * sr))
        ramp = (F32(1) - rise(length)) * F32(-rng.uniform(10, 40))
        if rng.random() < 0.5:
            db[:length] = ramp
        else:
            db[n - length :] = ramp[::-1]
    elif mode == "quiet":
        start = int(rng.integers(0, max(1, n)))
        length = min(n - start, round(rng.uniform(1.0, 4.0) * sr))
        edge = min(length // 2, round(rng.uniform(0.1, 0.5) * sr))
        if length > 0:
            plateau = np.ones(length, dtype=F32)
            if edge > 0:
                plateau[:edge] = rise(edge)
                plateau[length - edge :] = rise(edge)[::-1]
            db[start : start + length] = plateau * F32(-rng.uniform(15, 35))
    return np.exp(db * F32(np.log(10) / 20)).astype(F32)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0


def _to_level(rng: np.random.Generator, spec: KindSpec, x: np.ndarray) -> np.ndarray:
    """Peak to the drawn level; lift clips whose RMS would fall below -55 dBFS (sparse
    events at a low peak level), without letting the peak pass -1 dBFS."""
    peak = float(np.abs(x).max())
    if not np.isfinite(peak) or peak < 1e-9:
        return np.zeros(len(x), dtype=F32)
    target = 10 ** (rng.uniform(*spec.level_db) / 20)
    gain = target / peak
    floor = 10 ** (-55 / 20)
    level = _rms(x) * gain
    if level < floor:
        gain = min(gain * floor / level, max(target, 10 ** (-1 / 20)) / peak)
    return np.clip(x * F32(gain), -1.0, 1.0).astype(F32)
