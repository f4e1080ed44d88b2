"""Export of the block-map model: files, card, ONNX Runtime / TorchScript parity on any size."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from training.checkpoints import load_network
from training.export_block_map import OUTPUT_NAMES, parity_frames


def test_export_folder_and_card(block_export: Path) -> None:
    for name in ("model.onnx", "model.ts", "model.ckpt", "model_card.json"):
        assert (block_export / name).is_file(), name
    card = json.loads((block_export / "model_card.json").read_text())
    assert card["detector"] == "block_corruption" and card["classes"] == ["clean", "corrupted"]
    assert card["input"]["shape"] == ["batch", "height", "width", 3]
    assert card["input"]["dtype"] == "uint8"
    assert card["outputs"] == OUTPUT_NAMES
    assert card["decision"]["area_threshold"] == 0.07 and card["decision"]["stride"] == 32
    assert card["detect"]["kind"] == "frames"
    assert card["metrics"]["v1"] and card["metrics"]["v2"]
    for kind in ("onnx_max_abs_diff", "torchscript_max_abs_diff"):
        assert max(card["parity"][kind][n] for n in card["parity"]["checked_outputs"]) < 1e-4


def test_onnx_axes_are_dynamic(block_export: Path) -> None:
    graph = onnx.load(str(block_export / "model.onnx")).graph
    dims = graph.input[0].type.tensor_type.shape.dim
    assert [bool(d.dim_param) for d in dims] == [True, True, True, False]
    assert dims[3].dim_value == 3


@pytest.mark.parametrize(("batch", "height", "width"), [(1, 224, 224), (3, 96, 160), (1, 72, 130)])
def test_runtimes_match_pytorch(block_export: Path, batch: int, height: int, width: int) -> None:
    """Raw uint8 frames of sizes never seen at export time; ONNX Runtime and TorchScript agree
    with the checkpoint's network within 1e-4."""
    net, _ = load_network(block_export / "model.ckpt")
    frames = parity_frames(batch, height, width, seed=batch + height)
    with torch.no_grad():
        expected = net(torch.from_numpy(frames))
    session = ort.InferenceSession(str(block_export / "model.onnx"))
    got = dict(zip(OUTPUT_NAMES, session.run(OUTPUT_NAMES, {"frames": frames}), strict=True))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        scripted = torch.jit.load(str(block_export / "model.ts"))
    with torch.no_grad():
        traced = dict(zip(OUTPUT_NAMES, scripted(torch.from_numpy(frames)), strict=True))
    cells = (-(-height // 32), -(-width // 32))
    assert got["corruption_map"].shape == (batch, *cells)
    for name in ("corruption_map_logits", "corruption_map", "frame_logit", "frame_score"):
        reference = getattr(expected, name).numpy()
        np.testing.assert_allclose(got[name], reference, atol=1e-4, rtol=0, err_msg=name)
        np.testing.assert_allclose(traced[name].numpy(), reference, atol=1e-4, rtol=0)
