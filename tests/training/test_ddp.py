"""Multi-process training: two CPU ranks (gloo) on a tiny build.

Eval splits must be covered exactly once across ranks even when they have fewer shards than
ranks x loader workers, and metrics must come from every rank's samples: a 2-rank evaluation gives
the same report as a 1-process one on the same data and weights.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hydra.utils import instantiate
from omegaconf import open_dict

from tests.training import ddp_rank_probe
from tests.training.conftest import write_tiny_audio_build
from training.data import webdataset_module
from training.data.webdataset_module import WebDatasetDataModule, eval_samples_per_worker

REPO = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).with_name("ddp_rank_probe.py")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        "WANDB_MODE": "disabled",
        "OMP_NUM_THREADS": "1",
    }


def _run(command: list[str], timeout: float = 120) -> None:
    """Run a (multi-process) command; on failure show its output, not just an exit code."""
    done = subprocess.run(
        command, cwd=REPO, env=_env(), capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, (
        f"{command[:4]}... failed:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}"
    )


@pytest.fixture(scope="module")
def ddp_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """val: 40 samples in ONE shard (fewer than 2 ranks x 2 workers); test: 45 in 3 shards
    (odd: ranks get unequal shares and batch counts)."""
    root = tmp_path_factory.mktemp("ddp_build")
    write_tiny_audio_build(root, {"train": 4, "val": 8, "test": 9}, {"train": 2, "test": 3})
    return root


def _paths(build: Path) -> tuple[str, str]:
    return (
        str(build / "data" / "shards" / "audio_artifact"),
        str(build / "data_manifests" / "audio_artifact.card.json"),
    )


def test_eval_samples_per_worker_cover_every_sample_once() -> None:
    for counts in ([40], [15, 15, 15], [1, 0, 7, 3], [2]):
        for workers in (1, 2, 3):
            for world in (1, 2, 3):
                shares = [eval_samples_per_worker(counts, workers, r, world) for r in range(world)]
                per_worker_total = [sum(s[w] for s in shares) for w in range(workers)]
                assert per_worker_total == [sum(counts[w::workers]) for w in range(workers)]
                for share in shares:  # ranks differ by at most one sample per worker
                    assert all(abs(a - b) <= 1 for a, b in zip(share, shares[0], strict=True))


def test_ddp_cpu_trainer_config(compose_train: Callable, tmp_path: Path) -> None:
    cfg = compose_train(["trainer=ddp_cpu"])
    trainer = instantiate(cfg.trainer, default_root_dir=str(tmp_path), logger=False)
    assert trainer.world_size == 2
    assert trainer.strategy.process_group_backend == "gloo"
    assert compose_train(["trainer=ddp"]).trainer.accelerator == "gpu"


def test_two_ranks_read_disjoint_eval_samples_and_sync_metrics(
    ddp_build: Path, tmp_path: Path
) -> None:
    shard_dir, card = _paths(ddp_build)
    _run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc-per-node=2",
            f"--master-port={_free_port()}",
            str(PROBE),
            shard_dir,
            card,
            str(tmp_path),
            "2",
        ]
    )
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    single = ddp_rank_probe.probe(shard_dir, card, num_workers=2)  # not distributed: world 1

    for split, expected in (("val", 40), ("test", 45)):
        seen = [set(rank[split]["keys"]) for rank in ranks]
        assert all(len(s) == len(rank[split]["keys"]) for s, rank in zip(seen, ranks, strict=True))
        assert not seen[0] & seen[1], f"{split}: ranks read the same samples"
        assert seen[0] | seen[1] == set(single[split]["keys"])
        assert len(seen[0] | seen[1]) == expected
        for rank in ranks:  # Lightning is told the true number of batches
            assert rank[split]["batches"] == rank[split]["announced_batches"] > 0
    for rank in ranks:  # synced state: each rank reports over all 45 samples, as 1 process does
        assert rank["test_report"] == single["test_report"]
        assert rank["test_report"]["count"] == 45


def test_eval_split_smaller_than_world_fails_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_tiny_audio_build(tmp_path, {"train": 1, "val": 1, "test": 1}, {})
    shard_dir, card = _paths(tmp_path)
    datamodule = WebDatasetDataModule(shard_dir, card, sample_map=dict, num_workers=0)
    datamodule.setup()
    monkeypatch.setattr(webdataset_module, "_rank_and_world", lambda: (0, 8))
    with pytest.raises(ValueError, match=r"val split .* 5 samples .* 8 ranks"):
        datamodule.val_dataloader()


@pytest.mark.slow
def test_train_py_two_rank_test_equals_one_process(
    ddp_build: Path, tmp_path: Path, compose_train: Callable, shrink: Callable, train_entry
) -> None:
    """The real entry point: `train.py trainer=ddp_cpu trainer.devices=2 train=false` on a
    checkpoint reports the same test metrics as a 1-process run."""
    cfg = shrink(compose_train(["detector=audio_artifact"]), ddp_build, tmp_path / "single")
    with open_dict(cfg):
        cfg.trainer.fast_dev_run = True  # one step of training: any fixed weights will do
    checkpoint = Path(cfg.paths.output_dir, "checkpoints", "final.ckpt")
    train_entry.train(cfg)
    with open_dict(cfg):
        cfg.trainer.fast_dev_run = False
        cfg.train = False
        cfg.ckpt_path = str(checkpoint)
    single = train_entry.train(cfg)["test_report"]

    assert [eval_samples_per_worker([15, 15, 15], 1, r, 2) for r in (0, 1)] == [[23], [22]]
    logs = tmp_path / "ddp_logs"
    _run(
        [
            sys.executable,
            "train.py",
            "detector=audio_artifact",
            "trainer=ddp_cpu",
            "trainer.devices=2",
            "logger=none",
            "train=false",
            "export=false",
            f"ckpt_path={checkpoint}",
            f"paths.data_dir={ddp_build / 'data'}",
            f"paths.manifest_dir={ddp_build / 'data_manifests'}",
            f"paths.log_dir={logs}",
            "run_name=ddp",
            # one loader worker, batches of 11: rank 0 gets 23 test samples (3 batches), rank 1
            # gets 22 (2 batches): uneven eval batch counts must not hang
            "detector.data.num_workers=1",
            "detector.data.eval_batch_size=11",
            "trainer.enable_progress_bar=false",
            "trainer.enable_model_summary=false",
        ],
        timeout=240,
    )
    report = json.loads((logs / "train" / "runs" / "ddp" / "metrics.json").read_text())
    assert report["count"] == single["count"] == 45
    assert report["bal_acc"] == pytest.approx(single["bal_acc"])
    assert report["acc"] == pytest.approx(single["acc"])
    assert report["confusion_matrix"] == single["confusion_matrix"]
    assert report["per_class_severity_accuracy"] == single["per_class_severity_accuracy"]
