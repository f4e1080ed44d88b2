"""train.py with detector=block_corruption on the tiny build: configs, fast_dev_run, targets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, open_dict

from tests.training.conftest import compose_config
from training.detectors.block_corruption import BlockCorruptionDetector


@pytest.mark.parametrize("experiment", ["block_corruption_cpu", "block_corruption_gpu"])
def test_experiments_compose(experiment: str) -> None:
    cfg = compose_config("train", [f"experiment={experiment}"])
    assert cfg.detector.name == "block_corruption"
    assert cfg.detector.data.train_transform.size % 16 == 0
    assert cfg.callbacks.model_checkpoint.monitor == "val/bal_acc"


def test_config_instantiates(block_cfg: DictConfig) -> None:
    net = instantiate(block_cfg.detector.model)
    module = instantiate(block_cfg.detector.module, net=net, _convert_="all")
    assert isinstance(module, BlockCorruptionDetector)
    assert module.groups[0] == "clean" and module.groups[-1] == "other"
    assert module.hparams["map_target"] == "soft"  # subclass arguments reach the checkpoint
    assert 11_000_000 < sum(p.numel() for p in net.parameters()) < 12_000_000


def test_map_targets(block_cfg: DictConfig) -> None:
    mask = torch.zeros(1, 64, 64, dtype=torch.bool)
    mask[0, :16, :16] = True  # a quarter of cell (0, 0)
    mask[0, 32:, 32:] = True  # all of cell (1, 1)
    expected = {
        "soft": [[0.25, 0.0], [0.0, 1.0]],
        "majority": [[0.0, 0.0], [0.0, 1.0]],
        "any": [[1.0, 0.0], [0.0, 1.0]],
    }
    for target, values in expected.items():
        with open_dict(block_cfg):
            block_cfg.detector.module.map_target = target
        net = instantiate(block_cfg.detector.model)
        module = instantiate(block_cfg.detector.module, net=net, _convert_="all")
        assert module.map_targets(mask, (2, 2))[0].tolist() == values
    with open_dict(block_cfg):
        block_cfg.detector.module.map_target = "median"
    with pytest.raises(Exception, match="map_target must be one of"):
        instantiate(block_cfg.detector.module, net=net, _convert_="all")


def test_fast_dev_run_writes_the_report_and_figures(block_cfg: DictConfig, train_entry) -> None:
    with open_dict(block_cfg):
        block_cfg.trainer.fast_dev_run = True
    metrics = train_entry.train(block_cfg)
    run = Path(block_cfg.paths.output_dir)
    report = json.loads((run / "metrics.json").read_text())
    assert metrics["test/bal_acc"] == pytest.approx(report["bal_acc"])
    assert report["bal_acc"] == report["v2"]["bal_acc"] and report["decision"] == "v2"
    for key in ("v1/bal_acc", "map/iou", "map/f1", "area_ratio_mae", "hard_negative_acc"):
        assert f"test/{key}" in metrics, key
    assert report["count"] == 8  # fast_dev_run: one test batch of 8
    assert set(report["v1"]["per_group_accuracy"]) <= {
        "clean",
        "block_flat",
        "block_displacement",
        "blur",
        "grain",
    }
    assert report["map"]["cells"] == 8 * 2 * 2
    for key in (report["v1"]["confusion_png"], report["v2"]["confusion_png"]):
        assert Path(key).is_file()
    assert Path(report["overlays_png"]).stat().st_size > 10_000
    checkpoint = torch.load(report["checkpoint"], map_location="cpu", weights_only=True)
    assert checkpoint["detector"]["name"] == "block_corruption"
    assert checkpoint["detector"]["groups"][-1] == "other"
