"""The bundled ARKit head as a ready-to-key object in the current Blender scene.

What *Add > Mesh > visemo Head* in the add-on creates: the default face model
(``models/arkit_head``, :func:`visemo.face.model.load_face_model`) built with
:func:`~visemo.blender.head.build_head_object` (a Basis and the 52 ARKit shape
keys), its rig mapping stored on the object (the ``"arkit"`` preset: each
channel drives the shape key of the same name), vertex colours (skin, lips,
brows, eyes, teeth: :func:`visemo.blender.render.paint`) and a material that
shows them.  Unlike the CLI's head (:func:`visemo.blender.writer.build_keyed_scene`)
it does not reset the session: it is added to an existing scene, like any
mesh from Blender's Add menu.
"""

from __future__ import annotations

from typing import Sequence

import bpy
import numpy as np

from .. import arkit, rigmap
from ..face.model import FaceModel, load_face_model
from .head import build_head_object
from .render import SKIN, paint
from .rig import store_mapping

__all__ = ["add_bundled_head", "HEAD_NAME", "PAINT_ATTRIBUTE"]

HEAD_NAME = "visemo_head"
"""Name of the new object and its mesh (Blender adds .001 ... when taken)."""

PAINT_ATTRIBUTE = "visemo_paint"
"""The colour attribute holding :func:`~visemo.blender.render.paint`'s colours."""


def add_bundled_head(location: Sequence[float] = (0.0, 0.0, 0.0), *, collection=None,
                     name: str = HEAD_NAME, model: FaceModel | None = None):
    """Add the bundled head to ``collection`` at ``location``; return the new object.

    ``location``: world position (m) of the object's origin, which is the
    centre of the head's bounding box (the mesh is shifted so, relative to the
    face model's coordinates; shape keys shift with it, so every delta is
    the model's).  ``collection``: default the current scene's master
    collection.  ``model``: default the bundled face model.  The object has a
    Basis plus the model's 52 shape keys in :data:`visemo.arkit.NAMES` order,
    the ``"arkit"`` mapping stored in ``obj["visemo_mapping"]`` (52 of 52
    channels), the :data:`PAINT_ATTRIBUTE` colour attribute and a material
    using it.  Selection and the active object are left to the caller.
    Raises :class:`~visemo.ModelError` when the face model is missing or damaged.
    """
    model = model if model is not None else load_face_model()
    names = arkit.NAMES  # the model's deltas are in this order (zero where it lacks a channel)
    lo, hi = model.vertices.min(axis=0), model.vertices.max(axis=0)
    vertices = model.vertices - (lo + hi) / 2.0
    obj = build_head_object(vertices, model.face_sizes, model.face_indices, model.deltas,
                            names, name=name, collection=collection)
    obj.location = tuple(float(x) for x in location)
    store_mapping(obj, rigmap.build_mapping(names, "arkit"))
    _paint(obj, model)
    return obj


def _paint(obj, model: FaceModel) -> None:
    """Vertex colours and a material whose base colour reads them (solid view: skin tone)."""
    mesh = obj.data
    attr = mesh.color_attributes.new(PAINT_ATTRIBUTE, "FLOAT_COLOR", "POINT")
    attr.data.foreach_set("color", np.ascontiguousarray(paint(model), np.float32).ravel())
    mesh.color_attributes.active_color = attr
    mat = bpy.data.materials.new(obj.name)
    mat.diffuse_color = (*SKIN, 1.0)
    mat.use_nodes = True
    nodes = mat.node_tree.nodes
    shader = next((n for n in nodes if n.type == "BSDF_PRINCIPLED"), None)
    if shader is not None:
        colour = nodes.new("ShaderNodeVertexColor")
        colour.layer_name = PAINT_ATTRIBUTE
        colour.location = (shader.location.x - 300, shader.location.y)
        mat.node_tree.links.new(colour.outputs["Color"], shader.inputs["Base Color"])
        shader.inputs["Roughness"].default_value = 0.6
    mesh.materials.append(mat)
