"""Lip-sync engines: phoneme timings → speech channels (see :func:`articulate`)."""

from .procedural import Articulation, articulate

__all__ = ["Articulation", "articulate"]
