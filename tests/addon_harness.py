"""Loading the add-on from the checkout under a test package name, for the add-on tests.

``addon_fixture(name)`` makes a pytest fixture that loads ``addon/`` as the
package ``name``, registers it and, in teardown, unregisters it and forgets
its modules (a class left registered makes the bpy process hang at exit).
``scene`` is a fresh empty 30 fps scene, frames 1–10.  ``exits_cleanly``
runs some of a test file's tests in a subprocess that must exit normally.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
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


def exits_cleanly(test_file: str, keywords: str) -> None:
    """Run ``test_file``'s tests matching ``keywords`` in a fresh pytest process that must exit
    normally (no os._exit) within 5 minutes: a class left registered would hang it."""
    env = dict(os.environ, VISEMO_ADDON_SUBPROCESS="1",
               BLENDER_USER_RESOURCES=tempfile.mkdtemp(prefix="visemo-bur-"))
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file), "-k", keywords],
        capture_output=True, text=True, timeout=300, env=env, cwd=str(ADDON.parent),
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert " passed" in proc.stdout
