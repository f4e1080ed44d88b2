"""The results files every sweep route leaves: ``runs.csv``, ``best.yaml`` and a plot.

One writer for the local W&B engine and the Optuna multirun, so the two can be compared file for
file. ``best.yaml`` is an experiment config (``@package _global_``): copy it to
``conf/experiment/<detector>_<name>.yaml`` and ``python train.py experiment=<detector>_<name>``
reruns the best trial.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from omegaconf import OmegaConf

REPO = Path(__file__).resolve().parents[1]


@dataclass
class RunRecord:
    """One trial as the results files see it, whichever route ran it."""

    name: str
    values: dict[str, Any]
    status: str  # finished | stopped | failed
    metric: float | None
    best_metric: float | None
    epochs: int
    duration_s: float
    wandb_run_dir: Path | None
    run_dir: Path | None
    error: str = ""


def display_path(path: Path | None) -> str:
    """Repository-relative where possible: results are committed and read on other machines."""
    if path is None:
        return ""
    try:
        return str(Path(path).resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def write_runs_csv(path: Path, records: Sequence[RunRecord], metric_name: str) -> None:
    keys = list(dict.fromkeys(k for r in records for k in r.values))
    columns = [
        "run",
        "status",
        metric_name,
        f"best_epoch_{metric_name}",
        "epochs",
        "duration_s",
        *keys,
        "overrides",
        "wandb_run_dir",
        "run_dir",
        "error",
    ]
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for r in records:
            writer.writerow(
                {
                    "run": r.name,
                    "status": r.status,
                    metric_name: "" if r.metric is None else f"{r.metric:.4f}",
                    f"best_epoch_{metric_name}": ""
                    if r.best_metric is None
                    else f"{r.best_metric:.4f}",
                    "epochs": r.epochs,
                    "duration_s": f"{r.duration_s:.1f}",
                    **{k: r.values.get(k, "") for k in keys},
                    "overrides": " ".join(f"{k}={v}" for k, v in r.values.items()),
                    "wandb_run_dir": display_path(r.wandb_run_dir),
                    "run_dir": display_path(r.run_dir),
                    "error": r.error,
                }
            )


def best_record(records: Sequence[RunRecord], maximize: bool) -> RunRecord | None:
    """The best finished or stopped trial by its final metric (failed ones never win)."""
    scored = [r for r in records if r.status != "failed" and r.metric is not None]
    if not scored:
        return None
    return (max if maximize else min)(scored, key=lambda r: r.metric)


def config_groups() -> set[str]:
    return {p.name for p in (REPO / "conf").iterdir() if p.is_dir()}


def experiment_config(
    record: RunRecord,
    metric_name: str,
    sweep_label: str,
    detector: str | None,
    card_sha256: str | None,
    searched_keys: Sequence[str],
) -> str:
    """``best.yaml`` text: a ``@package _global_`` experiment config of the best trial.

    It holds what was searched plus group choices (an ``experiment`` base becomes an include, a
    ``detector`` an override); trial settings (constant parameters such as ``test=false``, extra
    overrides such as a shortened schedule) are left out, so it trains with the detector's own
    schedule, tests and exports.
    """
    groups = config_groups()
    defaults: list[Any] = []
    chosen = {k: v for k, v in record.values.items() if k in groups}
    if "experiment" in chosen:
        defaults.append(str(chosen.pop("experiment")))
    detector = str(chosen.pop("detector", detector or ""))
    if detector and (REPO / "conf" / "detector" / f"{detector}.yaml").is_file():
        defaults.append({"override /detector": detector})
    defaults += [{f"override /{k}": v} for k, v in chosen.items()]
    body: dict[str, Any] = {"defaults": [*defaults, "_self_"]} if defaults else {}
    body["tags"] = [detector or "sweep", "sweep_best"]
    if card_sha256:
        body["expected_card_sha256"] = card_sha256
    searched = [
        f"{k.lstrip('+~')}={v}"
        for k, v in record.values.items()
        if k in searched_keys and k not in groups
    ]
    body.update(OmegaConf.to_container(OmegaConf.from_dotlist(searched)))  # type: ignore[arg-type]
    header = (
        "# @package _global_\n"
        f"# Best trial of sweep {sweep_label}: {metric_name} = {record.metric:.4f} "
        f"({record.status}, {record.epochs} epochs, run {record.name}).\n"
        "# Use: copy to conf/experiment/<detector>_<name>.yaml; "
        "python train.py experiment=<detector>_<name>\n"
    )
    return header + yaml.safe_dump(body, sort_keys=False)


def write_best_yaml(
    path: Path,
    records: Sequence[RunRecord],
    metric_name: str,
    maximize: bool,
    sweep_label: str,
    detector: str | None,
    card_sha256: str | None,
    searched_keys: Sequence[str],
) -> RunRecord | None:
    best = best_record(records, maximize)
    if best is not None:
        text = experiment_config(
            best, metric_name, sweep_label, detector, card_sha256, searched_keys
        )
        path.write_text(text)
    return best


def _numeric_axis(values: list[Any]) -> tuple[list[float], list[str] | None, bool]:
    """Axis positions in [0, 1] for one parameter: log scale for positive ranges spanning 10x+,
    categories spaced evenly (their labels returned)."""
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        numbers = [float(v) for v in values]
        log = min(numbers) > 0 and max(numbers) / min(numbers) >= 10
        scaled = [math.log10(v) for v in numbers] if log else numbers
        low, high = min(scaled), max(scaled)
        span = (high - low) or 1.0
        return [(v - low) / span for v in scaled], None, log
    labels = sorted({str(v) for v in values})
    step = 1.0 / max(len(labels) - 1, 1)
    return [labels.index(str(v)) * step for v in values], labels, False


def write_parallel_coordinates(
    path: Path, records: Sequence[RunRecord], metric_name: str, keys: Sequence[str]
) -> bool:
    """Parallel coordinates of the searched parameters, coloured by the metric (W&B's own chart,
    offline). Failed trials are drawn grey and dashed. False if there is nothing to draw."""
    if not records or not keys:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    axes_values = [[r.values.get(k) for r in records] for k in keys]
    positions, labels, logs = zip(*(_numeric_axis(v) for v in axes_values), strict=True)
    scored = [r.metric for r in records if r.metric is not None]
    low, high = (min(scored), max(scored)) if scored else (0.0, 1.0)
    cmap = plt.get_cmap("viridis")
    fig, ax = plt.subplots(figsize=(2.0 + 1.6 * (len(keys) + 1), 4.5), dpi=100)
    order = sorted(range(len(records)), key=lambda i: records[i].metric or -math.inf)
    for i in order:
        record = records[i]
        ys = [positions[j][i] for j in range(len(keys))]
        if record.metric is None:
            ax.plot(range(len(keys)), ys, color="0.6", linestyle="--", linewidth=1)
            continue
        shade = (record.metric - low) / ((high - low) or 1.0)
        ys.append(shade)
        ax.plot(range(len(keys) + 1), ys, color=cmap(shade), linewidth=1.8, alpha=0.9)
    for j in range(len(keys)):
        ax.axvline(j, color="0.2", linewidth=0.8)
        values = axes_values[j]
        if labels[j] is not None:
            ticks = [(n / max(len(labels[j]) - 1, 1), lab) for n, lab in enumerate(labels[j])]
        else:
            numbers = [float(v) for v in values]
            ticks = [(0.0, f"{min(numbers):.3g}"), (1.0, f"{max(numbers):.3g}")]
        for y, text in ticks:
            ax.text(j, y, f" {text}", fontsize=7, va="center")
        if logs[j]:
            ax.text(j, -0.12, "(log)", fontsize=7, ha="center")
    ax.axvline(len(keys), color="0.2", linewidth=0.8)
    ax.text(len(keys), 0.0, f" {low:.3f}", fontsize=7, va="center")
    ax.text(len(keys), 1.0, f" {high:.3f}", fontsize=7, va="center")
    ax.set_xticks(range(len(keys) + 1))
    ax.set_xticklabels([k.split(".")[-1] for k in keys] + [metric_name], fontsize=8, rotation=15)
    ax.set_yticks([])
    ax.set_ylim(-0.18, 1.08)
    ax.set_xlim(-0.2, len(keys) + 0.5)
    ax.set_title(f"{len(records)} trials, colour = {metric_name}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def write_results(
    out_dir: Path,
    records: Sequence[RunRecord],
    metric_name: str,
    maximize: bool,
    searched_keys: Sequence[str],
    sweep_label: str,
    detector: str | None,
    card_sha256: str | None,
) -> RunRecord | None:
    """runs.csv, best.yaml, parallel_coordinates.png under ``out_dir``; returns the best."""
    out_dir.mkdir(parents=True, exist_ok=True)
    write_runs_csv(out_dir / "runs.csv", records, metric_name)
    best = write_best_yaml(
        out_dir / "best.yaml",
        records,
        metric_name,
        maximize,
        sweep_label,
        detector,
        card_sha256,
        searched_keys,
    )
    write_parallel_coordinates(
        out_dir / "parallel_coordinates.png", records, metric_name, list(searched_keys)
    )
    return best
