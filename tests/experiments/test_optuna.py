"""Hydra-native route: ``train.py -m hparams_search=audio_artifact_optuna`` runs Optuna trials
and the callback leaves the same results files as the local W&B engine."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hydra.core.utils import JobReturn, JobStatus
from omegaconf import OmegaConf

from experiments.hydra_callback import SweepResultsCallback, parse_overrides

from .conftest import REPO


@pytest.fixture(scope="module")
def tiny_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sys.path.insert(0, str(REPO))
    from tests.training.conftest import write_tiny_audio_build

    root = tmp_path_factory.mktemp("optuna_build")
    write_tiny_audio_build(root, {"train": 8, "val": 8, "test": 8}, {"train": 2})
    return root


@pytest.mark.slow
def test_optuna_multirun_of_two_trials(tiny_build: Path, tmp_path: Path) -> None:
    results = tmp_path / "results"
    command = [
        sys.executable, "train.py", "-m", "hparams_search=audio_artifact_optuna",
        "hydra.sweeper.n_trials=2", "detector.data.batch_size=16",  # fixes it: tiny build
        f"hydra.callbacks.sweep_results.results_dir={results}",
        f"paths.data_dir={tiny_build}/data", f"paths.manifest_dir={tiny_build}/data_manifests",
        f"paths.log_dir={tmp_path}/logs", "logger.wandb=null", "trainer.max_epochs=1",
        "trainer.enable_progress_bar=false", "trainer.enable_model_summary=false",
        "detector.data.num_workers=0", "detector.data.eval_batch_size=16",
        "detector.data.shuffle_buffer=16",
    ]  # fmt: skip
    done = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=240,
        env={**os.environ, "WANDB_MODE": "disabled"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    (out_dir,) = (results / "audio_artifact_optuna").iterdir()
    with (out_dir / "runs.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["status"] for r in rows] == ["finished", "finished"]
    assert all(0.0 <= float(r["val/bal_acc"]) <= 1.0 and r["epochs"] == "1" for r in rows)
    assert len({r["detector.module.optimizer.lr"] for r in rows}) == 2
    best = yaml.safe_load((out_dir / "best.yaml").read_text())
    assert best["defaults"] == [{"override /detector": "audio_artifact"}, "_self_"]
    assert best["detector"]["data"]["batch_size"] == 16
    assert (out_dir / "parallel_coordinates.png").is_file()


def test_failed_job_is_recorded(tmp_path: Path) -> None:
    callback = SweepResultsCallback(str(tmp_path), "demo", "val/bal_acc", detector="audio_artifact")
    sweep_cfg = OmegaConf.create({"hydra": {"sweeper": {"params": {"a.lr": "interval(0, 1)"}}}})
    callback.on_multirun_start(sweep_cfg)
    for num, (status, value) in enumerate(
        [(JobStatus.FAILED, RuntimeError("out of memory")), (JobStatus.COMPLETED, 0.625)]
    ):
        job_cfg = OmegaConf.create(
            {"hydra": {"runtime": {"output_dir": str(tmp_path / str(num))}, "job": {"num": num}}}
        )
        callback.on_job_start(job_cfg)
        ret = JobReturn(overrides=[f"a.lr={0.1 * (num + 1)}", "seed=3"], status=status)
        ret._return_value = value
        callback.on_job_end(job_cfg, ret)
    rows = list(csv.DictReader((callback.out_dir / "runs.csv").open()))
    assert [r["status"] for r in rows] == ["failed", "finished"]
    assert rows[0]["error"] == "RuntimeError: out of memory"
    assert rows[1]["val/bal_acc"] == "0.6250" and "seed" not in rows[1]
    assert yaml.safe_load((callback.out_dir / "best.yaml").read_text())["a"] == {"lr": 0.2}


def test_override_values_parse_like_hydra() -> None:
    parsed = parse_overrides(["a.lr=3e-4", "b=[1, 2]", "c=resnet18", "d=true"])
    assert parsed == {"a.lr": pytest.approx(3e-4), "b": [1, 2], "c": "resnet18", "d": True}
