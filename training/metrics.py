"""Classification metrics for segment detectors: balanced accuracy first, then where it fails.

Balanced accuracy is macro-averaged recall (the published figure is one), so a detector cannot
score well by favouring the common class. Per-class recall, the confusion matrix and accuracy per
impairment severity say *where* it fails: a detector that misses only severity-1 hum is a very
different product from one that misses half of all hum.

All states are sums, so torchmetrics reduces them correctly across DDP ranks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from torchmetrics import Metric
from torchmetrics.classification import (
    MulticlassAccuracy,
    MulticlassConfusionMatrix,
    MulticlassRecall,
)


class SeverityAccuracy(Metric):
    """Correct / total per (true class, severity) cell; severity 0 = unimpaired."""

    full_state_update = False

    def __init__(self, num_classes: int, max_severity: int = 5) -> None:
        super().__init__()
        shape = (num_classes, max_severity + 1)
        self.add_state(
            "correct", default=torch.zeros(shape, dtype=torch.long), dist_reduce_fx="sum"
        )
        self.add_state("total", default=torch.zeros(shape, dtype=torch.long), dist_reduce_fx="sum")
        self.max_severity = max_severity

    def update(self, preds: torch.Tensor, target: torch.Tensor, severity: torch.Tensor) -> None:
        severity = severity.clamp(0, self.max_severity)
        hits = (preds == target).long()
        self.total.index_put_((target, severity), torch.ones_like(hits), accumulate=True)
        self.correct.index_put_((target, severity), hits, accumulate=True)

    def compute(self) -> dict[str, torch.Tensor]:
        return {"correct": self.correct, "total": self.total}


def _ratio(correct: int, total: int) -> float | None:
    return correct / total if total else None


class ClassificationMetrics(nn.Module):
    """One stage's metrics (val or test). ``update`` per batch, ``compute`` at epoch end."""

    def __init__(self, classes: Sequence[str], max_severity: int = 5) -> None:
        super().__init__()
        self.classes = list(classes)
        n = len(self.classes)
        self.bal_acc = MulticlassRecall(num_classes=n, average="macro")
        self.recall = MulticlassRecall(num_classes=n, average=None)
        self.acc = MulticlassAccuracy(num_classes=n, average="micro")
        self.confusion = MulticlassConfusionMatrix(num_classes=n)
        self.severity = SeverityAccuracy(n, max_severity)

    def update(self, logits: torch.Tensor, target: torch.Tensor, severity: torch.Tensor) -> None:
        preds = logits.argmax(dim=-1)
        self.bal_acc.update(preds, target)
        self.recall.update(preds, target)
        self.acc.update(preds, target)
        self.confusion.update(preds, target)
        self.severity.update(preds, target, severity)

    def reset(self) -> None:
        for metric in (self.bal_acc, self.recall, self.acc, self.confusion, self.severity):
            metric.reset()

    def compute(self) -> dict[str, Any]:
        """Scalars to log (``bal_acc``, ``acc``, ``recall/<class>``, ``severity_acc/<s>``) and a
        ``report`` with the confusion matrix and the (class, severity) table for metrics.json."""
        recall = self.recall.compute()
        confusion = self.confusion.compute()
        cells = self.severity.compute()
        correct, total = cells["correct"].cpu(), cells["total"].cpu()
        scalars: dict[str, float] = {
            "bal_acc": float(self.bal_acc.compute()),
            "acc": float(self.acc.compute()),
        }
        for name, value in zip(self.classes, recall.tolist(), strict=True):
            scalars[f"recall/{name}"] = float(value)
        by_severity: dict[str, dict[str, Any]] = {}
        for level in range(1, correct.shape[1]):
            # Impaired classes only: severity 0 belongs to the clean class.
            c, t = int(correct[1:, level].sum()), int(total[1:, level].sum())
            by_severity[str(level)] = {"accuracy": _ratio(c, t), "count": t}
            if t:
                scalars[f"severity_acc/{level}"] = c / t
        table = {
            name: {
                str(level): {
                    "accuracy": _ratio(int(correct[i, level]), int(total[i, level])),
                    "count": int(total[i, level]),
                }
                for level in range(correct.shape[1])
                if int(total[i, level])
            }
            for i, name in enumerate(self.classes)
        }
        report = {
            "bal_acc": scalars["bal_acc"],
            "acc": scalars["acc"],
            "per_class_recall": {n: scalars[f"recall/{n}"] for n in self.classes},
            "per_severity_accuracy": by_severity,
            "per_class_severity_accuracy": table,
            "confusion_matrix": {
                "classes": self.classes,
                "rows_true_cols_pred": confusion.tolist(),
            },
            "count": int(total.sum()),
        }
        return {"scalars": scalars, "report": report, "confusion": confusion.cpu()}


# -- block corruption: binary frame decisions (v1, v2) and the corruption map ---------------------

BINARY_CLASSES = ("clean", "corrupted")


def binary_decision_report(
    predicted: np.ndarray,
    label: np.ndarray,
    group: np.ndarray,
    group_names: Sequence[str],
    hard_negative: np.ndarray,
    severity: np.ndarray | None = None,
) -> dict[str, Any]:
    """Balanced accuracy and where a clean/corrupted frame decision fails.

    Shared by the detector's metrics and the ffmpeg baseline so both are scored the same way.
    Balanced accuracy averages the recall of the classes present (a tiny eval set may lack one).
    ``per_group``: accuracy per impairment, per hard negative and for plain clean frames.
    """
    predicted = np.asarray(predicted, dtype=bool)
    label = np.asarray(label, dtype=np.int64)
    group = np.asarray(group, dtype=np.int64)
    hard_negative = np.asarray(hard_negative, dtype=bool)
    correct = predicted == label.astype(bool)
    recall = {
        name: _ratio(int(correct[label == index].sum()), int((label == index).sum()))
        for index, name in enumerate(BINARY_CLASSES)
    }
    present = [value for value in recall.values() if value is not None]
    confusion = [
        [int(((label == t) & (predicted == bool(p))).sum()) for p in (0, 1)] for t in (0, 1)
    ]
    per_group = {
        name: {
            "accuracy": _ratio(int(correct[group == index].sum()), int((group == index).sum())),
            "count": int((group == index).sum()),
        }
        for index, name in enumerate(group_names)
        if (group == index).any()
    }
    report: dict[str, Any] = {
        "bal_acc": float(np.mean(present)) if present else 0.0,
        "acc": float(correct.mean()) if len(correct) else 0.0,
        "per_class_recall": recall,
        "per_group_accuracy": per_group,
        "hard_negative_accuracy": _ratio(
            int(correct[hard_negative].sum()), int(hard_negative.sum())
        ),
        "confusion_matrix": {"classes": list(BINARY_CLASSES), "rows_true_cols_pred": confusion},
        "count": len(label),
    }
    if severity is not None:
        severity = np.asarray(severity, dtype=np.int64)
        positive = label == 1
        report["per_severity_accuracy"] = {
            str(level): {
                "accuracy": _ratio(
                    int(correct[positive & (severity == level)].sum()),
                    int((positive & (severity == level)).sum()),
                ),
                "count": int((positive & (severity == level)).sum()),
            }
            for level in sorted(set(severity[positive].tolist()))
        }
    return report


class BlockCorruptionMetrics(Metric):
    """One stage's metrics for the block-corruption detector (val or test).

    Frame decisions are kept per sample (``cat`` states, a few thousand numbers) so the report is
    computed by ``binary_decision_report``, the same code that scores the ffmpeg baseline. Map
    agreement is summed per cell: IoU and F1 of the binarised map against the pooled mask
    binarised at the same threshold, over the whole split (micro), and the mean absolute error
    of the v1 corrupted-area ratio against the true one (mask mean).
    """

    full_state_update = False

    def __init__(self, group_names: Sequence[str]) -> None:
        super().__init__()
        self.group_names = list(group_names)
        for name in ("v1", "v2", "score", "label", "group", "hard_negative", "severity"):
            self.add_state(name, default=[], dist_reduce_fx="cat")
        self.add_state("area_predicted", default=[], dist_reduce_fx="cat")
        self.add_state("area_true", default=[], dist_reduce_fx="cat")
        for name in ("map_tp", "map_fp", "map_fn", "map_cells"):
            self.add_state(name, default=torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")

    def update(
        self,
        v1: torch.Tensor,
        v2: torch.Tensor,
        score: torch.Tensor,
        label: torch.Tensor,
        group: torch.Tensor,
        hard_negative: torch.Tensor,
        severity: torch.Tensor,
        area_predicted: torch.Tensor,
        area_true: torch.Tensor,
        map_predicted: torch.Tensor,
        map_true: torch.Tensor,
    ) -> None:
        self.v1.append(v1.bool())
        self.v2.append(v2.bool())
        self.score.append(score.float())
        self.label.append(label.long())
        self.group.append(group.long())
        self.hard_negative.append(hard_negative.bool())
        self.severity.append(severity.long())
        self.area_predicted.append(area_predicted.float())
        self.area_true.append(area_true.float())
        self.map_tp += (map_predicted & map_true).sum()
        self.map_fp += (map_predicted & ~map_true).sum()
        self.map_fn += (~map_predicted & map_true).sum()
        self.map_cells += map_true.numel()

    def _array(self, name: str) -> np.ndarray:
        value = getattr(self, name)
        if isinstance(value, list):
            value = torch.cat(value) if value else torch.zeros(0)
        value = value.detach()
        # bf16/fp16 under mixed precision: numpy has no bfloat16
        return (value.float() if value.is_floating_point() else value).cpu().numpy()

    def compute(self) -> dict[str, Any]:
        """``{"scalars": to log, "report": for metrics.json}``; ``bal_acc`` is v2's."""
        label, group = self._array("label"), self._array("group")
        hard, severity = self._array("hard_negative"), self._array("severity")
        v1, v2 = (
            binary_decision_report(self._array(k), label, group, self.group_names, hard, severity)
            for k in ("v1", "v2")
        )
        tp, fp, fn = (int(getattr(self, f"map_{k}")) for k in ("tp", "fp", "fn"))
        area_error = np.abs(self._array("area_predicted") - self._array("area_true"))
        cell_map = {
            "iou": tp / (tp + fp + fn) if tp + fp + fn else 1.0,
            "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0,
            "precision": _ratio(tp, tp + fp),
            "recall": _ratio(tp, tp + fn),
            "cells": int(self.map_cells),
        }
        area_mae = float(area_error.mean()) if len(area_error) else 0.0
        scalars = {
            "bal_acc": v2["bal_acc"],
            "acc": v2["acc"],
            "v1/bal_acc": v1["bal_acc"],
            "map/iou": cell_map["iou"],
            "map/f1": cell_map["f1"],
            "area_ratio_mae": area_mae,
        }
        for name, value in v2["per_class_recall"].items():
            if value is not None:
                scalars[f"recall/{name}"] = value
        if v2["hard_negative_accuracy"] is not None:
            scalars["hard_negative_acc"] = v2["hard_negative_accuracy"]
            scalars["v1/hard_negative_acc"] = v1["hard_negative_accuracy"]
        for name, entry in v2["per_group_accuracy"].items():
            scalars[f"group_acc/{name}"] = entry["accuracy"]
        report = {
            "bal_acc": v2["bal_acc"],
            "decision": "v2",
            "v2": v2,
            "v1": v1,
            "map": cell_map,
            "area_ratio_mae": area_mae,
            "area_ratio_mae_corrupted": (
                float(area_error[label == 1].mean()) if (label == 1).any() else None
            ),
            "count": len(label),
        }
        return {"scalars": scalars, "report": report}
