"""Drawing a Blender menu headless: which operator lines do an add-on's draw functions add?

The ``bpy`` module has no windows, so a menu is drawn into a recording layout.
Used by the add-on tests and by ``extension_check.py`` (which runs without
pytest, so this module needs only bpy).
"""

from __future__ import annotations

from types import SimpleNamespace

import bpy


class RecordingLayout:
    """Stands in for a menu's ``layout``: records the operators a draw function adds."""

    def __init__(self):
        self.operators = []

    def separator(self, **kw):
        pass

    def operator(self, idname, text="", icon="NONE", **kw):
        self.operators.append((idname, text))


def mesh_add_entries(module_prefix: str) -> list[tuple[str, str]]:
    """(operator idname, label) of the Add > Mesh lines drawn by modules under ``module_prefix``."""
    menu = SimpleNamespace(layout=RecordingLayout())
    for draw in bpy.types.VIEW3D_MT_mesh_add._dyn_ui_initialize():
        if draw.__module__.startswith(module_prefix):
            draw(menu, bpy.context)
    return menu.layout.operators
