"""``python -m impairments.apply``: test material from the project's impairments, video copied."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest

from impairments import apply, media_io

SR = 16_000


def demuxed_video_packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(video=0) if p.size]


def lag_ms(reference: np.ndarray, shifted: np.ndarray) -> float:
    n = min(len(reference), len(shifted))
    spectrum = np.fft.rfft(shifted[:n], 2 * n) * np.conj(np.fft.rfft(reference[:n], 2 * n))
    corr = np.fft.irfft(spectrum)
    search = int(0.5 * SR)
    window = np.concatenate([corr[-search:], corr[:search]])
    return (int(np.argmax(window)) - search) * 1000.0 / SR


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2 s talking-clip stand-in; the name has a leading dash, spaces, a quote and unicode."""
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, size=(50, 64, 96, 3), dtype=np.uint8)
    audio = (0.2 * rng.standard_normal(2 * SR)).astype(np.float32)
    path = tmp_path_factory.mktemp("apply") / "-talk 'é' clip.mp4"
    return media_io.write_video(path, frames, fps=25.0, audio=audio, sample_rate=SR)


def test_av_offset_on_a_file_moves_the_audio_and_copies_the_video(
    clip: Path, tmp_path: Path
) -> None:
    out = tmp_path / "-late by 120.mp4"
    code = apply.main(["av_offset", "offset_ms=120", f"input={clip}", f"output={out}"])
    assert code == 0
    assert demuxed_video_packets(out) == demuxed_video_packets(clip)
    before = media_io.read_audio(clip, sample_rate=SR, channels=1)[0]
    after = media_io.read_audio(out, sample_rate=SR, channels=1)[0]
    assert lag_ms(before, after) == pytest.approx(120.0, abs=1.0)
    record = json.loads(Path(f"{out}.json").read_text())
    assert record["annotation"]["params"] == {"offset_ms": 120.0}
    assert len(record["annotation"]["offsets_ms"]) == 50  # one per video frame
    assert record["annotation"]["fps"] == pytest.approx(25.0)


def test_an_audio_impairment_on_an_audio_file(tmp_path: Path) -> None:
    source = media_io.write_audio(
        tmp_path / "tone.wav", 0.1 * np.sin(np.arange(SR) * 0.07).astype(np.float32), SR
    )
    out = tmp_path / "tone hum.wav"
    annotation = tmp_path / "notes.json"
    code = apply.main(
        [
            "hum",
            "severity=5",
            "seed=3",
            f"input={source}",
            f"output={out}",
            f"annotation={annotation}",
        ]
    )
    assert code == 0
    x, y = media_io.read_audio(source), media_io.read_audio(out)
    assert x.shape == y.shape and not np.allclose(x, y)
    assert json.loads(annotation.read_text())["annotation"]["kind"] == "hum"


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["av_offset", "input={empty}", "output={out}"], "empty file"),
        (["av_offset", "input={text}", "output={out}"], "not a readable media file"),
        (["av_offset", "input={missing}", "output={out}"], "does not exist"),
        (["block_flat", "input={clip}", "output={out}"], "video impairment"),
        (["no_such_thing", "input={clip}", "output={out}"], "unknown impairment"),
        (["av_offset", "input={clip}"], "missing output"),
        (["av_offset", "nonsense", "input={clip}", "output={out}"], "expected key=value"),
        (["av_offset", "input={clip}", "output={out_bad}"], "no audio codec"),
        (["av_offset", "input={wav}", "output={out}"], "needs a video stream"),
    ],
)
def test_bad_input_is_one_clear_line(
    arguments: list[str],
    expected: str,
    clip: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    wav = media_io.write_audio(tmp_path / "a.wav", np.zeros(SR, dtype=np.float32), SR)
    names = {
        "empty": empty,
        "text": text,
        "missing": tmp_path / "missing.mp4",
        "clip": clip,
        "out": tmp_path / "out.mp4",
        "out_bad": tmp_path / "out.xyz",
        "wav": wav,
    }
    code = apply.main([a.format(**names) for a in arguments])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("error: ") and expected in err and "\n" not in err
    assert "Traceback" not in err
