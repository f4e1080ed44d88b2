"""Block-map model: map geometry (stride 32, any size), input normalisation, decisions, targets."""

from __future__ import annotations

import pytest
import torch

from training.models import block_map
from training.models.block_map import BlockMapModel, build_block_map_model, pool_mask_to_map


@pytest.fixture(scope="module")
def model() -> BlockMapModel:
    torch.manual_seed(0)
    return build_block_map_model().eval()


@pytest.mark.parametrize(
    ("height", "width", "cells"),
    [(224, 224, (7, 7)), (1080, 1920, (34, 60)), (720, 1280, (23, 40)), (200, 328, (7, 11))],
)
def test_map_shape_is_ceil_of_size_over_32(height: int, width: int, cells: tuple) -> None:
    """Shapes only, on the meta device: no compute, so full HD costs nothing here."""
    with torch.device("meta"):
        net = build_block_map_model()
        outputs = net(torch.empty(2, height, width, 3, dtype=torch.uint8))
    assert outputs.corruption_map.shape == (2, *cells)
    assert outputs.corruption_map_logits.shape == (2, *cells)
    assert outputs.frame_score.shape == outputs.area_ratio.shape == (2,)


def test_real_forward_non_square(model: BlockMapModel) -> None:
    frames = torch.randint(0, 256, (2, 64, 96, 3), dtype=torch.uint8)
    with torch.no_grad():
        outputs = model(frames)
    assert outputs.corruption_map.shape == (2, 2, 3)
    assert torch.all((outputs.corruption_map >= 0) & (outputs.corruption_map <= 1))
    torch.testing.assert_close(outputs.frame_score, torch.sigmoid(outputs.frame_logit))


def test_normalisation_inside_accepts_uint8_and_floats(model: BlockMapModel) -> None:
    frames = torch.randint(0, 256, (1, 64, 64, 3), dtype=torch.uint8)
    unit = build_block_map_model(input_range=1.0).eval()
    unit.load_state_dict(model.state_dict())
    with torch.no_grad():
        from_uint8 = model(frames).corruption_map_logits
        from_float = model(frames.float()).corruption_map_logits
        from_unit = unit(frames.float() / 255).corruption_map_logits
    torch.testing.assert_close(from_uint8, from_float)
    torch.testing.assert_close(from_uint8, from_unit, atol=1e-4, rtol=1e-4)
    normalised = model.normalizer(torch.full((1, 2, 2, 3), 255, dtype=torch.uint8))
    expected = (1 - torch.tensor(block_map.IMAGENET_MEAN)) / torch.tensor(block_map.IMAGENET_STD)
    torch.testing.assert_close(normalised[0, :, 0, 0], expected)


def test_v1_area_ratio_counts_cells_above_threshold() -> None:
    net = build_block_map_model(map_threshold=0.5, area_threshold=0.3).eval()
    with torch.no_grad():
        net.map_head.weight.zero_()
        net.map_head.bias.fill_(0.0)
        outputs = net(torch.zeros(1, 64, 64, 3, dtype=torch.uint8))
    assert float(outputs.area_ratio) == 0.0  # p = 0.5 exactly is not > 0.5
    with torch.no_grad():
        net.map_head.bias.fill_(3.0)
        outputs = net(torch.zeros(1, 64, 64, 3, dtype=torch.uint8))
    assert float(outputs.area_ratio) == 1.0
    v1, _ = net.decisions(outputs)
    assert v1.tolist() == [True]
    assert net.settings()["area_threshold"] == 0.3


def test_thresholds_are_checked_and_carried_in_the_state_dict() -> None:
    with pytest.raises(ValueError, match="area_threshold"):
        build_block_map_model(area_threshold=7)
    state = build_block_map_model(area_threshold=0.12).state_dict()
    assert float(state["area_threshold"]) == pytest.approx(0.12)


def test_pretrained_uses_timm_loading(monkeypatch) -> None:
    """``pretrained`` and ``pretrained_path`` go to timm's own loader (no network in tests)."""
    calls = []
    real = block_map.timm.create_model

    def record(name, pretrained=False, **kwargs):
        calls.append((name, pretrained, kwargs))
        return real(name, pretrained=False, **kwargs)

    monkeypatch.setattr(block_map.timm, "create_model", record)
    build_block_map_model(pretrained=True)
    build_block_map_model(pretrained_path="/weights/resnet18.pth")
    assert calls[0][:2] == ("resnet18", True)
    assert calls[0][2] == {"num_classes": 0, "global_pool": ""}
    assert calls[1][1] is True
    assert calls[1][2]["pretrained_cfg_overlay"] == {"file": "/weights/resnet18.pth"}


def test_mask_pools_to_fraction_per_cell() -> None:
    mask = torch.zeros(1, 200, 328, dtype=torch.bool)
    mask[0, :16, :16] = True  # one macroblock of the first 32x32 cell
    mask[0, 192:, 320:] = True  # the whole 8x8 corner cell
    pooled = pool_mask_to_map(mask, (7, 11))
    assert pooled[0, 0, 0] == pytest.approx(0.25)
    assert pooled[0, -1, -1] == pytest.approx(1.0)
    assert float(pooled.sum()) == pytest.approx(1.25)
    with pytest.raises(ValueError, match="pools to"):
        pool_mask_to_map(mask, (6, 11))
