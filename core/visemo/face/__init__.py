"""The linear face model (rest mesh + 52 ARKit offsets) and mesh sequences.

:func:`load_face_model` loads the bundled head (``models/arkit_head``);
:mod:`visemo.face.sequence` writes per-frame vertex caches (PC2, NPZ).
"""

from .model import FaceModel, load_face_model
from .sequence import read_pc2, write_animation_mesh, write_mesh_npz, write_pc2

__all__ = [
    "FaceModel", "load_face_model",
    "write_pc2", "read_pc2", "write_mesh_npz", "write_animation_mesh",
]
