"""Tuning freezedetect on val: on a toy set only one setting gets every event and no false one."""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks import freeze_baseline as baseline
from training.baselines import freeze_scoring as scoring
from training.baselines.freezedetect import FreezedetectSetting

FPS = 25.0
NOISE = (-70.0, -50.0, -30.0)
DURATIONS = (0.1, 0.3, 1.0)


def _base(rng: np.random.Generator) -> np.ndarray:
    return rng.integers(30, 220, (40, 56, 3)).astype(np.int16)


def freeze_clip(seed: int) -> tuple[scoring.ClipTruth, np.ndarray]:
    """Moving pictures with 15 near-identical repeats (+-1 on 10% of values: -60 dB)."""
    rng = np.random.default_rng(seed)
    frames = rng.integers(0, 256, (50, 40, 56, 3)).astype(np.int16)
    jitter = (rng.random((15, 40, 56, 3)) < 0.1) * rng.choice([-1, 1], (15, 40, 56, 3))
    frames[20:35] = frames[19] + jitter
    labels = np.zeros(50, np.int8)
    labels[20:35] = 1
    events = [{"start": 20 / FPS, "end": 35 / FPS, "kind": "freeze"}]
    truth = scoring.ClipTruth(f"f{seed}", FPS, labels, events, "freeze", "freeze", severity=2)
    return truth, np.clip(frames, 0, 255).astype(np.uint8)


def noisy_still_clip(seed: int) -> tuple[scoring.ClipTruth, np.ndarray]:
    """A still shot with fresh +-4 sensor noise per frame (about -37 dB apart), and a real
    3-frame still in the middle (two exact repeats, 0.12 s)."""
    rng = np.random.default_rng(seed)
    base = _base(rng)
    frames = np.stack([base + rng.integers(-4, 5, base.shape) for _ in range(50)])
    frames[26:28] = frames[25]
    truth = scoring.ClipTruth(
        f"n{seed}", FPS, np.zeros(50, np.int8), [], "clean", "static_noise", hard_negative=True
    )
    return truth, np.clip(frames, 0, 255).astype(np.uint8)


def test_tuning_picks_the_only_setting_that_gets_everything_right() -> None:
    """-70 dB misses the near-identical repeats, -30 dB takes the noisy still for frozen;
    d = 0.1 s reports the 0.12 s still, d = 1 s misses the 0.6 s freezes: (-50 dB, 0.3 s)."""
    clips = [freeze_clip(seed) for seed in range(3)] + [noisy_still_clip(s) for s in range(3)]
    measured = baseline.measure(clips, NOISE)
    best, grid = baseline.tune(measured, NOISE, DURATIONS)
    assert best == FreezedetectSetting(-50.0, 0.3)
    assert len(grid) == len(NOISE) * len(DURATIONS)
    by_setting = {(g["setting"]["noise_db"], g["setting"]["min_duration_s"]): g for g in grid}
    assert by_setting[(-50.0, 0.3)]["headline"]["event_f1"] == 1.0
    assert by_setting[(-70.0, 0.3)]["headline"]["event_recall"] == 0.0
    assert by_setting[(-30.0, 0.3)]["headline"]["false_events_per_hour_clean"] > 0
    assert by_setting[(-50.0, 0.1)]["headline"]["false_events_per_hour_clean"] > 0
    assert by_setting[(-50.0, 1.0)]["headline"]["event_recall"] == 0.0
    scores = baseline.evaluate(measured, best)
    assert scores["per_group"]["static_noise"]["false_events"] == 0
    assert scores["frames"]["bal_acc"] == 1.0


def test_measured_clips_survive_a_round_trip(tmp_path) -> None:
    measured = baseline.measure([freeze_clip(0), noisy_still_clip(1)], NOISE)
    path = tmp_path / "measured.json"
    baseline.save_measured(path, {"val": measured})
    loaded = baseline.load_measured(path)["val"]
    for a, b in zip(loaded, measured, strict=True):
        assert a.runs == b.runs and np.array_equal(a.truth.labels, b.truth.labels)
        assert (a.truth.name, a.truth.group, a.truth.events) == (b.truth.name, b.truth.group,
                                                                 b.truth.events)  # fmt: skip
    with pytest.raises(FileNotFoundError, match=r"nothing\.json: no measured clips"):
        baseline.load_measured(tmp_path / "nothing.json")


def test_a_setting_whose_noise_was_not_measured_is_refused() -> None:
    measured = baseline.measure([freeze_clip(0)], (-60.0,))
    with pytest.raises(ValueError, match=r"f0: noise -50.0 dB was not measured"):
        baseline.predictions(measured, FreezedetectSetting(-50.0, 0.3))


def test_a_dataset_sample_becomes_a_clip_truth() -> None:
    labels = np.zeros(75, np.int8)
    labels[10:20] = 2
    meta = {
        "label": "stutter", "impairment": "frame_drop", "hard_negative": None, "severity": 3,
        "events": [{"start": 0.4, "end": 0.8, "kind": "stutter"}], "fps": 25.0,
    }  # fmt: skip
    truth = baseline.truth_from_sample(meta, labels, "k1")
    assert (truth.group, truth.label, truth.severity, truth.hard_negative) == (
        "frame_drop", "stutter", 3, False,
    )  # fmt: skip
    clean = {"label": "clean", "impairment": None, "hard_negative": "slide", "fps": 30.0}
    hard = baseline.truth_from_sample(clean, np.zeros(90, np.int8), "k2")
    assert (hard.group, hard.hard_negative, hard.events) == ("slide", True, [])


def test_rendered_clips_are_checked_against_the_built_card(tmp_path) -> None:
    measured = {"test": baseline.measure([freeze_clip(0), noisy_still_clip(1)], (-60.0,))}
    card = tmp_path / "freeze.card.json"
    card.write_text(json.dumps({"splits": {"test": {"per_class": {"freeze": 1, "clean": 1}}}}))
    assert baseline.card_agreement(measured, card)["matches"] is True
    card.write_text(json.dumps({"splits": {"test": {"per_class": {"freeze": 2, "clean": 1}}}}))
    assert baseline.card_agreement(measured, card)["matches"] is False
    assert baseline.card_agreement(measured, tmp_path / "none.json")["matches"] is None
