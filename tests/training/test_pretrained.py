"""Loading published PANNs CNN14 weights: key mapping, skipped head/extractor, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from training.models.pann import Cnn14Backbone, build_segment_classifier
from training.models.pretrained import load_pann_weights

SMALL = [4, 8, 8, 16, 16, 32]  # the published layout with small widths, so the file is tiny


def published_cnn14_keys(widths: list[int]) -> dict[str, tuple[int, ...]]:
    """The state-dict a PANNs ``Cnn14`` (models.py of qiuqiangkong/audioset_tagging_cnn) saves."""
    keys: dict[str, tuple[int, ...]] = {}
    bn = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
    keys["spectrogram_extractor.stft.conv_real.weight"] = (513, 1, 1024)
    keys["spectrogram_extractor.stft.conv_imag.weight"] = (513, 1, 1024)
    keys["logmel_extractor.melW"] = (513, 64)
    for name in bn:
        keys[f"bn0.{name}"] = () if name == "num_batches_tracked" else (64,)
    channels = [1, *widths]
    for block in range(6):
        c_in, c_out = channels[block], channels[block + 1]
        keys[f"conv_block{block + 1}.conv1.weight"] = (c_out, c_in, 3, 3)
        keys[f"conv_block{block + 1}.conv2.weight"] = (c_out, c_out, 3, 3)
        for norm in ("bn1", "bn2"):
            for name in bn:
                shape = () if name == "num_batches_tracked" else (c_out,)
                keys[f"conv_block{block + 1}.{norm}.{name}"] = shape
    keys["fc1.weight"] = (widths[-1], widths[-1])
    keys["fc1.bias"] = (widths[-1],)
    keys["fc_audioset.weight"] = (527, widths[-1])
    keys["fc_audioset.bias"] = (527,)
    return keys


def write_checkpoint(path: Path, widths: list[int], seed: int = 0) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    state = {
        key: (torch.tensor(7) if not shape else torch.randn(shape, generator=generator))
        for key, shape in published_cnn14_keys(widths).items()
    }
    torch.save({"model": state, "sampler": {}, "iteration": 600000}, path)
    return state


def test_published_keys_match_the_full_size_backbone() -> None:
    with torch.device("meta"):
        backbone = Cnn14Backbone()
    published = published_cnn14_keys([64, 128, 256, 512, 1024, 2048])
    kept = {
        k: v
        for k, v in published.items()
        if not k.startswith(("fc_audioset", "spectrogram_extractor", "logmel_extractor"))
    }
    own = {k: tuple(v.shape) for k, v in backbone.state_dict().items()}
    assert own == kept
    assert sum(p.numel() for p in backbone.parameters()) > 75_000_000  # the published ~80 M


def test_pretrained_path_loads_weights_and_skips_head(tmp_path: Path) -> None:
    path = tmp_path / "Cnn14_mAP=0.431.pth"
    state = write_checkpoint(path, SMALL)
    net = build_segment_classifier(
        ["none", "hum", "hiss", "distortion", "clicks"],
        {},
        backbone="cnn14",
        backbone_kwargs={"widths": SMALL},
        pretrained_path=str(path),
    )
    loaded = net.backbone.state_dict()
    for key, value in state.items():
        if key.startswith(("fc_audioset", "spectrogram_extractor", "logmel_extractor")):
            continue
        assert torch.equal(loaded[key], value), key
    assert net.classifier.out_features == 5  # new head, not AudioSet's 527
    net.eval()
    assert net(torch.randn(2, 32000)).probabilities.shape == (2, 5)


def test_mismatched_checkpoints_fail_loudly(tmp_path: Path) -> None:
    path = tmp_path / "other.pth"
    write_checkpoint(path, [8, 8, 8, 16, 16, 32])
    with pytest.raises(ValueError, match="shape"):
        load_pann_weights(Cnn14Backbone(widths=SMALL), path)
    torch.save({"model": {"conv_block9.conv1.weight": torch.zeros(1)}}, path)
    with pytest.raises(KeyError, match="conv_block9"):
        load_pann_weights(Cnn14Backbone(widths=SMALL), path)
    with pytest.raises(FileNotFoundError):
        load_pann_weights(Cnn14Backbone(widths=SMALL), tmp_path / "missing.pth")


def test_freeze_warmup_then_unfreeze(tmp_path: Path) -> None:
    """freeze_backbone_epochs: backbone frozen (BatchNorm too) for the first epochs only."""
    from functools import partial

    from training.detectors.audio_artifact import AudioArtifactDetector

    net = build_segment_classifier(
        ["none", "a", "b", "c", "d"], {}, backbone="cnn14", backbone_kwargs={"widths": SMALL}
    )
    module = AudioArtifactDetector(
        net=net,
        optimizer=partial(torch.optim.AdamW, lr=1e-3),
        freeze_backbone_epochs=1,
        classes=["none", "a", "b", "c", "d"],
    )
    module.train()
    module._set_backbone_frozen(True)
    module.train()  # what Lightning calls after each validation
    assert not any(p.requires_grad for p in net.backbone.parameters())
    assert not net.backbone.bn0.training and net.classifier.training
    module._set_backbone_frozen(False)
    assert all(p.requires_grad for p in net.backbone.parameters())
    assert net.backbone.bn0.training


@pytest.mark.parametrize(
    ("backbone", "kwargs"),
    [("light", {}), ("light2d", {}), ("cnn14", {"widths": SMALL})],
)
def test_every_backbone_trains_a_step(backbone: str, kwargs: dict) -> None:
    net = build_segment_classifier(
        ["none", "a", "b", "c", "d"], {}, backbone=backbone, backbone_kwargs=kwargs
    )
    scores = net(torch.randn(4, 32000) * 0.1)
    assert scores.logits.shape == (4, 5)
    torch.nn.functional.cross_entropy(scores.logits, torch.tensor([0, 1, 2, 3])).backward()
    assert all(p.grad is not None for p in net.backbone.parameters() if p.requires_grad)
