"""Frames and masks from shards: PNG decoding, the sample view, aligned crops, the datamodule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from hydra.utils import instantiate

from tests.training.block_corruption.conftest import png
from training.data.image_decode import (
    FrameMaskSample,
    RandomAlignedCrop,
    decode_png,
    sample_group,
)

GROUPS = ["clean", "block_flat", "blur", "other"]


def test_decode_png_keeps_rgb_order_and_single_channel_masks() -> None:
    frame = np.zeros((8, 8, 3), np.uint8)
    frame[..., 0] = 200  # red
    mask = np.zeros((8, 8), np.uint8)
    mask[:4] = 255
    decoded = decode_png("a.frame.png", png(frame))
    assert decoded.shape == (8, 8, 3) and decoded[0, 0].tolist() == [200, 0, 0]
    decoded_mask = decode_png("a.mask.png", png(mask))
    assert decoded_mask.shape == (8, 8) and decoded_mask[0, 0] == 255
    assert decode_png("a.json", b"{}") is None
    with pytest.raises(ValueError, match=r"x\.frame\.png: not a decodable PNG"):
        decode_png("x.frame.png", b"not a png")


def sample(mask: np.ndarray, meta: dict) -> dict:
    frame = np.zeros((*mask.shape, 3), np.uint8)
    return {"__key__": "k1", "__url__": "s.tar", "frame.png": frame, "mask.png": mask, "json": meta}


def test_sample_view_and_groups() -> None:
    mask = np.zeros((32, 32), np.uint8)
    mask[:16, :16] = 255
    meta = {"label_index": 1, "impairment": "block_flat", "hard_negative": None, "severity": 2}
    out = FrameMaskSample(GROUPS)(sample(mask, meta))
    assert out["frames"].dtype == torch.uint8 and out["frames"].shape == (32, 32, 3)
    assert out["mask"].dtype == torch.bool and int(out["mask"].sum()) == 256
    assert (out["label"], out["severity"], out["group"]) == (1, 2, 1)
    assert not out["hard_negative"]
    assert sample_group({"hard_negative": "blur"}, GROUPS) == 2
    assert sample_group({"impairment": "codec_corruption"}, GROUPS) == 3  # unknown -> other
    assert sample_group({}, GROUPS) == 0


def test_sample_view_names_the_sample_on_bad_input() -> None:
    view = FrameMaskSample(GROUPS)
    with pytest.raises(KeyError, match=r"s\.tar: sample k1 needs"):
        view({"__key__": "k1", "__url__": "s.tar", "json": {}})
    bad = sample(np.zeros((32, 32), np.uint8), {"label_index": 0})
    bad["mask.png"] = np.zeros((16, 32), np.uint8)
    with pytest.raises(ValueError, match="k1: mask"):
        view(bad)
    with pytest.raises(ValueError, match="groups must include"):
        FrameMaskSample(["clean"])


def test_crop_is_on_the_macroblock_grid_and_relabels() -> None:
    """Pixel values encode their own coordinates, so the crop offset can be read back."""
    torch.manual_seed(0)
    height = width = 96
    y, x = np.mgrid[0:height, 0:width]
    frames = torch.from_numpy(np.stack([y, x, np.zeros_like(x)], -1).astype(np.uint8))
    mask = torch.zeros(height, width, dtype=torch.bool)
    mask[:16, :16] = True  # only in the top-left macroblock
    crop = RandomAlignedCrop(size=48, hflip_p=0.0)
    seen = set()
    for _ in range(40):
        out = crop({"frames": frames, "mask": mask, "label": 1, "severity": 3, "key": "k"})
        top, left = int(out["frames"][0, 0, 0]), int(out["frames"][0, 0, 1])
        assert top % 16 == 0 and left % 16 == 0 and out["frames"].shape == (48, 48, 3)
        assert out["label"] == int(top == 0 and left == 0)
        assert out["severity"] == (3 if out["label"] else 0)
        seen.add((top, left))
    assert len(seen) > 4  # offsets do vary
    flipped = RandomAlignedCrop(size=96, hflip_p=1.0)(
        {"frames": frames, "mask": mask, "label": 1, "severity": 3}
    )
    assert bool(flipped["mask"][0, -1]) and not bool(flipped["mask"][0, 0])
    with pytest.raises(ValueError, match="multiple of 16"):
        RandomAlignedCrop(size=50)
    small = RandomAlignedCrop(size=128)({"frames": frames, "mask": mask, "label": 1, "severity": 3})
    assert small["frames"].shape[:2] == (128, 128)  # letterboxed, not refused


def test_datamodule_reads_the_tiny_build(block_cfg, tiny_block_build: Path) -> None:
    datamodule = instantiate(block_cfg.detector.data)
    datamodule.setup("fit")
    train = datamodule.train_dataloader()
    assert len(train) == 4  # 16 samples from the card, batches of 4
    batch = next(iter(train))
    assert batch["frames"].shape == (4, 48, 48, 3) and batch["frames"].dtype == torch.uint8
    assert batch["mask"].shape == (4, 48, 48)
    for i in range(4):  # train labels follow the cropped mask
        assert int(batch["label"][i]) == int(batch["mask"][i].any())
    val = next(iter(datamodule.val_dataloader()))
    assert val["frames"].shape == (8, 64, 64, 3)  # eval on the full stored crop
    assert sorted(val["label"].tolist()) == [0, 0, 0, 0, 1, 1, 1, 1]
