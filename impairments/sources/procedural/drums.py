"""Drums and percussion: synthesized hits placed by groove patterns or free rhythms.

Why here: drum transients are the textbook click look-alike (broadband, a few ms, sharp onset).
The clean class needs many of them, at every tempo (waltz to drum & bass at 170+ bpm), with and
without music around them, and as isolated hits in silence (a knock, claves, a woodblock).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from impairments.sources.procedural._dsp import (
    F32,
    Ctx,
    filt,
    noise,
    phase_varying,
    place,
    rise,
    sine,
    sos_bandpass,
    sos_highpass,
    sos_lowpass,
)
from impairments.sources.procedural.instruments import make_instrument, render
from impairments.sources.procedural.theory import Meter, accompaniment, draw_key, progression

Hit = Callable[[Ctx, float], np.ndarray]


def _decay(length: int, sr: int, tau: float) -> np.ndarray:
    return np.exp(-np.arange(length, dtype=F32) / F32(max(tau * sr, 1.0)))


def _tail(sig: np.ndarray, sr: int) -> np.ndarray:
    """Fade the last few ms so a truncated template never ends on a step."""
    fade = min(len(sig) // 2, max(2, round(0.004 * sr)))
    sig[len(sig) - fade :] *= rise(fade)[::-1]
    return sig


def _swept_sine(ctx: Ctx, length: int, f_start: float, f_end: float, tau: float) -> np.ndarray:
    t = np.arange(length, dtype=F32) / F32(ctx.sr)
    freq = F32(f_end) + F32(f_start - f_end) * np.exp(-t / F32(tau))
    return sine(phase_varying(freq, ctx.sr, int(ctx.rng.integers(1 << 30))))


def _strike(ctx: Ctx, sig: np.ndarray, amount: float) -> np.ndarray:
    """Add the contact transient (stick on wood, beater on skin, a slap): a broadband burst of
    0.05-0.4 ms. It is what makes a hit impulsive, i.e. a real click look-alike."""
    rng, sr = ctx.rng, ctx.sr
    length = min(len(sig), ctx.seconds(0.003))
    burst = filt(sos_highpass(rng.uniform(1000, 3000), sr, 1), noise(rng, length))
    burst *= _decay(length, sr, rng.uniform(0.00005, 0.0004))
    peak = float(np.abs(sig).max()) or 1.0
    sig[:length] += burst * F32(amount * peak / max(float(np.abs(burst).max()), 1e-9))
    return sig


def kick(ctx: Ctx, vel: float) -> np.ndarray:
    rng, sr = ctx.rng, ctx.sr
    length = ctx.seconds(rng.uniform(0.25, 0.6))
    body = _swept_sine(
        ctx, length, rng.uniform(120, 250), rng.uniform(40, 65), rng.uniform(0.02, 0.05)
    )
    body *= _decay(length, sr, rng.uniform(0.08, 0.3))
    click_len = ctx.seconds(0.004)
    click = filt(sos_bandpass(1500, 6000, sr), noise(rng, click_len)) * _decay(click_len, sr, 0.001)
    body[:click_len] += click * F32(rng.uniform(0.05, 0.4))
    return _tail(_strike(ctx, body, rng.uniform(0.1, 0.6)) * F32(vel), sr)


def snare(ctx: Ctx, vel: float) -> np.ndarray:
    rng, sr = ctx.rng, ctx.sr
    length = ctx.seconds(rng.uniform(0.15, 0.35))
    tone = _swept_sine(ctx, length, rng.uniform(220, 330), rng.uniform(160, 220), 0.02)
    tone *= _decay(length, sr, rng.uniform(0.03, 0.08))
    brush = rng.random() < 0.2
    lo, hi = (2000, 9000) if brush else (rng.uniform(800, 2500), rng.uniform(6000, 12000))
    rattle = filt(sos_bandpass(lo, hi, sr), noise(rng, length))
    rattle *= _decay(length, sr, rng.uniform(0.04, 0.15))
    if brush:
        rattle *= rise(length) ** F32(0.1)
    mix = tone * F32(rng.uniform(0.3, 0.8)) + rattle * F32(rng.uniform(0.4, 0.8))
    if not brush:
        mix = _strike(ctx, mix, rng.uniform(0.2, 0.8))
    return _tail(mix * F32(vel), sr)


def hat(ctx: Ctx, vel: float, open_hat: bool = False) -> np.ndarray:
    rng, sr = ctx.rng, ctx.sr
    tau = rng.uniform(0.12, 0.4) if open_hat else rng.uniform(0.01, 0.04)
    length = ctx.seconds(tau * 5)
    metal = sum(
        np.sign(sine(phase_varying(np.full(length, rng.uniform(300, 900), F32), sr, 0)))
        for _ in range(3)
    )
    sig = filt(sos_highpass(rng.uniform(5000, 8000), sr, 2), noise(rng, length) + F32(0.3) * metal)
    return _tail(sig * _decay(length, sr, tau) * F32(vel * 0.5), sr)


def tom(ctx: Ctx, vel: float, pitch: float = 0.0) -> np.ndarray:
    rng, sr = ctx.rng, ctx.sr
    length = ctx.seconds(rng.uniform(0.3, 0.7))
    f = pitch or rng.uniform(80, 220)
    body = _swept_sine(ctx, length, f * 1.5, f, 0.03) * _decay(length, sr, rng.uniform(0.1, 0.3))
    return _tail(_strike(ctx, body, rng.uniform(0.1, 0.6)) * F32(vel), sr)


def clap(ctx: Ctx, vel: float) -> np.ndarray:
    rng, sr = ctx.rng, ctx.sr
    length = ctx.seconds(0.2)
    env = np.zeros(length, F32)
    for i in range(int(rng.integers(2, 5))):
        start = ctx.seconds(0.008 * i + rng.uniform(0, 0.004))
        seg = _decay(length - start, sr, 0.008 if i < 3 else rng.uniform(0.03, 0.08))
        env[start:] = np.maximum(env[start:], seg)
    sig = filt(
        sos_bandpass(rng.uniform(700, 1500), rng.uniform(2500, 5000), sr), noise(rng, length)
    )
    return _tail(sig * env * F32(vel), sr)


def block(ctx: Ctx, vel: float) -> np.ndarray:
    """Woodblock / claves / cowbell / rim: short damped partials, very click-like."""
    rng, sr = ctx.rng, ctx.sr
    length = ctx.seconds(rng.uniform(0.05, 0.25))
    sig = np.zeros(length, F32)
    base = rng.uniform(500, 2800)
    for ratio in (1.0, rng.uniform(1.4, 2.9)):
        f = min(base * ratio, ctx.f_max)
        sig += sine(phase_varying(np.full(length, f, F32), sr, 0)) * _decay(
            length, sr, rng.uniform(0.008, 0.06)
        )
    return _tail(_strike(ctx, sig, rng.uniform(0.3, 1.0)) * F32(vel * 0.7), sr)


def shaker(ctx: Ctx, vel: float) -> np.ndarray:
    rng, sr = ctx.rng, ctx.sr
    length = ctx.seconds(rng.uniform(0.04, 0.1))
    env = rise(length) ** F32(0.5) * rise(length)[::-1]
    sig = filt(sos_highpass(rng.uniform(3000, 6000), sr), noise(rng, length))
    return sig * env * F32(vel * 0.5)


def conga(ctx: Ctx, vel: float) -> np.ndarray:
    rng, sr = ctx.rng, ctx.sr
    sig = tom(ctx, vel, rng.uniform(180, 420))
    slap_len = min(len(sig), ctx.seconds(0.02))
    slap = filt(sos_bandpass(800, 5000, sr), noise(rng, slap_len)) * _decay(slap_len, sr, 0.004)
    sig[:slap_len] += slap * F32(vel * rng.uniform(0.0, 0.6))
    return sig


def cymbal(ctx: Ctx, vel: float) -> np.ndarray:
    rng, sr = ctx.rng, ctx.sr
    length = ctx.seconds(rng.uniform(0.8, 2.5))
    sig = filt(sos_bandpass(3000, 14000, sr), noise(rng, length))
    return _tail(sig * _decay(length, sr, length / sr / 4) * F32(vel * 0.4), sr)


def place_hits(
    ctx: Ctx, hit: Hit, times: list[float], vels: list[float], kits: int = 3
) -> np.ndarray:
    """Place drawn hits. A few template variants per instrument, reused with new velocities, is
    how a drum kit behaves (and keeps the cost at a few templates, not one per hit)."""
    buf = ctx.zeros()
    if not times:
        return buf
    variants = [hit(ctx, 1.0) for _ in range(min(kits, len(times)))]
    choice = ctx.rng.integers(0, len(variants), len(times))
    for t, v, c in zip(times, vels, choice, strict=True):
        place(buf, round(t * ctx.sr), variants[c] * F32(v))
    return buf


# pattern grids: one bar of 16ths, values are velocities (0 = silent)
PATTERNS: dict[str, dict[str, str]] = {
    "rock": {"kick": "9000000090900000", "snare": "0000900000009000", "hat": "7050705070507050"},
    "halftime": {
        "kick": "9000000000900000",
        "snare": "0000000090000000",
        "hat": "7070707070707070",
    },
    "funk": {"kick": "9000009000900000", "snare": "0000903000009030", "hat": "7575757575757575"},
    "dnb": {"kick": "9000000000900000", "snare": "0000900300009000", "hat": "7757775777577757"},
    "shuffle": {"kick": "9000009090000000", "snare": "0000900000009000", "hat": "7007700770077007"},
    "march": {"kick": "9000000090000000", "snare": "9033903390339033", "hat": "0000000000000000"},
    "waltz": {"kick": "900000000000", "snare": "000090009000", "hat": "505050505050"},
}


def drum_pattern(ctx: Ctx, style: str, meter: Meter, kick_only: bool = False) -> np.ndarray:
    """A kit playing ``style`` at the meter's tempo with humanised timing, ghost notes and fills."""
    rng = ctx.rng
    beat_s = meter.beat_s
    grid = PATTERNS[style]
    steps = len(grid["kick"])
    step_s = beat_s / 4
    bars = int(np.ceil(ctx.n / ctx.sr / (steps * step_s))) + 1
    parts: dict[str, Hit] = {"kick": kick, "snare": snare, "hat": hat}
    if kick_only:
        parts = {"kick": kick}
    out = ctx.zeros()
    for name, hit in parts.items():
        times: list[float] = []
        vels: list[float] = []
        for bar in range(bars):
            fill = name == "snare" and bar % 4 == 3 and rng.random() < 0.4
            for i, ch in enumerate(grid[name]):
                v = int(ch) / 9
                if fill and i >= steps // 2:
                    v = max(v, rng.uniform(0.3, 0.8))
                if name == "snare" and v == 0 and rng.random() < 0.05:
                    v = rng.uniform(0.1, 0.25)  # ghost note
                if v <= 0:
                    continue
                times.append(max(0.0, (bar * steps + i) * step_s + rng.normal(0, 0.004)))
                vels.append(v * rng.uniform(0.8, 1.05))
        out += place_hits(ctx, hit, times, vels)
    if not kick_only and rng.random() < 0.5:
        crashes = [b * steps * step_s for b in range(0, bars, 4)]
        out += place_hits(ctx, cymbal, crashes, [0.6] * len(crashes), 1)
    return out


def drum_groove(ctx: Ctx) -> np.ndarray:
    """A drum kit groove (rock, funk, shuffle, march, waltz, drum & bass at 160-180 bpm),
    sometimes with a bass line and chords under it."""
    rng = ctx.rng
    style = str(rng.choice(list(PATTERNS)))
    bpm = {"dnb": (160, 180), "halftime": (70, 90), "waltz": (90, 180)}.get(style, (80, 140))
    meter = Meter(3 if style == "waltz" else 4, 60.0 / rng.uniform(*bpm))
    out = drum_pattern(ctx, style, meter)
    if rng.random() < 0.5:
        key = draw_key(rng)
        bars = int(np.ceil(ctx.n / ctx.sr / meter.bar_s)) + 1
        bass, comp = accompaniment(rng, "country", key, progression(rng, key, bars), meter)
        out += render(ctx, make_instrument(rng, "bass_pluck"), bass, key.a4) * F32(0.6)
        if rng.random() < 0.5:
            inst = make_instrument(rng, str(rng.choice(["guitar", "epiano", "pad"])))
            out += render(ctx, inst, comp, key.a4) * F32(0.35)
    return out


def percussion(ctx: Ctx) -> np.ndarray:
    """Hand percussion and isolated hits: congas, claves, woodblocks, shakers, claps, toms,
    on a clave grid or in free time, sometimes single hits separated by silence."""
    rng = ctx.rng
    dur = ctx.n / ctx.sr
    out = ctx.zeros()
    struck: list[Hit] = [conga, block, tom, snare, kick]
    others: list[Hit] = [shaker, clap, conga, block, tom]
    sparse = rng.random() < 0.35
    # At least one struck instrument: its contact transients are the point of this kind.
    chosen = [struck[int(rng.integers(len(struck)))]]
    chosen += [others[int(i)] for i in rng.choice(len(others), int(rng.integers(0, 3)), False)]
    for hit in chosen:
        if sparse:
            count = max(1, rng.poisson(max(dur, 0.1) * rng.uniform(0.5, 2.5)))
            times = np.sort(rng.uniform(0, max(dur, 1e-3), count))
        else:
            step = 60.0 / rng.uniform(80, 130) / int(rng.choice([2, 4]))
            grid = np.arange(0, dur + step, step)
            keep = rng.random(len(grid)) < rng.uniform(0.25, 0.8)
            times = grid[keep] + rng.normal(0, 0.006, int(keep.sum()))
        vels = rng.uniform(0.3, 1.0, len(times))
        out += place_hits(ctx, hit, [max(0.0, float(t)) for t in times], list(vels))
    if out.any():
        return out
    # A very short clip may fall between hits: keep the hit on the first sample.
    return place_hits(ctx, block, [0.0], [1.0], 1)


def timpani_hits(ctx: Ctx, chords: list[int], meter: Meter) -> np.ndarray:
    """Timpani on the downbeats of some bars, with rolls: the orchestra's low transients."""
    rng = ctx.rng
    bar_s = meter.bar_s
    times: list[float] = []
    for bar in range(len(chords)):
        if rng.random() < 0.35:
            if rng.random() < 0.3:
                times += list(bar * bar_s + np.arange(0, bar_s, rng.uniform(0.05, 0.08)))
            else:
                times.append(bar * bar_s)
    vels = list(rng.uniform(0.3, 0.9, len(times)))
    body = place_hits(ctx, lambda c, v: tom(c, v, rng.uniform(60, 130)), times, vels, 2)
    return filt(sos_lowpass(2000, ctx.sr), body)
