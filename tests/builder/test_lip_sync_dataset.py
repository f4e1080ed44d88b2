"""The lip_sync build end to end on three shipped GRID clips plus bad input: the shard contract,
the offset sign against the audio itself, speaker splits, determinism and bad-file reporting."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import webdataset as wds
from omegaconf import DictConfig

import impairments
from impairments import media_io
from impairments.av.labels import sync_label
from impairments.builder.lip_sync_render import LipSyncRenderSettings, well_detected
from impairments.builder.run import build_dataset
from impairments.sources import BuiltinSource
from impairments.sources.builtin import TALKING_FACES_DIR
from impairments.talking_face import Track, TrackCrops
from impairments.talking_face.fragments import picture_aligned_audio, shifted_window

REPO = Path(__file__).resolve().parents[2]
GRID = TALKING_FACES_DIR / "grid"
C = 15  # context frames
BUCKETS = [[120, 120], [1, 40], [41, 119], [201, 400]]  # every sample gets a +-120 ms row
# Fast pipeline for tests: PySceneDetect shots, MTCNN faces searched at 160 px (GRID faces ~70 px).
TEST_BUILD = (
    "dataset=lip_sync",
    "dataset.pipeline.shots=content",
    "dataset.pipeline.detect_side=160",
    f"dataset.offset_buckets_ms={json.dumps(BUCKETS).replace(' ', '')}",
    "workers=0",
)


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A manifest: two clips of one speaker (``spk_a``), one of another, and bad input: an empty
    file, random bytes, a picture without sound, a clip without a face, a clip too short."""
    root = tmp_path_factory.mktemp("lip_catalogue")
    for name in ("bbaf2n", "brbk7n", "lbbc2a"):
        shutil.copy(GRID / f"{name}.mpg", root / f"{name}.mpg")
    (root / "empty.mp4").write_bytes(b"")
    (root / "garbage.mp4").write_bytes(np.random.default_rng(1).bytes(4096))
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 255, (30, 96, 128, 3), dtype=np.uint8)
    tone = (0.2 * np.sin(2 * np.pi * 220 * np.arange(19200) / 16000)).astype(np.float32)
    media_io.write_video(root / "silent_picture.mp4", noise, 25)
    media_io.write_video(root / "no_face.mp4", noise, 25, tone[None], 16000)
    media_io.write_video(root / "short.mp4", noise[:12], 25, tone[None, :7680], 16000)
    rows = [
        {"path": "bbaf2n.mpg", "group": "spk_a", "licence": "CC BY 4.0"},
        {"path": "brbk7n.mpg", "group": "spk_a", "licence": "CC BY 4.0"},
        {"path": "lbbc2a.mpg", "group": "spk_b", "licence": "CC BY 4.0"},
        {"path": "no_face.mp4", "group": "spk_c"},
        {"path": "empty.mp4"},
        {"path": "garbage.mp4"},
        {"path": "silent_picture.mp4"},
        {"path": "short.mp4"},
    ]
    manifest = root / "catalogue.jsonl"
    manifest.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return manifest


@pytest.fixture(scope="module")
def compose_build(
    tmp_path_factory: pytest.TempPathFactory, catalogue: Path
) -> Callable[..., DictConfig]:
    from hydra import compose, initialize_config_dir

    from tests.conftest import CONF_DIR

    root = tmp_path_factory.mktemp("lip_build")

    def make(out: str) -> DictConfig:
        with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
            return compose(
                config_name="build",
                overrides=[
                    f"output_dir={root / out / 'shards'}",
                    f"manifest_dir={root / out / 'manifests'}",
                    "sources=manifest",
                    f"sources.path={catalogue}",
                    *TEST_BUILD,
                ],
            )

    return make


@pytest.fixture(scope="module")
def card(compose_build: Callable[..., DictConfig]) -> dict[str, Any]:
    return build_dataset(compose_build("first"))


@pytest.fixture(scope="module")
def samples(card: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for split, summary in card["splits"].items():
        urls = [shard["path"] for shard in summary["shards"]]
        if not urls:
            continue
        for sample in wds.WebDataset(urls, shardshuffle=False, empty_check=False):
            rows.append(
                {
                    "key": sample["__key__"],
                    "shard_split": split,
                    "faces": np.load(io.BytesIO(sample["faces.npy"])),
                    "audio": np.load(io.BytesIO(sample["audio.npy"])),
                    "meta": json.loads(sample["json"].decode("utf-8")),
                }
            )
    return rows


def test_builtin_talking_faces_are_ten_speakers_split_6_2_2() -> None:
    items, problems = BuiltinSource(media="talking_face").items()
    assert problems == []
    assert len(items) == len({item.split_group for item in items}) == 10
    splits = [item.split for item in items]
    assert (splits.count("train"), splits.count("val"), splits.count("test")) == (6, 2, 2)
    for item in items:
        data = Path(item.path or "").read_bytes()
        assert hashlib.sha256(data).hexdigest() == item.meta["sha256"]
        assert item.licence and "CC BY 4.0" in item.licence and "Cooke" in item.meta["attribution"]
    # Shipped: inside the package data and not ignored by git.
    package_data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "talking_faces/grid/*.mpg" in package_data["package-data"]["impairments.sources"]
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", str(GRID / "bbaf2n.mpg")], cwd=REPO, check=False
    )
    assert ignored.returncode == 1


def test_every_sample_follows_the_contract(samples: list[dict[str, Any]]) -> None:
    assert len(samples) == 3  # one face track per GRID clip, nothing from the bad files
    for sample in samples:
        meta, faces, audio = sample["meta"], sample["faces"], sample["audio"]
        track, n = meta["track"], meta["track"]["frames"]
        assert (
            re.fullmatch(r"[0-9a-f]{16}_\d{4}_\d{2}", sample["key"])
            and meta["key"] == sample["key"]
        )
        assert faces.dtype == np.uint8 and faces.shape == (n, 96, 96, 3)
        assert audio.dtype == np.int16 and audio.shape == (1 + len(BUCKETS), (n + 2 * C) * 640)
        assert (meta["fps"], meta["sample_rate"], meta["context_frames"]) == (25, 16000, C)
        assert meta["split"] == sample["shard_split"] and meta["licence"] == "CC BY 4.0"
        assert set(meta) >= {
            "source",
            "source_id",
            "group",
            "fragment",
            "track",
            "variants",
            "seed",
        }
        assert meta["fragment"] == {"index": 0, "start_s": 0.0, "frames": 75}  # 3-s clip, whole
        assert len(track["boxes"]) == n and track["frame_size"] == [360, 288]
        assert 0 < track["detected_share"] <= 1 and 100 < track["face_px"] < 250
        assert track["first"] + n <= meta["fragment"]["frames"]
        variants = meta["variants"]
        assert variants[0]["offset_ms"] == 0
        for variant, (low, high) in zip(variants[1:], BUCKETS, strict=True):
            assert low <= abs(variant["offset_ms"]) <= high
        for variant in variants:
            assert variant["label"] == sync_label(variant["offset_ms"], 25)
            assert variant["offset_frames"] == pytest.approx(variant["offset_ms"] / 40)
            assert variant["impairment"]["name"] == "av_offset"
        assert faces[:, 48:].std() > 10  # a real picture, not padding


def test_rows_are_the_av_offset_impairment_applied_to_the_whole_item(
    samples: list[dict[str, Any]],
) -> None:
    """Each row equals ``av_offset`` applied to the item's whole audio, then cut; positive =
    audio late, so the +120 ms row is row 0 delayed by 1920 samples."""
    for sample in samples:
        meta, audio = sample["meta"], sample["audio"].astype(np.float32) / 32768
        whole = media_io.read_audio(meta["source"], sample_rate=16000, channels=1)[0]
        start = (meta["track"]["first"] - C) * 640  # fragment starts at 0 here
        length = audio.shape[1]
        for row, variant in zip(audio, meta["variants"], strict=True):
            offset = variant["offset_ms"]
            av_offset = impairments.get("av_offset", offset_ms=(offset, offset))
            shifted, annotation = av_offset(whole, sample_rate=16000, fps=25, seed=1)
            assert annotation.params["offset_ms"] == offset
            padded = np.concatenate([np.zeros(C * 640), shifted, np.zeros(length)])
            expected = padded[start + C * 640 : start + C * 640 + length]
            expected = np.clip(expected, -1.0, 32767 / 32768)  # int16 range (decoder overshoot)
            np.testing.assert_allclose(row, expected, atol=1.5 / 32768)
        late = next(v for v in meta["variants"] if abs(v["offset_ms"]) == 120)
        row = audio[meta["variants"].index(late)]
        lag = 1920 if late["offset_ms"] > 0 else -1920
        inside = slice(C * 640 + 1920, C * 640 + 40_000)  # within the file for either sign
        np.testing.assert_array_equal(row[inside], np.roll(audio[0], lag)[inside])


def test_shifted_window_matches_shifting_the_whole_item() -> None:
    rng = np.random.default_rng(3)
    audio = rng.standard_normal(5000).astype(np.float32)
    for shift in (-900, -1, 0, 7, 1920, 6000):
        whole = impairments.av.base.shift_constant(audio[None], shift)[0]
        padded = np.concatenate([np.zeros(700), whole, np.zeros(1500)])
        for start in (-700, 0, 1234, 4000):
            got = shifted_window(audio, start, 2000, shift)
            np.testing.assert_array_equal(got, padded[start + 700 : start + 2700])


def test_picture_aligned_audio_starts_at_the_first_frame() -> None:
    whole = media_io.read_audio(GRID / "lbbc2a.mpg", sample_rate=16000, channels=1)[0]
    np.testing.assert_array_equal(picture_aligned_audio(str(GRID / "lbbc2a.mpg")), whole)


def test_speakers_never_cross_splits(card: dict[str, Any], samples: list[dict[str, Any]]) -> None:
    split_of: dict[str, set[str]] = {}
    for sample in samples:
        split_of.setdefault(sample["meta"]["group"], set()).add(sample["meta"]["split"])
    assert all(len(splits) == 1 for splits in split_of.values())
    assert sum(1 for s in samples if s["meta"]["group"] == "spk_a") == 2
    listed = {
        split: set(summary["speakers"]) for split, summary in card["lip_sync"]["splits"].items()
    }
    assert not (listed["train"] & listed["val"] or listed["train"] & listed["test"])
    assert not listed["val"] & listed["test"]


def test_card_counts_fragments_speakers_and_bad_files(card: dict[str, Any]) -> None:
    summary = card["lip_sync"]["splits"]
    assert sum(s["fragments"] for s in summary.values()) == 4
    assert sum(s["fragments_without_face"] for s in summary.values()) == 1  # no_face.mp4
    assert sum(s["samples"] for s in summary.values()) == 3
    assert sum(s["speaker_count"] for s in summary.values()) == 3  # spk_a, spk_b, spk_c
    labels = variant_totals(summary)
    assert labels["in_sync"] == 3 * 2 and labels["out_of_sync"] == 3 * 2
    assert labels["borderline"] == 3
    reasons = {Path(row["source"]).name: row["reason"] for row in card["skipped_items"]}
    assert set(reasons) == {"empty.mp4", "garbage.mp4", "silent_picture.mp4", "short.mp4"}
    assert "empty" in reasons["empty.mp4"]
    assert reasons["garbage.mp4"]  # whatever the demuxer says, said per file
    assert "no audio stream" in reasons["silent_picture.mp4"]
    assert "too short" in reasons["short.mp4"]
    assert {row["licence"] for row in card["lip_sync"]["provenance"]} == {"CC BY 4.0", None}
    packages = card["pipeline"]["packages"]
    assert packages["facenet-pytorch"] != "not installed"


def variant_totals(summary: dict[str, Any]) -> dict[str, int]:
    total: dict[str, int] = {}
    for split in summary.values():
        for label, count in split["variant_labels"].items():
            total[label] = total.get(label, 0) + count
    return total


def test_rebuild_is_byte_identical(
    card: dict[str, Any], compose_build: Callable[..., DictConfig]
) -> None:
    again = build_dataset(compose_build("second"))
    assert again["content_sha256"] == card["content_sha256"]
    assert sum(s["count"] for summary in card["splits"].values() for s in summary["shards"]) == 3


def test_tracks_mostly_interpolated_are_dropped() -> None:
    def crops(detected: list[bool]) -> TrackCrops:
        n = len(detected)
        track = Track(0, 0, 0, np.zeros((n, 4)), np.array(detected), np.ones(n), np.ones((n, 5, 2)))
        return TrackCrops(track, np.zeros((n, 48, 96, 3), np.uint8), np.zeros(n * 640), track.boxes)

    face, hands = crops([True] * 10), crops([True, False] * 5)
    assert well_detected([face, hands], 0.8) == [face]
    assert well_detected([face, hands], 0.5) == [face, hands]


def test_bad_settings_are_refused_with_the_key(compose_build: Callable[..., DictConfig]) -> None:
    cfg = compose_build("unused")
    cfg.dataset.offset_buckets_ms = [[200, 100]]
    with pytest.raises(ValueError, match="offset_buckets_ms"):
        LipSyncRenderSettings.from_config(cfg.dataset, "x")
    cfg = compose_build("unused")
    cfg.dataset.pipeline.faces = "dlib"
    with pytest.raises(ValueError, match=r"pipeline\.faces"):
        LipSyncRenderSettings.from_config(cfg.dataset, "x")
