"""Instruments and note rendering: additive wavetables, FM, brightness that decays or follows
loudness, vibrato, ensembles of detuned voices.

Why wavetables rather than per-harmonic sines or a Karplus-Strong loop: a table look-up costs the
same for 2 or 40 harmonics, and a crossfade between a bright and a dull table of the same
instrument reproduces what makes a pluck sound plucked (the highs die first) at O(n).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from impairments.sources.procedural._dsp import (
    F32,
    PHASE_ONE,
    Ctx,
    Spectrum,
    filt,
    harmonics,
    lookup,
    noise,
    note_envelope,
    one_pole_decay,
    phase_steady,
    phase_varying,
    sine,
    sos_bandpass,
    spectrum,
)

Note = tuple[float, float, float, float]  # onset_s, duration_s, midi pitch, velocity 0..1


def midi_hz(midi: float | np.ndarray, a4: float) -> float | np.ndarray:
    """Equal-tempered frequency; float32 arrays stay float32 (pitch contours are long)."""
    if isinstance(midi, np.ndarray) and midi.dtype == F32:
        return F32(a4) * np.exp((midi - F32(69)) * F32(np.log(2) / 12))
    return a4 * 2.0 ** ((np.asarray(midi, dtype=np.float64) - 69.0) / 12.0)


@dataclass(frozen=True)
class Instrument:
    """How one instrument turns a note into sound. ``dull`` is the table the tone fades to."""

    name: str
    bright: Spectrum
    dull: Spectrum | None
    attack_s: float
    decay_s: float
    sustain: float
    release_s: float
    bright_tau_s: float = 0.0  # > 0: brightness decays (plucks, pianos)
    follow_env: bool = False  # brightness follows loudness (brass, bowed strings)
    vibrato_cents: float = 0.0
    vibrato_hz: float = 5.5
    voices: int = 1
    detune_cents: float = 0.0
    pitch_decay: bool = False  # low notes ring longer (strings, pianos)
    breath: float = 0.0  # share of band-passed noise (flutes)
    fm: tuple[float, float, float] | None = None  # ratio, index, index decay s


def _pluck_amps(rng: np.random.Generator, k: np.ndarray, tilt: float) -> np.ndarray:
    """Plucked/struck string: harmonics at the pluck point vanish (the comb a real string has)."""
    pos = rng.uniform(0.08, 0.3)
    return np.abs(np.sin(np.pi * k * pos)) / k**tilt + 1e-3 / k**2


def make_instrument(rng: np.random.Generator, name: str) -> Instrument:
    """Draw one instrument of a family, with its own timbre (harmonic recipe) and envelopes."""
    k = harmonics(48)
    u = rng.uniform
    if name in ("piano", "honky_piano"):
        bright = spectrum(rng, _pluck_amps(rng, k, u(0.8, 1.3)) * np.exp(-k / u(8, 20)))
        dull = spectrum(rng, 1 / k ** u(2.5, 3.5))
        voices = 2 if name == "honky_piano" else 1
        return Instrument(
            name,
            bright,
            dull,
            u(0.002, 0.005),
            u(0.6, 2.0),
            0.0,
            u(0.08, 0.2),
            bright_tau_s=u(0.08, 0.4),
            pitch_decay=True,
            voices=voices,
            detune_cents=u(6, 18) if voices > 1 else 0.0,
        )
    if name in ("guitar", "harp", "pizzicato", "banjo"):
        decay = {"guitar": (0.5, 2.0), "harp": (1.0, 3.0), "pizzicato": (0.12, 0.35)}
        lo, hi = decay.get(name, (0.15, 0.5))
        bright = spectrum(rng, _pluck_amps(rng, k, u(0.7, 1.2)) * np.exp(-k / u(10, 30)))
        dull = spectrum(rng, 1 / k ** u(2.5, 4.0))
        return Instrument(
            name,
            bright,
            dull,
            u(0.0015, 0.004),
            u(lo, hi),
            0.0,
            u(0.04, 0.12),
            bright_tau_s=u(0.05, 0.3),
            pitch_decay=True,
        )
    if name in ("bass_pluck", "upright_bass"):
        bright = spectrum(rng, _pluck_amps(rng, k, u(1.0, 1.6)) * np.exp(-k / u(5, 14)))
        dull = spectrum(rng, 1 / k ** u(3.0, 4.5))
        return Instrument(
            name,
            bright,
            dull,
            u(0.003, 0.008),
            u(0.4, 1.5),
            u(0.0, 0.2),
            u(0.05, 0.12),
            bright_tau_s=u(0.05, 0.25),
        )
    if name == "sub_bass":
        bright = spectrum(rng, np.r_[1.0, u(0.0, 0.25), u(0.0, 0.08)])
        return Instrument(name, bright, None, u(0.005, 0.03), 2.0, u(0.6, 1.0), u(0.05, 0.2))
    if name in ("organ", "reed_organ"):
        amps = np.zeros(16)
        for h in (1, 2, 3, 4, 6, 8, 10, 12, 16):
            amps[h - 1] = u(0.0, 1.0) ** 1.5 / h**0.3
        amps[0] = max(amps[0], 0.6)
        if name == "reed_organ":
            amps = amps + np.where(np.arange(16) % 2 == 0, 0.5, 0.15) / np.arange(1, 17) ** 0.9
        return Instrument(
            name,
            spectrum(rng, amps),
            None,
            u(0.01, 0.05),
            5.0,
            1.0,
            u(0.03, 0.09),
            vibrato_cents=u(0, 8),
            vibrato_hz=u(5.0, 7.0),
        )
    if name in ("strings", "violin", "cello"):
        body = 1 + 2.5 * np.exp(-0.5 * ((k * 1.0 - u(2, 6)) / u(1, 3)) ** 2)
        bright = spectrum(rng, body / k ** u(0.9, 1.3) * np.exp(-k / u(15, 40)))
        dull = spectrum(rng, 1 / k ** u(1.8, 2.6))
        ensemble = name == "strings"
        return Instrument(
            name,
            bright,
            dull,
            u(0.05, 0.3),
            3.0,
            u(0.8, 1.0),
            u(0.12, 0.4),
            follow_env=True,
            vibrato_cents=u(8, 25),
            vibrato_hz=u(4.8, 6.5),
            voices=3 if ensemble else 1,
            detune_cents=u(4, 12) if ensemble else 0.0,
        )
    if name in ("brass", "trumpet", "horn"):
        bright = spectrum(rng, 1 / k ** u(0.5, 0.9) * np.exp(-k / u(12, 30)))
        dull = spectrum(rng, 1 / k ** u(2.2, 3.0))
        return Instrument(
            name,
            bright,
            dull,
            u(0.02, 0.06),
            1.5,
            u(0.75, 0.95),
            u(0.05, 0.15),
            follow_env=True,
            vibrato_cents=u(0, 15),
            vibrato_hz=u(5.0, 6.5),
        )
    if name in ("flute", "whistle"):
        amps = np.r_[1.0, u(0.1, 0.5), u(0.02, 0.2), u(0.01, 0.08), u(0.0, 0.03)]
        return Instrument(
            name,
            spectrum(rng, amps),
            None,
            u(0.04, 0.1),
            2.0,
            u(0.85, 1.0),
            u(0.05, 0.12),
            vibrato_cents=u(5, 20),
            vibrato_hz=u(4.5, 5.8),
            breath=u(0.005, 0.03),
        )
    if name in ("clarinet", "harmonica", "sax"):
        odd = np.where(k % 2 == 1, 1.0, u(0.05, 0.4) if name != "clarinet" else 0.05)
        bright = spectrum(rng, odd / k ** u(0.7, 1.1) * np.exp(-k / u(10, 25)))
        dull = spectrum(rng, odd / k ** u(1.8, 2.5))
        return Instrument(
            name,
            bright,
            dull,
            u(0.02, 0.06),
            2.0,
            u(0.8, 1.0),
            u(0.05, 0.12),
            follow_env=True,
            vibrato_cents=u(0, 12),
            vibrato_hz=u(4.5, 6.0),
            breath=u(0, 0.03),
        )
    if name in ("pad", "synth_lead"):
        bright = spectrum(rng, 1 / k ** u(0.9, 1.2) * np.exp(-k / u(6, 30)))
        pad = name == "pad"
        return Instrument(
            name,
            bright,
            spectrum(rng, 1 / k**3),
            u(0.3, 1.5) if pad else u(0.005, 0.03),
            3.0,
            u(0.7, 1.0),
            u(0.4, 1.5) if pad else u(0.05, 0.2),
            follow_env=True,
            voices=3 if pad else 2,
            detune_cents=u(5, 15),
            vibrato_cents=u(0, 10),
        )
    if name in ("epiano", "bell", "marimba"):
        ratio = {"epiano": 1.0, "bell": float(rng.choice([1.4, 2.0, 3.5])), "marimba": 4.0}[name]
        decay = {"epiano": u(0.8, 2.0), "bell": u(1.5, 4.0), "marimba": u(0.2, 0.6)}[name]
        index = {"epiano": u(0.8, 2.5), "bell": u(1.5, 4.0), "marimba": u(0.3, 1.0)}[name]
        return Instrument(
            name,
            spectrum(rng, [1.0]),
            None,
            u(0.002, 0.005),
            decay,
            0.0,
            u(0.05, 0.2),
            pitch_decay=True,
            fm=(ratio, index, u(0.05, 0.5)),
        )
    raise ValueError(f"unknown instrument {name!r}")


def _vibrato_ratio(
    rng: np.random.Generator, length: int, sr: int, cents: float, rate: float
) -> np.ndarray:
    """Frequency ratio of a vibrato that fades in after the attack, as players do.

    2**(c/1200) ~ 1 + c*ln2/1200 within 0.2 cent for c < 30, and the LFO is a table look-up:
    this runs for every sustained note, so it avoids transcendental functions.
    """
    depth_in = np.clip((np.arange(length, dtype=F32) - F32(0.12 * sr)) * F32(1 / (0.35 * sr)), 0, 1)
    lfo = sine(phase_steady(length, rate, sr, int(rng.integers(1 << 32))))
    return F32(1) + (F32(cents * np.log(2) / 1200) * depth_in) * lfo


def _fm_voice(ctx: Ctx, inst: Instrument, f0: float, length: int, start: int) -> np.ndarray:
    ratio, index, index_tau = inst.fm or (1.0, 0.0, 1.0)
    fm = f0 * ratio
    index = float(np.clip(index, 0.0, max(0.0, (ctx.f_max - f0) / fm - 1.5)))
    t = np.arange(length, dtype=F32) / F32(ctx.sr)
    mod = sine(phase_steady(length, fm, ctx.sr, start * 7)) * (
        F32(index) * (F32(0.25) + F32(0.75) * np.exp(-t / F32(index_tau)))
    )
    offset = (mod * F32(PHASE_ONE / (2 * np.pi))).astype(np.int64).astype(np.uint32)
    return sine(phase_steady(length, f0, ctx.sr, start) + offset)


def render_note(
    ctx: Ctx, inst: Instrument, f0: float, dur_s: float, vel: float, visible: int | None = None
) -> np.ndarray:
    """One note, including its release, as a float32 array (not yet placed in time); only its
    first ``visible`` samples when the clip ends before the note does."""
    sr = ctx.sr
    decay = inst.decay_s * (261.6 / f0) ** 0.5 if inst.pitch_decay else inst.decay_s
    full = max(4, round((dur_s + inst.release_s) * sr))
    if inst.sustain == 0.0:
        # Percussive notes end when their decay has (-60 dB): the rest is silence, not work.
        alive = max(4, round(min(full / sr, decay * 7.0) * sr))
        if alive < full:
            fade = min(alive // 2, max(2, round(0.02 * sr)))
            full, release_s = alive, fade / sr
        else:
            release_s = inst.release_s
    else:
        release_s = inst.release_s
    length = full if visible is None else max(1, min(full, visible))
    env = note_envelope(full, sr, inst.attack_s, decay, inst.sustain, release_s, length)
    start = int(ctx.rng.integers(1 << 32))
    if inst.fm is not None:
        return _fm_voice(ctx, inst, f0, length, start) * env * F32(vel)
    if inst.vibrato_cents > 0:
        ratio = _vibrato_ratio(ctx.rng, length, sr, inst.vibrato_cents, inst.vibrato_hz)
        phase = phase_varying(ratio * F32(f0), sr, start)
    else:
        phase = phase_steady(length, f0, sr, start)
    if inst.dull is not None and inst.bright_tau_s <= 0 and inst.sustain >= 0.5:
        # Sustained notes hold one brightness: blend the two tables once instead of two
        # look-ups per sample (the attack loses a little brightening; chords do not notice).
        level = round(min(1.0, vel * inst.sustain) ** 1.5 * 8) / 8
        wave = lookup(_blended(ctx, inst.bright, inst.dull, f0, level), phase)
    elif inst.dull is not None:
        wave = lookup(inst.bright.table(ctx, f0), phase)
        dull = lookup(inst.dull.table(ctx, f0), phase)
        if inst.bright_tau_s > 0:
            t = np.arange(length, dtype=F32) * F32(-1 / (inst.bright_tau_s * sr))
            mix = np.exp(t) * F32(0.85) + F32(0.15 * vel)
        else:
            loud = env * F32(vel)
            mix = loud * np.sqrt(loud)
        wave = dull + mix * (wave - dull)
    else:
        wave = lookup(inst.bright.table(ctx, f0), phase)
    if inst.breath > 0:
        wave = wave + _breath(ctx, inst, f0, length)
    return wave * (env * F32(vel))


def _blended(ctx: Ctx, bright: Spectrum, dull: Spectrum, f0: float, level: float) -> np.ndarray:
    key = ("blend", bright.key, dull.key, bright.harmonics(ctx, f0), round(level * 8))
    table = ctx.tables.get(key)
    if table is None:
        bright_t, dull_t = bright.table(ctx, f0), dull.table(ctx, f0)
        table = (dull_t + F32(level) * (bright_t - dull_t)).astype(F32)
        ctx.tables[key] = table
    return table


def _breath(ctx: Ctx, inst: Instrument, f0: float, length: int) -> np.ndarray:
    """Air noise of a wind player, around and above the tone, 20-40 dB under it (more would
    be hiss, which is a defect class)."""
    band = sos_bandpass(f0, min(f0 * 4, 5000.0, ctx.f_max), ctx.sr, 3)
    return filt(band, noise(ctx.rng, length)) * F32(inst.breath)


def chorus(ctx: Ctx, x: np.ndarray, voices: int, detune_cents: float) -> np.ndarray:
    """An ensemble (string section, doubled piano strings, detuned pad) as slowly modulated
    delays of the whole part: the beating of several players at O(n) per extra voice instead
    of re-synthesising every note once per player."""
    if voices <= 1 or x.size == 0:
        return x
    sr, n = ctx.sr, len(x)
    out = x.copy()
    pad = round(0.05 * sr)
    padded = np.concatenate([np.zeros(pad + 2, F32), x])
    idx = np.arange(n, dtype=F32) + F32(pad + 2)
    for _ in range(voices - 1):
        rate = ctx.rng.uniform(0.15, 0.6)
        # depth (s) so that the pitch swing 2*pi*rate*depth reaches ~detune_cents
        depth = min(0.012, detune_cents * np.log(2) / 1200 / (2 * np.pi * rate)) * sr
        base = ctx.rng.uniform(0.012, 0.03) * sr
        lfo = sine(phase_steady(n, rate, sr, int(ctx.rng.integers(1 << 32))))
        pos = idx - (F32(base) + F32(depth) * lfo)
        i0 = pos.astype(np.int32)
        frac = pos - i0
        out += padded[i0] + frac * (padded[i0 + 1] - padded[i0])
    return out * F32(1 / np.sqrt(voices))


def render(ctx: Ctx, inst: Instrument, notes: Iterable[Note], a4: float) -> np.ndarray:
    """Place rendered notes on the timeline; notes above the usable band are skipped."""
    buf = ctx.zeros()
    for onset, dur, midi, vel in notes:
        start = round(onset * ctx.sr)
        f0 = float(midi_hz(midi, a4))
        if start >= ctx.n or f0 >= ctx.f_max or f0 < 15.0:
            continue
        note = render_note(ctx, inst, f0, dur, vel, visible=ctx.n - start)
        if start < 0:
            note = note[-start:]
            start = 0
        end = min(ctx.n, start + len(note))
        buf[start:end] += note[: end - start]
    return chorus(ctx, buf, inst.voices, inst.detune_cents)


def render_line(
    ctx: Ctx,
    inst: Instrument,
    notes: list[Note],
    a4: float,
    glide_s: float = 0.03,
) -> np.ndarray:
    """A monophonic, legato line (solo horn, fiddle, voice): one continuous oscillator whose
    pitch glides between notes and whose loudness only returns to zero at rests.

    Touching notes (next onset == this onset + duration) are slurred: no new attack, which is how
    wind players and singers phrase and what a per-note renderer cannot do.
    """
    sr, n = ctx.sr, ctx.n
    if n == 0 or not notes:
        return ctx.zeros()
    starts = np.clip(np.round(np.array([nt[0] for nt in notes]) * sr).astype(np.int64), 0, n)
    starts[0] = 0
    seg = np.diff(np.r_[starts, n])
    pitch = np.repeat(np.array([nt[2] for nt in notes], dtype=F32), seg)
    since = (np.arange(n) - np.repeat(starts, seg)).astype(F32) / F32(sr)
    amp = np.zeros(n, dtype=F32)
    phrase: list[Note] = []
    for i, note in enumerate(notes):
        phrase.append(note)
        nxt = notes[i + 1] if i + 1 < len(notes) else None
        if nxt is None or nxt[0] > note[0] + note[1] + 1e-6:
            _phrase_envelope(amp, phrase, inst, sr)
            phrase = []
    pitch = one_pole_decay(pitch - pitch[0], glide_s / 3, sr) + pitch[0]
    depth = F32(inst.vibrato_cents) * np.clip((since - F32(0.15)) / F32(0.3), 0, 1)
    t = np.arange(n, dtype=F32) / F32(sr)
    vib = depth * np.sin(F32(2 * np.pi * inst.vibrato_hz) * t + F32(ctx.rng.uniform(0, 6.3)))
    freq = midi_hz(pitch + vib / F32(100), a4).astype(F32)
    phase = phase_varying(freq, sr, int(ctx.rng.integers(1 << 32)))
    f_top = float(midi_hz(max(nt[2] for nt in notes) + 1, a4))
    wave = lookup(inst.bright.table(ctx, f_top), phase)
    if inst.dull is not None:
        dull = lookup(inst.dull.table(ctx, f_top), phase)
        wave = dull + np.clip(amp, 0, 1) ** F32(1.5) * (wave - dull)
    if inst.breath > 0:
        wave = wave + _breath(ctx, inst, float(np.median(freq)), n)
    return wave * amp


def _phrase_envelope(amp: np.ndarray, phrase: list[Note], inst: Instrument, sr: int) -> None:
    """Slurred notes share one envelope; each note's velocity shapes the loudness smoothly."""
    n = len(amp)
    s = round(phrase[0][0] * sr)
    e = round((phrase[-1][0] + phrase[-1][1] + inst.release_s) * sr)
    if s >= n:
        return
    length = max(e - s, 4)
    shown = min(length, n - s)
    env = note_envelope(
        length, sr, inst.attack_s, inst.decay_s, inst.sustain, inst.release_s, shown
    )
    marks = np.clip(
        np.round(np.array([nt[0] for nt in phrase]) * sr).astype(np.int64) - s, 0, shown
    )
    marks[0] = 0
    loud = np.repeat(np.array([nt[3] for nt in phrase], dtype=F32), np.diff(np.r_[marks, shown]))
    loud = one_pole_decay(loud - loud[0], 0.04, sr) + loud[0]
    amp[s : s + shown] = np.maximum(amp[s : s + shown], env * loud)
