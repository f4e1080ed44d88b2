"""Audio impairments, one module each; importing this package registers all of them."""

from impairments.audio import clicks, distortion, hiss, hum

__all__ = ["clicks", "distortion", "hiss", "hum"]
