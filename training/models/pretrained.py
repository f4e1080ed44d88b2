"""Load published PANNs checkpoints (e.g. ``Cnn14_mAP=0.431.pth``) into a backbone.

PANNs checkpoints are ``{"model": state_dict, ...}`` with keys such as ``bn0.weight``,
``conv_block1.conv1.weight``, ``conv_block1.bn1.running_mean``, ``fc1.weight`` and the AudioSet
head ``fc_audioset.*``. The head (527 AudioSet classes) is skipped: our classifier is new. The
feature-extractor tensors (``spectrogram_extractor.*``, ``logmel_extractor.*``) are skipped too:
they are fixed DFT/mel matrices that ``LogMel`` recomputes with the same settings.

Anything else that does not fit is an error that names the keys, because a silently half-loaded
backbone trains and looks plausible while the "pretrained" claim is false.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from torch import nn

log = logging.getLogger(__name__)

SKIPPED_PREFIXES = ("fc_audioset.", "spectrogram_extractor.", "logmel_extractor.")


def published_to_backbone_key(key: str) -> str | None:
    """Map a published CNN14 key to the backbone's key; ``None`` means deliberately skipped.

    The backbone keeps the published attribute names, so the mapping is the identity after
    removing wrappers that training scripts add (``module.`` from DataParallel/DDP).
    """
    if key.startswith("module."):
        key = key[len("module.") :]
    if key.startswith(SKIPPED_PREFIXES):
        return None
    return key


def load_pann_weights(backbone: nn.Module, path: str | Path) -> dict[str, list[str]]:
    """Copy published weights into ``backbone``; return what was loaded and skipped."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"pretrained checkpoint not found: {path}")
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    state = checkpoint.get("model", checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict) or not state:
        raise ValueError(f"{path}: expected a PANNs checkpoint {{'model': state_dict}}")

    own = backbone.state_dict()
    mapped: dict[str, torch.Tensor] = {}
    skipped: list[str] = []
    for key, value in state.items():
        target = published_to_backbone_key(key)
        if target is None:
            skipped.append(key)
            continue
        if target not in own:
            raise KeyError(
                f"{path}: key {key!r} has no place in {type(backbone).__name__}; "
                "is this a CNN14 checkpoint and detector.model.backbone=cnn14?"
            )
        if own[target].shape != value.shape:
            raise ValueError(
                f"{path}: {key} has shape {tuple(value.shape)}, the backbone expects "
                f"{tuple(own[target].shape)} (check n_mels=64 and the backbone widths)"
            )
        mapped[target] = value
    missing = sorted(set(own) - set(mapped))
    if missing:
        raise KeyError(f"{path}: checkpoint lacks {len(missing)} backbone keys, e.g. {missing[:3]}")
    backbone.load_state_dict(mapped, strict=True)
    log.info(
        "loaded %d tensors from %s (skipped %d: %s)",
        len(mapped),
        path,
        len(skipped),
        sorted({k.split(".")[0] for k in skipped}),
    )
    return {"loaded": sorted(mapped), "skipped": skipped}
