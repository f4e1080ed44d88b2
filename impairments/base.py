"""The contract of every impairment: draw parameters, record them, apply only what was recorded.

Why two steps: the recorded parameters are the training labels. An impairment that re-drew a value
while applying it would write one thing into the annotation and do another to the media. Drawing
also only ever uses the ``numpy.random.Generator`` handed in (never global state), so the same seed
gives the same media and the same label in any process, in any order.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import numpy as np

Range = tuple[float, float]

SEVERITIES = (1, 2, 3, 4, 5)
T = TypeVar("T")


@dataclass
class Annotation:
    """Ground truth of one impairment application.

    ``params`` holds plain numbers/strings only (JSON-ready); ``intervals`` are ``[start, end)``
    sample indices of the affected span(s); ``positions`` are single sample indices (clicks).
    """

    kind: str
    severity: int
    params: dict[str, Any]
    intervals: list[tuple[int, int]] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        # Built by hand: dataclasses.asdict deep-copies params, a visible cost per sample in builds.
        return {
            "kind": self.kind,
            "severity": int(self.severity),
            "params": dict(self.params),
            "intervals": [[int(a), int(b)] for a, b in self.intervals],
            "positions": [int(p) for p in self.positions],
        }


def as_channels_first(samples: np.ndarray, name: str) -> tuple[np.ndarray, bool]:
    """Validate audio and view it as ``(channels, n)`` float32; also say if the input was 1-D.

    Accepts ``(n,)`` mono or ``(channels, n)``; anything else is a caller bug worth a clear message.
    """
    array = np.asarray(samples)
    if array.ndim not in (1, 2):
        raise ValueError(
            f"{name}: expected audio shaped (n,) or (channels, n), got shape {array.shape}"
        )
    if not np.issubdtype(array.dtype, np.floating):
        raise TypeError(f"{name}: expected float audio in [-1, 1], got dtype {array.dtype}")
    was_mono = array.ndim == 1
    array = array[np.newaxis, :] if was_mono else array
    if array.shape[0] > array.shape[1] and array.shape[1] <= 8:
        raise ValueError(
            f"{name}: audio looks like (n, channels) {array.shape}; pass it as (channels, n)"
        )
    return np.ascontiguousarray(array, dtype=np.float32), was_mono


def restore_layout(samples: np.ndarray, was_mono: bool) -> np.ndarray:
    return samples[0] if was_mono else samples


def rms(samples: np.ndarray) -> float:
    """Root mean square over all channels; 0.0 for empty input."""
    if samples.size == 0:
        return 0.0
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))


def db_to_gain(db: float) -> float:
    return float(10.0 ** (db / 20.0))


def gain_to_db(gain: float, floor_db: float = -120.0) -> float:
    return floor_db if gain <= 0 else max(floor_db, 20.0 * math.log10(gain))


class Impairment:
    """Base class: severity-indexed parameter ranges, validated overrides, seeded draws.

    Subclasses declare ``name`` and ``severity_ranges`` (severity -> {param: (low, high)}) and
    implement :meth:`draw` (uses only ``rng``, returns plain numbers) and :meth:`apply` (uses only
    the drawn params, returns media and annotation details).
    """

    name: ClassVar[str]
    severity_ranges: ClassVar[Mapping[int, Mapping[str, Range]]]
    # Which media the impairment takes; the registry lists audio ones by default.
    media: ClassVar[str] = "audio"

    def __init__(self, severity: int = 3, **overrides: Range | list[float]) -> None:
        if severity not in SEVERITIES:
            raise ValueError(f"{self.name}: severity must be one of {SEVERITIES}, got {severity!r}")
        self.severity = int(severity)
        ranges = {
            key: tuple(map(float, value)) for key, value in self.severity_ranges[severity].items()
        }
        for key, value in overrides.items():
            if key not in ranges:
                raise ValueError(
                    f"{self.name}: unknown range {key!r}; overridable ranges are {sorted(ranges)}"
                )
            low, high = (float(value), float(value)) if np.isscalar(value) else map(float, value)
            if not (math.isfinite(low) and math.isfinite(high)) or low > high:
                raise ValueError(
                    f"{self.name}: range {key}={value!r} must be two finite numbers, low <= high"
                )
            ranges[key] = (low, high)
        self.ranges: dict[str, Range] = ranges  # type: ignore[assignment]

    def subset(self, what: str, given: Sequence[T], allowed: Sequence[T]) -> tuple[T, ...]:
        """Validate a constructor's narrowing of a discrete choice (families, types, mains)."""
        chosen = tuple(given)
        if not chosen or any(value not in allowed for value in chosen):
            raise ValueError(
                f"{self.name}: {what} must be a non-empty subset of {tuple(allowed)}, "
                f"got {chosen!r}"
            )
        return chosen

    @staticmethod
    def pick(rng: np.random.Generator, options: Sequence[T]) -> T:
        return options[int(rng.integers(len(options)))]

    def uniform(self, rng: np.random.Generator, key: str) -> float:
        low, high = self.ranges[key]
        return float(rng.uniform(low, high)) if high > low else float(low)

    def randint(self, rng: np.random.Generator, key: str) -> int:
        low, high = self.ranges[key]
        return int(rng.integers(int(round(low)), int(round(high)) + 1))

    def draw(self, rng: np.random.Generator, n_samples: int, sample_rate: int) -> dict[str, Any]:
        raise NotImplementedError

    def apply(
        self,
        samples: np.ndarray,
        sample_rate: int,
        params: dict[str, Any],
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, Annotation]:
        """Apply drawn ``params`` to ``(channels, n)`` float32 audio.

        ``rng`` is only for noise *waveforms* (whose exact values are not labels); every number that
        describes the impairment must already be in ``params``.
        """
        raise NotImplementedError

    def __call__(
        self, samples: np.ndarray, *, sample_rate: int, seed: int | np.random.Generator
    ) -> tuple[np.ndarray, Annotation]:
        if not isinstance(sample_rate, int | np.integer) or sample_rate <= 0:
            raise ValueError(
                f"{self.name}: sample_rate must be a positive int, got {sample_rate!r}"
            )
        audio, was_mono = as_channels_first(samples, self.name)
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        params = self.draw(rng, audio.shape[1], int(sample_rate))
        out, annotation = self.apply(audio, int(sample_rate), params, rng)
        out = np.nan_to_num(out.astype(np.float32, copy=False), nan=0.0, posinf=1.0, neginf=-1.0)
        return restore_layout(out, was_mono), annotation

    def __repr__(self) -> str:
        return f"{type(self).__name__}(severity={self.severity}, ranges={self.ranges})"
