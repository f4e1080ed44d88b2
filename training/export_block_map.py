"""Export a block-corruption map model: ONNX + TorchScript + the .ckpt + model_card.json, checked.

``training.export.export_checkpoint`` dispatches here for ``BlockMapModel`` networks. The exported
network takes raw frames, ``frames`` uint8 ``(batch, height, width, 3)`` RGB, any size (batch,
height and width are dynamic axes; sizes that are not multiples of 32 give partial edge cells),
and returns the ``BlockMapOutputs`` fields: the corruption map (logits and probabilities,
``(batch, ceil(H/32), ceil(W/32))``), the v2 frame logit and score, and the v1 area ratio.

Parity: ONNX Runtime and TorchScript are compared with PyTorch on two sizes (224x224, batch 1;
a non-square size that is not a multiple of 32, batch 2). The continuous outputs must agree within
the tolerance or the export fails. The v1 area ratio counts cells above a threshold, so a cell
whose probability sits within float error of it may flip; that difference is recorded, not fatal.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from training.export_common import (
    ONNX_FILE,
    TORCHSCRIPT_FILE,
    copy_checkpoint,
    provenance,
    quiet_exporters,
    write_card,
)
from training.models.block_map import BlockMapModel, BlockMapOutputs

INPUT_NAME = "frames"
OUTPUT_NAMES = list(BlockMapOutputs._fields)
CONTINUOUS_OUTPUTS = [name for name in OUTPUT_NAMES if name != "area_ratio"]
PARITY_SHAPES = ((1, 224, 224), (2, 200, 328))


def parity_frames(batch: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    """Image-like uint8 frames: gradients and noise, with a flat and a shifted macroblock run
    (the features the map reacts to), so parity is checked away from a trivial input."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    frames = []
    for _ in range(batch):
        base = np.stack(
            [
                80 + 100 * np.sin(x / rng.uniform(20, 80) + rng.uniform(0, 6)) * (y / height),
                120 + 60 * np.cos(y / rng.uniform(20, 80)),
                rng.uniform(40, 200) + 0 * x,
            ],
            axis=-1,
        )
        frame = (base + rng.normal(0, 8, base.shape)).clip(0, 255).astype(np.uint8)
        frame[16:32, 32 : min(width, 96)] = (0, 140, 0)
        frame[48:64, : width // 2] = np.roll(frame[48:64, : width // 2], 24, axis=1)
        frames.append(frame)
    return np.stack(frames)


def export_onnx(net: BlockMapModel, path: Path, opset: int = 18) -> None:
    quiet_exporters()
    example = torch.from_numpy(parity_frames(2, 256, 320))
    dims = {
        0: torch.export.Dim("batch", min=1, max=1024),
        1: torch.export.Dim("height", min=32, max=8192),
        2: torch.export.Dim("width", min=32, max=8192),
    }
    program = torch.onnx.export(
        net,
        (example,),
        input_names=[INPUT_NAME],
        output_names=OUTPUT_NAMES,
        dynamic_shapes=(dims,),
        opset_version=opset,
        external_data=False,
        dynamo=True,
        verbose=False,
    )
    program.save(str(path), external_data=False)


def export_torchscript(net: BlockMapModel, path: Path) -> None:
    example = torch.from_numpy(parity_frames(2, 256, 320))
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # TorchScript is deprecated upstream
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        traced = torch.jit.trace(net, (example,), strict=False, check_trace=False)
    traced.save(str(path))


def _torch_outputs(net: BlockMapModel, frames: np.ndarray) -> dict[str, np.ndarray]:
    with torch.no_grad():
        outputs = net(torch.from_numpy(frames))
    return {name: value.numpy() for name, value in outputs._asdict().items()}


def _compare(
    expected: dict[str, np.ndarray], got: dict[str, np.ndarray], worst: dict[str, float]
) -> None:
    for name in OUTPUT_NAMES:
        if expected[name].shape != got[name].shape:
            raise RuntimeError(f"export output {name}: {got[name].shape} != {expected[name].shape}")
        worst[name] = max(worst[name], float(np.abs(expected[name] - got[name]).max()))


def parity(net: BlockMapModel, onnx_path: Path, torchscript_path: Path) -> dict[str, Any]:
    """Max |export - PyTorch| per output for ONNX Runtime and TorchScript, on ``PARITY_SHAPES``."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        scripted = torch.jit.load(str(torchscript_path))
    onnx_worst = dict.fromkeys(OUTPUT_NAMES, 0.0)
    ts_worst = dict.fromkeys(OUTPUT_NAMES, 0.0)
    for seed, shape in enumerate(PARITY_SHAPES):
        frames = parity_frames(*shape, seed=seed)
        expected = _torch_outputs(net, frames)
        got = session.run(OUTPUT_NAMES, {INPUT_NAME: frames})
        _compare(expected, dict(zip(OUTPUT_NAMES, got, strict=True)), onnx_worst)
        with torch.no_grad():
            traced = scripted(torch.from_numpy(frames))
        _compare(
            expected, {n: t.numpy() for n, t in zip(OUTPUT_NAMES, traced, strict=True)}, ts_worst
        )
    return {"onnx_max_abs_diff": onnx_worst, "torchscript_max_abs_diff": ts_worst}


def export_block_map(
    net: BlockMapModel,
    meta: dict[str, Any],
    checkpoint: Path,
    output_dir: Path,
    metrics: dict[str, Any] | None,
    opset: int,
    tolerance: float,
) -> Path:
    """Write the four files into ``output_dir``; fail if an export disagrees with PyTorch."""
    detector = meta["detector"]
    export_onnx(net, output_dir / ONNX_FILE, opset)
    export_torchscript(net, output_dir / TORCHSCRIPT_FILE)
    copy_checkpoint(checkpoint, output_dir)
    differences = parity(net, output_dir / ONNX_FILE, output_dir / TORCHSCRIPT_FILE)
    card = {
        "detector": detector.get("name"),
        "classes": list(detector.get("classes") or []),
        "groups": list(detector.get("groups") or []),
        "input": {
            "name": INPUT_NAME,
            "shape": ["batch", "height", "width", 3],
            "dtype": "uint8",
            "meaning": "RGB frames, channels last, any size; ImageNet normalisation is inside",
        },
        "outputs": OUTPUT_NAMES,
        "output_shapes": {
            "corruption_map_logits": ["batch", "ceil(height/32)", "ceil(width/32)"],
            "corruption_map": ["batch", "ceil(height/32)", "ceil(width/32)"],
            "frame_logit": ["batch"],
            "frame_score": ["batch"],
            "area_ratio": ["batch"],
        },
        "decision": {
            **net.settings(),
            "v1": "corrupted if area_ratio > area_threshold (area_ratio = share of map cells "
            "with probability > map_threshold)",
            "v2": "corrupted if frame_score > frame_threshold",
        },
        "backbone": meta["model_config"].get("backbone"),
        "parameters": sum(p.numel() for p in net.parameters()),
        "detect": detector.get("detect") or {},
        "parity": {
            **differences,
            "tolerance": tolerance,
            "checked_outputs": CONTINUOUS_OUTPUTS,
            "inputs": "image-like frames, batch 1 at 224x224 and batch 2 at 200x328",
        },
        **provenance(meta, checkpoint, metrics, opset),
    }
    worst = max(
        differences[kind][name]
        for kind in ("onnx_max_abs_diff", "torchscript_max_abs_diff")
        for name in CONTINUOUS_OUTPUTS
    )
    return write_card(output_dir, card, worst, tolerance, checkpoint)
