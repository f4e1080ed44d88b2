"""Run a W&B sweep spec locally with W&B's own engine (the ``sweeps`` package), no server.

The W&B server picks each next run with ``sweeps.next_run`` and stops runs with
``sweeps.stop_runs``; calling them here, with the same spec and the runs so far, gives the same
search a server would run. Trials go one after another (a laptop has one accelerator); each is
a real ``train.py`` run logged to W&B offline, so ``wandb sync`` uploads the sweep later.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from experiments import import_engine
from experiments.results import RunRecord, write_results
from experiments.spec import SweepSpec, run_values
from experiments.trial import REPO, TrialResult, run_trial

# Forced on every local trial: the CSV log is where per-epoch history is read from, flushed at
# every log call (Lightning's default, every 100 steps, would show hyperband an epoch late).
LOCAL_OVERRIDES = ("logger=[wandb,csv]", "+logger.csv.flush_logs_every_n_steps=1")


def suggest(spec: SweepSpec, runs: Sequence[Any], seed: int) -> Any:
    """``sweeps.next_run`` with a seed. The engine draws from numpy's and Python's global
    generators (its API takes no Generator), so they are seeded per call to make a sweep
    repeatable; nothing else runs in this process that would notice."""
    sweeps = import_engine()

    np.random.seed(seed % 2**32)
    random.seed(seed)
    return sweeps.next_run(spec.config, list(runs), validate=True)


def hyperband_stopper(
    spec: SweepSpec, done: Sequence[Any], name: str, run_config: dict
) -> Callable[[list[dict[str, float]]], bool] | None:
    """A ``should_stop(history)`` for the running trial, or None without ``early_terminate``."""
    if not spec.config.get("early_terminate"):
        return None
    sweeps = import_engine()

    def should_stop(history: list[dict[str, float]]) -> bool:
        running = sweeps.SweepRun(
            name=name, state=sweeps.RunState.running, config=run_config, history=history
        )
        stopped = sweeps.stop_runs(spec.config, [*done, running], validate=True)
        return any(run.name == name for run in stopped)

    return should_stop


def engine_run(result: TrialResult, run_config: dict, metric_name: str) -> Any:
    """What the server would hold for a finished trial. Early-stopped trials end normally on a
    server too (state finished, summary = last logged value); failed ones are imputed as worst."""
    sweeps = import_engine()

    state = sweeps.RunState.failed if result.status == "failed" else sweeps.RunState.finished
    summary = {metric_name: result.metric} if result.metric is not None else {}
    return sweeps.SweepRun(
        name=result.name,
        state=state,
        config=run_config,
        summary_metrics=summary,
        history=result.history,
    )


def record(result: TrialResult) -> RunRecord:
    return RunRecord(
        name=result.name,
        values=result.values,
        status=result.status,
        metric=result.metric,
        best_metric=result.best_metric,
        epochs=result.epochs,
        duration_s=result.duration_s,
        wandb_run_dir=result.wandb_run_dir,
        run_dir=result.run_dir,
        error=result.error,
    )


def progress_line(
    result: TrialResult, count: int, best: float | None, metric_name: str, keys: Sequence[str]
) -> str:
    """``[3/8] finished val/bal_acc=0.6123 (best 0.6500) 74s 4 ep  lr=0.0012 ...``"""
    metric = "-" if result.metric is None else f"{result.metric:.4f}"
    best_text = "-" if best is None else f"{best:.4f}"
    shown = {k.split(".")[-1]: v for k, v in result.values.items() if k in keys}
    values = " ".join(
        f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in shown.items()
    )
    line = (
        f"[{result.index + 1}/{count}] {result.status:8s} {metric_name}={metric} "
        f"(best {best_text}) {result.duration_s:5.0f}s {result.epochs} ep  {values}"
    )
    return line + (f"  ! {result.error}" if result.error else "")


def card_checksum(card_path: Path | None) -> str | None:
    if card_path is None or not card_path.is_file():
        return None
    return json.loads(card_path.read_text()).get("card_sha256")


def run_local_sweep(
    spec: SweepSpec,
    count: int,
    results_root: Path = REPO / "experiments" / "results",
    runs_root: Path = REPO / "logs" / "sweeps",
    extra_overrides: Sequence[str] = (),
    seed: int = 0,
    card_path: Path | None = None,
    env: dict[str, str] | None = None,
    program: Path = REPO / "train.py",
    poll_s: float = 2.0,
    run_timeout_s: float | None = None,
    echo: Callable[[str], None] = print,
) -> Path:
    """Run up to ``count`` trials; return the results folder (written after every trial, so an
    interrupted sweep still leaves what it measured)."""
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    stamp = datetime.now(UTC).strftime("%Y-%m-%d_%H-%M-%S")
    out_dir = results_root / spec.name / stamp
    sweep_label = f"{spec.name}/{stamp}"
    card_sha = card_checksum(card_path or REPO / "data_manifests" / f"{spec.name}.card.json")
    fixed = [*LOCAL_OVERRIDES, f"logger.wandb.group=sweep-{spec.name}-{stamp}", *extra_overrides]
    echo(f"sweep {spec.path} ({spec.config['method']}, {count} runs) -> {out_dir}")
    done: list[Any] = []
    records: list[RunRecord] = []
    best: float | None = None
    for index in range(count):
        suggestion = suggest(spec, done, seed * 100_003 + index)
        if suggestion is None:
            echo(f"search space exhausted after {index} runs")
            break
        name = f"{spec.name}-{stamp}-{index:03d}"
        result = run_trial(
            index=index,
            name=name,
            values=run_values(suggestion.config),
            run_dir=runs_root / spec.name / stamp / f"{index:03d}",
            metric_name=spec.metric_name,
            maximize=spec.maximize,
            extra_overrides=fixed,
            should_stop=hyperband_stopper(spec, done, name, suggestion.config),
            program=program,
            env=env,
            poll_s=poll_s,
            timeout_s=run_timeout_s,
        )
        done.append(engine_run(result, suggestion.config, spec.metric_name))
        records.append(record(result))
        if result.metric is not None and result.status != "failed":
            candidates = [m for m in (best, result.metric) if m is not None]
            best = max(candidates) if spec.maximize else min(candidates)
        echo(progress_line(result, count, best, spec.metric_name, spec.searched_keys))
        write_results(
            out_dir,
            records,
            spec.metric_name,
            spec.maximize,
            spec.searched_keys,
            sweep_label,
            spec.name,
            card_sha,
        )
    return out_dir
