"""Lip-sync engines: phoneme timings → speech channels (see :func:`articulate`)."""

from .procedural import Articulation, articulate, frame_count

__all__ = ["Articulation", "articulate", "frame_count"]
