"""Load an exported frame-map detector (block corruption) for inference on any-size RGB frames.

Same files and runtimes as the segment detectors (``training.detect.runtime``): ONNX Runtime by
default (no PyTorch import), TorchScript, or the Lightning ``.ckpt``. Every runtime returns the
same named outputs (``BlockMapOutputs``' fields) as numpy arrays.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from training.detect.runtime import ModelLoadError, _read_card, _threads, resolve_model_file

OUTPUTS = ("corruption_map", "frame_score", "area_ratio")


@dataclass
class FrameMapModel:
    """Callable ``(batch, H, W, 3) uint8 -> {"corruption_map", "frame_score", "area_ratio"}``."""

    card: dict[str, Any]
    runtime: str
    path: str
    _run: Any = field(repr=False, default=None)

    @property
    def decision(self) -> dict[str, Any]:
        return dict(self.card.get("decision") or {})

    def __call__(self, frames: np.ndarray) -> dict[str, np.ndarray]:
        frames = np.ascontiguousarray(frames, dtype=np.uint8)
        if frames.ndim != 4 or frames.shape[-1] != 3:
            raise ValueError(f"frames must be (batch, H, W, 3) RGB uint8, got {frames.shape}")
        return self._run(frames)


def _onnx(path: os.PathLike[str], card: dict[str, Any], threads: int | None) -> FrameMapModel:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = _threads(threads)
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name

    def run(frames: np.ndarray) -> dict[str, np.ndarray]:
        values = session.run(list(OUTPUTS), {input_name: frames})
        return dict(zip(OUTPUTS, values, strict=True))

    return FrameMapModel(card, "onnx", str(path), run)


def _torch_runner(module: Any) -> Any:
    import torch

    def run(frames: np.ndarray) -> dict[str, np.ndarray]:
        with torch.inference_mode():
            outputs = module(torch.from_numpy(frames))
        named = outputs._asdict() if hasattr(outputs, "_asdict") else None
        if named is None:  # TorchScript returns a plain tuple in BlockMapOutputs' field order
            from training.models.block_map import BlockMapOutputs

            named = dict(zip(BlockMapOutputs._fields, outputs, strict=True))
        return {name: named[name].numpy() for name in OUTPUTS}

    return run


def _torchscript(
    path: os.PathLike[str], card: dict[str, Any], threads: int | None
) -> FrameMapModel:
    import warnings

    import torch

    torch.set_num_threads(_threads(threads))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # TorchScript is deprecated upstream
        module = torch.jit.load(str(path), map_location="cpu").eval()
    return FrameMapModel(card, "torchscript", str(path), _torch_runner(module))


def _checkpoint(path: os.PathLike[str], threads: int | None) -> FrameMapModel:
    import torch

    from training.checkpoints import load_network

    torch.set_num_threads(_threads(threads))
    try:
        net, meta = load_network(path)
    except (FileNotFoundError, ValueError, KeyError, RuntimeError) as error:
        raise ModelLoadError(f"{path}: cannot load checkpoint ({error})") from error
    if not hasattr(net, "decisions"):
        raise ModelLoadError(f"{path}: not a frame-map (block corruption) checkpoint")
    detector = meta["detector"]
    card = {
        "detector": detector.get("name"),
        "classes": list(detector.get("classes") or []),
        "decision": net.settings(),
        "detect": detector.get("detect") or {},
        "dataset_card_sha256": meta["dataset_card_sha256"],
        "checkpoint": {"source": str(path), "epoch": meta["epoch"]},
    }
    return FrameMapModel(card, "torch", str(path), _torch_runner(net))


def load_frame_model(
    checkpoint: str | os.PathLike[str], runtime: str = "auto", threads: int | None = None
) -> FrameMapModel:
    """``checkpoint`` = export folder, its ``model.onnx``/``model.ts``, or a ``.ckpt``."""
    runtime, target, folder = resolve_model_file(checkpoint, runtime)
    if runtime == "torch":
        return _checkpoint(target, threads)
    card = _read_card(folder)
    if "decision" not in card:
        raise ModelLoadError(f"{folder}: not a frame-map export (its card has no 'decision')")
    return (_onnx if runtime == "onnx" else _torchscript)(target, card, threads)
