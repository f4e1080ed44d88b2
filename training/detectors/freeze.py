"""Freeze/stutter detector: per-frame classification trained on clips, judged on events.

The loss is per-frame cross-entropy over the valid (unpadded) frames, with class weights because
most frames of every clip are normal. What users care about is events, so evaluation turns the
per-frame decisions into events (runs of at least ``min_event_frames``) and matches them to the
true ones at IoU >= 0.5 (``training.events``): event precision/recall/F1 overall and per kind,
false events on clean clips (hard negatives apart), frame-level balanced accuracy (3 classes)
and a clip decision (the class of the longest predicted event, else clean).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from torchmetrics import Metric

from training.detectors.segment_classifier import SegmentClassifierModule
from training.events import decisions_to_events, match_events
from training.metrics import ClassificationMetrics

log = logging.getLogger(__name__)
KINDS = ("freeze", "stutter")


def boundary_weights(labels: torch.Tensor, frames: int, weight: float) -> torch.Tensor:
    """Per-frame loss weights ``(B, T)``: ``weight`` within ``frames`` of a label change, else 1.

    An event is only matched when its edges are right (IoU >= 0.5: a one-frame stutter predicted
    three frames wide is a miss and a false event), yet edge frames are a sliver of all frames,
    so plain cross-entropy barely notices them. Padding (label -1) gets weight 0.
    """
    out = torch.ones(labels.shape, dtype=torch.float32, device=labels.device)
    if frames > 0 and weight != 1.0 and labels.shape[1] > 1:
        change = labels[:, 1:] != labels[:, :-1]
        change &= (labels[:, 1:] >= 0) & (labels[:, :-1] >= 0)
        # A change between frames t-1 and t marks both; widen by frames - 1 each way.
        near = torch.zeros(labels.shape, dtype=torch.float32, device=labels.device)
        near[:, 1:] += change
        near[:, :-1] += change
        widened = nn.functional.max_pool1d(
            near[:, None], 2 * frames - 1, stride=1, padding=frames - 1
        )[:, 0]
        out[widened > 0] = float(weight)
    return out.masked_fill(labels < 0, 0.0)


def clip_decision(events: Sequence[dict[str, Any]]) -> int:
    """0 clean, 1 freeze, 2 stutter: the kind of the longest predicted event."""
    if not events:
        return 0
    longest = max(events, key=lambda e: e["end"] - e["start"])
    return 1 + KINDS.index(longest["kind"])


class EventMetrics(Metric):
    """Event counts (overall and per kind), false events on clean clips, clip confusion and
    per-group clip accuracy. All states are sums, so DDP reduces them correctly."""

    full_state_update = False

    def __init__(self, groups: Sequence[str]) -> None:
        super().__init__()
        self.groups = list(groups)
        for name in ("tp", "fp", "fn"):
            self.add_state(name, default=torch.zeros(3, dtype=torch.long), dist_reduce_fx="sum")
        self.add_state(
            "clean_false", default=torch.zeros(2, dtype=torch.long), dist_reduce_fx="sum"
        )
        self.add_state(
            "clean_clips", default=torch.zeros(2, dtype=torch.long), dist_reduce_fx="sum"
        )
        self.add_state("clean_seconds", default=torch.zeros(2), dist_reduce_fx="sum")
        self.add_state("clips", default=torch.zeros(3, 3, dtype=torch.long), dist_reduce_fx="sum")
        n = len(self.groups)
        self.add_state("group_hits", default=torch.zeros(n, dtype=torch.long), dist_reduce_fx="sum")
        self.add_state(
            "group_total", default=torch.zeros(n, dtype=torch.long), dist_reduce_fx="sum"
        )

    def update(  # type: ignore[override]
        self,
        predicted: Sequence[list[dict[str, Any]]],
        truth: Sequence[list[dict[str, Any]]],
        labels: torch.Tensor,
        groups: torch.Tensor,
        hard_negative: torch.Tensor,
        seconds: torch.Tensor,
    ) -> None:
        for i, (mine, true) in enumerate(zip(predicted, truth, strict=True)):
            for slot, kind in enumerate((None, *KINDS)):
                p = [e for e in mine if kind is None or e["kind"] == kind]
                t = [e for e in true if kind is None or e["kind"] == kind]
                counts = match_events(p, t, kind_sensitive=kind is not None)
                self.tp[slot] += counts["tp"]
                self.fp[slot] += counts["fp"]
                self.fn[slot] += counts["fn"]
            label, decided = int(labels[i]), clip_decision(mine)
            self.clips[label, decided] += 1
            self.group_total[int(groups[i])] += 1
            self.group_hits[int(groups[i])] += int(decided == label)
            if label == 0:
                which = int(bool(hard_negative[i]))
                self.clean_false[which] += len(mine)
                self.clean_clips[which] += 1
                self.clean_seconds[which] += float(seconds[i])

    def compute(self) -> dict[str, Any]:
        def prf(slot: int) -> dict[str, Any]:
            tp, fp, fn = (int(getattr(self, n)[slot]) for n in ("tp", "fp", "fn"))
            return {
                "tp": tp,
                "fp": fp,
                "fn": fn,
                "precision": tp / (tp + fp) if tp + fp else 0.0,
                "recall": tp / (tp + fn) if tp + fn else 0.0,
                "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0,
            }

        clips = self.clips.cpu().numpy()
        recalls = [clips[c, c] / clips[c].sum() for c in range(3) if clips[c].sum()]
        false = {}
        for which, name in enumerate(("plain_clean", "hard_negative")):
            seconds = float(self.clean_seconds[which])
            false[name] = {
                "clips": int(self.clean_clips[which]),
                "false_events": int(self.clean_false[which]),
                "false_events_per_hour": (
                    float(self.clean_false[which]) * 3600.0 / seconds if seconds else None
                ),
            }
        return {
            "events": prf(0),
            "events_per_kind": {kind: prf(1 + k) for k, kind in enumerate(KINDS)},
            "clip_bal_acc": float(np.mean(recalls)) if recalls else 0.0,
            "clip_confusion": clips.tolist(),
            "clean_false_events": false,
            "per_group_clip_accuracy": {
                g: {"accuracy": int(h) / int(t), "count": int(t)}
                for g, h, t in zip(self.groups, self.group_hits, self.group_total, strict=True)
                if int(t)
            },
        }


class FreezeDetector(SegmentClassifierModule):
    """Per-frame normal/freeze/stutter on clips (``detector=freeze``)."""

    def __init__(
        self,
        net: nn.Module,
        classes: Sequence[str],
        groups: Sequence[str],
        optimizer: Callable[..., torch.optim.Optimizer],
        scheduler: Callable[..., Any] | None = None,
        class_weights: Sequence[float] = (1.0, 3.0, 3.0),
        boundary_weight: float = 1.0,
        boundary_frames: int = 1,
        min_event_frames: int = 3,
        smooth_frames: int = 1,
        merge_gap_frames: int = 0,
        model_config: str | None = None,
        detector: dict[str, Any] | None = None,
        dataset_card_sha256: str | None = None,
    ) -> None:
        super().__init__(
            net,
            classes,
            optimizer,
            scheduler,
            model_config=model_config,
            detector=detector,
            dataset_card_sha256=dataset_card_sha256,
        )
        self.save_hyperparameters(ignore=["net", "optimizer", "scheduler"], logger=False)
        self.groups = list(groups)
        self.min_event_frames = int(min_event_frames)
        self.smooth_frames = int(smooth_frames)
        self.merge_gap_frames = int(merge_gap_frames)
        self.boundary_weight = float(boundary_weight)
        self.boundary_frames = int(boundary_frames)
        self.criterion = nn.CrossEntropyLoss(
            weight=torch.tensor(list(class_weights), dtype=torch.float32), ignore_index=-1
        )
        self.val_events = EventMetrics(self.groups)
        self.test_events = EventMetrics(self.groups)

    def forward(self, stats: torch.Tensor, thumbs: torch.Tensor) -> Any:  # type: ignore[override]
        return self.net(stats, thumbs)

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> torch.Tensor:
        logits = self.net(batch["stats"], batch["thumbs"]).logits
        loss = self.training_loss(logits.float(), batch["labels"])
        valid = batch["labels"] >= 0
        accuracy = (logits.argmax(-1) == batch["labels"])[valid].float().mean()
        size = len(batch["labels"])
        self.log("train/loss", loss, prog_bar=True, batch_size=size)
        self.log("train/acc", accuracy, on_step=False, on_epoch=True, batch_size=size)
        return loss

    def training_loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Class-weighted cross-entropy, edge frames weighted ``boundary_weight`` times more.

        Normalised like ``nn.CrossEntropyLoss``'s weighted mean (by the summed weights), so
        ``boundary_weight=1`` is exactly the plain loss.
        """
        if self.boundary_weight == 1.0:
            return self.criterion(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))
        class_weights = self.criterion.weight
        per_frame = nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]),
            labels.reshape(-1),
            weight=class_weights,
            ignore_index=-1,
            reduction="none",
        )
        class_weight = class_weights[labels.clamp(min=0)].reshape(-1)
        edge = boundary_weights(labels, self.boundary_frames, self.boundary_weight).reshape(-1)
        weights = class_weight * edge
        return (per_frame * edge).sum() / weights.sum().clamp(min=1e-8)

    def predicted_events(
        self, probabilities: torch.Tensor, valid: torch.Tensor, fps: torch.Tensor
    ) -> list[list[dict[str, Any]]]:
        probs = probabilities.float().cpu().numpy()
        lengths = valid.sum(dim=1).cpu().numpy()
        return [
            decisions_to_events(
                probs[i, : lengths[i]],
                float(fps[i]),
                self.min_event_frames,
                self.smooth_frames,
                self.merge_gap_frames,
            )
            for i in range(len(probs))
        ]

    def _eval_step(self, batch: dict[str, Any], metrics: ClassificationMetrics, stage: str) -> None:  # type: ignore[override]
        scores = self.net(batch["stats"], batch["thumbs"])
        logits, labels = scores.logits.float(), batch["labels"]
        loss = self.criterion(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))
        valid = labels >= 0
        severity = batch["severity"][:, None].expand_as(labels)
        metrics.update(logits[valid], labels[valid], severity[valid])
        events = self.val_events if stage == "val" else self.test_events
        events.update(
            self.predicted_events(scores.probabilities, batch["valid"], batch["fps"]),
            [json.loads(text) for text in batch["events"]],
            batch["label"],
            batch["group"],
            batch["hard_negative"],
            batch["valid"].sum(dim=1).float() / batch["fps"].float(),
        )
        self.log(f"{stage}/loss", loss, on_epoch=True, batch_size=len(labels), sync_dist=True)

    def _log_events(self, metric: EventMetrics, stage: str) -> dict[str, Any]:
        result = metric.compute()
        metric.reset()
        scalars = {
            f"{stage}/event_f1": result["events"]["f1"],
            f"{stage}/event_precision": result["events"]["precision"],
            f"{stage}/event_recall": result["events"]["recall"],
            f"{stage}/clip_bal_acc": result["clip_bal_acc"],
            **{f"{stage}/event_f1/{k}": v["f1"] for k, v in result["events_per_kind"].items()},
        }
        self.log_dict(scalars, sync_dist=True)
        return result

    def on_validation_epoch_end(self) -> None:
        frames = self._log_epoch(self.val_metrics, "val")
        events = self._log_events(self.val_events, "val")
        if not self.trainer.sanity_checking:
            log.info(
                "epoch %d: val/bal_acc=%.4f (frames), event F1 %.3f (P %.3f R %.3f), clip %.3f",
                self.current_epoch,
                frames["scalars"]["bal_acc"],
                events["events"]["f1"],
                events["events"]["precision"],
                events["events"]["recall"],
                events["clip_bal_acc"],
            )

    def on_test_epoch_end(self) -> None:
        frames = self._log_epoch(self.test_metrics, "test")
        events = self._log_events(self.test_events, "test")
        self.test_report = {
            "frames": frames["report"],
            **events,
            "bal_acc": frames["scalars"]["bal_acc"],
        }
        if self.trainer.is_global_zero and not self.trainer.sanity_checking:
            self._save_confusion(frames["confusion"], "test")
