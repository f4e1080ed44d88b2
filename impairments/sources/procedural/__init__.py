"""Procedural clean-audio synthesis, split by technique. The public entry point is
``impairments.sources.procedural_audio`` (``KINDS``, ``generate``, ``describe``)."""
