"""Hydra callback: the results files of the local W&B engine, for a Hydra multirun (Optuna).

``python train.py -m hparams_search=audio_artifact_optuna`` runs its trials in one process; this
callback sees each job end (its overrides, the metric ``train.py`` returned, or the exception)
and rewrites ``runs.csv``, ``best.yaml`` and the plot after every trial, exactly as
``experiments.local_sweep`` does, so the two routes compare file for file.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.utils import JobReturn, JobStatus
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from experiments.local_sweep import card_checksum
from experiments.results import RunRecord, write_results
from experiments.trial import find_wandb_run_dir, read_history, summarise


def parse_overrides(overrides: list[str]) -> dict[str, Any]:
    """``["a.lr=3e-4", "b=[1, 2]"]`` -> ``{"a.lr": 0.0003, "b": [1, 2]}``, typed as Hydra types
    them (Hydra's own parser: YAML would read ``3e-4`` as text)."""
    parsed = OverridesParser.create().parse_overrides(overrides)
    return {o.key_or_group: o.value() for o in parsed}


class SweepResultsCallback(Callback):
    def __init__(
        self,
        results_dir: str,
        name: str,
        metric: str,
        maximize: bool = True,
        detector: str | None = None,
        card_path: str | None = None,
    ) -> None:
        self.results_root = Path(results_dir)
        self.name = name
        self.metric = metric
        self.maximize = maximize
        self.detector = detector
        self.card_path = Path(card_path) if card_path else None
        self.records: list[RunRecord] = []
        self.searched_keys: list[str] = []
        self.out_dir = self.results_root / name / "unstarted"
        self._job_started = 0.0

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d_%H-%M-%S")
        self.out_dir = self.results_root / self.name / stamp
        self.searched_keys = list(config.hydra.sweeper.get("params") or {})
        self.records = []

    def on_job_start(self, config: DictConfig, **kwargs: Any) -> None:
        self._job_started = time.monotonic()

    def on_job_end(self, config: DictConfig, job_return: JobReturn, **kwargs: Any) -> None:
        parsed = parse_overrides(list(job_return.overrides or []))
        values = {k: parsed[k] for k in self.searched_keys if k in parsed}
        run_dir = Path(config.hydra.runtime.output_dir)
        history = read_history(run_dir, self.metric)
        last, best = summarise(history, self.metric, self.maximize)
        if job_return.status == JobStatus.COMPLETED:
            returned = job_return.return_value
            metric = float(returned) if returned is not None else last
            status, error = ("finished", "") if metric is not None else ("failed", "no metric")
        else:
            metric, status = None, "failed"
            error = f"{type(job_return._return_value).__name__}: {job_return._return_value}"
        self.records.append(
            RunRecord(
                name=f"{self.name}-{config.hydra.job.num:03d}",
                values=values,
                status=status,
                metric=metric,
                best_metric=best if best is not None else metric,
                epochs=len(history),
                duration_s=time.monotonic() - self._job_started,
                wandb_run_dir=find_wandb_run_dir(run_dir),
                run_dir=run_dir,
                error=error[:300],
            )
        )
        self._write()

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        if self.records:
            self._write()

    def _write(self) -> None:
        write_results(
            self.out_dir,
            self.records,
            self.metric,
            self.maximize,
            self.searched_keys,
            f"{self.name}/{self.out_dir.name}",
            self.detector,
            card_checksum(self.card_path),
        )
