"""Weight averaging of checkpoints (training.average_checkpoints): the arithmetic, what is kept
from the first checkpoint, the record, and the refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from training.average_checkpoints import average_checkpoints, main
from training.checkpoints import load_network
from training.export_block_map import parity_frames
from training.export_common import provenance


def _shifted(source: Path, out: Path, shift: float, threshold: float) -> Path:
    """``source`` with every floating weight moved by ``shift`` and its own frame threshold."""
    checkpoint = torch.load(source, map_location="cpu", weights_only=True)
    for key, value in checkpoint["state_dict"].items():
        if torch.is_floating_point(value):
            checkpoint["state_dict"][key] = value + shift
    checkpoint["state_dict"]["net.frame_threshold"] = torch.tensor(threshold)
    checkpoint["global_step"] = 99
    torch.save(checkpoint, out)
    return out


@pytest.fixture
def two_checkpoints(block_export: Path, tmp_path: Path) -> tuple[Path, Path]:
    first = _shifted(block_export / "model.ckpt", tmp_path / "first.ckpt", 0.0, 0.3)
    return first, _shifted(block_export / "model.ckpt", tmp_path / "second.ckpt", 0.4, 0.9)


def test_weighted_average_of_weights_and_statistics(
    two_checkpoints: tuple[Path, Path], tmp_path: Path
) -> None:
    first, second = two_checkpoints
    out = average_checkpoints([first, second], tmp_path / "soup.ckpt", weights=[1.0, 3.0])
    states = [torch.load(p, map_location="cpu", weights_only=True) for p in (first, second, out)]
    a, b, soup = (s["state_dict"] for s in states)
    checked = 0
    for key, value in soup.items():
        if key.endswith("_threshold") or not torch.is_floating_point(value):
            assert torch.equal(value, a[key]), key  # decision buffers, counters: the first's
            continue
        torch.testing.assert_close(value, 0.25 * a[key] + 0.75 * b[key], rtol=0, atol=1e-6)
        checked += 1
    assert "net.backbone.bn1.running_var" in soup and checked > 50  # statistics averaged too
    assert float(soup["net.frame_threshold"]) == pytest.approx(0.3)
    record = states[2]["averaged_from"]
    assert [r["weight"] for r in record] == [0.25, 0.75]
    assert [r["checkpoint"] for r in record] == [str(first), str(second)]


def test_average_loads_and_runs_and_its_export_records_the_members(
    two_checkpoints: tuple[Path, Path], tmp_path: Path
) -> None:
    """The average of a network with itself is that network; export provenance names members."""
    first, _ = two_checkpoints
    out = average_checkpoints([first, first], tmp_path / "self.ckpt")
    net, meta = load_network(out)
    reference, _ = load_network(first)
    frames = torch.from_numpy(parity_frames(2, 96, 128, seed=3))
    with torch.no_grad():
        torch.testing.assert_close(net(frames).frame_score, reference(frames).frame_score)
    card = provenance(meta, out, None, 18)
    assert [m["weight"] for m in card["checkpoint"]["averaged_from"]] == [0.5, 0.5]
    assert "averaged_from" not in provenance(load_network(first)[1], first, None, 18)["checkpoint"]


def test_refuses_other_architectures_and_bad_weights(
    two_checkpoints: tuple[Path, Path], tmp_path: Path
) -> None:
    first, second = two_checkpoints
    other = torch.load(second, map_location="cpu", weights_only=True)
    config = json.loads(other["model_config"])
    other["model_config"] = json.dumps({**config, "head_hidden": 64})
    torch.save(other, tmp_path / "other.ckpt")
    with pytest.raises(ValueError, match=r"other\.ckpt: its network configuration differs"):
        average_checkpoints([first, tmp_path / "other.ckpt"], tmp_path / "x.ckpt")
    with pytest.raises(ValueError, match="at least two"):
        average_checkpoints([first], tmp_path / "x.ckpt")
    with pytest.raises(ValueError, match="1 weights for 2"):
        average_checkpoints([first, second], tmp_path / "x.ckpt", weights=[1.0])
    with pytest.raises(ValueError, match="finite, >= 0"):
        average_checkpoints([first, second], tmp_path / "x.ckpt", weights=[1.0, -1.0])
    assert not (tmp_path / "x.ckpt").exists()


def test_cli_reports_a_missing_file_without_traceback(
    two_checkpoints: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, _ = two_checkpoints
    missing = tmp_path / "no such 'run'.ckpt"
    assert main([str(first), str(missing), "--output", str(tmp_path / "x.ckpt")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: checkpoint not found:") and str(missing) in err
    assert "Traceback" not in err
