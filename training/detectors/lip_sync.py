"""Lip-sync detector (``detector=lip_sync``): SyncNet-style embeddings, offset search, verdicts.

Training is contrastive with in-clip shifted negatives: for every 5-frame video window of a
random excerpt, a softmax over the audio windows at -15..+15 frames must pick the in-sync one
(``models.sync_net.offset_logits``). Evaluation runs what ``detect.py`` runs, on whole tracks
and every offset variant the dataset stored: distances over +-15 frames averaged over the
track, offset = argmin, confidence = median - min (syncnet_python), verdict from |offset| and
a confidence threshold. The threshold is chosen on the validation split each epoch (kept in the
checkpoint, used unchanged on test and written into the export's card), together with
"unrelated audio" pairs (a speaker's track with another speaker's audio): their ground truth is
"no sync evidence", so a threshold that calls them in or out of sync is penalised.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from training.detectors.segment_classifier import SegmentClassifierModule
from training.models.sync_net import offset_logits
from training.sync.metrics import ScoredFragment, sync_report
from training.sync.offsets import FRAME_MS, estimate_offset
from training.sync.verdicts import ValRecord, VerdictThresholds, judge_curve, tune_thresholds

log = logging.getLogger(__name__)
VERDICTS = ("in_sync", "out_of_sync", "inconclusive")


def track_distances(
    net: nn.Module, visual: torch.Tensor, mels: torch.Tensor, context: int, search: int
) -> tuple[np.ndarray, torch.Tensor, torch.Tensor]:
    """One track: visual input (N, ...) and audio variants (V, 40, 4 (N + 2C)) -> distances
    (V, W, 2 * search + 1) as 1 - cosine, plus the video and audio embeddings (for re-pairing)."""
    video = net.visual(visual.unsqueeze(0))
    audio = net.audio(mels)
    cosine = offset_logits(video.expand(len(mels), -1, -1), audio, context, search, torch.ones(()))
    return (1.0 - cosine).float().cpu().numpy(), video, audio


def unrelated_pairs(tracks: Sequence[dict[str, Any]]) -> list[tuple[dict, dict]]:
    """(track, partner): each track (by ``key`` order) with the next track of another speaker
    (``group``). Its audio has no sync relation with the track's face: the "no evidence"
    examples evaluation scores (a dubbed voice, a listener). Deterministic, so val/test and the
    baseline see the same pairs."""
    ordered = sorted(tracks, key=lambda t: t["key"])
    pairs = []
    for index, track in enumerate(ordered):
        for step in range(1, len(ordered)):
            partner = ordered[(index + step) % len(ordered)]
            if partner["group"] != track["group"]:
                pairs.append((track, partner))
                break
    return pairs


def evaluate_tracks(
    records: Sequence[dict[str, Any]],
    unrelated: Sequence[np.ndarray],
    thresholds: VerdictThresholds | None,
) -> dict[str, Any]:
    """Verdicts and scores of evaluated tracks: every stored offset variant of every track is a
    judged face fragment; every unrelated pair a no-evidence one. ``thresholds`` None = choose
    them here (validation) with ``training.sync.verdicts.tune_thresholds``.

    Scored per face track (a fragment with two faces counts twice): the shards hold tracks, and
    the speaker's track is what a verdict rests on.
    """
    faces = []
    curves = []
    window_hits: list[np.ndarray] = []
    for record in records:
        for variant, distances in enumerate(record["distances"]):
            estimate = estimate_offset(distances)
            true_ms = float(record["offsets_frames"][variant]) * FRAME_MS
            search = (distances.shape[1] - 1) // 2
            true_column = int(round(record["offsets_frames"][variant])) + search
            if 0 <= true_column < distances.shape[1]:
                window_hits.append(np.nanargmin(distances, axis=1) == true_column)
            faces.append((estimate, true_ms))
            if variant < 2:
                curves.append(
                    {
                        "curve": estimate.curve,
                        "true_offset_frames": float(record["offsets_frames"][variant]),
                        "title": f"{record['group']} {true_ms:+.0f} ms",
                    }
                )
    others = [estimate_offset(distances) for distances in unrelated]
    tuned: dict[str, Any] = {}
    if thresholds is None:
        tuned = tune_thresholds(
            [ValRecord(((e.offset_frames, e.confidence),), ms) for e, ms in faces]
            + [ValRecord(((e.offset_frames, e.confidence),), None) for e in others]
        )
        thresholds = VerdictThresholds(tuned["min_confidence"], tuned["tie_margin"])
    labelled = [(e, ms, "face") for e, ms in faces] + [(e, None, "unrelated") for e in others]
    fragments = [
        ScoredFragment(
            judge_curve(e.offset_frames, e.confidence, thresholds),
            e.offset_frames,
            e.confidence,
            true_ms,
            condition,  # type: ignore[arg-type]
        )
        for e, true_ms, condition in labelled
    ]
    report = sync_report(fragments)
    unrelated_share = report["no_evidence_inconclusive"]["unrelated"]
    scalars = {
        "bal_acc": report["bal_acc"] or 0.0,
        "offset_acc": report["offset_acc"] or 0.0,
        "recall_in_sync": report["recall"]["in_sync"] or 0.0,
        "recall_out_of_sync": report["recall"]["out_of_sync"] or 0.0,
        "inconclusive": report["inconclusive"] or 0.0,
        "unrelated_inconclusive": unrelated_share if unrelated_share is not None else 0.0,
        "auc_evidence": report["auc"]["evidence"] or 0.0,
        # single 5-frame windows that pick the true offset among 31: smooth, for model selection
        "window_acc": float(np.concatenate(window_hits).mean()) if window_hits else 0.0,
        "min_confidence": thresholds.min_confidence,
    }
    return {
        "scalars": scalars,
        "report": report,
        "thresholds": {
            "min_confidence": thresholds.min_confidence,
            "tie_margin": thresholds.tie_margin,
            "in_sync_frames": thresholds.in_sync_frames,
            **({"tuning": dict(tuned)} if tuned else {}),
        },
        "curves": curves,
    }


class LipSyncDetector(SegmentClassifierModule):
    """Train the two-stream network; evaluate verdicts on whole tracks."""

    def __init__(
        self,
        net: nn.Module,
        optimizer: Callable[..., torch.optim.Optimizer],
        scheduler: Callable[..., Any] | None = None,
        search_frames: int = 15,
        in_sync_frames: int = 1,
        out_of_sync_frames: int = 3,
        plot_examples: int = 6,
        classes: Sequence[str] = VERDICTS,
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
        self.search = int(search_frames)
        self.in_sync_frames = int(in_sync_frames)
        self.out_of_sync_frames = int(out_of_sync_frames)
        self.plot_examples = int(plot_examples)
        # Chosen on validation; buffers so the best checkpoint carries the values test uses.
        self.register_buffer("min_confidence", torch.tensor(0.0))
        self.register_buffer("tie_margin", torch.tensor(0.0))
        self._records: list[dict[str, Any]] = []

    def forward(self, visual: torch.Tensor, mel: torch.Tensor) -> Any:  # type: ignore[override]
        return self.net(visual, mel)

    # -- training --------------------------------------------------------------------------------

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> torch.Tensor:
        video, audio = self.net(batch["visual"], batch["mel"])
        scale = self.net.logit_scale.exp().clamp(max=100.0)
        logits = offset_logits(video, audio, int(batch["context"]), self.search, scale).float()
        flat = logits.reshape(-1, logits.shape[-1])
        target = torch.full((len(flat),), self.search, dtype=torch.long, device=flat.device)
        loss = F.cross_entropy(flat, target)
        accuracy = (flat.argmax(-1) == target).float().mean()
        near = ((flat.argmax(-1) - target).abs() <= self.in_sync_frames).float().mean()
        size = len(batch["visual"])
        self.log("train/loss", loss, prog_bar=True, batch_size=size)
        self.log("train/window_acc", accuracy, on_step=False, on_epoch=True, batch_size=size)
        self.log("train/window_acc_1", near, on_step=False, on_epoch=True, batch_size=size)
        return loss

    # -- evaluation ------------------------------------------------------------------------------

    def _eval_step(self, batch: list[dict[str, Any]], metrics: Any, stage: str) -> None:  # type: ignore[override]
        for track in batch:
            distances, video, audio = track_distances(
                self.net, track["visual"], track["mels"], track["context"], self.search
            )
            self._records.append(
                {
                    "key": track["key"],
                    "group": track["group"],
                    "distances": distances,
                    "offsets_frames": track["offsets_frames"],
                    "labels": track["labels"],
                    "video": video.detach().cpu(),
                    "audio0": audio[:1].detach().cpu(),
                    "context": track["context"],
                }
            )

    def unrelated_distances(self) -> list[np.ndarray]:
        """Each track's video against the in-sync audio of the next track (key order) that has
        another speaker: pairs with no sync relation, which should come out inconclusive."""
        found = []
        for record, partner in unrelated_pairs(self._records):
            video, audio = record["video"], partner["audio0"]
            windows = min(video.shape[2], audio.shape[2] - 2 * record["context"])
            if windows < 1:
                continue
            cosine = offset_logits(
                video[:, :, :windows],
                audio[:, :, : windows + 2 * record["context"]],
                record["context"],
                self.search,
                torch.ones(()),
            )
            found.append((1.0 - cosine[0]).float().numpy())
        return found

    def on_validation_epoch_start(self) -> None:
        self._records = []

    def on_test_epoch_start(self) -> None:
        self._records = []

    def _finish(self, stage: str) -> dict[str, Any]:
        thresholds = None
        if stage != "val":
            thresholds = VerdictThresholds(
                float(self.min_confidence), float(self.tie_margin), self.in_sync_frames
            )
        result = evaluate_tracks(self._records, self.unrelated_distances(), thresholds)
        if stage == "val":
            self.min_confidence.fill_(result["thresholds"]["min_confidence"])
            self.tie_margin.fill_(result["thresholds"]["tie_margin"])
        self.log_dict({f"{stage}/{k}": float(v) for k, v in result["scalars"].items()})
        return result

    def on_validation_epoch_end(self) -> None:
        if not self._records:
            return
        result = self._finish("val")
        if not self.trainer.sanity_checking:
            scalars = result["scalars"]
            log.info(
                "epoch %d: val/bal_acc=%.4f offset_acc=%.3f unrelated_inconclusive=%.3f "
                "(min_confidence %.4f)",
                self.current_epoch,
                scalars["bal_acc"],
                scalars["offset_acc"],
                scalars["unrelated_inconclusive"],
                float(self.min_confidence),
            )

    def on_test_epoch_end(self) -> None:
        if not self._records:
            return
        result = self._finish("test")
        self.test_report = {
            "bal_acc": result["scalars"]["bal_acc"],
            **{k: v for k, v in result.items() if k != "curves"},
        }
        if self.trainer.is_global_zero and not self.trainer.sanity_checking:
            self._save_plots(result)

    def _save_plots(self, result: dict[str, Any]) -> None:
        from training.sync.plots import confusion_figure, curves_figure, save_figure

        folder = Path(self.trainer.default_root_dir) / "plots"
        examples = result["curves"][: self.plot_examples]
        paths = {
            "sync_curves": save_figure(
                curves_figure(
                    [c["curve"] for c in examples],
                    [c["true_offset_frames"] for c in examples],
                    [c["title"] for c in examples],
                ),
                folder / "sync_curves_test.png",
            ),
            "verdict_confusion": save_figure(
                confusion_figure(result["report"]["confusion"], "test verdicts"),
                folder / "sync_confusion_test.png",
            ),
        }
        self.test_report["plots"] = {k: str(v) for k, v in paths.items()}
        for logger in self.loggers:
            if hasattr(logger, "log_image"):
                for name, path in paths.items():
                    logger.log_image(key=f"test/{name}", images=[str(path)])
