"""Environmental sound: rain, wind, surf and breath, fire, applause, birds.

Why these: each is the natural twin of a defect. Rain, wind, surf, breath and applause are
broadband noise (hiss); fire and rain on a roof are trains of sharp impulses (clicks). Events
are vectorised as impulse trains through filters: a drop is the impulse response of a resonator,
a clap is an impulse through a one-pole decay times noise, so thousands of events cost a filter
pass rather than thousands of Python iterations.
"""

from __future__ import annotations

import numpy as np

from impairments.sources.procedural._dsp import (
    F32,
    Ctx,
    filt,
    impulses,
    noise,
    one_pole_decay,
    phase_varying,
    poisson_times,
    rise,
    sine,
    smooth_curve,
    sos_bandpass,
    sos_highpass,
    sos_lowpass,
    sos_resonator,
)


def _level(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) + 1e-12 if x.size else 1.0


def _mix_to(x: np.ndarray, ref: np.ndarray, db: float) -> np.ndarray:
    """Scale ``x`` to sit ``db`` relative to ``ref`` (RMS)."""
    return x * F32(_level(ref) / _level(x) * 10 ** (db / 20))


def ambience_rain(ctx: Ctx) -> np.ndarray:
    """Rain (steady broadband wash plus drops on leaves, roofs and puddles) or a stream
    (bubbling resonances): from a light patter of distinct drops to a roar."""
    rng, sr, n = ctx.rng, ctx.sr, ctx.n
    heaviness = rng.uniform(0, 1)
    bed = filt(sos_bandpass(rng.uniform(150, 600), rng.uniform(5000, 16000), sr, 1), noise(rng, n))
    bed = filt(sos_lowpass(rng.uniform(2000, 12000), sr, 1), bed)
    bed *= F32(1) + F32(0.15) * smooth_curve(rng, n, sr, 0.5)
    drops = ctx.zeros()
    rate = 30 * 10 ** (2 * heaviness) * rng.uniform(0.5, 2)
    bubbly = rng.random() < 0.3
    for _ in range(int(rng.integers(3, 7))):
        pos = poisson_times(rng, rate / 5, n, sr)
        amps = F32(np.minimum(rng.pareto(2.5, len(pos)), 5.0) + 0.2) * rng.choice([-1, 1], len(pos))
        train = impulses(n, pos, amps)
        if bubbly:  # bubbles ring at one frequency each (Minnaert)
            drops += filt(sos_resonator(rng.uniform(300, 2500), rng.uniform(40, 150), sr), train)
        else:
            hz = rng.uniform(800, 6000)
            drops += filt(sos_resonator(hz, hz * rng.uniform(0.3, 1.2), sr), train)
    mix = bed * F32(heaviness) + _mix_to(drops, bed, rng.uniform(-6, 6))
    return mix


def ambience_wind(ctx: Ctx) -> np.ndarray:
    """Wind: gusting low-passed noise, sometimes whistling resonances whose strength moves."""
    rng, sr, n = ctx.rng, ctx.sr, ctx.n
    gust = np.exp(F32(rng.uniform(0.5, 1.5)) * smooth_curve(rng, n, sr, rng.uniform(0.2, 1.0)))
    body = filt(sos_lowpass(rng.uniform(300, 1500), sr, 2), noise(rng, n))
    air = filt(sos_bandpass(rng.uniform(500, 2000), rng.uniform(3000, 9000), sr, 1), noise(rng, n))
    bright = (F32(1) + smooth_curve(rng, n, sr, 0.3)) * F32(0.5)
    out = (body + air * bright * F32(rng.uniform(0.1, 0.5))) * gust
    if rng.random() < 0.5:
        for _ in range(int(rng.integers(1, 3))):
            hz = rng.uniform(300, 1800)
            tone = filt(sos_resonator(hz, rng.uniform(15, 60), sr), noise(rng, n))
            swell = np.maximum(smooth_curve(rng, n, sr, 0.4), 0) ** F32(2)
            out += _mix_to(tone, body, rng.uniform(-12, 0)) * swell * gust
    return out


def breath_surf(ctx: Ctx) -> np.ndarray:
    """Breathing, sea surf, steam, a distant highway: noise swelling and ebbing over seconds,
    brighter when louder."""
    rng, sr, n = ctx.rng, ctx.sr, ctx.n
    period = rng.uniform(2.0, 9.0)
    t = np.arange(n, dtype=F32) / F32(sr)
    cycle = np.sin(F32(np.pi / period) * t + F32(rng.uniform(0, np.pi))) ** 2
    cycle = cycle * (F32(0.7) + F32(0.3) * smooth_curve(rng, n, sr, 0.3))
    cycle = cycle ** F32(rng.uniform(0.7, 3.0)) + F32(rng.uniform(0.01, 0.2))
    raw = noise(rng, n)
    dull = filt(sos_lowpass(rng.uniform(300, 1200), sr, 2), raw)
    bright = filt(sos_bandpass(rng.uniform(800, 2000), rng.uniform(4000, 12000), sr, 1), raw)
    return (dull + bright * cycle * F32(rng.uniform(0.3, 1.0))) * cycle


def fire_crackle(ctx: Ctx) -> np.ndarray:
    """Fire: a low roar and hiss under crackles, i.e. clustered sharp impulses of heavy-tailed
    size (0.1-2 ms). Genuinely impulsive on purpose: clicks' closest natural relative."""
    rng, sr, n = ctx.rng, ctx.sr, ctx.n
    roar = filt(sos_lowpass(rng.uniform(150, 500), sr, 2), noise(rng, n))
    roar *= np.exp(F32(0.6) * smooth_curve(rng, n, sr, 2.0))
    hiss = filt(sos_highpass(rng.uniform(1500, 4000), sr, 1), noise(rng, n))
    intensity = np.exp(F32(1.2) * smooth_curve(rng, n, sr, rng.uniform(0.5, 3.0)))
    rate = rng.uniform(5, 60) * intensity
    crackle = ctx.zeros()
    for tau_ms in (0.15, 0.5, 1.5):
        pos = poisson_times(rng, rate / 3, n, sr)
        # cluster: each crackle brings a burst of smaller ones a few ms later
        extra = pos.repeat(2) + rng.integers(1, max(2, sr // 100), 2 * len(pos))
        pos = np.concatenate([pos, extra])
        amps = F32(np.minimum(rng.pareto(1.8, len(pos)), 12.0) + 0.1) * rng.choice(
            [-1, 1], len(pos)
        )
        env = one_pole_decay(impulses(n, pos, np.abs(amps)), tau_ms / 1000, sr)
        crackle += env * noise(rng, n) * F32(1.0 / np.sqrt(tau_ms))
    crackle = filt(sos_highpass(rng.uniform(300, 1000), sr, 1), crackle)
    base = roar + _mix_to(hiss, roar, rng.uniform(-30, -15))
    # Loudest pop 18-32 dB over the bed's RMS: a crest factor like a recorded fire.
    peak = float(np.abs(crackle).max()) if crackle.size else 0.0
    if peak <= 0:
        return base
    return base + crackle * F32(_level(base) * 10 ** (rng.uniform(18, 32) / 20) / peak)


def applause(ctx: Ctx) -> np.ndarray:
    """Applause and crowd clapping: many clappers, each a few claps per second with its own
    hand resonance; sparse (a few people) to dense (a hall), swelling and dying out."""
    rng, sr, n = ctx.rng, ctx.sr, ctx.n
    people = rng.uniform(3, 300)
    swell = np.clip(F32(0.6) + F32(0.5) * smooth_curve(rng, n, sr, 0.3), 0.05, 1.2)
    out = ctx.zeros()
    groups = int(rng.integers(3, 6))
    for _ in range(groups):
        pos = poisson_times(rng, people * rng.uniform(2, 5) / groups * swell, n, sr)
        env = one_pole_decay(impulses(n, pos, rng.uniform(0.3, 1.0, len(pos))), 0.006, sr)
        hz = rng.uniform(700, 2500)
        band = sos_bandpass(hz / rng.uniform(1.5, 3), hz * rng.uniform(1.5, 3), sr, 1)
        out += filt(band, env * noise(rng, n))
    if rng.random() < 0.4:  # cheering crowd: formant-less babble-like noise
        crowd = filt(sos_bandpass(200, 3000, sr, 1), noise(rng, n)) * swell
        out += _mix_to(crowd, out, rng.uniform(-20, -6))
    return out


def birdsong(ctx: Ctx) -> np.ndarray:
    """Birds: phrases of chirps, sweeps and trills (2-8 kHz fundamental, weak harmonics) from
    one or several birds at different distances, over a faint outdoor bed."""
    rng, sr, n = ctx.rng, ctx.sr, ctx.n
    out = ctx.zeros()
    dur = n / sr
    for bird in range(int(rng.integers(1, 4))):
        base = min(rng.uniform(1500, 6000), ctx.f_max * 0.6)
        distance = F32(10 ** (-rng.uniform(0, 18) / 20)) if bird else F32(1.0)
        t = rng.uniform(0, 1.0)
        song = ctx.zeros()
        while t < dur:
            for _ in range(int(rng.integers(2, 12))):
                length = rng.uniform(0.02, 0.25)
                start = round(t * sr)
                count = min(n - start, max(4, round(length * sr)))
                if count <= 0:
                    break
                tt = np.arange(count, dtype=F32) / F32(sr)
                shape = rng.choice(["up", "down", "trill", "flat"])
                span = base * rng.uniform(0.2, 0.8)
                if shape == "trill":
                    freq = base + span * np.sin(F32(2 * np.pi * rng.uniform(15, 60)) * tt)
                else:
                    sign = {"up": 1.0, "down": -1.0, "flat": 0.1}[str(shape)]
                    freq = base + F32(sign * span) * (tt / F32(max(length, 1e-3)) - F32(0.5))
                freq = np.clip(freq, 300, ctx.f_max / 2).astype(F32)
                ph = phase_varying(freq, sr, 0)
                tone = sine(ph) + F32(rng.uniform(0, 0.3)) * sine(ph * np.uint32(2))
                env = rise(count) * rise(count)[::-1]
                song[start : start + count] += tone * env * F32(rng.uniform(0.4, 1.0))
                t += length + rng.uniform(0.01, 0.12)
            t += rng.uniform(0.3, 3.0)
        if bird:
            song = filt(sos_lowpass(rng.uniform(3000, 8000), sr, 1), song)
        out += song * distance
    bed = filt(sos_lowpass(rng.uniform(400, 1500), sr, 1), noise(rng, n))
    return out + _mix_to(bed, out, rng.uniform(-40, -22))
