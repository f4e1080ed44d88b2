"""Music theory for the generators: keys and tunings, meters, progressions, phrase-shaped
melodies and accompaniment patterns (waltz, ragtime stride, country boom-chick, arpeggios,
walking bass, chorale).

Why styles rather than random notes: the detector is judged on real genres, and what makes a
genre is where the energy sits in time (a bass note on one, chords on two and three) and in
frequency. A random-note generator would teach the clean class one texture.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from impairments.sources.procedural._dsp import Ctx
from impairments.sources.procedural.instruments import Note

SCALES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "harmonic_minor": (0, 2, 3, 5, 7, 8, 11),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
}
PROGRESSIONS_MAJOR = ((0, 4, 5, 3), (0, 3, 4, 0), (1, 4, 0, 5), (0, 5, 1, 4), (0, 3, 0, 4))
PROGRESSIONS_MINOR = ((0, 5, 2, 6), (0, 3, 4, 0), (0, 6, 5, 4), (0, 3, 6, 2))


@dataclass(frozen=True)
class Key:
    """Tonic (MIDI pitch class), scale and tuning. Tuning is drawn (A4 = 430-450 Hz) so low notes
    land anywhere around 50/60 Hz, not on a fixed grid a hum detector could memorise."""

    tonic: int
    scale: tuple[int, ...]
    a4: float

    def pitch(self, degree: int, octave_midi: int) -> int:
        octave, idx = divmod(degree, len(self.scale))
        return octave_midi + self.tonic + 12 * octave + self.scale[idx]

    def chord(self, degree: int, octave_midi: int, size: int = 3) -> list[int]:
        return [self.pitch(degree + 2 * i, octave_midi) for i in range(size)]


@dataclass(frozen=True)
class Meter:
    beats: int
    beat_s: float
    swing: float = 0.0  # delay of off-beat eighths, in beats

    @property
    def bar_s(self) -> float:
        return self.beats * self.beat_s


def fold(pitch: int, low: int, high: int) -> int:
    """Move a pitch by octaves into [low, high]: a bass line stays in the bass register."""
    while pitch > high:
        pitch -= 12
    while pitch < low:
        pitch += 12
    return pitch


def draw_key(rng: np.random.Generator, minor: bool | None = None) -> Key:
    if minor is None:
        minor = bool(rng.random() < 0.4)
    names = ("minor", "harmonic_minor", "dorian") if minor else ("major", "major", "mixolydian")
    return Key(int(rng.integers(12)), SCALES[str(rng.choice(names))], float(rng.uniform(430, 450)))


def progression(rng: np.random.Generator, key: Key, bars: int) -> list[int]:
    minor = key.scale[2] == 3
    pool = PROGRESSIONS_MINOR if minor else PROGRESSIONS_MAJOR
    base = pool[int(rng.integers(len(pool)))]
    per = int(rng.choice([1, 1, 2]))
    return [base[(b // per) % len(base)] for b in range(bars)]


def humanise(rng: np.random.Generator, notes: list[Note], jitter_s: float) -> list[Note]:
    """Players are late and early by milliseconds and never hit two notes equally hard."""
    if not notes:
        return notes
    arr = np.array(notes, dtype=np.float64)
    arr[:, 0] = np.maximum(0.0, arr[:, 0] + rng.normal(0, jitter_s, len(arr)))
    arr[:, 3] = np.clip(arr[:, 3] * rng.uniform(0.8, 1.1, len(arr)), 0.05, 1.0)
    return [(float(a), float(b), float(c), float(d)) for a, b, c, d in arr]


def melody(
    rng: np.random.Generator,
    key: Key,
    chords: list[int],
    meter: Meter,
    octave_midi: int,
    density: float,
    legato: bool = False,
) -> list[Note]:
    """Phrase-structured melody: a random walk on scale degrees that prefers steps, lands on
    chord tones on strong beats and breathes (rests) at phrase ends."""
    notes: list[Note] = []
    degree = int(rng.integers(0, 5))
    cells = ((1.0,), (0.5, 0.5), (0.75, 0.25), (0.25,) * 4, (1.5, 0.5), (2.0,), (0.5, 0.25, 0.25))
    weights = np.array([3, 3 * density, 1, 2 * density**2, 1, 1.5 / density, density], float)
    weights /= weights.sum()
    # Positions are counted in beats: every cell is a multiple of a quarter beat, so they are
    # exact in binary floating point and a bar line is never missed by a rounding error.
    pos = 0.0
    total = len(chords) * meter.beats
    phrase_bars = int(rng.choice([2, 4]))
    loud = rng.uniform(0.5, 0.9)
    while pos < total:
        bar = int(pos // meter.beats)
        if bar % phrase_bars == phrase_bars - 1 and pos - bar * meter.beats >= 2:
            pos = float((bar + 1) * meter.beats)  # phrase-end breath
            loud = float(np.clip(loud + rng.normal(0, 0.15), 0.35, 1.0))
            continue
        cell = cells[int(rng.choice(len(cells), p=weights))]
        for length in cell:
            if pos == int(pos) and rng.random() < 0.6:  # on the beat: land on a chord tone
                chord_root = chords[min(bar, len(chords) - 1)]
                target = chord_root + 2 * int(rng.integers(0, 3))
                degree = target + 7 * round((degree - target) / 7)
            else:
                degree += int(rng.choice([-2, -1, -1, 1, 1, 2, 0, 3, -3, 4, -4]))
            degree = int(np.clip(degree, -3, 11))
            if rng.random() > 0.08 or legato:
                gate = 1.0 if legato else rng.uniform(0.6, 0.95)
                vel = loud * rng.uniform(0.8, 1.0)
                onset = pos * meter.beat_s
                notes.append(
                    (onset, length * meter.beat_s * gate, key.pitch(degree, octave_midi), vel)
                )
            pos += length
    return notes


def _strum(onset: float, dur: float, pitches: list[int], vel: float, spread: float) -> list[Note]:
    return [
        (onset + i * spread, dur, p, vel * (0.85 + 0.15 * (i == 0))) for i, p in enumerate(pitches)
    ]


def accompaniment(
    rng: np.random.Generator, style: str, key: Key, chords: list[int], meter: Meter
) -> tuple[list[Note], list[Note]]:
    """(bass notes, chord notes) for one accompaniment style."""
    bass: list[Note] = []
    comp: list[Note] = []
    b = meter.beat_s
    low, mid = int(rng.integers(28, 40)), int(rng.integers(48, 60))
    for bar, degree in enumerate(chords):
        t0 = bar * meter.bar_s
        root = fold(key.pitch(degree, low), 28, 50)
        fifth = fold(key.pitch(degree + 4, low), 28, 52)
        triad = key.chord(degree, mid, 3 + int(rng.random() < 0.3))
        v = rng.uniform(0.45, 0.75)
        if style == "waltz":
            bass.append((t0, b * 0.9, root, v))
            for beat in range(1, meter.beats):
                comp += _strum(t0 + beat * b, b * 0.55, triad, v * 0.7, 0.0)
        elif style == "ragtime":
            for beat in range(meter.beats):
                if beat % 2 == 0:
                    pitch = root if (beat // 2) % 2 == 0 else fifth
                    bass += [
                        (t0 + beat * b, b * 0.8, pitch, v),
                        (t0 + beat * b, b * 0.8, pitch + 12, v * 0.6),
                    ]
                else:
                    comp += _strum(t0 + beat * b, b * 0.5, triad, v * 0.75, 0.0)
        elif style == "country":
            for beat in range(meter.beats):
                if beat % 2 == 0:
                    bass.append((t0 + beat * b, b * 0.9, root if beat % 4 == 0 else fifth, v))
                else:
                    comp += _strum(t0 + beat * b, b * 0.6, triad, v * 0.8, rng.uniform(0.008, 0.02))
        elif style == "ballad":
            bass.append((t0, meter.bar_s * 0.95, root, v * 0.8))
            step = b / int(rng.choice([2, 2, 4]))
            order = [0, 1, 2, 1, 2, 3 % len(triad), 2, 1]
            for i in range(round(meter.bar_s / step)):
                comp.append((t0 + i * step, step * 2.5, triad[order[i % 8] % len(triad)], v * 0.6))
        elif style == "walking":
            for beat in range(meter.beats):
                pitch = fold(key.pitch(degree + int(rng.choice([0, 1, 2, 4, -1, 3])), low), 28, 52)
                bass.append((t0 + beat * b, b * 0.85, pitch, v))
            for beat in (0, 1.5, 2.5):
                if beat < meter.beats and rng.random() < 0.7:
                    comp += _strum(t0 + beat * b, b * 0.4, triad, v * 0.6, 0.0)
        else:  # chorale / block chords
            bass.append((t0, meter.bar_s * 0.98, root, v))
            comp += _strum(t0, meter.bar_s * 0.98, triad, v * 0.7, 0.0)
    return bass, comp


def bars_for(ctx: Ctx, meter: Meter) -> int:
    return max(1, int(np.ceil(ctx.n / ctx.sr / meter.bar_s)) + 1)


def legato(notes: list[Note]) -> list[Note]:
    """Stretch each note to the next onset when the gap is small (slurred phrasing)."""
    out: list[Note] = []
    for i, (t, d, p, v) in enumerate(notes):
        nxt = notes[i + 1][0] if i + 1 < len(notes) else t + d
        out.append((t, nxt - t if 0 <= nxt - t - d < 0.25 else d, p, v))
    return out
