"""Install the built extension zip into a Blender-like Python and use it (run as a subprocess).

    python -S tests/extension_check.py ZIP BLENDER_SITE OUT.json [--video]

``-S`` keeps the virtual environment's site-packages (with visemo, scipy,
pocketsphinx ...) off ``sys.path``; BLENDER_SITE is a folder holding only what
Blender itself bundles (``bpy`` and ``numpy``, linked in by the test).  So
every other import must come from the wheels the zip installed.  Run with
``BLENDER_USER_RESOURCES`` set to a temporary folder.  Writes what it found
to OUT.json and exits 0; any failure raises (exit 1).  A class left registered
would make this process hang at exit, which the caller's timeout catches.

The head that Generate keys is the one *Add > Mesh > visemo Head* adds (its
menu line is drawn with a recording layout; the lips of the keyed mesh are
measured over the speech).  Every build ships PyAV, so a Playblast of the
generated animation is always rendered and decoded.  ``--video`` (a ``-video`` zip) also imports
mediapipe, OpenCV, Pillow, matplotlib, h5py and fer from the extension,
renders a talking portrait of matplotlib's sample photo (grace_hopper.jpg)
with :func:`visemo.render2d.render_portrait` and with the add-on's
*Export Talking Portrait*, and decodes them.  Rendering in-process leaves a
GPU worker thread that hangs interpreter exit, so after the playblast this
script leaves with ``os._exit(0)`` once OUT.json is written (the
left-registered check then reads ``dir(bpy.types)``).
"""

import json
import os
import sys
import time
from pathlib import Path

zip_path, blender_site, out_path = sys.argv[1:4]
video = "--video" in sys.argv[4:]
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

# Add > Mesh > visemo Head, then Generate on it with the bundled speech, through bpy.ops.
import numpy as np  # noqa: E402
from menu_recording import mesh_add_entries  # noqa: E402  (beside this script)
from visemo.blender import new_empty_scene  # noqa: E402
from visemo.blender.keyframes import channel_fcurves  # noqa: E402
from visemo.face.model import load_face_model  # noqa: E402


scene = new_empty_scene()
scene.render.fps = 30
scene.cursor.location = (0.5, -1.0, 0.25)
ret = bpy.ops.visemo.head_add()
obj = bpy.context.active_object
step("head", menu_entries=mesh_add_entries(module_name), head_result=sorted(ret), head_name=obj.name,
     head_location=[round(x, 6) for x in obj.location], head_selected=obj.select_get(),
     head_keys=[kb.name for kb in obj.data.shape_keys.key_blocks],
     head_mapping=json.loads(obj["visemo_mapping"]), head_target=scene.visemo.target.name)
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

# The lips of the keyed mesh open and close over the speech (lip gap in m, 0 at rest, per frame).
model, co = load_face_model(), np.empty(len(obj.data.vertices) * 3, np.float32)
gaps = []
for f in range(scene.frame_start, scene.frame_end + 1):
    scene.frame_set(f)
    obj.evaluated_get(bpy.context.evaluated_depsgraph_get()).data.vertices.foreach_get("co", co)
    gaps.append(float(model.lip_gap(co.reshape(-1, 3))))
gaps = np.array(gaps)
step("lips", lip_gap_max=float(gaps.max()), lip_gap_min=float(gaps.min()),
     lip_openings=int(np.count_nonzero((gaps[1:] > 0.003) & (gaps[:-1] <= 0.003))))
scene.frame_set(scene.frame_start)

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

# Playblast (every build ships PyAV): the generated animation, Workbench, small frames, with the speech.
from visemo.render2d.metrics import video_frames  # noqa: E402


def mp4_summary(path, jaw=None):
    """Frame count, frame shape, audio streams, and (with ``jaw``, jawOpen per frame [T]) how much the
    picture changes between the frames with the mouth open most and least (mean absolute difference, 0..255)."""
    import av
    import numpy as np

    frames = list(video_frames(path))
    with av.open(str(path)) as c:
        audio = len(c.streams.audio)
    spread = None
    if jaw is not None and len(frames) == len(jaw):
        wide, shut = int(np.argmax(jaw)), int(np.argmin(jaw))
        spread = round(float(np.abs(frames[wide].astype(float) - frames[shut].astype(float)).mean()), 3)
    return dict(frames=len(frames), shape=list(frames[0].shape) if frames else None, audio=audio,
                std=round(float(frames[0].std()), 2) if frames else 0.0, spread=spread)


import av  # noqa: E402

blast = Path(out_path).with_name("blast.mp4")
t = time.time()
ret = bpy.ops.visemo.playblast(filepath=str(blast), size=64)
jaw = fcs['key_blocks["jawOpen"].value']
first, last = (int(round(k.co[0])) for k in (jaw.keyframe_points[0], jaw.keyframe_points[-1]))
step("playblast", av_from_extension=str(Path(av.__file__).resolve()).startswith(local_site),
     playblast_result=sorted(ret), playblast_keyed=last - first + 1,
     playblast=mp4_summary(blast, [jaw.evaluate(f) for f in range(first, last + 1)]),
     playblast_seconds=round(time.time() - t, 2))

if video:
    import importlib.metadata  # noqa: E402
    import importlib.util  # noqa: E402
    import shutil  # noqa: E402

    vmods = {}
    for name in ("cv2", "mediapipe", "PIL", "matplotlib", "h5py", "fer"):
        mod = __import__(name)
        vmods[name] = str(Path(mod.__file__).resolve())

    step("video_imports", video_modules=vmods,
         video_all_from_extension=all(p.startswith(local_site) for p in vmods.values()),
         not_shipped={m: importlib.util.find_spec(m) is None
                      for m in ("jax", "jaxlib", "sentencepiece", "sounddevice", "tensorflow", "torch")},
         opencv_dists=sorted({d.metadata["Name"] for d in importlib.metadata.distributions()
                              if d.metadata["Name"].lower().startswith("opencv")}))

    from matplotlib import cbook  # noqa: E402
    from visemo import arkit  # noqa: E402
    from visemo.emotion.photo_fer import fer_available  # noqa: E402
    from visemo.pipeline import perform  # noqa: E402
    from visemo.render2d import render_portrait  # noqa: E402

    photo = Path(out_path).with_name("grace_hopper.jpg")
    shutil.copy(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False), photo)
    t = time.time()
    perf = perform(str(sample_speech()), "happy", transcript=s.transcript, fps=25)
    portrait = Path(out_path).with_name("portrait.mp4")
    info = render_portrait(perf, photo, portrait, speech=str(sample_speech()), size=128)
    jaw_open = perf.animation.weights[:, arkit.NAMES.index("jawOpen")]
    step("portrait", fer_available=fer_available(), portrait_expected=perf.animation.frames,
         portrait=mp4_summary(portrait, jaw_open), portrait_info=[info.frames, info.width, info.height],
         portrait_seconds=round(time.time() - t, 2))

    s.portrait_photo, s.portrait_size = str(photo), 64
    op_out = Path(out_path).with_name("operator_portrait.mp4")
    t = time.time()
    ret = bpy.ops.visemo.export_portrait(filepath=str(op_out))
    step("export_portrait", export_portrait_result=sorted(ret), export_portrait=mp4_summary(op_out),
         export_portrait_seconds=round(time.time() - t, 2))

addon_utils.disable(module_name, default_set=True, handle_error=None)
left = [n for n in dir(bpy.types) if n.startswith(("VISEMO_", "visemo"))]
step("disabled", left_registered=left, scene_prop=hasattr(bpy.types.Scene, "visemo"),
     menu_entries_left=mesh_add_entries(module_name))

ret = bpy.ops.extensions.package_uninstall(repo_index=list(bpy.context.preferences.extensions.repos).index(repo),
                                           pkg_id="visemo")
step("uninstalled", uninstall_result=sorted(ret),
     package_dir_left=os.path.exists(os.path.join(repo.directory, "visemo")))

Path(out_path).write_text(json.dumps(result, indent=1))
print("extension_check: done")
sys.stdout.flush()
os._exit(0)  # the playblast's render left a GPU worker thread that would hang a normal exit
