"""What every exported detector's model card shares: files, provenance, versions, parity verdict.

Each detector's exporter writes its own input/output description and parity checks; the rest of
the card — where the weights came from, which data and code made them, and the refusal to ship
an export that disagrees with PyTorch — is the same for all and lives here once.
"""

from __future__ import annotations

import json
import logging
import platform
import shutil
import time
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from training.logging_utils import git_commit

log = logging.getLogger(__name__)
ONNX_FILE, TORCHSCRIPT_FILE, CKPT_FILE, CARD_FILE = (
    "model.onnx",
    "model.ts",
    "model.ckpt",
    "model_card.json",
)


def quiet_exporters() -> None:
    """The ONNX exporter logs every optimisation pass at INFO; keep training logs readable."""
    for name in ("onnx_ir", "onnxscript", "torch.onnx", "torch.export"):
        logging.getLogger(name).setLevel(logging.WARNING)


def copy_checkpoint(checkpoint: Path, output_dir: Path) -> None:
    shutil.copyfile(checkpoint, output_dir / CKPT_FILE)


def write_graphs(
    net: torch.nn.Module,
    example: tuple[torch.Tensor, ...],
    output_dir: Path,
    input_names: Sequence[str],
    output_names: Sequence[str],
    dynamic_axes: dict[str, dict[int, str]],
    opset: int,
) -> None:
    """``model.onnx`` and a traced ``model.ts`` of a network with named, dynamic-size inputs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            net,
            example,
            str(output_dir / ONNX_FILE),
            input_names=list(input_names),
            output_names=list(output_names),
            dynamic_axes=dynamic_axes,
            opset_version=opset,
            dynamo=False,
        )
        traced = torch.jit.trace(net, example, check_trace=False)
    traced.save(str(output_dir / TORCHSCRIPT_FILE))


def graph_parity(
    net: torch.nn.Module,
    output_dir: Path,
    input_names: Sequence[str],
    output_names: Sequence[str],
    cases: Iterable[tuple[np.ndarray, ...]],
    compared: Sequence[str],
) -> dict[str, float]:
    """Largest |difference| from PyTorch of the ONNX and TorchScript files, over the ``compared``
    outputs of every input case (inputs in ``input_names`` order, outputs in ``output_names``)."""
    import onnxruntime

    session = onnxruntime.InferenceSession(
        str(output_dir / ONNX_FILE), providers=["CPUExecutionProvider"]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scripted = torch.jit.load(str(output_dir / TORCHSCRIPT_FILE))
    picks = [list(output_names).index(name) for name in compared]
    worst_onnx = worst_ts = 0.0
    for case in cases:
        tensors = [torch.from_numpy(array) for array in case]
        with torch.no_grad():
            expected = [t.numpy() for t in net(*tensors)]
            traced = [t.numpy() for t in scripted(*tensors)]
        onnx = session.run(list(compared), dict(zip(input_names, case, strict=True)))
        for got_onnx, pick in zip(onnx, picks, strict=True):
            worst_onnx = max(worst_onnx, float(np.abs(got_onnx - expected[pick]).max()))
            worst_ts = max(worst_ts, float(np.abs(traced[pick] - expected[pick]).max()))
    return {"onnx_max_abs_diff": worst_onnx, "torchscript_max_abs_diff": worst_ts}


def provenance(
    meta: dict[str, Any], checkpoint: Path, metrics: dict[str, Any] | None, opset: int
) -> dict[str, Any]:
    """Card fields about origin: metrics, data checksum, commit, checkpoint, files, versions."""
    return {
        "metrics": metrics,
        "dataset_card_sha256": meta["dataset_card_sha256"],
        "git_commit": git_commit(Path(__file__).resolve().parent),
        "checkpoint": {
            "source": str(checkpoint),
            "epoch": meta["epoch"],
            "global_step": meta["global_step"],
            **({"averaged_from": meta["averaged_from"]} if meta.get("averaged_from") else {}),
        },
        "files": {"onnx": ONNX_FILE, "torchscript": TORCHSCRIPT_FILE, "checkpoint": CKPT_FILE},
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "onnx_opset": opset,
        },
        "exported_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def write_card(
    output_dir: Path, card: dict[str, Any], worst: float, tolerance: float, checkpoint: Path
) -> Path:
    """Write ``model_card.json``; refuse (RuntimeError) an export whose parity is off."""
    (output_dir / CARD_FILE).write_text(json.dumps(card, indent=2) + "\n")
    if worst > tolerance:
        raise RuntimeError(
            f"export differs from PyTorch by {worst:.3g} (> {tolerance}): {card.get('parity')}; "
            f"see {output_dir}"
        )
    log.info("exported %s -> %s (max parity difference %.2g)", checkpoint, output_dir, worst)
    return output_dir
