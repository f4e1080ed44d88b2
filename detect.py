"""Run a trained detector on media: one file, or a whole folder in one process.

    python detect.py detector=audio_artifact checkpoint=exports/audio_artifact/<run> \
        input=programme.mp4 output=report.json
    python detect.py detector=audio_artifact checkpoint=... input=catalogue/ output=reports/

``checkpoint`` is an export folder (ONNX Runtime by default: no PyTorch import, fast start-up),
a model.onnx / model.ts inside one, or a Lightning .ckpt. See conf/detect.yaml for hop_s,
batch_size, runtime and threads, and training/detect/cli.py for the report format.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("PROJECT_ROOT", str(Path(__file__).resolve().parent))

import hydra
from omegaconf import DictConfig


@hydra.main(
    version_base="1.3", config_path=str(Path(__file__).parent / "conf"), config_name="detect"
)
def main(cfg: DictConfig) -> None:
    from training.detect.cli import run

    code = run(cfg)
    if code:
        sys.exit(code)


if __name__ == "__main__":
    main()
