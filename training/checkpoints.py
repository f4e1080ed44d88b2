"""Rebuild the plain network from a Lightning checkpoint, without the training config.

Checkpoints written by ``SegmentClassifierModule`` carry the network's Hydra config
(``model_config``) and the detector's metadata, so export and detect need only the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from hydra.utils import instantiate
from torch import nn


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    if "model_config" not in checkpoint or not checkpoint["model_config"]:
        raise ValueError(
            f"{path}: no model_config in the checkpoint; was it written by train.py "
            "(training.detectors.SegmentClassifierModule)?"
        )
    return checkpoint


def model_config(checkpoint: dict[str, Any]) -> dict[str, Any]:
    """The network's Hydra config (stored as JSON text so Hydra never instantiates it early)."""
    config = checkpoint["model_config"]
    return dict(json.loads(config) if isinstance(config, str) else config)


def network_state(checkpoint: dict[str, Any], prefix: str = "net.") -> dict[str, Any]:
    """The plain network's weights from a Lightning module's ``state_dict`` (``net.`` stripped)."""
    return {
        k[len(prefix) :]: v for k, v in checkpoint["state_dict"].items() if k.startswith(prefix)
    }


def load_network(path: str | Path) -> tuple[nn.Module, dict[str, Any]]:
    """``(network in eval mode, metadata)``; metadata has ``detector``, ``dataset_card_sha256``,
    ``epoch``, ``global_step`` and the checkpoint path."""
    checkpoint = read_checkpoint(path)
    config = model_config(checkpoint)
    if "pretrained_path" in config:  # the weights come from the checkpoint itself...
        config["pretrained_path"] = None
    if "pretrained" in config:  # ...so never download them (block-corruption trunk)
        config["pretrained"] = False
    net: nn.Module = instantiate(config)
    net.load_state_dict(network_state(checkpoint), strict=True)
    net.eval()
    meta = {
        "checkpoint": str(path),
        "detector": checkpoint.get("detector") or {},
        "model_config": model_config(checkpoint),
        "dataset_card_sha256": checkpoint.get("dataset_card_sha256"),
        "epoch": checkpoint.get("epoch"),
        "global_step": checkpoint.get("global_step"),
        # Set by training.average_checkpoints: the checkpoints and weights this one averages.
        "averaged_from": checkpoint.get("averaged_from"),
    }
    return net, meta


def warm_start(net: nn.Module, path: str | Path) -> dict[str, Any]:
    """Load an earlier run's network weights into ``net`` (same architecture, strict).

    Unlike ``ckpt_path`` (a resume: epoch, optimizer and learning-rate schedule carry on, so the
    schedule cannot be lengthened), this starts a new run from trained weights: fresh optimizer,
    fresh schedule, its own epoch count. It is how a CPU run is continued in sessions of bounded
    length, and how a detector trained on one build is fine-tuned on another. Returns the source
    checkpoint's metadata (recorded in the run's hyperparameters).
    """
    checkpoint = read_checkpoint(path)
    try:
        net.load_state_dict(network_state(checkpoint), strict=True)
    except RuntimeError as error:
        raise ValueError(
            f"{path}: its weights do not fit this detector's network (another architecture or "
            f"detector?): {str(error).splitlines()[0]}"
        ) from None
    return {
        "checkpoint": str(path),
        "epoch": checkpoint.get("epoch"),
        "global_step": checkpoint.get("global_step"),
        "dataset_card_sha256": checkpoint.get("dataset_card_sha256"),
    }
