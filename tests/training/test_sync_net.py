"""The lip-sync network's building blocks: input features, embedding shapes and the offset sign."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from training.features.sync_inputs import (
    MEL_PER_FRAME,
    MOUTH_SIZE,
    N_MELS,
    SAMPLES_PER_FRAME,
    audio_logmel,
    mouth_motion,
    visual_input,
)
from training.models.sync_net import SyncNet, offset_logits
from training.sync.offsets import estimate_offset


def test_logmel_frames_line_up_with_video_frames() -> None:
    """A burst during video frame 7 lights mel frames 4*7 .. 4*7+3 (and not frame 5's)."""
    frames = 20
    audio = np.zeros(frames * SAMPLES_PER_FRAME, dtype=np.float32)
    rng = np.random.default_rng(0)
    audio[7 * SAMPLES_PER_FRAME : 8 * SAMPLES_PER_FRAME] = rng.normal(0, 0.3, SAMPLES_PER_FRAME)
    mel = audio_logmel(audio)
    assert mel.shape == (N_MELS, frames * MEL_PER_FRAME)
    energy = mel.mean(axis=0)
    loud = np.argsort(energy)[-4:]
    assert set(loud.tolist()) <= set(range(4 * 7 - 1, 4 * 8 + 1))
    assert energy[4 * 5 : 4 * 6].max() < energy[4 * 7 : 4 * 8].min()


def test_logmel_refuses_partial_frames() -> None:
    with pytest.raises(ValueError, match="multiple of 640"):
        audio_logmel(np.zeros(1000, dtype=np.float32))


def test_mouth_motion_removes_the_face_keeps_the_motion() -> None:
    rng = np.random.default_rng(1)
    face = rng.uniform(0, 1, MOUTH_SIZE).astype(np.float32)
    opening = np.sin(np.linspace(0, 6, 30))
    mouths = face[None] + 0.1 * opening[:, None, None] * (np.arange(MOUTH_SIZE[1]) > 32)
    motion = mouth_motion(mouths.astype(np.float32))
    assert abs(float(motion.mean())) < 1e-5
    assert np.allclose(motion[:, :, :30], 0.0, atol=1e-4)  # the still part of the face is gone
    other_face = mouth_motion((mouths + rng.uniform(0, 1, MOUTH_SIZE)).astype(np.float32))
    assert np.allclose(motion, other_face, atol=1e-4)  # identity does not reach the network


def test_visual_input_checks_its_crops() -> None:
    with pytest.raises(ValueError, match="96, 96, 3"):
        visual_input(np.zeros((5, 64, 64, 3), dtype=np.uint8))
    assert visual_input(np.zeros((6, 96, 96, 3), dtype=np.uint8)).shape == (6, *MOUTH_SIZE)


def test_stream_shapes_give_one_embedding_per_window() -> None:
    net = SyncNet(visual_widths=(8, 16), audio_widths=(8, 16), hidden=16, embedding=8).eval()
    frames, context = 30, 15
    mouths = torch.randn(2, frames, *MOUTH_SIZE)
    mel = torch.randn(2, N_MELS, MEL_PER_FRAME * (frames + 2 * context))
    video, audio = net(mouths, mel)
    assert video.shape == (2, 8, frames - 4)
    assert audio.shape == (2, 8, frames + 2 * context - 4)
    assert torch.allclose(video.norm(dim=1), torch.ones(2, frames - 4), atol=1e-5)


@pytest.mark.parametrize("late", [-7, 0, 4, 15])
def test_offset_sign_audio_late_is_positive(late: int) -> None:
    """Audio that runs ``late`` frames behind the picture: the match for video window t is audio
    window t + late, so the logits peak in column search + late and the estimate is +late."""
    generator = torch.Generator().manual_seed(late + 20)
    windows, context, search = 40, 15, 15
    video = torch.nn.functional.normalize(torch.randn(1, 8, windows, generator=generator), dim=1)
    audio = torch.randn(1, 8, windows + 2 * context, generator=generator)
    audio = torch.nn.functional.normalize(audio, dim=1)
    audio[:, :, context + late : context + late + windows] = video
    logits = offset_logits(video, audio, context, search, torch.ones(()))
    assert logits.shape == (1, windows, 2 * search + 1)
    assert (logits[0].argmax(dim=1) == search + late).all()
    estimate = estimate_offset((1.0 - logits[0]).numpy())
    assert estimate.offset_frames == late
    assert estimate.confidence > 0.5


def test_offset_search_cannot_exceed_context() -> None:
    video = torch.zeros(1, 4, 10)
    with pytest.raises(ValueError, match="context"):
        offset_logits(video, torch.zeros(1, 4, 20), context=5, search=6, scale=torch.ones(()))
