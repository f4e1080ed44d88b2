"""Frames smaller than the train crop or the eval size (QCIF) are letterboxed, not refused."""

from __future__ import annotations

import torch

from training.data.image_decode import RandomAlignedCrop, letterbox_collate


def sample(height: int, width: int) -> dict:
    frames = torch.full((height, width, 3), 200, dtype=torch.uint8)
    mask = torch.zeros((height, width), dtype=torch.bool)
    mask[:16, :16] = True
    return {"key": "k", "frames": frames, "mask": mask, "label": 1, "severity": 3}


def test_train_crop_letterboxes_a_small_frame_on_the_macroblock_grid() -> None:
    torch.manual_seed(0)
    out = RandomAlignedCrop(size=160, hflip_p=0.0)(sample(128, 176))
    assert out["frames"].shape == (160, 160, 3) and out["mask"].shape == (160, 160)
    rows = torch.nonzero(out["frames"][..., 0].amax(dim=1)).flatten()
    assert int(rows[0]) % 16 == 0  # the picture starts on the grid
    assert int(out["frames"].eq(0).all(dim=-1).sum()) > 0  # black bars, clean in the mask
    assert out["mask"].sum() <= 16 * 16


def test_mixed_sizes_collate_letterboxed_to_the_largest() -> None:
    batch = letterbox_collate([sample(128, 160), sample(256, 256), sample(256, 256)])
    assert batch["frames"].shape == (3, 256, 256, 3)
    assert int(batch["mask"][0].sum()) == 256  # the one corrupted macroblock, nothing added
    assert torch.equal(batch["frames"][1], sample(256, 256)["frames"])
