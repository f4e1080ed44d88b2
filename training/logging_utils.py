"""Build loggers and callbacks from config, log what identifies a run, and always close W&B.

Why ``finish_wandb`` exists: in a Hydra multirun every job runs in one process, and a W&B run
left open swallows the next job's metrics; a crash must not leave it open either.
"""

from __future__ import annotations

import hashlib
import json
import logging
import subprocess
from pathlib import Path
from typing import Any

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning import Callback
from pytorch_lightning.callbacks import LearningRateMonitor
from pytorch_lightning.loggers import Logger

log = logging.getLogger(__name__)


def instantiate_loggers(config: DictConfig | None) -> list[Logger]:
    if not config:
        return []
    return [instantiate(entry) for entry in config.values() if entry and "_target_" in entry]


def instantiate_callbacks(config: DictConfig | None, with_logger: bool) -> list[Callback]:
    """Callbacks from config; an LR monitor is dropped without a logger (Lightning refuses it)."""
    if not config:
        return []
    callbacks = [instantiate(entry) for entry in config.values() if entry and "_target_" in entry]
    if not with_logger:
        callbacks = [c for c in callbacks if not isinstance(c, LearningRateMonitor)]
    return callbacks


def git_commit(root: str | Path | None = None) -> str | None:
    """HEAD commit of the repository (with ``-dirty`` when the tree has changes), else None."""
    try:
        cwd = str(root) if root else None
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, cwd=cwd
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
            cwd=cwd,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{head}-dirty" if dirty else head or None


def config_hash(cfg: DictConfig) -> str:
    resolved = OmegaConf.to_container(cfg, resolve=True)
    return hashlib.sha256(json.dumps(resolved, sort_keys=True, default=str).encode()).hexdigest()


def log_hyperparameters(
    loggers: list[Logger],
    cfg: DictConfig,
    card_sha256: str | None,
    model: Any,
    extra_train_cards: dict[str, str | None] | None = None,
) -> dict[str, Any]:
    """Send the resolved config plus the identifiers of data and code to every logger
    (``extra_train_cards``: card path -> sha256 of the builds trained on beside the main one)."""
    params = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(params, dict)
    params["dataset_card_sha256"] = card_sha256
    if extra_train_cards:
        params["extra_train_card_sha256"] = dict(extra_train_cards)
    params["config_sha256"] = config_hash(cfg)
    params["git_commit"] = git_commit(cfg.paths.root_dir)
    params["model/params_total"] = sum(p.numel() for p in model.parameters())
    for logger in loggers:
        logger.log_hyperparams(params)
    return params


def finish_wandb() -> str | None:
    """Close the active W&B run if any; return its local folder (what ``wandb sync`` takes)."""
    try:
        import wandb
    except ImportError:
        return None
    run = wandb.run
    if run is None:
        return None
    folder = None
    try:
        if run.settings.mode != "disabled" and getattr(run, "dir", None):
            folder = str(Path(run.dir).parent)
    except Exception:
        folder = None
    wandb.finish()
    if folder:
        log.info("W&B run saved in %s (upload with: wandb sync %s)", folder, folder)
    return folder
