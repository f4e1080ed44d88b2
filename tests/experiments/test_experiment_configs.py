"""Experiment configs that reproduce README numbers pin the dataset card they were measured on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from .conftest import REPO

README_EXPERIMENTS = [
    "audio_artifact_default",
    "audio_artifact_real_recordings",
    "block_corruption_cpu",
    "freeze_cpu_lowmotion",
]


def compose_with(overrides: list[str]):
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        return compose("train", overrides=overrides)


@pytest.mark.parametrize("name", README_EXPERIMENTS)
def test_readme_experiments_pin_their_shards(name: str) -> None:
    cfg = compose_with([f"experiment={name}"])
    assert re.fullmatch(r"[0-9a-f]{64}", cfg.expected_content_sha256)
    assert "readme" in cfg.tags


def test_real_recordings_evaluates_a_checkpoint_on_the_real_build() -> None:
    cfg = compose_with(["experiment=audio_artifact_real_recordings", "ckpt_path=x.ckpt"])
    assert not cfg.train and cfg.test and not cfg.export
    assert cfg.detector.data.card_path.endswith("data_manifests/shared_audio.card.json")


def test_search_base_spells_out_the_swept_model_size_keys() -> None:
    cfg = compose_with(["experiment=audio_artifact_search_base"])
    assert list(cfg.detector.model.backbone_kwargs) == ["widths", "hidden"]


@pytest.mark.parametrize(
    "name", ["block_corruption_cpu_catalogue", "block_corruption_cpu_catalogue_heavy"]
)
def test_catalogue_stages_train_on_a_second_build(name: str) -> None:
    """The catalogue stages add the catalogue build's train split to the main build's; val and
    test stay the main build's (the sixth stage's, so their val numbers compare)."""
    cfg = compose_with([f"experiment={name}", "init_from=x.ckpt"])
    data = cfg.detector.data
    assert data.shard_dir.endswith("shards/block_cpu_seed31")
    (extra,) = data.extra_train
    assert set(extra) == {"shard_dir", "card_path", "repeats"} and extra.repeats >= 1
    assert extra.shard_dir.endswith("shards/block_catalogue_train")
    assert extra.card_path.endswith("data_manifests/block_catalogue_train.card.json")


def test_tenth_stage_adds_fast_motion_and_the_catalogue() -> None:
    """Two extra builds, each with its own card; val and test stay the sixth stage's build."""
    cfg = compose_with(
        ["experiment=block_corruption_cpu_fast_motion_catalogue", "init_from=x.ckpt"]
    )
    data = cfg.detector.data
    assert data.shard_dir.endswith("shards/block_cpu_seed31")
    builds = {Path(extra.shard_dir).name: extra for extra in data.extra_train}
    assert set(builds) == {"block_cpu_fast_motion", "block_catalogue_train"}
    for name, extra in builds.items():
        assert extra.card_path.endswith(f"data_manifests/{name}.card.json")
    assert builds["block_catalogue_train"].repeats == 4
