"""Loading the add-on from the checkout under a test package name, for the add-on tests.

``addon_fixture(name)`` makes a pytest fixture that loads ``addon/`` as the
package ``name``, registers it and, in teardown, unregisters it and forgets
its modules (a class left registered makes the bpy process hang at exit).
``scene`` is a fresh empty 30 fps scene, frames 1–10.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ADDON = Path(__file__).resolve().parents[1] / "addon"


def load_addon_package(name: str):
    """The add-on package loaded from ``addon/`` as module ``name`` (not registered)."""
    spec = importlib.util.spec_from_file_location(name, ADDON / "__init__.py",
                                                  submodule_search_locations=[str(ADDON)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def addon_fixture(name: str):
    """A fixture yielding the registered add-on package ``name``; unregistered afterwards."""

    @pytest.fixture
    def addon():
        module = load_addon_package(name)
        module.register()
        try:
            yield module
        finally:
            module.unregister()
            for key in [k for k in sys.modules if k.startswith(name)]:
                del sys.modules[key]

    return addon


@pytest.fixture
def scene():
    from visemo.blender import new_empty_scene

    sc = new_empty_scene()
    sc.render.fps = 30
    sc.frame_start, sc.frame_end = 1, 10
    return sc
