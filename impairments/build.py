"""``python -m impairments.build`` (``make dataset``): build WebDataset shards and a dataset card.

Overrides are Hydra's: ``python -m impairments.build sources=folder sources.path=~/catalogue
name=my_catalogue``. Bad input never ends in a traceback: a bad source is recorded in the card
and the rest is built; a bad config or an unusable source root is one line naming the problem.
"""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from impairments.builder.run import BuildFailedError, build_dataset
from impairments.media_io import MediaError

CONFIG_DIR = str(Path(__file__).resolve().parent.parent / "conf")


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="build")
def main(cfg: DictConfig) -> None:
    try:
        build_dataset(cfg)
    except (MediaError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    except BuildFailedError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
