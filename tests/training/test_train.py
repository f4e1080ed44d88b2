"""train.py on the tiny build: configs compose, fast_dev_run, fit/test, resume, W&B closing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, open_dict

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("logger", ["wandb", "csv", "none"])
@pytest.mark.parametrize("trainer", ["cpu", "gpu", "ddp"])
def test_configs_compose_and_instantiate(
    logger: str, trainer: str, tiny_build: Path, compose_train, shrink, tmp_path: Path
) -> None:
    cfg = compose_train([f"logger={logger}", f"trainer={trainer}"])
    assert cfg.detector.name == "audio_artifact"
    assert cfg.callbacks.model_checkpoint.monitor == "val/bal_acc"
    if trainer == "cpu":
        cfg = shrink(cfg, tiny_build, tmp_path)
        instantiate(cfg.detector.data)
        net = instantiate(cfg.detector.model)
        assert 100_000 < sum(p.numel() for p in net.parameters()) < 1_000_000


@pytest.mark.parametrize(
    "experiment", sorted(p.stem for p in (REPO / "conf" / "experiment").glob("*.yaml"))
)
def test_experiments_compose(experiment: str, compose_train) -> None:
    cfg = compose_train([f"experiment={experiment}"])
    model = cfg.detector.model
    assert model._target_.startswith("training.models.")
    if "backbone" in model:  # segment and frame-map detectors; the freeze net has none
        assert model.backbone in {"light", "cnn14", "resnet18"}


def test_hparams_search_composes(compose_train) -> None:
    for path in (REPO / "conf" / "hparams_search").glob("*.yaml"):
        cfg = compose_train([f"hparams_search={path.stem}"])
        assert cfg.optimized_metric == "val/bal_acc"


def test_fast_dev_run(cfg_train: DictConfig, train_entry) -> None:
    with open_dict(cfg_train):
        cfg_train.trainer.fast_dev_run = True
    metrics = train_entry.train(cfg_train)
    assert "test/bal_acc" in metrics
    assert Path(cfg_train.paths.output_dir, "metrics.json").is_file()


def test_train_test_then_resume(cfg_train: DictConfig, train_entry, compose_train) -> None:
    """Fit (interrupted after 2 of 3 epochs by early stopping), test on the best; then resume
    from last.ckpt and finish the third epoch with the same LR schedule. (Export is covered by
    the ``trained_export`` fixture.)"""
    with open_dict(cfg_train):
        cfg_train.trainer.max_epochs = 3
        cfg_train.callbacks.early_stopping.patience = 1
        cfg_train.callbacks.early_stopping.min_delta = 10.0  # "no improvement" after epoch 1
        cfg_train.logger = compose_train(["logger=csv"]).logger
    metrics = train_entry.train(cfg_train)
    run = Path(cfg_train.paths.output_dir)
    report = json.loads((run / "metrics.json").read_text())
    assert 0.0 <= report["bal_acc"] <= 1.0
    assert set(report["per_class_recall"]) == {"none", "hum", "hiss", "distortion", "clicks"}
    assert report["per_severity_accuracy"]
    assert report["count"] == 40
    assert report["dataset_card_sha256"]
    assert Path(report["confusion_png"]).is_file()
    assert "epoch_" in report["checkpoint"]
    assert metrics["test/bal_acc"] == pytest.approx(report["bal_acc"])
    assert (run / "csv" / "metrics.csv").is_file()

    last = run / "checkpoints" / "last.ckpt"
    stopped = torch.load(last, map_location="cpu", weights_only=True)
    assert (stopped["epoch"], stopped["global_step"]) == (1, 6)
    with open_dict(cfg_train):
        cfg_train.ckpt_path = str(last)
        cfg_train.callbacks.early_stopping = None
        cfg_train.export = False
        cfg_train.test = False
        cfg_train.logger = None
    train_entry.train(cfg_train)
    resumed = torch.load(last, map_location="cpu", weights_only=True)
    assert (resumed["epoch"], resumed["global_step"]) == (2, 9)  # continued, not restarted


@pytest.mark.parametrize("fail", [False, True])
def test_entry_point_closes_wandb(
    fail: bool, tiny_build: Path, tmp_path: Path, train_entry, monkeypatch
) -> None:
    """The Hydra entry point with logger=wandb (disabled mode in tests): the run is finished
    whether training succeeds or raises (Hydra multiruns would otherwise share one run)."""
    wandb = pytest.importorskip("wandb")
    argv = [
        "train.py",
        "logger=wandb",
        "trainer.fast_dev_run=true",
        "export=false",
        f"paths.data_dir={tiny_build / 'data'}",
        f"paths.manifest_dir={tiny_build / 'data_manifests'}",
        f"paths.log_dir={tmp_path / 'logs'}",
        "detector.data.num_workers=0",
        "trainer.enable_progress_bar=false",
        "hydra.job_logging.root.level=WARNING",
    ]
    if fail:
        argv.append("detector.module.optimizer.lr=-1")  # AdamW refuses it after W&B started
    monkeypatch.setattr("sys.argv", argv)
    finished = []
    original_finish = wandb.finish
    monkeypatch.setattr(wandb, "finish", lambda *a, **k: (finished.append(1), original_finish())[1])
    if fail:
        with pytest.raises(SystemExit):
            train_entry.main()
    else:
        train_entry.main()
    assert finished and wandb.run is None
    assert (tmp_path / "logs" / "train" / "runs").is_dir()
    metrics = list((tmp_path / "logs").rglob("metrics.json"))
    assert bool(metrics) is not fail  # the failing run never reached test


def test_warm_start_loads_weights_with_a_fresh_schedule(
    trained_export: Path, cfg_train: DictConfig, train_entry, monkeypatch
) -> None:
    """``init_from=<ckpt>``: the new run starts from those weights (not from a fresh init) and
    counts its own epochs and steps (unlike ``ckpt_path``, which resumes the old schedule)."""
    from training import checkpoints

    source = trained_export / "model.ckpt"
    expected = torch.load(source, map_location="cpu", weights_only=True)["state_dict"]
    seen: dict[str, torch.Tensor] = {}
    original = checkpoints.warm_start

    def spy(net: torch.nn.Module, path: str) -> dict:
        meta = original(net, path)
        seen.update({f"net.{k}": v.clone() for k, v in net.state_dict().items()})
        return meta

    monkeypatch.setattr(train_entry, "warm_start", spy)
    with open_dict(cfg_train):
        cfg_train.init_from = str(source)
        cfg_train.trainer.max_epochs = 1
        cfg_train.test = False
        cfg_train.export = False
        cfg_train.logger = None
    train_entry.train(cfg_train)
    assert seen and set(seen) == {k for k in expected if k.startswith("net.")}
    for key, value in seen.items():
        assert torch.equal(value, expected[key]), key
    last = torch.load(
        Path(cfg_train.paths.output_dir) / "checkpoints" / "last.ckpt",
        map_location="cpu",
        weights_only=True,
    )
    assert (last["epoch"], last["global_step"]) == (0, 3)  # its own count, from zero


def test_warm_start_refuses_another_architecture(trained_export: Path) -> None:
    from training.checkpoints import warm_start

    with pytest.raises(ValueError, match="do not fit this detector's network"):
        warm_start(torch.nn.Linear(3, 1), trained_export / "model.ckpt")


def test_experiment_that_needs_init_from_says_so(compose_train, train_entry) -> None:
    """An experiment that continues another run stops with a clear error without
    ``init_from=``, instead of training from scratch."""
    cfg = compose_train(["experiment=block_corruption_cpu_continue"])
    with pytest.raises(ValueError, match="init_from=<its checkpoint"):
        train_entry.train(cfg)
