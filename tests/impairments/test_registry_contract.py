"""The contract every registered impairment keeps; a new impairment is covered by registering it."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import impairments

NAMES = impairments.names()
SR = 32000


def test_the_audio_impairments_are_registered() -> None:
    assert {"clicks", "distortion", "hiss", "hum"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_gives_bitwise_same_output_and_annotation(name: str, make_content) -> None:
    x = make_content(SR)
    impairment = impairments.get(name, severity=3)
    out_a, ann_a = impairment(x, sample_rate=SR, seed=11)
    out_b, ann_b = impairments.get(name, severity=3)(x, sample_rate=SR, seed=11)
    assert out_a.tobytes() == out_b.tobytes()
    assert json.dumps(ann_a.to_json(), sort_keys=True) == json.dumps(
        ann_b.to_json(), sort_keys=True
    )


@pytest.mark.parametrize("name", NAMES)
def test_different_seeds_give_different_outputs(name: str, make_content) -> None:
    x = make_content(SR)
    impairment = impairments.get(name, severity=3)
    outputs = {impairment(x, sample_rate=SR, seed=seed)[0].tobytes() for seed in range(4)}
    assert len(outputs) == 4


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("channels", [0, 2, 6])
def test_shape_and_dtype_are_kept(name: str, channels: int, make_content) -> None:
    x = make_content(SR, channels=channels)
    out, annotation = impairments.get(name, severity=3)(x, sample_rate=SR, seed=1)
    assert out.shape == x.shape
    assert out.dtype == np.float32
    assert np.all(np.isfinite(out))
    assert not np.array_equal(out, x)
    assert annotation.kind == name and annotation.severity == 3


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("severity", [1, 2, 3, 4, 5])
def test_every_severity_changes_the_signal_and_stays_finite(
    name: str, severity: int, make_content
) -> None:
    x = make_content(SR, seed=severity)
    out, annotation = impairments.get(name, severity=severity)(x, sample_rate=SR, seed=severity)
    assert np.all(np.isfinite(out))
    assert not np.array_equal(out, x)
    assert annotation.severity == severity


@pytest.mark.parametrize("name", NAMES)
def test_effect_grows_with_severity(name: str, make_content) -> None:
    """Averaged over draws, the change (impaired - clean, relative to the clean RMS) grows."""
    x = make_content(SR, seed=3)
    clean = float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))

    def mean_change_db(severity: int) -> float:
        impairment = impairments.get(name, severity=severity)
        changes = []
        for seed in range(6):
            diff = impairment(x, sample_rate=SR, seed=seed)[0].astype(np.float64) - x
            changes.append(20 * math.log10(np.sqrt(np.mean(np.square(diff))) / clean))
        return float(np.mean(changes))

    low, middle, high = (mean_change_db(s) for s in (1, 3, 5))
    assert low < middle < high


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("channels", [0, 2])
def test_silence_gives_finite_output(name: str, channels: int) -> None:
    shape = (SR,) if channels == 0 else (channels, SR)
    silence = np.zeros(shape, dtype=np.float32)
    for severity in (1, 5):
        out, annotation = impairments.get(name, severity=severity)(silence, sample_rate=SR, seed=2)
        assert out.shape == shape and out.dtype == np.float32
        assert np.all(np.isfinite(out))
        json.dumps(annotation.to_json())


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("channels", [0, 2])
def test_ten_samples_are_enough(name: str, channels: int, make_content) -> None:
    x = make_content(SR, seconds=10 / SR, channels=channels)
    for seed in range(5):
        out, annotation = impairments.get(name, severity=5)(x, sample_rate=SR, seed=seed)
        assert out.shape == x.shape and np.all(np.isfinite(out))
        for start, end in annotation.intervals:
            assert 0 <= start < end <= 10


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("sample_rate", [8000, 44100, 48000, 96000])
def test_sample_rates(name: str, sample_rate: int, make_content) -> None:
    x = make_content(sample_rate, seconds=0.5)
    for seed in range(3):
        out, annotation = impairments.get(name, severity=4)(x, sample_rate=sample_rate, seed=seed)
        assert out.shape == x.shape and np.all(np.isfinite(out))
        assert not np.array_equal(out, x)
        for start, end in annotation.intervals:
            assert 0 <= start < end <= len(x)


@pytest.mark.parametrize("name", NAMES)
def test_annotation_is_json(name: str, make_content) -> None:
    x = make_content(SR)
    for seed in range(5):
        annotation = impairments.get(name, severity=4)(x, sample_rate=SR, seed=seed)[1]
        data = json.loads(json.dumps(annotation.to_json(), allow_nan=False))
        assert data["kind"] == name
        assert data["params"]


def _first_range(name: str) -> str:
    return sorted(impairments.get(name).ranges)[0]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "bad", [(2.0, 1.0), (float("nan"), 1.0), (0.0, float("inf")), float("nan")], ids=str
)
def test_bad_ranges_raise_naming_the_impairment(name: str, bad) -> None:
    with pytest.raises(ValueError, match=name):
        impairments.get(name, **{_first_range(name): bad})


@pytest.mark.parametrize("name", NAMES)
def test_unknown_range_raises_naming_the_impairment(name: str) -> None:
    with pytest.raises(ValueError, match=name):
        impairments.get(name, no_such_range=(0.0, 1.0))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("severity", [0, 6, -1, 2.5])
def test_bad_severity_raises_naming_the_impairment(name: str, severity) -> None:
    with pytest.raises(ValueError, match=name):
        impairments.get(name, severity=severity)


@pytest.mark.parametrize("name", NAMES)
def test_overridden_range_is_used(name: str, make_content) -> None:
    """Pinning every range to its severity-1 low end changes nothing but still runs the draw."""
    x = make_content(SR)
    pinned = {key: low for key, (low, _) in impairments.get(name, severity=1).ranges.items()}
    impairment = impairments.get(name, severity=5, **pinned)
    assert all(low == high for low, high in impairment.ranges.values())
    out, _ = impairment(x, sample_rate=SR, seed=0)
    assert np.all(np.isfinite(out))


@pytest.mark.parametrize("name", NAMES)
def test_audio_in_the_wrong_layout_is_refused(name: str, make_content) -> None:
    x = make_content(SR, channels=2)
    with pytest.raises(ValueError, match=name):
        impairments.get(name)(x.T, sample_rate=SR, seed=0)
