"""A/V offset impairments: the audio moves as the labels say, in the sign convention (+ = late)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from impairments import registry
from impairments.av import SyncBands, sync_label

SR = 16_000
FPS = 25.0


def noise(seconds: float, seed: int = 0, channels: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shape = (channels, int(seconds * SR)) if channels else (int(seconds * SR),)
    return (0.3 * rng.standard_normal(shape)).astype(np.float32)


def lag_ms(reference: np.ndarray, shifted: np.ndarray, start_s: float, length_s: float) -> float:
    """Delay of ``shifted`` against ``reference`` around a window (positive = shifted is late)."""
    a = int(start_s * SR)
    n = int(length_s * SR)
    window = shifted[a : a + n]
    search = int(0.6 * SR)
    lo = max(0, a - search)
    ref = reference[lo : a + n + search]
    corr = np.correlate(ref, window, mode="valid")  # index i: window aligned to ref[lo + i]
    return (a - (lo + int(np.argmax(corr)))) * 1000.0 / SR


def test_sync_label_bands_follow_frames_not_milliseconds() -> None:
    assert sync_label(40.0, 25.0) == "in_sync"
    assert sync_label(-40.0, 25.0) == "in_sync"
    assert sync_label(80.0, 25.0) == "borderline"
    assert sync_label(120.0, 25.0) == "out_of_sync"
    assert sync_label(-120.0, 25.0) == "out_of_sync"
    assert sync_label(40.0, 50.0) == "borderline"  # two frames at 50 fps
    with pytest.raises(ValueError):
        SyncBands(in_sync_frames=3, out_of_sync_frames=1)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_constant_offset_is_an_exact_shift_with_the_labelled_sign(seed: int) -> None:
    x = noise(2.0, seed)
    out, annotation = registry.get("av_offset", severity=2)(x, sample_rate=SR, fps=FPS, seed=seed)
    offset = annotation.params["offset_ms"]
    shift = int(round(offset * SR / 1000))
    assert 120 <= abs(offset) <= 200
    if shift >= 0:  # audio late: what was said at t - offset is heard at t
        np.testing.assert_array_equal(out[shift:], x[: len(x) - shift])
        assert not out[:shift].any()
    else:
        np.testing.assert_array_equal(out[: len(x) + shift], x[-shift:])
    assert annotation.offsets_ms.shape == (50,)
    assert np.all(annotation.offsets_ms == np.float32(offset))
    assert set(annotation.labels()) == {"out_of_sync"}


@pytest.mark.parametrize("seed", [3, 4])
def test_drift_follows_its_offset_line(seed: int) -> None:
    """Impulses at input time s must come out at t with t - offset(t) = s (a time-scaled signal
    has no stable cross-correlation, so the drift is checked on events instead)."""
    x = np.zeros(4 * SR, dtype=np.float32)
    pulses_s = np.arange(0.5, 3.6, 0.5)
    x[(pulses_s * SR).astype(int)] = 1.0
    imp = registry.get("av_drift", severity=3, rate_ms_per_s=(30.0, 30.0))
    out, annotation = imp(x, sample_rate=SR, fps=FPS, seed=seed)
    p = annotation.params
    assert abs(p["rate_ms_per_s"]) == 30.0
    r = p["rate_ms_per_s"] / 1000.0
    for s in pulses_s:
        expected_t = (s + p["start_ms"] / 1000.0) / (1.0 - r)
        if not 0.05 < expected_t < 3.95:
            continue
        a = int((expected_t - 0.02) * SR)
        found_t = (a + int(np.argmax(np.abs(out[a : a + int(0.04 * SR)])))) / SR
        assert found_t == pytest.approx(expected_t, abs=0.5e-3)
    assert annotation.offsets_ms[0] == pytest.approx(p["start_ms"], abs=1e-3)
    assert abs(annotation.offsets_ms[50] - p["mid_ms"]) < 0.5  # t = 2 s, the middle


def test_step_jumps_once_between_a_settled_and_an_off_side() -> None:
    x = noise(4.0, 9)
    out, annotation = registry.get("av_step", severity=4)(x, sample_rate=SR, fps=FPS, seed=2)
    p = annotation.params
    step = p["step_s"]
    assert lag_ms(x, out, max(0.1, step - 0.6), 0.4) == pytest.approx(p["before_ms"], abs=0.2)
    assert lag_ms(x, out, min(3.4, step + 0.2), 0.4) == pytest.approx(p["after_ms"], abs=0.2)
    sides = sorted([abs(p["before_ms"]), abs(p["after_ms"])])
    assert sides[0] <= 20.0 and 300.0 <= sides[1] <= 400.0
    labels = annotation.labels()
    assert "in_sync" in labels and "out_of_sync" in labels


@pytest.mark.parametrize("name", ["av_offset", "av_drift", "av_step"])
def test_same_seed_same_audio_and_labels_and_shape_kept(name: str) -> None:
    x = noise(2.0, 1, channels=2)
    out_a, ann_a = registry.get(name, severity=3)(x, sample_rate=SR, fps=FPS, seed=7)
    out_b, ann_b = registry.get(name, severity=3)(x, sample_rate=SR, fps=FPS, seed=7)
    assert out_a.shape == x.shape and out_a.dtype == np.float32
    assert out_a.tobytes() == out_b.tobytes()
    assert json.dumps(ann_a.to_json()) == json.dumps(ann_b.to_json())
    assert not np.array_equal(
        out_a, registry.get(name, severity=3)(x, sample_rate=SR, fps=FPS, seed=8)[0]
    )


def test_severity_orders_the_offset_size_and_directions_narrow_the_sign() -> None:
    sizes = []
    for severity in (1, 2, 3, 4, 5):
        imp = registry.get("av_offset", severity=severity, directions=("late",))
        offsets = [
            imp(noise(0.5), sample_rate=SR, fps=FPS, seed=s)[1].params["offset_ms"]
            for s in range(8)
        ]
        assert all(o > 0 for o in offsets)
        sizes.append(np.mean(offsets))
    assert sizes == sorted(sizes)
    early = registry.get("av_offset", directions=("early",))(
        noise(0.5), sample_rate=SR, fps=FPS, seed=0
    )[1]
    assert early.params["offset_ms"] < 0


@pytest.mark.parametrize("fixed", [-200.0, 150.0])
def test_an_offset_the_caller_fixes_is_used_with_its_sign(fixed: float) -> None:
    imp = registry.get("av_offset", offset_ms=fixed)
    for seed in range(6):
        _, annotation = imp(noise(1.0), sample_rate=SR, fps=FPS, seed=seed)
        assert annotation.params["offset_ms"] == fixed


def test_av_impairments_are_listed_apart_from_audio_ones() -> None:
    assert {"av_offset", "av_drift", "av_step"} <= set(registry.names("av"))
    assert not {"av_offset"} & set(registry.names("audio"))
