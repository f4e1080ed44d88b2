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
