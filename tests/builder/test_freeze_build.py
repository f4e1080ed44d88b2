"""The freeze build end to end on tiny clips: schema, labels, balance, re-render, determinism."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import webdataset as wds
from omegaconf import DictConfig

from impairments import media_io
from impairments.builder.freeze_render import (
    FreezeRenderSettings,
    decimation_step,
    render_freeze_clip,
)
from impairments.builder.run import build_dataset, plan_dataset
from impairments.video.frame_differences import FEATURE_VERSION, STAT_NAMES, clip_features
from impairments.video.temporal import events_from_labels, repeated_frames
from tests.conftest import TINY_FREEZE_BUILD

CLASSES = ["clean", "freeze", "stutter"]


def read_samples(card: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for summary in card["splits"].values():
        urls = [shard["path"] for shard in summary["shards"]]
        if not urls:
            continue
        for sample in wds.WebDataset(urls, shardshuffle=False, empty_check=False):
            rows.append(
                {
                    "key": sample["__key__"],
                    **{
                        name: np.load(io.BytesIO(sample[f"{name}.npy"]))
                        for name in ("thumbs", "stats", "labels")
                    },
                    **json.loads(sample["json"]),
                }
            )
    return rows


def digests(card: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (Path(s["path"]).name, s["sha256"]) for v in card["splits"].values() for s in v["shards"]
    ]


@pytest.fixture(scope="module")
def compose_build(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., DictConfig]:
    from hydra import compose, initialize_config_dir

    from tests.conftest import CONF_DIR

    root = tmp_path_factory.mktemp("freeze_build")

    def make(*overrides: str, out: str = "build") -> DictConfig:
        with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
            return compose(
                config_name="build",
                overrides=[
                    f"output_dir={root / out / 'shards'}",
                    f"manifest_dir={root / out / 'manifests'}",
                    *overrides,
                ],
            )

    return make


@pytest.fixture(scope="module")
def builtin_build(compose_build: Callable[..., DictConfig]) -> dict[str, Any]:
    return build_dataset(compose_build(*TINY_FREEZE_BUILD, "workers=0"))


def test_samples_follow_the_shard_contract(builtin_build: dict[str, Any]) -> None:
    rows = read_samples(builtin_build)
    assert rows and builtin_build["classes"] == CLASSES
    assert builtin_build["feature_version"] == FEATURE_VERSION
    for row in rows:
        frames = row["n_frames"]
        assert "." not in row["key"] and row["fps"] == 25.0 and frames == 25
        assert row["thumbs"].shape == (frames, 96, 128) and row["thumbs"].dtype == np.uint8
        assert row["stats"].shape == (frames, len(STAT_NAMES))
        assert row["stats"].dtype == np.float32
        assert row["labels"].shape == (frames,) and row["labels"].dtype == np.int8
        assert row["label_index"] == CLASSES.index(row["label"])
        assert row["size"] == [48, 64] and row["feature_version"] == FEATURE_VERSION
        assert row["events"] == events_from_labels(row["labels"], row["fps"])
        for key in ("params", "source", "source_id", "split", "t0", "seed", "hard_negative"):
            assert key in row
        if row["label"] == "clean":
            assert not row["labels"].any() and row["severity"] == 0
            assert row["impairment"] is None
            assert row["hard_negative"] in {None, *builtin_build["hard_negatives"]}
        else:
            assert set(np.unique(row["labels"])) == {0, CLASSES.index(row["label"])}
            assert row["impairment"] in builtin_build["positives"][row["label"]]
            assert 1 <= row["severity"] <= 5 and row["hard_negative"] is None


def test_every_class_and_impairment_is_built_and_counted(builtin_build: dict[str, Any]) -> None:
    rows = read_samples(builtin_build)
    made = {row["impairment"] or row["hard_negative"] for row in rows} - {None}
    assert {"freeze", "stutter", "frame_drop"} <= made
    assert made & set(builtin_build["hard_negatives"])
    for split, summary in builtin_build["splits"].items():
        mine = [row for row in rows if row["split"] == split]
        counted = {
            k: v for k, v in summary["per_impairment"].items() if not k.startswith("relabelled/")
        }
        assert sum(counted.values()) == summary["count"] == len(mine)
        relabelled = sum(
            v for k, v in summary["per_impairment"].items() if k.startswith("relabelled/")
        )
        counts = list(summary["per_class"].values())
        assert max(counts) - min(counts) <= 1 + relabelled, split


def test_stats_are_the_features_of_the_rerendered_clip(
    compose_build: Callable[..., DictConfig], builtin_build: dict[str, Any]
) -> None:
    """``render_freeze_clip`` re-creates the very frames the build measured, from the plan."""
    cfg = compose_build(*TINY_FREEZE_BUILD, "workers=0")
    plan = plan_dataset(cfg)
    settings = FreezeRenderSettings.from_config(cfg.dataset, str(cfg.output_dir))
    written = {row["key"]: row for row in read_samples(builtin_build)}
    checked = 0
    for shard in plan.shards:
        for planned in shard.items:
            for sample in planned.samples[:1]:
                clip = render_freeze_clip(settings, planned, sample, full_resolution=False)
                assert clip is not None
                row = written[clip.key]
                features = clip_features(clip.frames)
                assert np.array_equal(features["stats"], row["stats"])
                assert np.array_equal(features["thumbs"], row["thumbs"])
                assert np.array_equal(clip.labels, row["labels"])
                if row["impairment"] == "freeze" and not row["params"]["reencode"]:
                    assert np.array_equal(repeated_frames(clip.frames), row["labels"] == 1)
                checked += 1
    assert checked >= 4


def test_same_config_gives_identical_shards_whatever_the_worker_count(
    compose_build: Callable[..., DictConfig], builtin_build: dict[str, Any]
) -> None:
    two = build_dataset(compose_build(*TINY_FREEZE_BUILD, "workers=2", out="two"))
    assert digests(builtin_build) == digests(two)
    assert builtin_build["plan_sha256"] == two["plan_sha256"]


def test_folder_sources_above_30_fps_are_decimated(
    tmp_path: Path, compose_build: Callable[..., DictConfig]
) -> None:
    rng = np.random.default_rng(0)
    texture = rng.integers(0, 256, (48, 200, 3), dtype=np.uint8)
    frames = np.stack([np.roll(texture, 3 * t, axis=1)[:, :64] for t in range(100)])
    media_io.write_video(tmp_path / "fast camera.mp4", frames, 50)
    (tmp_path / "broken.mp4").write_bytes(b"\x00" * 100)
    card = build_dataset(
        compose_build(
            *TINY_FREEZE_BUILD[:5],
            "sources=folder",
            f"sources.path={tmp_path}",
            "workers=0",
            out="folder",
        )
    )
    assert [Path(s["source"]).name for s in card["skipped_items"]] == ["broken.mp4"]
    rows = read_samples(card)
    assert rows and all(row["fps"] == 25.0 and row["frame_step"] == 2 for row in rows)
    assert all(row["n_frames"] == 25 for row in rows)
    assert decimation_step(59.94, 30.0) == 2 and decimation_step(25.0, 30.0) == 1
    assert decimation_step(120.0, 30.0) == 4


def test_iter_planned_clips_yields_the_split_at_full_resolution(
    builtin_build: dict[str, Any],
) -> None:
    from impairments.builder import iter_planned_clips

    written = {row["key"]: row for row in read_samples(builtin_build) if row["split"] == "val"}
    clips = list(iter_planned_clips([o for o in TINY_FREEZE_BUILD if o != "dataset=freeze"], "val"))
    assert {clip.key for clip in clips} == set(written)
    for clip in clips:
        assert clip.frames.shape == (25, 48, 64, 3)
        assert np.array_equal(clip.labels, written[clip.key]["labels"])
        assert clip.meta["events"] == written[clip.key]["events"]
