"""Export: ONNX Runtime matches PyTorch (batch 1 and >1), TorchScript loads, the card is full."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from training.checkpoints import load_network
from training.export import export_checkpoint, main, parity_inputs


def test_export_folder_and_card(trained_export: Path) -> None:
    for name in ("model.onnx", "model.ts", "model.ckpt", "model_card.json"):
        assert (trained_export / name).is_file(), name
    card = json.loads((trained_export / "model_card.json").read_text())
    assert card["classes"] == ["none", "hum", "hiss", "distortion", "clicks"]
    assert card["sample_rate"] == 32000 and card["segment_samples"] == 32000
    assert card["features"]["n_mels"] == 64 and card["features"]["n_fft"] == 1024
    run_metrics = json.loads(
        (Path(card["checkpoint"]["source"]).parents[1] / "metrics.json").read_text()
    )
    assert card["metrics"]["bal_acc"] == run_metrics["bal_acc"]
    assert card["dataset_card_sha256"] == run_metrics["dataset_card_sha256"]
    assert "git_commit" in card
    assert max(card["parity"]["onnx_max_abs_diff"].values()) < 1e-4
    assert card["parity"]["torchscript_max_abs_diff"] < 1e-4


@pytest.mark.parametrize("batch", [1, 7])
def test_onnx_matches_pytorch(trained_export: Path, batch: int) -> None:
    """Dynamic batch axis; raw waveform in, same scores out (within 1e-4)."""
    net, _ = load_network(trained_export / "model.ckpt")
    net.frontend.method = "dft"
    inputs = parity_inputs(batch, 32000, seed=11)
    inputs[0] *= 0.01  # a quiet segment: log-mel near the floor is where exports drift
    session = ort.InferenceSession(str(trained_export / "model.onnx"))
    assert [o.name for o in session.get_outputs()] == ["logits", "probabilities"]
    logits, probabilities = session.run(None, {"waveform": inputs})
    with torch.no_grad():
        expected = net(torch.from_numpy(inputs))
    assert logits.shape == (batch, 5)
    np.testing.assert_allclose(logits, expected.logits.numpy(), atol=1e-4, rtol=0)
    np.testing.assert_allclose(probabilities, expected.probabilities.numpy(), atol=1e-4, rtol=0)
    net.frontend.method = "stft"  # the training-time features give the same scores
    with torch.no_grad():
        trained = net(torch.from_numpy(inputs)).probabilities.numpy()
    np.testing.assert_allclose(probabilities, trained, atol=1e-4, rtol=0)


def test_onnx_graph_is_plain(trained_export: Path) -> None:
    """Only standard operators (no STFT/DFT op, no custom domains) with a symbolic batch axis."""
    model = onnx.load(str(trained_export / "model.onnx"))
    ops = {node.op_type for node in model.graph.node}
    assert not ops & {"STFT", "DFT"}
    assert {node.domain for node in model.graph.node} <= {"", "ai.onnx"}
    batch_dim = model.graph.input[0].type.tensor_type.shape.dim[0]
    assert batch_dim.dim_param


def test_export_entry_point(trained_export: Path, tmp_path: Path, monkeypatch) -> None:
    """``python -m training.export checkpoint=... output_dir=...`` (what `make export` runs)."""
    out = tmp_path / "cli_export"
    argv = ["training.export", f"checkpoint={trained_export / 'model.ckpt'}", f"output_dir={out}"]
    monkeypatch.setattr(sys, "argv", argv)
    main()
    assert json.loads((out / "model_card.json").read_text())["detector"] == "audio_artifact"


def test_export_refuses_foreign_checkpoint(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.ckpt"
    torch.save({"state_dict": {}}, bogus)
    with pytest.raises(ValueError, match="model_config"):
        export_checkpoint(bogus, tmp_path / "out")
