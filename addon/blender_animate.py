"""visemo without the window: ``blender -b scene.blend -P <this file> -- ARGS``.

This file ships in the extension's folder (e.g.
``~/.config/blender/4.5/extensions/user_default/visemo/blender_animate.py``;
Blender's *Preferences > Get Extensions* shows where).  ARGS: one speech
file and ``-o OUT``, or ``--batch rows.csv --out-dir DIR``; ``-- --help``
lists them all (see :mod:`visemo.blender.batch`).  Exit status: 0 ok, 2 bad
input, 1 internal failure.
"""

import sys
from pathlib import Path


def _make_visemo_importable() -> None:
    """visemo comes from the installed extension's wheels, else from the checkout this file is in."""
    try:
        import visemo.blender.batch  # noqa: F401
        return
    except ImportError:
        pass
    import bpy

    v = sys.version_info
    wheels = Path(bpy.utils.user_resource("EXTENSIONS", path=".local")) / "lib" / \
        f"python{v.major}.{v.minor}" / "site-packages"
    checkout = Path(__file__).resolve().parents[1] / "core"
    for folder in (wheels, checkout):
        if (folder / "visemo").is_dir() and str(folder) not in sys.path:
            sys.path.append(str(folder))
            return
    print("visemo: error: cannot find visemo; install and enable the visemo extension "
          "(Edit > Preferences > Get Extensions > Install from Disk)", file=sys.stderr)
    sys.exit(2)


if __name__ == "__main__":
    _make_visemo_importable()
    from visemo.blender.batch import run_script

    run_script()
