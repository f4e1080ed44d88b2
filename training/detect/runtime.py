"""Load an exported detector for inference: ONNX Runtime, TorchScript, or a Lightning .ckpt.

ONNX Runtime is the default because it does not need PyTorch at all: importing torch alone takes
longer than analysing an hour of audio with the light model, and detection speed is counted with
start-up included. TorchScript and .ckpt are there for users who already live in PyTorch.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

CARD_FILE = "model_card.json"
RUNTIME_FILES = {"onnx": "model.onnx", "torchscript": "model.ts", "torch": "model.ckpt"}


def report_sidecar(media: Path, report_path: Path | None, kind: str) -> Path:
    """Where detect.py writes a picture that goes with a report: ``report.json`` ->
    ``report.<kind>.png``; a report printed to stdout -> ``./<media name>.<kind>.png``."""
    if report_path is None:
        return Path.cwd() / f"{media.name}.{kind}.png"
    return report_path.with_name(report_path.name.removesuffix(".json") + f".{kind}.png")


class ModelLoadError(Exception):
    """The detector cannot be loaded; ``str()`` says which file and why."""


@dataclass
class SegmentModel:
    """Callable ``(batch, samples) float32 -> (batch, classes) probabilities`` with its card."""

    card: dict[str, Any]
    runtime: str
    path: str
    _run: Any = field(repr=False, default=None)

    @property
    def classes(self) -> list[str]:
        return list(self.card["classes"])

    @property
    def sample_rate(self) -> int:
        return int(self.card["sample_rate"])

    @property
    def segment_samples(self) -> int:
        return int(
            self.card.get("segment_samples") or round(self.card["segment_s"] * self.sample_rate)
        )

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return self._run(np.ascontiguousarray(batch, dtype=np.float32))


def _threads(threads: int | None) -> int:
    return int(threads) if threads else max(1, len(os.sched_getaffinity(0)))


def _onnx(path: Path, card: dict[str, Any], threads: int | None) -> SegmentModel:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = _threads(threads)
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Idle worker threads must sleep, not spin: detection decodes the next block in another
    # thread on the same cores, and spinning threads would take its CPU.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name

    def run(batch: np.ndarray) -> np.ndarray:
        return session.run(["probabilities"], {input_name: batch})[0]

    return SegmentModel(card, "onnx", str(path), run)


def _torchscript(path: Path, card: dict[str, Any], threads: int | None) -> SegmentModel:
    import warnings

    import torch

    torch.set_num_threads(_threads(threads))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # TorchScript is deprecated upstream
        module = torch.jit.load(str(path), map_location="cpu").eval()

    def run(batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return module(torch.from_numpy(batch))[1].numpy()

    return SegmentModel(card, "torchscript", str(path), run)


def _checkpoint(path: Path, threads: int | None) -> SegmentModel:
    import torch

    from training.checkpoints import load_network

    torch.set_num_threads(_threads(threads))
    try:
        net, meta = load_network(path)
    except (FileNotFoundError, ValueError, KeyError, RuntimeError) as error:
        raise ModelLoadError(f"{path}: cannot load checkpoint ({error})") from error
    detector = meta["detector"]
    frontend = net.frontend
    card = {
        "detector": detector.get("name"),
        "classes": list(detector.get("classes") or []),
        "sample_rate": frontend.sample_rate,
        "segment_s": detector.get("segment_s", frontend.segment_samples / frontend.sample_rate),
        "segment_samples": frontend.segment_samples,
        "features": frontend.settings(),
        "detect": detector.get("detect") or {},
        "dataset_card_sha256": meta["dataset_card_sha256"],
        "checkpoint": {"source": str(path), "epoch": meta["epoch"]},
    }

    def run(batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return net(torch.from_numpy(batch)).probabilities.numpy()

    return SegmentModel(card, "torch", str(path), run)


def _read_card(folder: Path) -> dict[str, Any]:
    card_path = folder / CARD_FILE
    if not card_path.is_file():
        raise ModelLoadError(f"{folder}: no {CARD_FILE} (is this an export folder?)")
    try:
        return json.loads(card_path.read_text())
    except json.JSONDecodeError as error:
        raise ModelLoadError(f"{card_path}: not valid JSON ({error})") from error


def resolve_model_file(
    checkpoint: str | os.PathLike[str], runtime: str = "auto"
) -> tuple[str, Path, Path]:
    """``(runtime, model file, export folder)`` for an export folder, a ``model.onnx``/``model.ts``
    inside one, or a ``.ckpt`` (runtime ``torch``). Shared by every detector's loader.

    ``runtime``: ``auto`` (ONNX if present, else TorchScript, else the checkpoint), ``onnx``,
    ``torchscript`` or ``torch``.
    """
    path = Path(checkpoint)
    if not path.exists():
        raise ModelLoadError(f"{path}: no such export folder or checkpoint")
    if path.is_file() and path.suffix == ".ckpt":
        return "torch", path, path.parent
    folder = path if path.is_dir() else path.parent
    if path.is_file():
        by_suffix = {".onnx": "onnx", ".ts": "torchscript", ".pt": "torchscript"}
        if path.suffix not in by_suffix:
            raise ModelLoadError(f"{path}: expected an export folder, .onnx, .ts or .ckpt")
        runtime = by_suffix[path.suffix]
        files = {runtime: path}
    else:
        files = {name: folder / file for name, file in RUNTIME_FILES.items()}
    if runtime == "auto":
        runtime = next((r for r in ("onnx", "torchscript", "torch") if files[r].is_file()), "")
        if not runtime:
            raise ModelLoadError(f"{folder}: no model.onnx, model.ts or model.ckpt")
    if runtime not in RUNTIME_FILES:
        raise ModelLoadError(f"unknown runtime {runtime!r}; use auto, onnx, torchscript or torch")
    target = files[runtime]
    if not target.is_file():
        raise ModelLoadError(f"{target}: missing (runtime={runtime})")
    return runtime, target, folder


def read_export_card(checkpoint: str | os.PathLike[str]) -> tuple[Path, dict[str, Any]]:
    """``(export folder, its model card)`` for an export folder or a file inside one; read before
    any weights, so a detector can refuse an export it cannot run with a precise reason."""
    path = Path(checkpoint)
    folder = path.parent if path.is_file() else path
    if not folder.is_dir():
        raise ModelLoadError(f"{path}: no such export folder")
    return folder, _read_card(folder)


@dataclass
class ExportedGraph:
    """An export with named inputs and outputs (clip and lip-sync detectors), behind ONNX Runtime
    or TorchScript: ``graph({"name": array, ...}, ["output", ...]) -> [array, ...]``. TorchScript
    returns a tuple in the order of the card's ``outputs``, which names it."""

    card: dict[str, Any]
    runtime: str
    path: str
    _run: Any = field(repr=False, default=None)

    def __call__(self, inputs: dict[str, np.ndarray], outputs: list[str]) -> list[np.ndarray]:
        return self._run(inputs, outputs)


def load_graph(
    checkpoint: str | os.PathLike[str],
    card: dict[str, Any],
    runtime: str = "auto",
    threads: int | None = None,
) -> ExportedGraph:
    """The ONNX (``auto``/``onnx``) or TorchScript graph of an export whose ``card`` was read."""
    runtime, target, folder = resolve_model_file(checkpoint, runtime)
    if runtime == "torch":  # a .ckpt (or runtime=torch): run the graph exported beside it
        onnx_file = folder / RUNTIME_FILES["onnx"]
        runtime, target = (
            ("onnx", onnx_file)
            if onnx_file.is_file()
            else ("torchscript", folder / RUNTIME_FILES["torchscript"])
        )
    if runtime == "onnx":
        import onnxruntime

        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = int(threads)
        session = onnxruntime.InferenceSession(
            str(target), options, providers=["CPUExecutionProvider"]
        )
        return ExportedGraph(
            card, "onnx", str(target), lambda inputs, names: session.run(names, inputs)
        )
    if not target.is_file():
        raise ModelLoadError(f"{target}: missing (this detector runs model.onnx or model.ts)")
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # TorchScript is deprecated upstream
        module = torch.jit.load(str(target), map_location="cpu").eval()
    order = list(card["outputs"])

    def run(inputs: dict[str, np.ndarray], names: list[str]) -> list[np.ndarray]:
        with torch.no_grad():
            values = module(*(torch.from_numpy(array) for array in inputs.values()))
        return [values[order.index(name)].numpy() for name in names]

    return ExportedGraph(card, "torchscript", str(target), run)


def load_segment_model(
    checkpoint: str | os.PathLike[str], runtime: str = "auto", threads: int | None = None
) -> SegmentModel:
    """``checkpoint`` = export folder, ``model.onnx``/``model.ts`` inside one, or a ``.ckpt``
    (see ``resolve_model_file`` for ``runtime``)."""
    runtime, target, folder = resolve_model_file(checkpoint, runtime)
    if runtime == "torch":
        return _checkpoint(target, threads)
    card = _read_card(folder)
    return (_onnx if runtime == "onnx" else _torchscript)(target, card, threads)
