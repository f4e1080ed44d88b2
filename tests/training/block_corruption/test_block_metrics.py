"""Frame decision report and map metrics on hand-counted cases."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from training.metrics import BlockCorruptionMetrics, binary_decision_report

GROUPS = ["clean", "block_flat", "codec_corruption", "blur", "other"]


def test_binary_report_counts() -> None:
    # 3 corrupted (2 found), 3 clean of which 2 hard negatives (1 false alarm).
    predicted = np.array([1, 1, 0, 0, 1, 0], bool)
    label = np.array([1, 1, 1, 0, 0, 0])
    group = np.array([1, 2, 2, 0, 3, 3])
    hard = np.array([0, 0, 0, 0, 1, 1], bool)
    severity = np.array([2, 5, 1, 0, 0, 0])
    report = binary_decision_report(predicted, label, group, GROUPS, hard, severity)
    assert report["per_class_recall"] == {"clean": pytest.approx(2 / 3), "corrupted": 2 / 3}
    assert report["bal_acc"] == pytest.approx(2 / 3)
    assert report["confusion_matrix"]["rows_true_cols_pred"] == [[2, 1], [1, 2]]
    assert report["per_group_accuracy"]["codec_corruption"] == {"accuracy": 0.5, "count": 2}
    assert report["per_group_accuracy"]["blur"] == {"accuracy": 0.5, "count": 2}
    assert "other" not in report["per_group_accuracy"]
    assert report["hard_negative_accuracy"] == 0.5
    assert report["per_severity_accuracy"]["1"] == {"accuracy": 0.0, "count": 1}


def test_balanced_accuracy_over_present_classes_only() -> None:
    report = binary_decision_report(
        np.array([0, 0]), np.array([0, 0]), np.array([0, 0]), GROUPS, np.zeros(2, bool)
    )
    assert report["bal_acc"] == 1.0 and report["per_class_recall"]["corrupted"] is None


def test_map_iou_f1_and_area_error() -> None:
    metrics = BlockCorruptionMetrics(GROUPS)
    map_true = torch.tensor([[[True, True], [False, False]], [[False, False], [False, False]]])
    map_predicted = torch.tensor([[[True, False], [True, False]], [[False, False], [False, False]]])
    metrics.update(
        v1=torch.tensor([True, False]),
        v2=torch.tensor([True, True]),
        score=torch.tensor([0.9, 0.6]),
        label=torch.tensor([1, 0]),
        group=torch.tensor([1, 3]),
        hard_negative=torch.tensor([False, True]),
        severity=torch.tensor([3, 0]),
        area_predicted=torch.tensor([0.5, 0.0]),
        area_true=torch.tensor([0.4, 0.0]),
        map_predicted=map_predicted,
        map_true=map_true,
    )
    result = metrics.compute()
    report = result["report"]
    # tp 1, fp 1, fn 1 over 8 cells
    assert report["map"]["iou"] == pytest.approx(1 / 3)
    assert report["map"]["f1"] == pytest.approx(0.5)
    assert report["map"]["cells"] == 8
    assert report["area_ratio_mae"] == pytest.approx(0.05)
    assert report["area_ratio_mae_corrupted"] == pytest.approx(0.1)
    assert report["v1"]["bal_acc"] == 1.0 and report["v2"]["bal_acc"] == 0.5
    assert report["bal_acc"] == report["v2"]["bal_acc"]
    assert result["scalars"]["hard_negative_acc"] == 0.0
    assert result["scalars"]["v1/hard_negative_acc"] == 1.0
    assert result["scalars"]["group_acc/blur"] == 0.0
