"""Run one sweep trial: a real ``train.py`` subprocess, watched so hyperband can stop it.

A subprocess (not an in-process call) because that is what a W&B agent does: every trial gets a
fresh interpreter, its own Hydra run dir and its own W&B offline run, and a trial that crashes,
leaks memory or hangs cannot take the sweep down with it. Per-epoch history is read from the
Lightning CSV log the trial writes next to its W&B run, since the W&B offline file is binary.
"""

from __future__ import annotations

import csv
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from experiments.spec import overrides

REPO = Path(__file__).resolve().parents[1]
STOP_GRACE_S = 60.0  # after SIGINT, Lightning closes W&B and exits; then we kill

# Called with the history so far; True stops the trial (hyperband).
ShouldStop = Callable[[list[dict[str, float]]], bool]


@dataclass
class TrialResult:
    index: int
    name: str
    values: dict[str, Any]
    status: str  # finished | stopped (early-terminated) | failed
    metric: float | None  # the last logged value: W&B's summary, and what train.py returns
    best_metric: float | None  # best over epochs (what the checkpoint keeps)
    epochs: int
    duration_s: float
    run_dir: Path
    wandb_run_dir: Path | None
    error: str = ""
    history: list[dict[str, float]] = field(default_factory=list)


def read_history(run_dir: Path, metric_name: str) -> list[dict[str, float]]:
    """Per-epoch values of ``metric_name`` from ``<run_dir>/csv/metrics.csv`` (empty if none)."""
    path = run_dir / "csv" / "metrics.csv"
    if not path.is_file():
        return []
    try:
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, csv.Error):  # being rewritten by the trial right now: next poll
        return []
    history = []
    for row in rows:
        value = row.get(metric_name)
        if value not in (None, ""):
            history.append({metric_name: float(value), "epoch": float(row.get("epoch") or 0)})
    return history


def find_wandb_run_dir(run_dir: Path) -> Path | None:
    """The trial's W&B run folder (``offline-run-*`` or ``run-*``), what ``wandb sync`` takes."""
    wandb_dir = run_dir / "wandb"  # also holds `latest-run`, a link to the same folder
    found = sorted([*wandb_dir.glob("offline-run-*"), *wandb_dir.glob("run-*")])
    return found[-1] if found else None


def last_error_line(log_path: Path) -> str:
    """The line that says why a trial failed: the last exception line, else the last line."""
    try:
        lines = [ln.strip() for ln in log_path.read_text(errors="replace").splitlines()]
    except OSError:
        return ""
    lines = [ln for ln in lines if ln]
    errors = [ln for ln in lines if "Error" in ln or "Exception" in ln]
    return (errors or lines or [""])[-1][:300]


def summarise(
    history: list[dict[str, float]], metric_name: str, maximize: bool
) -> tuple[float | None, float | None]:
    values = [h[metric_name] for h in history if math.isfinite(h[metric_name])]
    if not values:
        return None, None
    return values[-1], (max(values) if maximize else min(values))


def run_trial(
    index: int,
    name: str,
    values: dict[str, Any],
    run_dir: Path,
    metric_name: str,
    maximize: bool,
    extra_overrides: Sequence[str] = (),
    should_stop: ShouldStop | None = None,
    program: Path = REPO / "train.py",
    env: dict[str, str] | None = None,
    poll_s: float = 2.0,
    timeout_s: float | None = None,
) -> TrialResult:
    """Run ``train.py <sampled overrides> <fixed overrides>`` and report how it went."""
    run_dir.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        str(program),
        *overrides(values),
        *extra_overrides,
        f"hydra.run.dir={run_dir}",
        f"run_name={name}",
    ]
    trial_env = {**os.environ, "WANDB_MODE": "offline", "WANDB_SILENT": "true", **(env or {})}
    log_path = run_dir / "train.out"
    start = time.monotonic()
    stopped = timed_out = False
    history: list[dict[str, float]] = []
    with log_path.open("w") as log_file:
        log_file.write(" ".join(command) + "\n")
        log_file.flush()
        process = subprocess.Popen(
            command,
            cwd=REPO,
            env=trial_env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            preexec_fn=_default_sigint,
        )
        while process.poll() is None:
            time.sleep(poll_s)
            if timeout_s is not None and time.monotonic() - start > timeout_s:
                timed_out = True
                stop_process(process)
                break
            if should_stop is None or stopped:
                continue
            latest = read_history(run_dir, metric_name)
            if len(latest) > len(history):
                history = latest
                if should_stop(history):
                    stopped = True
                    stop_process(process)
                    break
        returncode = process.wait()
    history = read_history(run_dir, metric_name) or history
    metric, best = summarise(history, metric_name, maximize)
    if stopped and returncode != 0:  # interrupted (Lightning exits 1 after a graceful stop)
        status, error = "stopped", ""
    elif timed_out:
        status, error = "failed", f"timed out after {timeout_s:.0f} s"
    elif returncode != 0:
        status, error = "failed", last_error_line(log_path) or f"exit code {returncode}"
    elif metric is None:
        status, error = "failed", f"finished without logging {metric_name}"
    else:
        status, error = "finished", ""
    return TrialResult(
        index=index,
        name=name,
        values=values,
        status=status,
        metric=metric,
        best_metric=best,
        epochs=len(history),
        duration_s=time.monotonic() - start,
        run_dir=run_dir,
        wandb_run_dir=find_wandb_run_dir(run_dir),
        error=error,
        history=history,
    )


def _default_sigint() -> None:
    """In the trial process, before exec: SIGINT back to its default.

    A sweep started in the background (``make sweep &``, nohup, CI) inherits SIGINT *ignored*,
    and Python then installs no KeyboardInterrupt handler: :func:`stop_process` could not stop a
    trial, and hyperband would silently let every trial run to the end.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def stop_process(process: subprocess.Popen) -> None:
    """SIGINT first: Lightning shuts down gracefully and train.py closes W&B; kill if it hangs."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
