"""Produced music: overdriven guitar parts and loud, compressed full mixes.

Why: distortion as an instrument sound (an amp's waveshaper between a pick and a speaker cabinet)
and a mastering chain's density (compression, look-ahead limiting) are what commercial music
sounds like. If the clean class lacked them, the detector would learn "dense or saturated means
defect" and flag every rock record.
"""

from __future__ import annotations

import numpy as np

from impairments.sources.procedural._dsp import (
    F32,
    Ctx,
    compress,
    fft_post,
    filt,
    normalise_rms,
    peak_limit,
    room_ir,
    soft_saturate,
    sos_bandpass,
    sos_highpass,
    sos_lowpass,
    sos_resonator,
)
from impairments.sources.procedural.drums import drum_pattern
from impairments.sources.procedural.instruments import make_instrument, render
from impairments.sources.procedural.theory import (
    Key,
    Meter,
    accompaniment,
    bars_for,
    draw_key,
    fold,
    melody,
    progression,
)


def _amp_chain(ctx: Ctx, di: np.ndarray) -> np.ndarray:
    """Guitar amp: mid-hump pre-filter, tanh drive, then a cabinet (the 5 kHz roll-off and the
    low resonance are what make amp distortion sound like an instrument, not like a defect)."""
    rng, sr = ctx.rng, ctx.sr
    pre = filt(sos_highpass(rng.uniform(80, 300), sr, 1), di)
    pre = pre + filt(sos_bandpass(500, 1500, sr, 1), pre) * F32(rng.uniform(0.5, 2.0))
    driven = soft_saturate(normalise_rms(pre, 0.3), rng.uniform(4.0, 40.0))
    cab = filt(sos_lowpass(rng.uniform(3000, 6000), sr, 2), driven)
    cab = filt(sos_highpass(rng.uniform(70, 120), sr, 1), cab)
    return cab + filt(sos_resonator(rng.uniform(90, 130), 40, sr), cab) * F32(rng.uniform(0, 0.5))


def _guitar_part(ctx: Ctx, key: Key, chords: list[int], meter: Meter) -> np.ndarray:
    rng = ctx.rng
    a4 = key.a4
    inst = make_instrument(rng, "guitar")
    notes = []
    low = int(rng.integers(40, 48))
    pattern = rng.choice(["chug", "sustain", "riff"])
    for bar, degree in enumerate(chords):
        root = fold(key.pitch(degree, low), 40, 55)  # guitar power-chord register
        power = [root, root + 7, root + 12]
        t0 = bar * meter.bar_s
        if pattern == "sustain":
            notes += [(t0 + i * 0.012, meter.bar_s * 0.98, p, 0.9) for i, p in enumerate(power)]
        else:
            step = meter.beat_s / 2
            for i in range(meter.beats * 2):
                if pattern == "riff" and rng.random() < 0.3:
                    continue
                gate = rng.uniform(0.3, 0.6) if pattern == "chug" else 0.9
                notes += [
                    (t0 + i * step + j * 0.006, step * gate, p, rng.uniform(0.6, 1.0))
                    for j, p in enumerate(power)
                ]
    return _amp_chain(ctx, render(ctx, inst, notes, a4))


def distorted_guitar_like(ctx: Ctx) -> np.ndarray:
    """Overdriven guitar (power-chord chugs, sustained chords, riffs, a lead line), alone or with
    a rock band: musical distortion that must stay in the clean class."""
    rng = ctx.rng
    key = draw_key(rng)
    meter = Meter(4, 60.0 / rng.uniform(80, 180))
    chords = progression(rng, key, bars_for(ctx, meter))
    out = _guitar_part(ctx, key, chords, meter)
    if rng.random() < 0.4:
        lead = melody(rng, key, chords, meter, int(rng.integers(62, 74)), rng.uniform(0.8, 1.6))
        lead_di = render(ctx, make_instrument(rng, "guitar"), lead, key.a4)
        out = normalise_rms(out) + normalise_rms(_amp_chain(ctx, lead_di)) * F32(0.8)
    if rng.random() < 0.5:
        drums = drum_pattern(ctx.child(), str(rng.choice(["rock", "halftime", "funk"])), meter)
        bass, _ = accompaniment(rng, "country", key, chords, meter)
        band = normalise_rms(drums) + normalise_rms(
            render(ctx, make_instrument(rng, "bass_pluck"), bass, key.a4)
        ) * F32(0.7)
        out = normalise_rms(out) + band * F32(rng.uniform(0.5, 1.0))
    return out


def compressed_master(ctx: Ctx) -> np.ndarray:
    """A full arrangement (drums, bass, chords, lead) through bus compression with a soft knee
    and a smooth look-ahead limiter to a loud, dense master (crest factor 6-10 dB)."""
    rng, sr = ctx.rng, ctx.sr
    key = draw_key(rng)
    style = str(rng.choice(["rock", "funk", "dnb", "halftime", "shuffle"]))
    bpm = {"dnb": (160, 178), "halftime": (70, 95)}.get(style, (90, 140))
    meter = Meter(4, 60.0 / rng.uniform(*bpm))
    chords = progression(rng, key, bars_for(ctx, meter))
    bass, comp = accompaniment(rng, str(rng.choice(["country", "ballad"])), key, chords, meter)
    lead = melody(rng, key, chords, meter, int(rng.integers(62, 74)), rng.uniform(0.6, 1.4))
    stems = [
        drum_pattern(ctx.child(), style, meter),
        render(
            ctx, make_instrument(rng, str(rng.choice(["bass_pluck", "sub_bass"]))), bass, key.a4
        ),
        render(
            ctx,
            make_instrument(rng, str(rng.choice(["pad", "guitar", "epiano", "piano"]))),
            comp,
            key.a4,
        ),
        render(
            ctx, make_instrument(rng, str(rng.choice(["synth_lead", "brass", "sax"]))), lead, key.a4
        ),
    ]
    if rng.random() < 0.4:
        stems.append(_guitar_part(ctx, key, chords, meter))
    levels = rng.uniform(0.5, 1.0, len(stems)) * np.r_[1.2, 1.0, 0.6, 0.7, 0.7][: len(stems)]
    mix = sum(normalise_rms(s) * F32(g) for s, g in zip(stems, levels, strict=True))
    mix = fft_post(
        mix, sr, room_ir(rng, sr, rng.uniform(0.3, 1.2), rng.uniform(0.05, 0.25)), None, 25.0
    )
    mix = normalise_rms(mix, 0.1)
    mix = compress(
        mix,
        sr,
        threshold_db=rng.uniform(-24, -14),
        ratio=rng.uniform(2.5, 6),
        knee_db=rng.uniform(6, 12),
        release_s=rng.uniform(0.05, 0.3),
    )
    loud = normalise_rms(mix, 10 ** (rng.uniform(-9, -6) / 20))
    return peak_limit(loud, sr, ceiling=0.98)
