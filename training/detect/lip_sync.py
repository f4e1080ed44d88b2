"""``detect.py detector=lip_sync``: is a programme in sync, by how much is it off, or can't we tell?

A file is judged in windows (4 s, hop configurable) as syncnet_python judges a clip: the talking-
face pipeline finds the shots and faces and tracks them (``impairments.talking_face``); every
track's mouth crops and the audio under them (with 15 frames of context either side) go through
the exported two-stream network; the distances at -15..+15 frames, averaged over the track, give
an offset and a confidence; the verdict rules and the thresholds chosen on validation (in the
model card) turn them into in sync / out of sync / inconclusive per track, per window and for
the file (``training.sync.verdicts``). Frames are decoded at most ``max_side`` pixels and faces
are searched every ``face_every`` frames (the tracker interpolates between), which is what keeps
the pipeline at or above real time on two cores.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from impairments.talking_face.crops import face_crops
from impairments.talking_face.faces import Detection
from impairments.talking_face.fragments import (
    FPS,
    SAMPLE_RATE,
    SAMPLES_PER_FRAME,
    Fragment,
    check_talking_media,
    iter_fragments,
    picture_aligned_audio,
    shifted_window,
)
from impairments.talking_face.pipeline import PipelineConfig
from impairments.talking_face.shots import detect_shots
from impairments.talking_face.tracks import Track, TrackingConfig, track_faces
from training.detect.runtime import (
    ModelLoadError,
    load_graph,
    read_export_card,
    report_sidecar,
)
from training.features.sync_inputs import audio_logmel, visual_input
from training.sync.offsets import embedding_distances
from training.sync.verdicts import (
    JudgedTrack,
    VerdictThresholds,
    WindowReport,
    judge_track,
    judge_window,
    to_json,
)

Scorer = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (faces, audio) -> (T, 31) distances


class SyncModel:
    """An exported lip-sync network (ONNX Runtime, or TorchScript) and its card."""

    def __init__(self, export_dir: Path, runtime: str = "auto", threads: int | None = None):
        folder, self.card = read_export_card(export_dir)
        if "verdict" not in self.card:
            raise ValueError(f"{folder}: not a lip-sync export (its card has no verdict rules)")
        self.path = str(folder)
        self._graph = load_graph(export_dir, self.card, runtime, threads)
        self.runtime = self._graph.runtime
        # Exports before the landmark stream existed have no "visual_input": they saw pixels.
        self.visual = str(self.card.get("visual_input", "pixels"))
        self._visual_name = next(name for name in self.card["inputs"] if name != "mel")

    def embed(self, visual: np.ndarray, mel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, ...) visual input, (40, 4 (N + 2C)) -> video (N - 4, D), audio (N + 2C - 4, D)."""
        video, audio = self._graph(
            {self._visual_name: visual[None], "mel": mel[None]},
            ["video_embeddings", "audio_embeddings"],
        )
        return video[0].T, audio[0].T

    @property
    def thresholds(self) -> VerdictThresholds:
        rules = self.card["verdict"]
        return VerdictThresholds(
            min_confidence=float(rules.get("min_confidence", 0.0)),
            tie_margin=float(rules.get("tie_margin", 0.0)),
            in_sync_frames=float(rules.get("in_sync_frames", 1)),
        )


def detect_faces_sparse(detector: Any, frames: np.ndarray, every: int) -> list[list[Detection]]:
    """Faces on every ``every``-th frame, none elsewhere: the tracker bridges the gaps by
    interpolation, and face detection is most of the pipeline's cost."""
    every = max(1, int(every))
    picked = list(range(0, len(frames), every))
    found = detector(frames[picked])
    per_frame: list[list[Detection]] = [[] for _ in range(len(frames))]
    for index, detections in zip(picked, found, strict=True):
        per_frame[index] = detections
    return per_frame


class LipSyncAnalyser:
    """Loaded once per process (catalogue workers too): the network, the face detector and the
    settings; ``__call__`` judges one file."""

    def __init__(
        self,
        model: SyncModel,
        settings: dict[str, Any],
        scorers: dict[str, tuple[Scorer, VerdictThresholds]] | None = None,
    ) -> None:
        from impairments.talking_face.faces import make_face_detector

        self.model = model
        # Extra scorers judged on the very same tracks (benchmarks put a baseline beside the
        # network this way: one pipeline pass, two verdicts).
        self.scorers = dict(scorers or {})
        self.settings = settings
        self.window_s = float(settings.get("window_s", 4.0))
        self.hop_s = float(settings.get("hop_s", self.window_s))
        self.context = int(model.card["verdict"].get("context_frames", 15))
        self.search = int(model.card["verdict"].get("search_frames", 15))
        self.face_every = int(settings.get("face_every", 2))
        self.max_side = int(settings.get("max_side", 640))
        self.crop_size = int(settings.get("crop_size", 96))
        self.crop_margin = float(settings.get("crop_margin", 0.15))
        self.min_detected_share = float(settings.get("min_detected_share", 0.8))
        tracking = TrackingConfig(**dict(settings.get("tracking") or {}))
        self.pipeline = PipelineConfig(
            shots=settings.get("shots", "content"),
            faces=settings.get("faces", "mtcnn"),
            detect_side=int(settings.get("detect_side", 320)),
            tracking=replace(tracking, max_gap=max(tracking.max_gap, 2 * self.face_every)),
        )
        self.detector = make_face_detector(
            self.pipeline.faces,
            max_side=self.pipeline.detect_side,
            min_face=int(self.pipeline.tracking.min_face),
        )

    def __call__(self, path: Path, strip: Path | None = None) -> dict[str, Any]:
        """Judge ``path``; with ``strip``, also write a PNG of each window's judged track and its
        distance curve there (``report["strip"]``)."""
        started = time.perf_counter()
        strip_rows: list[dict[str, Any]] = []
        info = check_talking_media(path)
        audio = picture_aligned_audio(str(path))
        seconds = {"decode": 0.0, "shots": 0.0, "faces": 0.0, "sync": 0.0}
        windows = []
        extra: dict[str, list[WindowReport]] = {}
        fragments = iter_fragments(path, self.window_s, self.hop_s, self.max_side, audio)
        clock = time.perf_counter()
        for fragment in fragments:
            seconds["decode"] += time.perf_counter() - clock
            scale = fragment.frames.shape[2] / max(int(info.video[0].width), 1)
            clock = time.perf_counter()
            shots = detect_shots(fragment.frames, self.pipeline.shots)
            seconds["shots"] += time.perf_counter() - clock
            clock = time.perf_counter()
            detections = detect_faces_sparse(self.detector, fragment.frames, self.face_every)
            tracks = [
                track
                for track in track_faces(detections, shots, self.pipeline.tracking)
                if detected_share(track, self.face_every) >= self.min_detected_share
            ]
            seconds["faces"] += time.perf_counter() - clock
            clock = time.perf_counter()
            inputs = [self._inputs(fragment, track, audio) for track in tracks]
            judged = [
                self._judge(
                    fragment, track, scale, self._network_distances(*pair), self.model.thresholds
                )
                for track, pair in zip(tracks, inputs, strict=True)
            ]
            seconds["sync"] += time.perf_counter() - clock
            end = fragment.start_s + fragment.duration_s
            windows.append(judge_window(fragment.start_s, end, judged, self.model.thresholds))
            if strip is not None and judged:
                strip_rows.append(strip_row(windows[-1], judged, [faces for faces, _ in inputs]))
            for name, (scorer, thresholds) in self.scorers.items():
                other = [
                    self._judge(fragment, track, scale, scorer(*pair), thresholds)
                    for track, pair in zip(tracks, inputs, strict=True)
                ]
                extra.setdefault(name, []).append(
                    judge_window(fragment.start_s, end, other, thresholds)
                )
            clock = time.perf_counter()
        duration = windows[-1].end_s if windows else len(audio) / SAMPLE_RATE
        elapsed = time.perf_counter() - started
        drawn: dict[str, Any] = {}
        if strip is not None:
            from training.sync.plots import save_figure, strip_figure

            drawn["strip"] = (
                str(save_figure(strip_figure(strip_rows), strip)) if strip_rows else None
            )
        return {
            **to_json(windows),
            **drawn,
            "duration_s": round(float(duration), 3),
            "seconds": {k: round(v, 3) for k, v in seconds.items()},
            "speed_x_realtime": round(float(duration) / max(elapsed, 1e-9), 2),
            **({"other_scorers": {k: to_json(v) for k, v in extra.items()}} if extra else {}),
        }

    def _inputs(
        self, fragment: Fragment, track: Track, audio: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The track's 96x96 face crops and its audio with ``context`` frames either side."""
        faces, _ = face_crops(fragment, track, self.crop_size, self.crop_margin)
        first_sample = int(round(fragment.start_s * SAMPLE_RATE))
        begin = first_sample + (track.first - self.context) * SAMPLES_PER_FRAME
        length = (len(track.boxes) + 2 * self.context) * SAMPLES_PER_FRAME
        return faces, shifted_window(audio, begin, length, 0)

    def _network_distances(self, faces: np.ndarray, samples: np.ndarray) -> np.ndarray:
        video, sound = self.model.embed(
            visual_input(faces, self.model.visual), audio_logmel(samples)
        )
        return embedding_distances(video, sound, self.context, self.search)

    @staticmethod
    def _judge(
        fragment: Fragment,
        track: Track,
        scale: float,
        distances: np.ndarray,
        thresholds: VerdictThresholds,
    ) -> JudgedTrack:
        """A track's verdict from its distances, with its time span and median box (source px)."""
        x0, y0, x1, y1 = np.median(track.boxes, axis=0) / scale
        return JudgedTrack(
            id=int(track.id),
            start_s=fragment.start_s + track.first / FPS,
            end_s=fragment.start_s + (track.first + len(track.boxes)) / FPS,
            box=(float(x0), float(y0), float(x1 - x0), float(y1 - y0)),
            result=judge_track(distances, thresholds),
        )


STRIP_CROPS = 8  # face crops shown per judged track in detect.py's strip


def strip_row(
    window: WindowReport, judged: list[JudgedTrack], faces: list[np.ndarray]
) -> dict[str, Any]:
    """The strip row of one window: its most confident track (the one that decides it when
    conclusive), a few of that track's crops and its distance curve."""
    index = max(range(len(judged)), key=lambda i: judged[i].result.confidence)
    track, crops = judged[index], faces[index]
    picks = np.linspace(0, len(crops) - 1, min(STRIP_CROPS, len(crops))).round().astype(int)
    result = track.result
    title = (
        f"{window.start_s:.1f}-{window.end_s:.1f} s  track {track.id}: {result.verdict}, "
        f"offset {result.offset_ms:+d} ms, confidence {result.confidence:.3f}  "
        f"(window: {window.verdict.verdict})"
    )
    return {
        "title": title,
        "crops": crops[picks],
        "curve": result.curve,
        "offset_frames": result.offset_frames,
    }


def detected_share(track: Track, every: int) -> float:
    """Share of the frames the detector looked at in which it found this face. A real face is
    found nearly every time; a track the detector keeps losing is usually not a face (clasped
    hands, a pattern), and the dataset build drops those too (``min_detected_share``)."""
    frames = np.arange(track.first, track.first + len(track.boxes))
    looked = frames % max(1, every) == 0
    if not looked.any():
        return float(np.mean(track.detected))
    return float(np.mean(track.detected[looked]))


def lip_sync_analyser(
    cfg: Any, scorers: dict[str, tuple[Scorer, VerdictThresholds]] | None = None
) -> tuple[Any, SyncModel] | str:
    """``(analyse(media, report_path) -> report, model)`` for detect.py, or an error line."""
    try:
        model = SyncModel(Path(str(cfg.checkpoint)), cfg.get("runtime", "auto"), cfg.get("threads"))
    except (ModelLoadError, ValueError) as error:
        return str(error)
    expected = cfg.detector.name
    if model.card.get("detector") not in (None, expected):
        return f"{cfg.checkpoint}: is a {model.card.get('detector')} model, not {expected}"
    settings = {**(cfg.detector.get("detect") or {}), **(model.card.get("detect") or {})}
    for key in ("hop_s", "window_s", "face_every"):
        if cfg.get(key) is not None:
            settings[key] = cfg.get(key)
    analyser = LipSyncAnalyser(model, settings, scorers)
    draw_strip = bool(cfg.get("strip"))

    def analyse(path: Path, report_path: Path | None) -> dict[str, Any]:
        return {
            "input": str(path),
            "detector": model.card.get("detector"),
            "model": {"path": model.path, "runtime": model.runtime},
            **analyser(path, report_sidecar(path, report_path, "strip") if draw_strip else None),
        }

    return analyse, model
