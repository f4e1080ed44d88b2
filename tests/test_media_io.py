"""Media I/O: common containers decode to the asked layout; every bad file gets one clear error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from impairments import media_io
from impairments.media_io import MediaError
from tests.conftest import music_like

RATE = 44_100


@pytest.fixture(scope="module")
def stereo() -> np.ndarray:
    t = np.arange(2 * RATE) / RATE
    return np.stack([0.4 * np.sin(2 * np.pi * 440 * t), 0.2 * np.sin(2 * np.pi * 997 * t)]).astype(
        np.float32
    )


@pytest.mark.parametrize("suffix", [".wav", ".flac", ".mp3", ".m4a", ".ogg", ".mka"])
def test_audio_formats_round_trip(tmp_path: Path, stereo: np.ndarray, suffix: str) -> None:
    path = media_io.write_audio(tmp_path / f"clip{suffix}", stereo, RATE)
    audio = media_io.read_audio(path, sample_rate=32_000, channels=1)
    assert audio.dtype == np.float32 and audio.shape[0] == 1
    assert abs(audio.shape[1] / 32_000 - 2.0) < 0.05
    spectrum = np.abs(np.fft.rfft(audio[0, :32_000]))
    assert abs(np.argmax(spectrum) - 440) <= 2  # the louder tone survives decode + downmix


def test_layout_and_rate_are_honoured(tmp_path: Path, stereo: np.ndarray) -> None:
    path = media_io.write_audio(tmp_path / "clip.wav", stereo, RATE)
    assert media_io.read_audio(path).shape == (2, 2 * RATE)
    assert media_io.read_audio(path, sample_rate=16_000, channels=2).shape == (2, 32_000)
    part = media_io.read_audio(path, start_s=0.5, duration_s=1.0)
    np.testing.assert_allclose(part, stereo[:, RATE // 2 : RATE // 2 + RATE], atol=1e-6)


def test_video_frames_timestamps_and_audio_track(tmp_path: Path, stereo: np.ndarray) -> None:
    frames = np.zeros((20, 48, 64, 3), np.uint8)
    frames[np.arange(20), :, np.arange(20) * 3] = 255  # a moving bar: frames differ
    path = media_io.write_video(tmp_path / "clip.mp4", frames, 25, audio=stereo, sample_rate=RATE)
    info = media_io.probe(path)
    assert (info.video[0].width, info.video[0].height, info.video[0].fps) == (64, 48, 25.0)
    assert info.audio[0].channels == 2
    clip = media_io.read_video_frames(path)
    assert clip.frames.shape == (20, 48, 64, 3)
    np.testing.assert_allclose(np.diff(clip.timestamps), 0.04, atol=1e-6)
    assert np.argmax(clip.frames[7].mean(axis=(0, 2))) == pytest.approx(21, abs=2)
    assert media_io.read_video_frames(path, fps=10).frames.shape[0] == 8
    assert media_io.read_audio(path, sample_rate=16_000).shape[0] == 2


@pytest.mark.parametrize(
    "name", ["-leading dash.wav", 'with space\'s "quotes".flac', "ünïcødé ☃.wav", "a:colon.wav"]
)
def test_awkward_file_names(tmp_path: Path, stereo: np.ndarray, name: str) -> None:
    path = media_io.write_audio(tmp_path / name, stereo, RATE)
    assert media_io.read_audio(path, channels=1).shape == (1, 2 * RATE)
    assert [p.name for p in media_io.iter_media_files(tmp_path)] == [name]


def _bad_files(folder: Path, stereo: np.ndarray) -> dict[str, tuple[Path, str]]:
    good_mp3 = media_io.write_audio(folder / "good.mp3", stereo, RATE).read_bytes()
    good_wav = media_io.write_audio(folder / "good.wav", stereo, RATE).read_bytes()
    good_m4a = media_io.write_audio(folder / "good.m4a", stereo, RATE).read_bytes()
    (folder / "empty.wav").write_bytes(b"")
    (folder / "text.mp3").write_text("this is not audio at all\n" * 20)
    (folder / "trunc.mp3").write_bytes(good_mp3[: len(good_mp3) // 3])
    (folder / "trunc.wav").write_bytes(good_wav[: len(good_wav) // 2])
    (folder / "trunc.m4a").write_bytes(good_m4a[: len(good_m4a) // 2])
    soundfile.write(folder / "nan.wav", np.full(800, np.nan, np.float32), 8000, subtype="FLOAT")
    media_io.write_video(folder / "silent_film.mp4", np.zeros((5, 16, 16, 3), np.uint8), 25)
    return {
        "empty": (folder / "empty.wav", "empty file"),
        "not media": (folder / "text.mp3", "not a readable media file"),
        "truncated mp3": (folder / "trunc.mp3", "truncated"),
        "truncated wav": (folder / "trunc.wav", "truncated"),
        "truncated m4a": (folder / "trunc.m4a", "not a readable media file"),
        "nan": (folder / "nan.wav", "NaN"),
        "no audio": (folder / "silent_film.mp4", "no audio stream"),
        "missing": (folder / "missing.flac", "does not exist"),
        "folder": (folder, "not a regular file"),
    }


def test_bad_input_raises_one_clear_error(tmp_path: Path, stereo: np.ndarray) -> None:
    for case, (path, reason) in _bad_files(tmp_path, stereo).items():
        with pytest.raises(MediaError) as caught:
            media_io.read_audio(path, sample_rate=16_000, channels=1)
        assert str(caught.value).startswith(str(path)), case
        assert reason in caught.value.reason, f"{case}: {caught.value.reason}"


def test_in_memory_lossless_round_trip() -> None:
    audio = (np.random.default_rng(0).uniform(-0.5, 0.5, (2, 1000))).astype(np.float32)
    decoded, rate = media_io.decode_audio_bytes(media_io.encode_audio(audio, 32_000))
    assert rate == 32_000 and decoded.shape == (2, 1000)
    np.testing.assert_allclose(decoded, audio, atol=1 / 32768 + 1e-7)
    assert media_io.encode_audio(audio, 32_000) == media_io.encode_audio(audio, 32_000)


def test_ffmpeg_binary_runs(tmp_path: Path) -> None:
    out = tmp_path / "tone.wav"
    media_io.run_ffmpeg(["-f", "lavfi", "-i", "sine=frequency=1000:duration=0.5", str(out)], "tone")
    assert media_io.read_audio(out).shape[1] > 0
    with pytest.raises(MediaError, match="ffmpeg failed"):
        media_io.run_ffmpeg(["-i", str(tmp_path / "nothing.wav"), str(out)], "nothing")


def test_audio_blocks_concatenate_to_the_whole_read(tmp_path: Path) -> None:
    rate = 44100
    stereo = music_like(7.3, rate, seed=5)
    path = tmp_path / "long take.flac"
    media_io.write_audio(path, stereo, rate)
    whole = media_io.read_audio(path, sample_rate=32000, channels=1)
    blocks = list(media_io.iter_audio_blocks(path, sample_rate=32000, channels=1, block_s=2.0))
    assert len(blocks) >= 3
    assert all(b.dtype == np.float32 and b.shape[0] == 1 for b in blocks)
    np.testing.assert_allclose(np.concatenate(blocks, axis=1), whole, atol=1e-6)


def test_audio_blocks_report_bad_input_like_read_audio(tmp_path: Path) -> None:
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(media_io.MediaError, match=r"empty\.wav"):
        list(media_io.iter_audio_blocks(empty))
    with pytest.raises(ValueError, match="block_s"):
        list(media_io.iter_audio_blocks(empty, block_s=0))


@pytest.mark.parametrize(
    "name, subtype", [("a.flac", "PCM_16"), ("b.flac", "PCM_24"), ("c.wav", "FLOAT")]
)
def test_lossless_blocks_read_by_libsndfile_equal_libav(tmp_path: Path, name, subtype) -> None:
    rate = 32000
    stereo = music_like(3.2, rate, seed=9)
    path = tmp_path / name
    soundfile.write(path, stereo.T, rate, subtype=subtype)
    assert media_io._libsndfile_blocks(path, 1.0) is not None  # the fast path is taken
    libav = np.concatenate([b.samples for b in media_io._libav_blocks(path, 1.0)], axis=1)
    blocks = list(media_io.iter_audio_blocks(path, block_s=1.0))
    np.testing.assert_array_equal(np.concatenate(blocks, axis=1), libav)


def test_truncated_flac_is_reported_by_the_block_reader(tmp_path: Path) -> None:
    path = tmp_path / "cut off.flac"
    soundfile.write(path, music_like(6.0, 32000, seed=2).T, 32000, subtype="PCM_16")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    with pytest.raises(MediaError, match=r"cut off\.flac: (truncated|corrupt)"):
        list(media_io.iter_audio_blocks(path, block_s=1.0))
