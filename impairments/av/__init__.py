"""Audio/video synchronisation impairments: the audio track shifted against the picture.

Importing this package registers ``av_offset``, ``av_drift`` and ``av_step``.
"""

from impairments.av import offsets  # noqa: F401  (registers the impairments)
from impairments.av.base import AVAnnotation, AVImpairment
from impairments.av.labels import SyncBands, sync_label

__all__ = ["AVAnnotation", "AVImpairment", "SyncBands", "sync_label"]
