"""Install the built extension zip into a Blender-like Python and use it (run as a subprocess).

    python -S tests/extension_check.py ZIP BLENDER_SITE OUT.json

``-S`` keeps the virtual environment's site-packages (with visemo, scipy,
pocketsphinx ...) off ``sys.path``; BLENDER_SITE is a folder holding only what
Blender itself bundles (``bpy`` and ``numpy``, linked in by the test).  So
every other import must come from the wheels the zip installed.  Run with
``BLENDER_USER_RESOURCES`` set to a temporary folder.  Writes what it found
to OUT.json and exits 0; any failure raises (exit 1).  A class left registered
would make this process hang at exit, which the caller's timeout catches.
"""

import json
import os
import sys
import time
from pathlib import Path

zip_path, blender_site, out_path = sys.argv[1:4]
sys.path.insert(0, blender_site)

import bpy  # noqa: E402
import addon_utils  # noqa: E402

result = {"steps": []}


def step(name, **info):
    result["steps"].append(name)
    result.update(info)


repo = next(r for r in bpy.context.preferences.extensions.repos if r.module == "user_default")
step("repo", repo_dir=repo.directory)

t = time.time()
ret = bpy.ops.extensions.package_install_files(filepath=zip_path, repo="user_default",
                                               enable_on_install=True)
step("installed", install_result=sorted(ret), install_seconds=round(time.time() - t, 2))

module_name = "bl_ext.user_default.visemo"
enabled = module_name in bpy.context.preferences.addons
step("enabled", enabled=enabled, has_generate=hasattr(bpy.ops.visemo, "generate"))

local_site = str(Path(os.environ["BLENDER_USER_RESOURCES"]).resolve())
mods = {}
for name in ("visemo", "scipy", "soundfile", "pocketsphinx", "cffi", "visemo.rigmap"):
    mod = __import__(name, fromlist=["_"])
    mods[name] = str(Path(mod.__file__).resolve())
step("imports", modules=mods,
     all_from_extension=all(p.startswith(local_site) for p in mods.values()))

import visemo  # noqa: E402
from visemo.paths import models_dir, sample_speech  # noqa: E402

step("data", models_dir=str(models_dir()), sample_speech=str(sample_speech()), version=visemo.__version__)

# Generate on the bundled head with the bundled speech, through bpy.ops.
from visemo.blender import build_head_object, new_empty_scene  # noqa: E402
from visemo.blender.keyframes import channel_fcurves  # noqa: E402
from visemo.face.model import load_face_model  # noqa: E402

scene = new_empty_scene()
scene.render.fps = 30
head = load_face_model()
obj = build_head_object(head.vertices, head.face_sizes, head.face_indices, head.deltas, head.names)
bpy.context.view_layer.objects.active = obj
s = scene.visemo
s.speech_path = str(sample_speech())
s.transcript = sample_speech().with_suffix(".txt").read_text().strip()
s.emotion = "happy"
ret = bpy.ops.visemo.generate()
fcs = channel_fcurves(obj.data.shape_keys)
step("generated", generate_result=sorted(ret), fcurves=len(fcs),
     keys_per_curve=sorted({len(fc.keyframe_points) for fc in fcs.values()}),
     actions=[a.name for a in bpy.data.actions],
     strips=[st.name for st in scene.sequence_editor.strips_all])

# The headless script the extension ships, run as `blender -b scene.blend -P <script> -- ...` runs it
# (a fresh process: visemo must be found in the extension's wheels by the script itself).
import subprocess  # noqa: E402

script = Path(repo.directory) / "visemo" / "blender_animate.py"
blend = Path(out_path).with_name("scene.blend")
fbx = Path(out_path).with_name("line.fbx")
bpy.ops.wm.save_as_mainfile(filepath=str(blend))
code = (f"import sys; sys.path.insert(0, {blender_site!r}); import bpy, runpy; "
        f"bpy.ops.wm.open_mainfile(filepath={str(blend)!r}); "
        f"sys.argv = ['blender', '--', {str(sample_speech())!r}, '--emotion', 'sad', '--transcript', "
        f"{s.transcript!r}, '-o', {str(fbx)!r}]; runpy.run_path({str(script)!r}, run_name='__main__')")
proc = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, timeout=240)
step("script", script_shipped=script.is_file(), script_rc=proc.returncode, script_stderr=proc.stderr[-2000:],
     script_stdout=proc.stdout[-500:], script_fbx=fbx.is_file() and fbx.stat().st_size > 0)

addon_utils.disable(module_name, default_set=True, handle_error=None)
left = [n for n in dir(bpy.types) if n.startswith(("VISEMO_", "visemo"))]
step("disabled", left_registered=left, scene_prop=hasattr(bpy.types.Scene, "visemo"))

ret = bpy.ops.extensions.package_uninstall(repo_index=list(bpy.context.preferences.extensions.repos).index(repo),
                                           pkg_id="visemo")
step("uninstalled", uninstall_result=sorted(ret),
     package_dir_left=os.path.exists(os.path.join(repo.directory, "visemo")))

Path(out_path).write_text(json.dumps(result, indent=1))
print("extension_check: done")
