"""The freeze detector's loss: edge frames can weigh more, and weight 1 is the plain loss."""

from __future__ import annotations

import functools

import pytest
import torch
from torch import nn

from training.detectors.freeze import FreezeDetector, boundary_weights

CLASSES = ["clean", "freeze", "stutter"]


def detector(boundary_weight: float, boundary_frames: int = 1) -> FreezeDetector:
    return FreezeDetector(
        net=nn.Identity(),
        classes=CLASSES,
        groups=["clean", "freeze", "stutter"],
        optimizer=functools.partial(torch.optim.SGD, lr=0.1),
        boundary_weight=boundary_weight,
        boundary_frames=boundary_frames,
    )


def test_boundary_weights_mark_both_sides_of_every_label_change() -> None:
    labels = torch.tensor([[0, 0, 0, 2, 0, 0, 0, -1, -1], [1, 1, 1, 1, 1, 0, 0, 0, 0]])
    assert boundary_weights(labels, 1, 4.0).tolist() == [
        [1, 1, 4, 4, 4, 1, 1, 0, 0],
        [1, 1, 1, 1, 4, 4, 1, 1, 1],
    ]
    assert boundary_weights(labels, 2, 4.0)[1].tolist() == [1, 1, 1, 4, 4, 4, 4, 1, 1]
    assert boundary_weights(labels, 1, 1.0)[0].tolist() == [1] * 7 + [0, 0]


def test_weight_one_is_exactly_the_class_weighted_cross_entropy() -> None:
    torch.manual_seed(0)
    logits = torch.randn(2, 9, 3)
    labels = torch.tensor([[0, 0, 0, 2, 0, 0, 0, -1, -1], [1, 1, 1, 1, 1, 0, 0, 0, 0]])
    plain = detector(1.0)
    expected = plain.criterion(logits.reshape(-1, 3), labels.reshape(-1))
    assert torch.allclose(plain.training_loss(logits, labels), expected)
    # The weighted path with weight 1 agrees too (it is the same mean, written out).
    weighted = detector(1.0 + 1e-9)
    assert torch.allclose(weighted.training_loss(logits, labels), expected, atol=1e-6)


@pytest.mark.parametrize("boundary_frames", [1, 2])
def test_edge_frames_dominate_when_weighted(boundary_frames: int) -> None:
    """Errors only on an edge frame cost more with the weight; errors far from edges, less."""
    labels = torch.tensor([[0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0]])
    confident = torch.nn.functional.one_hot(labels.clamp(min=0), 3).float() * 8.0
    edge_wrong, middle_wrong = confident.clone(), confident.clone()
    edge_wrong[0, 3] = torch.tensor([0.0, 0.0, 8.0])  # the frame before the stutter
    middle_wrong[0, 10] = torch.tensor([0.0, 0.0, 8.0])  # far from any edge
    plain, edges = detector(1.0), detector(5.0, boundary_frames)
    assert torch.isclose(
        plain.training_loss(edge_wrong, labels), plain.training_loss(middle_wrong, labels)
    )
    assert edges.training_loss(edge_wrong, labels) > plain.training_loss(edge_wrong, labels)
    assert edges.training_loss(middle_wrong, labels) < plain.training_loss(middle_wrong, labels)
