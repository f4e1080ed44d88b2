"""Export a checkpoint for users: ONNX + TorchScript + the .ckpt + model_card.json, checked.

    python -m training.export checkpoint=logs/train/runs/<run>/checkpoints/epoch_007.ckpt
    python -m training.export checkpoint=... output_dir=exports/audio_artifact/mine

The exported network takes raw mono waveform ``(batch, segment_samples)`` float32 in [-1, 1]
(the log-mel front end is inside) and returns ``logits`` and ``probabilities`` ``(batch, classes)``.
The batch axis is dynamic. ONNX Runtime is compared with PyTorch on batch 1 and batch > 1
before the card is written; the card records the largest difference and the export fails if it
exceeds the tolerance (a silently wrong export is worse than none).
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from training.checkpoints import load_network
from training.export_common import (
    ONNX_FILE,
    TORCHSCRIPT_FILE,
    copy_checkpoint,
    provenance,
    quiet_exporters,
    write_card,
)
from training.models.pann import SegmentScores

INPUT_NAME = "waveform"
OUTPUT_NAMES = list(SegmentScores._fields)
PARITY_TOLERANCE = 1e-4


def parity_inputs(batch: int, samples: int, seed: int = 0) -> np.ndarray:
    """Audio-like test inputs: tones + noise at several levels, one silent segment (log floor)."""
    rng = np.random.default_rng(seed)
    t = np.arange(samples) / 32000.0
    rows = []
    for i in range(batch):
        tone = np.sin(2 * np.pi * rng.uniform(60, 4000) * t) * rng.uniform(0.05, 0.5)
        noise = rng.standard_normal(samples) * rng.uniform(0.001, 0.1)
        rows.append(tone + noise if i != 1 else np.zeros(samples))
    return np.clip(np.stack(rows), -1, 1).astype(np.float32)


def export_onnx(net: torch.nn.Module, path: Path, samples: int, opset: int = 18) -> None:
    quiet_exporters()
    example = torch.from_numpy(parity_inputs(2, samples))
    batch = torch.export.Dim("batch", min=1, max=4096)
    program = torch.onnx.export(
        net,
        (example,),
        input_names=[INPUT_NAME],
        output_names=OUTPUT_NAMES,
        dynamic_shapes=({0: batch},),
        opset_version=opset,
        external_data=False,
        dynamo=True,
        verbose=False,
    )
    program.save(str(path), external_data=False)


def export_torchscript(net: torch.nn.Module, path: Path, samples: int) -> None:
    example = torch.from_numpy(parity_inputs(2, samples))
    with torch.no_grad(), warnings.catch_warnings():
        # TorchScript is deprecated upstream but still what many C++/mobile users load.
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        traced = torch.jit.trace(net, (example,), strict=False, check_trace=False)
    traced.save(str(path))


def _scores(net: torch.nn.Module, inputs: np.ndarray) -> list[np.ndarray]:
    with torch.no_grad():
        return [t.numpy() for t in net(torch.from_numpy(inputs))]


def onnx_parity(
    net: torch.nn.Module,
    path: Path,
    samples: int,
    reference: dict[int, list[np.ndarray]] | None = None,
) -> dict[str, float]:
    """Max |ORT - PyTorch| on logits and probabilities for batch 1 and batch 5 (PyTorch = ``net``
    as it is, or the precomputed ``reference`` outputs)."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    worst = {name: 0.0 for name in OUTPUT_NAMES}
    for batch in (1, 5):
        inputs = parity_inputs(batch, samples, seed=batch)
        expected = reference[batch] if reference else _scores(net, inputs)
        got = session.run(OUTPUT_NAMES, {INPUT_NAME: inputs})
        for name, ours, theirs in zip(OUTPUT_NAMES, got, expected, strict=True):
            worst[name] = max(worst[name], float(np.abs(ours - theirs).max()))
    return worst


def torchscript_parity(net: torch.nn.Module, path: Path, samples: int) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        scripted = torch.jit.load(str(path))
    inputs = torch.from_numpy(parity_inputs(3, samples, seed=7))
    with torch.no_grad():
        return float((scripted(inputs)[1] - net(inputs).probabilities).abs().max())


def export_checkpoint(
    checkpoint: str | Path,
    output_dir: str | Path,
    metrics: dict[str, Any] | None = None,
    opset: int = 18,
    tolerance: float = PARITY_TOLERANCE,
) -> Path:
    """Write ``model.onnx``, ``model.ts``, ``model.ckpt`` and ``model_card.json`` into
    ``output_dir`` and return it. ``metrics`` default to the run's ``metrics.json`` if found."""
    checkpoint = Path(checkpoint)
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    net, meta = load_network(checkpoint)
    if metrics is None:
        found = checkpoint.resolve().parent.parent / "metrics.json"
        metrics = json.loads(found.read_text()) if found.is_file() else None
    if type(net).__name__ == "BlockMapModel":  # frame-map detectors have their own exporter
        from training.export_block_map import export_block_map

        return export_block_map(net, meta, checkpoint, output_dir, metrics, opset, tolerance)
    if type(net).__name__ == "FreezeNet":  # ...and so do clip (frame-sequence) detectors
        from training.export_freeze import export_freeze

        return export_freeze(net, meta, checkpoint, output_dir, metrics, opset, tolerance)
    if type(net).__name__ == "SyncNet":  # ...and the two-stream lip-sync network
        from training.export_lip_sync import export_lip_sync

        return export_lip_sync(net, meta, checkpoint, output_dir, metrics, opset, tolerance)
    detector = meta["detector"]
    frontend = net.frontend
    samples = frontend.segment_samples
    # Training computes features with torch.stft; exports carry the factorised-DFT graph (same
    # values to ~1e-5 dB, exportable, fast in ONNX Runtime). Compare against both.
    frontend.method = "stft"
    reference = {b: _scores(net, parity_inputs(b, samples, seed=b)) for b in (1, 5)}
    frontend.method = "dft"

    export_onnx(net, output_dir / ONNX_FILE, samples, opset)
    export_torchscript(net, output_dir / TORCHSCRIPT_FILE, samples)
    copy_checkpoint(checkpoint, output_dir)
    parity = onnx_parity(net, output_dir / ONNX_FILE, samples)
    stft_diff = onnx_parity(net, output_dir / ONNX_FILE, samples, reference)
    ts_diff = torchscript_parity(net, output_dir / TORCHSCRIPT_FILE, samples)

    card = {
        "detector": detector.get("name"),
        "classes": list(detector.get("classes") or []),
        "sample_rate": frontend.sample_rate,
        "segment_s": detector.get("segment_s", samples / frontend.sample_rate),
        "segment_samples": samples,
        "channels": 1,
        "input": {
            "name": INPUT_NAME,
            "shape": ["batch", samples],
            "dtype": "float32",
            "meaning": "mono waveform in [-1, 1] at sample_rate; features are computed inside",
        },
        "outputs": OUTPUT_NAMES,
        "features": {**frontend.settings(), "exported_method": "factorised DFT (conv+matmul)"},
        "backbone": meta["model_config"].get("backbone"),
        "branches": sorted(getattr(net, "branches", {}) or {}),
        "mains_spectrum": (
            net.branches["mains"].spectrum.settings() if "mains" in net.branches else None
        ),
        "parameters": sum(p.numel() for p in net.parameters()),
        "detect": detector.get("detect") or {},
        "parity": {
            "onnx_max_abs_diff": parity,
            "onnx_vs_training_features_max_abs_diff": stft_diff,
            "torchscript_max_abs_diff": ts_diff,
            "tolerance": tolerance,
            "inputs": "tones + noise, one silent segment; batch 1 and 5",
        },
        **provenance(meta, checkpoint, metrics, opset),
    }
    return write_card(output_dir, card, max(parity.values()), tolerance, checkpoint)


def main() -> None:
    """``python -m training.export checkpoint=PATH [output_dir=DIR] [opset=18]`` (Hydra)."""
    os.environ.setdefault("PROJECT_ROOT", str(Path(__file__).resolve().parent.parent))
    import hydra
    from omegaconf import DictConfig

    config_dir = str(Path(__file__).resolve().parent.parent / "conf")

    @hydra.main(version_base="1.3", config_path=config_dir, config_name="export")
    def run(cfg: DictConfig) -> None:
        try:
            name = cfg.output_dir or _default_export_dir(cfg)
            out = export_checkpoint(cfg.checkpoint, name, opset=cfg.opset)
        except (FileNotFoundError, ValueError, RuntimeError) as error:
            print(f"error: {error}", file=sys.stderr)
            sys.exit(2)
        print(out)

    run()


def _default_export_dir(cfg: Any) -> Path:
    """``<export_dir>/<detector>/<run name>`` where the run name is the checkpoint's run folder."""
    checkpoint = Path(cfg.checkpoint).resolve()
    detector = (
        torch.load(checkpoint, map_location="cpu", weights_only=True).get("detector") or {}
    ).get("name", "detector")
    run = (
        checkpoint.parent.parent.name
        if checkpoint.parent.name == "checkpoints"
        else checkpoint.stem
    )
    return Path(cfg.paths.export_dir) / detector / run


if __name__ == "__main__":
    main()
