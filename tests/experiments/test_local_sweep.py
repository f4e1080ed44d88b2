"""The local W&B engine loop: trials run, crashes are recorded and the sweep goes on, hyperband
stops a trial that falls behind, and the results files are written.

Trials here run ``fake_train.py`` (same command line and files as train.py, stdlib only) so the
loop is tested in seconds; ``test_real_local_sweep`` runs the real train.py (slow)."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest
import yaml

from experiments import import_engine
from experiments.local_sweep import hyperband_stopper, run_local_sweep
from experiments.spec import load_spec
from experiments.trial import run_trial

from .conftest import FAKE_TRAIN, REPO, spec_dict


def read_rows(out_dir: Path) -> list[dict[str, str]]:
    with (out_dir / "runs.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_crashed_trial_is_recorded_and_the_sweep_goes_on(write_spec, tmp_path: Path) -> None:
    params = {
        "crash": {"values": [True, False]},
        "quality": {"values": [0.8]},
        "export": {"value": False},  # a trial setting: not in best.yaml
        "detector": {"value": "audio_artifact"},  # a group choice: an override in best.yaml
    }
    spec = load_spec(write_spec("crashy", spec_dict(params, method="grid")))
    lines: list[str] = []
    out_dir = run_local_sweep(
        spec,
        2,
        tmp_path / "results",
        tmp_path / "runs",
        program=FAKE_TRAIN,
        poll_s=0.05,
        echo=lines.append,
    )
    rows = read_rows(out_dir)
    assert [r["status"] for r in rows] == ["failed", "finished"]
    assert "boom" in rows[0]["error"] and rows[0]["crash"] == "True"
    assert rows[1]["val/bal_acc"] == "0.7667" and rows[1]["best_epoch_val/bal_acc"] == "0.7667"
    assert rows[1]["epochs"] == "3"
    wandb_dirs = {r["wandb_run_dir"] for r in rows}
    assert len(wandb_dirs) == 2 and all(Path(d).name.startswith("offline-run-") for d in wandb_dirs)
    assert [ln[:12] for ln in lines[1:]] == ["[1/2] failed", "[2/2] finish"]
    best = yaml.safe_load((out_dir / "best.yaml").read_text())
    assert best["crash"] is False and best["quality"] == 0.8
    assert "export" not in best
    assert best["defaults"] == [{"override /detector": "audio_artifact"}, "_self_"]
    assert (out_dir / "best.yaml").read_text().startswith("# @package _global_")
    assert (out_dir / "parallel_coordinates.png").stat().st_size > 1000


def test_grid_stops_when_exhausted(write_spec, tmp_path: Path) -> None:
    spec = load_spec(write_spec("grid", spec_dict({"quality": {"values": [0.3, 0.6]}})))
    lines: list[str] = []
    out_dir = run_local_sweep(
        spec,
        5,
        tmp_path / "results",
        tmp_path / "runs",
        program=FAKE_TRAIN,
        poll_s=0.05,
        echo=lines.append,
    )
    rows = read_rows(out_dir)
    assert sorted(r["quality"] for r in rows) == ["0.3", "0.6"]
    assert "exhausted after 2 runs" in lines[-1]
    assert "quality: 0.6" in (out_dir / "best.yaml").read_text()


def test_local_sweep_is_repeatable(write_spec, tmp_path: Path) -> None:
    config = spec_dict({"quality": {"min": 0.0, "max": 1.0}}, method="random")
    spec = load_spec(write_spec("random", config))
    runs = [
        read_rows(
            run_local_sweep(
                spec,
                2,
                tmp_path / f"r{i}",
                tmp_path / f"runs{i}",
                program=FAKE_TRAIN,
                poll_s=0.05,
                seed=3,
                echo=lambda _: None,
            )
        )
        for i in range(2)
    ]
    assert [r["quality"] for r in runs[0]] == [r["quality"] for r in runs[1]]


def test_hyperband_stops_a_trial_behind_the_others(write_spec) -> None:
    sweeps = import_engine()

    config = spec_dict(
        {"quality": {"values": [0.2, 0.9]}},
        early_terminate={"type": "hyperband", "min_iter": 2, "eta": 2},
    )
    spec = load_spec(write_spec("hb", config))
    done = [
        sweeps.SweepRun(
            name=f"done{i}",
            state=sweeps.RunState.finished,
            config={"quality": {"value": 0.9}},
            summary_metrics={"val/bal_acc": 0.9},
            history=[{"val/bal_acc": 0.8 + 0.01 * i}, {"val/bal_acc": 0.85 + 0.01 * i}],
        )
        for i in range(3)
    ]
    stop = hyperband_stopper(spec, done, "new", {"quality": {"value": 0.2}})
    assert stop is not None
    assert stop([{"val/bal_acc": 0.1}, {"val/bal_acc": 0.15}])
    assert not stop([{"val/bal_acc": 0.9}, {"val/bal_acc": 0.95}])
    assert (
        hyperband_stopper(
            load_spec(write_spec("plain", spec_dict({"quality": {"values": [0.5]}}))), done, "x", {}
        )
        is None
    )


def test_stopped_trial_ends_early_and_keeps_its_history(tmp_path: Path) -> None:
    result = run_trial(
        index=0,
        name="stopme",
        values={"epochs": 200, "delay": 0.05, "quality": 0.5},
        run_dir=tmp_path / "run",
        metric_name="val/bal_acc",
        maximize=True,
        should_stop=lambda history: len(history) >= 2,
        program=FAKE_TRAIN,
        poll_s=0.05,
    )
    assert result.status == "stopped"
    assert 2 <= result.epochs < 200 and result.metric is not None
    assert result.duration_s < 8


def test_trial_timeout_is_a_failure(tmp_path: Path) -> None:
    result = run_trial(
        index=0,
        name="slow",
        values={"epochs": 500, "delay": 0.05},
        run_dir=tmp_path / "run",
        metric_name="val/bal_acc",
        maximize=True,
        program=FAKE_TRAIN,
        poll_s=0.05,
        timeout_s=0.5,
    )
    assert result.status == "failed" and "timed out" in result.error


@pytest.mark.slow
def test_real_local_sweep(tmp_path: Path) -> None:
    """Two real train.py trials on a tiny build, each its own W&B offline run (~1 min)."""
    import subprocess

    sys.path.insert(0, str(REPO))
    from tests.training.conftest import write_tiny_audio_build

    build = tmp_path / "build"
    write_tiny_audio_build(build, {"train": 8, "val": 8, "test": 8}, {"train": 2})
    spec = tmp_path / "tiny.yaml"
    spec.write_text(
        yaml.safe_dump(
            spec_dict(
                {
                    "detector.module.optimizer.lr": {"values": [1e-3, 1e-2]},
                    "export": {"value": False},
                }
            )
        )
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "experiments.sweep",
            str(spec),
            "--count",
            "2",
            "--results",
            str(tmp_path / "results"),
            "--runs",
            str(tmp_path / "runs"),
            f"paths.data_dir={build}/data",
            f"paths.manifest_dir={build}/data_manifests",
            "trainer.max_epochs=1",
            "detector.data.num_workers=0",
            "detector.data.batch_size=16",
            "detector.data.eval_batch_size=16",
            "detector.data.shuffle_buffer=16",
            "test=false",
        ],
        cwd=REPO,
        check=True,
        env={**__import__("os").environ, "WANDB_MODE": "offline"},
    )
    (out_dir,) = (tmp_path / "results" / "tiny").iterdir()
    rows = read_rows(out_dir)
    assert [r["status"] for r in rows] == ["finished", "finished"]
    wandb_dirs = {r["wandb_run_dir"] for r in rows}
    assert len(wandb_dirs) == 2
    assert all(list(Path(d).glob("*.wandb")) for d in wandb_dirs)
