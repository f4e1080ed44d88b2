"""Average the weights of checkpoints along one fine-tuning path (a "model soup").

    python -m training.average_checkpoints A.ckpt B.ckpt [--weights 0.5 0.5] --output X.ckpt
    python -m training.export checkpoint=X.ckpt output_dir=exports/<detector>/<name>

A CPU run is continued in stages (``init_from``), each on a build that stresses another weakness:
one stage gains recall on codec damage, the next specificity on heavy compression, and each pays
for it on the other. Checkpoints fine-tuned from the same weights stay in one basin of the loss,
so the average of their weights is itself a good network that tends to keep both gains (Wortsman
et al., "Model soups", 2022; WiSE-FT). It costs nothing at inference, unlike an ensemble, which
would run the trunk once per member and halve detection speed.

Floating-point weights and batch-norm statistics are averaged with ``--weights`` (normalised to
sum 1). Decision buffers (``*_threshold``) and integer counters are not learned by gradient
descent: they are taken from the first checkpoint, and the frame threshold should be chosen again
on validation (``training.tune_block_threshold``). Checkpoints of different detectors or network
configurations are refused. The output is an ordinary training checkpoint (what export, detect and
``init_from`` read) that records what it was averaged from.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from training.checkpoints import model_config, read_checkpoint

# Kept from the first checkpoint, never averaged: decision thresholds are set after training.
DECISION_SUFFIX = "_threshold"


def _detector_name(checkpoint: dict[str, Any]) -> str | None:
    return (checkpoint.get("detector") or {}).get("name")


def _check_compatible(paths: Sequence[Path], checkpoints: Sequence[dict[str, Any]]) -> None:
    first, first_config = checkpoints[0], model_config(checkpoints[0])
    for path, checkpoint in zip(paths[1:], checkpoints[1:], strict=True):
        if _detector_name(checkpoint) != _detector_name(first):
            raise ValueError(f"{path}: another detector than {paths[0]}; cannot average them")
        if model_config(checkpoint) != first_config:
            raise ValueError(
                f"{path}: its network configuration differs from {paths[0]}'s; "
                "only checkpoints of one architecture can be averaged"
            )
        if checkpoint["state_dict"].keys() != first["state_dict"].keys():
            raise ValueError(f"{path}: its weights are not those of {paths[0]} (other tensors)")


def average_state(
    states: Sequence[dict[str, torch.Tensor]], weights: Sequence[float]
) -> dict[str, torch.Tensor]:
    """Weighted average of floating tensors; decision buffers and integers from the first."""
    averaged: dict[str, torch.Tensor] = {}
    for key, first in states[0].items():
        if not torch.is_floating_point(first) or key.endswith(DECISION_SUFFIX):
            averaged[key] = first.clone()
            continue
        if any(state[key].shape != first.shape for state in states):
            raise ValueError(f"{key}: shapes differ between the checkpoints")
        total = sum(w * state[key].double() for w, state in zip(weights, states, strict=True))
        averaged[key] = total.to(first.dtype)
    return averaged


def averaged_checkpoint(
    paths: Sequence[str | Path], weights: Sequence[float] | None = None
) -> dict[str, Any]:
    """The weighted average of ``paths`` as a training checkpoint (``averaged_from`` records
    each member, its normalised weight, step and data)."""
    paths = [Path(p) for p in paths]
    if len(paths) < 2:
        raise ValueError("give at least two checkpoints to average")
    weights = [1.0] * len(paths) if weights is None else [float(w) for w in weights]
    if len(weights) != len(paths):
        raise ValueError(f"{len(weights)} weights for {len(paths)} checkpoints")
    if any(not 0.0 <= w < float("inf") for w in weights) or sum(weights) <= 0:
        raise ValueError(f"weights must be finite, >= 0 and not all 0, got {weights}")
    weights = [w / sum(weights) for w in weights]
    checkpoints = [read_checkpoint(p) for p in paths]
    _check_compatible(paths, checkpoints)
    first = checkpoints[0]
    return {
        "state_dict": average_state([c["state_dict"] for c in checkpoints], weights),
        "detector": first.get("detector"),
        "model_config": first["model_config"],
        "hyper_parameters": first.get("hyper_parameters"),
        "hparams_name": first.get("hparams_name"),
        # The data of the first (the latest stage comes first by convention); all are recorded.
        "dataset_card_sha256": first.get("dataset_card_sha256"),
        "epoch": first.get("epoch"),
        "global_step": first.get("global_step"),
        "averaged_from": [
            {
                "checkpoint": str(path),
                "weight": weight,
                "global_step": checkpoint.get("global_step"),
                "dataset_card_sha256": checkpoint.get("dataset_card_sha256"),
            }
            for path, weight, checkpoint in zip(paths, weights, checkpoints, strict=True)
        ],
    }


def average_checkpoints(
    paths: Sequence[str | Path], output: str | Path, weights: Sequence[float] | None = None
) -> Path:
    """Write the weighted average of ``paths`` to ``output`` (a training checkpoint)."""
    return _save(averaged_checkpoint(paths, weights), output)


def _save(checkpoint: dict[str, Any], output: str | Path) -> Path:
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    torch.save(checkpoint, output)
    return output


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoints", type=Path, nargs="+", help="training checkpoints (.ckpt)")
    parser.add_argument("--weights", type=float, nargs="+", default=None, help="default: equal")
    parser.add_argument("--output", type=Path, required=True, help="where to write the average")
    args = parser.parse_args(argv)
    try:
        checkpoint = averaged_checkpoint(args.checkpoints, args.weights)
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    out = _save(checkpoint, args.output)
    print(json.dumps({"output": str(out), "averaged_from": checkpoint["averaged_from"]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
