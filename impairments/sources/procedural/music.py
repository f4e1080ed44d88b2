"""Tonal kinds: a small band in a drawn style, pads, orchestra, solo lines, organ drones, bass
lines and quiet sparse pieces.

Organ drones and bass lines are here on purpose: a steady low tone and its harmonics is what
mains hum looks like, so the clean class must own many of them, near 50/60 Hz included.
"""

from __future__ import annotations

import numpy as np

from impairments.sources.procedural._dsp import F32, Ctx
from impairments.sources.procedural.drums import drum_pattern, timpani_hits
from impairments.sources.procedural.instruments import (
    Instrument,
    Note,
    make_instrument,
    render,
    render_line,
)
from impairments.sources.procedural.theory import (
    Key,
    Meter,
    accompaniment,
    bars_for,
    draw_key,
    fold,
    humanise,
    legato,
    melody,
    progression,
)

STYLES = {
    # style: (beats per bar, bpm range, bass instruments, comp instruments, lead instruments)
    "waltz": (
        3,
        (84, 180),
        ("upright_bass", "piano", "cello"),
        ("piano", "strings", "pizzicato", "reed_organ"),
        ("violin", "flute", "piano", "clarinet"),
    ),
    "ragtime": (
        4,
        (80, 120),
        ("piano", "honky_piano"),
        ("piano", "honky_piano"),
        ("piano", "honky_piano"),
    ),
    "country": (
        4,
        (90, 150),
        ("bass_pluck", "upright_bass"),
        ("guitar", "banjo"),
        ("violin", "harmonica", "guitar"),
    ),
    "ballad": (
        4,
        (56, 90),
        ("bass_pluck", "piano", "sub_bass"),
        ("guitar", "piano", "harp", "epiano"),
        ("flute", "violin", "synth_lead", "clarinet", "epiano"),
    ),
    "walking": (
        4,
        (100, 200),
        ("upright_bass",),
        ("piano", "epiano", "guitar"),
        ("sax", "trumpet", "piano"),
    ),
    "chorale": (
        4,
        (50, 100),
        ("organ", "cello", "pad"),
        ("organ", "strings", "brass", "pad"),
        ("flute", "violin", "trumpet", "organ"),
    ),
}


def _pick(rng: np.random.Generator, names: tuple[str, ...]) -> Instrument:
    return make_instrument(rng, str(rng.choice(names)))


def tonal_music(ctx: Ctx) -> np.ndarray:
    """A small band in one style: bass, accompaniment and a melody, with their own levels."""
    rng = ctx.rng
    style = str(rng.choice(list(STYLES)))
    beats, bpm, bass_i, comp_i, lead_i = STYLES[style]
    swing = rng.uniform(0.08, 0.16) if style in ("walking", "country") else 0.0
    meter = Meter(beats, 60.0 / rng.uniform(*bpm), swing)
    key = draw_key(rng)
    chords = progression(rng, key, bars_for(ctx, meter))
    bass, comp = accompaniment(rng, style, key, chords, meter)
    lead_octave = int(rng.integers(60, 74))
    lead = melody(rng, key, chords, meter, lead_octave, rng.uniform(0.4, 1.6))
    if swing:
        lead = [
            (t + swing * meter.beat_s * ((t / meter.beat_s) % 1 > 0.4), d, p, v)
            for t, d, p, v in lead
        ]
    jitter = rng.uniform(0.002, 0.012)
    out = render(ctx, _pick(rng, bass_i), humanise(rng, bass, jitter), key.a4)
    out += render(ctx, _pick(rng, comp_i), humanise(rng, comp, jitter), key.a4) * F32(
        rng.uniform(0.4, 0.9)
    )
    lead_inst = _pick(rng, lead_i)
    if lead_inst.sustain > 0 and rng.random() < 0.5:
        line = render_line(ctx, lead_inst, legato(lead), key.a4)
    else:
        line = render(ctx, lead_inst, humanise(rng, lead, jitter), key.a4)
    return out + line * F32(rng.uniform(0.6, 1.3))


def chords_pad(ctx: Ctx) -> np.ndarray:
    """Slow sustained chords (pads, strings, organ) with long attacks and overlapping releases;
    sometimes a slow arpeggio on top."""
    rng = ctx.rng
    key = draw_key(rng)
    meter = Meter(4, rng.uniform(1.0, 2.5))
    chords = progression(rng, key, bars_for(ctx, meter))
    inst = _pick(rng, ("pad", "strings", "organ", "pad", "reed_organ", "brass"))
    octave = int(rng.integers(48, 62))
    notes: list[Note] = []
    for bar, degree in enumerate(chords):
        v = rng.uniform(0.5, 0.9)
        pitches = key.chord(degree, octave, 3 + int(rng.random() < 0.5))
        if rng.random() < 0.6:
            pitches.append(key.pitch(degree, octave - 12))
        notes += [(bar * meter.bar_s, meter.bar_s * 1.02, p, v) for p in pitches]
    out = render(ctx, inst, notes, key.a4)
    if rng.random() < 0.4:
        arp = _arpeggio(key, chords, meter, octave + 12)
        harp = _pick(rng, ("harp", "bell", "epiano", "guitar"))
        out += render(ctx, harp, arp, key.a4) * F32(rng.uniform(0.2, 0.6))
    return out


def _arpeggio(key: Key, chords: list[int], meter: Meter, octave: int) -> list[Note]:
    """Chord tones climbing in eighth notes, one chord per bar."""
    step = meter.beat_s / 2
    notes: list[Note] = []
    for i in range(round(len(chords) * meter.bar_s / step)):
        degree = chords[min(int(i * step // meter.bar_s), len(chords) - 1)]
        notes.append((i * step, meter.beat_s, key.pitch(degree + 2 * (i % 4), octave), 0.4))
    return notes


def orchestral_like(ctx: Ctx) -> np.ndarray:
    """Strings chords, a melody in violins/woodwinds/brass, basses an octave down, timpani at
    climaxes, all under a phrase-long dynamic arc (pp to ff): orchestral dynamic range."""
    rng = ctx.rng
    key = draw_key(rng)
    meter = Meter(int(rng.choice([3, 4])), 60.0 / rng.uniform(50, 130))
    chords = progression(rng, key, bars_for(ctx, meter))
    basses, comp = accompaniment(rng, "chorale", key, chords, meter)
    out = render(ctx, make_instrument(rng, "strings"), comp, key.a4)
    out += render(ctx, make_instrument(rng, "cello"), basses, key.a4) * F32(0.8)
    lead = melody(rng, key, chords, meter, int(rng.integers(64, 76)), rng.uniform(0.5, 1.2))
    lead_inst = _pick(rng, ("violin", "flute", "horn", "clarinet", "trumpet"))
    out += render_line(ctx, lead_inst, legato(lead), key.a4) * F32(rng.uniform(0.5, 1.0))
    if rng.random() < 0.3:
        out += render(ctx, make_instrument(rng, "brass"), comp, key.a4) * F32(0.5)
    arc = dynamic_arc(ctx, rng.uniform(-26, -10))
    if rng.random() < 0.6:
        out += timpani_hits(ctx, chords, meter) * arc**2
    return out * arc


def dynamic_arc(ctx: Ctx, depth_db: float) -> np.ndarray:
    """Slow crescendos and diminuendos spanning several seconds."""
    t = np.arange(ctx.n, dtype=F32) / F32(ctx.sr)
    period = ctx.rng.uniform(6, 20)
    phase = ctx.rng.uniform(0, 2 * np.pi)
    shape = F32(0.5) + F32(0.5) * np.sin(F32(2 * np.pi / period) * t + F32(phase))
    return np.power(F32(10.0), F32(depth_db / 20) * (F32(1) - shape)).astype(F32)


def solo_melody(ctx: Ctx) -> np.ndarray:
    """One wind or bowed instrument alone (trumpet, flute, clarinet, violin, sax, whistle):
    expressive loudness, vibrato, slurs and breaths, as in solo recordings."""
    rng = ctx.rng
    key = draw_key(rng)
    meter = Meter(4, 60.0 / rng.uniform(60, 140))
    chords = progression(rng, key, bars_for(ctx, meter))
    name = str(rng.choice(["trumpet", "flute", "clarinet", "violin", "sax", "horn", "whistle"]))
    octave = {"horn": 50, "sax": 56, "clarinet": 56, "whistle": 76}.get(name, 62)
    notes = melody(
        rng, key, chords, meter, octave + int(rng.integers(-2, 6)), rng.uniform(0.5, 1.5)
    )
    inst = make_instrument(rng, name)
    if rng.random() < 0.7:
        return render_line(ctx, inst, legato(notes), key.a4, glide_s=rng.uniform(0.01, 0.06))
    return render(ctx, inst, humanise(rng, notes, 0.01), key.a4)


def organ_drone(ctx: Ctx) -> np.ndarray:
    """A held pedal note (30-110 Hz, often right next to 50/60 Hz) under slow manual chords or
    a bare drone (tanpura, bagpipe, synth): the harmonic series of a low steady tone is exactly
    what hum looks like, which is why it belongs to the clean class."""
    rng = ctx.rng
    key = draw_key(rng)
    pedal_hz = rng.uniform(30, 110) if rng.random() < 0.6 else rng.uniform(47, 63)
    dur = ctx.n / ctx.sr + 1.0
    pedal = make_instrument(rng, str(rng.choice(["organ", "organ", "reed_organ", "sub_bass"])))
    pedal_midi = 69 + 12 * np.log2(pedal_hz / key.a4)
    out = render(ctx, pedal, [(0.0, dur, pedal_midi, 1.0)], key.a4)
    if rng.random() < 0.5:
        out += render(ctx, pedal, [(0.0, dur, pedal_midi + 12, 0.6)], key.a4) * F32(0.6)
    style = rng.random()
    if style < 0.55:
        meter = Meter(4, rng.uniform(0.6, 1.5))
        manual = make_instrument(rng, str(rng.choice(["organ", "reed_organ", "strings", "pad"])))
        chords = progression(rng, key, bars_for(ctx, meter))
        notes = [
            (b * meter.bar_s, meter.bar_s * 1.01, p, rng.uniform(0.4, 0.8))
            for b, d in enumerate(chords)
            for p in key.chord(d, int(rng.integers(52, 64)))
        ]
        out += render(ctx, manual, notes, key.a4) * F32(rng.uniform(0.2, 0.6))
    elif style < 0.8:
        fifth = pedal_midi + 7 + 12 * int(rng.integers(0, 2))
        out += render(ctx, pedal, [(0.0, dur, fifth, 0.5)], key.a4) * F32(rng.uniform(0.2, 0.5))
    if rng.random() < 0.4:  # tremulant
        t = np.arange(ctx.n, dtype=F32) / F32(ctx.sr)
        out *= F32(1) - F32(rng.uniform(0.05, 0.25)) * (
            F32(0.5) + F32(0.5) * np.sin(F32(2 * np.pi * rng.uniform(4.5, 7.0)) * t)
        )
    return out


def bass_line(ctx: Ctx) -> np.ndarray:
    """Bass alone or nearly alone: plucked/upright/synth bass and drum-and-bass sub notes
    (sine-like 35-70 Hz held for beats): the other low-frequency hum look-alike."""
    rng = ctx.rng
    key = draw_key(rng)
    bpm = rng.uniform(70, 180)
    meter = Meter(4, 60.0 / bpm)
    chords = progression(rng, key, bars_for(ctx, meter))
    name = str(rng.choice(["bass_pluck", "upright_bass", "sub_bass", "sub_bass", "organ"]))
    low = int(rng.integers(26, 36))
    notes: list[Note] = []
    for bar, degree in enumerate(chords):
        t0 = bar * meter.bar_s
        if name == "sub_bass":
            cuts = [0.0, 1.5, 2.5] if rng.random() < 0.5 else [0.0]
            for i, c in enumerate(cuts):
                end = cuts[i + 1] if i + 1 < len(cuts) else meter.beats
                notes.append(
                    (
                        t0 + c * meter.beat_s,
                        (end - c) * meter.beat_s * 0.97,
                        fold(key.pitch(degree, low), 24, 43),
                        rng.uniform(0.7, 1.0),
                    )
                )
            continue
        step = float(rng.choice([0.5, 1.0, 1.0, 2.0]))
        for i in range(round(meter.beats / step)):
            deg = degree + int(rng.choice([0, 0, 4, 2, 7, -3, 1]))
            notes.append(
                (
                    t0 + i * step * meter.beat_s,
                    step * meter.beat_s * rng.uniform(0.6, 0.95),
                    fold(key.pitch(deg, low), 26, 47),
                    rng.uniform(0.5, 1.0),
                )
            )
    out = render(ctx, make_instrument(rng, name), humanise(rng, notes, 0.006), key.a4)
    if rng.random() < 0.4:
        style = "dnb" if bpm > 150 else str(rng.choice(["rock", "halftime"]))
        out += drum_pattern(ctx.child(), style, meter, kick_only=True) * F32(rng.uniform(0.3, 0.7))
    return out


def quiet_sparse(ctx: Ctx) -> np.ndarray:
    """A few soft notes with long decays and silence between them (intros, codas, ambient):
    near-silence and wide dynamic range that must not read as a defect or a dropout."""
    rng = ctx.rng
    key = draw_key(rng)
    inst = _pick(rng, ("piano", "bell", "harp", "epiano", "guitar", "flute", "pad"))
    dur = ctx.n / ctx.sr
    count = max(1, rng.poisson(max(dur, 0.1) * rng.uniform(0.3, 1.5)))
    onsets = np.sort(rng.uniform(-0.5, max(dur, 0.01), count))
    notes = [
        (
            float(max(t, 0.0)),
            float(rng.uniform(0.5, 3.0)),
            key.pitch(int(rng.integers(-2, 10)), int(rng.integers(48, 72))),
            float(rng.uniform(0.1, 0.6)),
        )
        for t in onsets
    ]
    return render(ctx, inst, notes, key.a4)
