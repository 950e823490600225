"""The installable extension zip: build it with scripts/build_extension.py, install it, use it.

The zip is built once per test session (lite variant, linux-x64 wheels; the
wheels are cached in a session temp folder, or in ``VISEMO_WHEEL_CACHE``
when set, e.g. ``~/.cache/visemo/wheels``).  It is then installed with
``bpy.ops.extensions.package_install_files`` in a *separate* Python started
with ``-S``, whose only third-party packages are the ones Blender itself
bundles (bpy, numpy): visemo, scipy, soundfile, pocketsphinx and PyAV must
come from the zip's wheels; there the *visemo Head* is added from Add >
Mesh, Generate keys it (its lips move over the speech) and a Playblast runs
(tests/extension_check.py).

The ``-video`` zip (mediapipe, OpenCV, matplotlib ...: ~130 MB more to
download, ~350 MiB to build and install) is tested only when
``VISEMO_TEST_VIDEO_ZIP=1``: installed the same way, it renders a talking
portrait with the core and with the add-on's operator.  What the video
variant would ship is checked always, from the installed packages' metadata.
"""

import json
import os
import re
import subprocess
import sys
import sysconfig
import tempfile
import tomllib
import zipfile
from pathlib import Path

import pytest

bpy = pytest.importorskip("bpy")

import visemo  # noqa: E402
from visemo import arkit  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import build_extension  # noqa: E402


VIDEO_ZIP = os.environ.get("VISEMO_TEST_VIDEO_ZIP") == "1"


@pytest.fixture(scope="session")
def wheel_cache(tmp_path_factory) -> Path:
    kept = os.environ.get("VISEMO_WHEEL_CACHE")
    return Path(kept).expanduser() if kept else tmp_path_factory.mktemp("wheel-cache")


@pytest.fixture(scope="session")
def lite_zip(tmp_path_factory, wheel_cache) -> Path:
    out = tmp_path_factory.mktemp("dist")
    (zp,) = build_extension.build("lite", ["linux-x64"], out, wheel_cache, split=False, log=lambda *a: None)
    return zp


def test_zip_layout(lite_zip):
    assert lite_zip.name == f"visemo-{visemo.__version__}.zip"
    with zipfile.ZipFile(lite_zip) as z:
        names = set(z.namelist())
        manifest = tomllib.loads(z.read("blender_manifest.toml").decode())
        core = next(n for n in names if n.startswith("wheels/visemo-"))
        with tempfile.TemporaryDirectory() as tmp:
            z.extract(core, tmp)
            with zipfile.ZipFile(Path(tmp) / core) as w:
                inside = set(w.namelist())
    assert manifest["version"] == visemo.__version__ and manifest["platforms"] == ["linux-x64"]
    assert {"__init__.py", "operators.py", "panels.py", "properties.py", "job.py", "generate.py",
            "mapping.py", "preferences.py", "head.py"} <= names
    wheels = [w.removeprefix("./") for w in manifest["wheels"]]
    assert set(wheels) == {n for n in names if n.endswith(".whl")}
    projects = {Path(w).name.split("-")[0].lower() for w in wheels}
    assert {"visemo", "scipy", "soundfile", "pocketsphinx", "cffi", "pycparser", "av"} <= projects
    assert not {"numpy", "sounddevice", "faster_whisper", "ctranslate2"} & projects
    assert not {"mediapipe", "opencv_contrib_python", "matplotlib", "pillow", "fer", "h5py"} & projects
    assert all("manylinux" in w or "-none-any" in w or "py2.py3-none" in w for w in wheels)
    assert {"visemo/_data/models/arkit_head/model.json", "visemo/_data/models/arkit_head/head.npz",
            "visemo/_data/speech/sense_and_sensibility_0870.wav",
            "visemo/_data/speech/sense_and_sensibility_0870.txt"} <= inside
    assert not any(Path(n).name.startswith("build") and n.endswith(".py") for n in inside)  # build scripts stay home


def test_zip_validates(lite_zip):
    proc = subprocess.run([sys.executable, str(build_extension.blender_ext_path()), "validate", str(lite_zip)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def install_and_check(zp: Path, tmp_path: Path, *flags: str) -> dict:
    """Run tests/extension_check.py on ``zp`` in a ``python -S`` with only bpy and numpy; its OUT.json."""
    site = tmp_path / "blender-site"  # what Blender's own Python bundles: bpy and numpy
    site.mkdir()
    packages = Path(sysconfig.get_paths()["purelib"])  # where pip put bpy and numpy
    for pkg in ("bpy", "numpy", "numpy.libs"):
        src = packages / pkg
        if src.exists():
            (site / pkg).symlink_to(src)
    user = tmp_path / "blender-user"
    out = tmp_path / "result.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VISEMO_"))}
    env["BLENDER_USER_RESOURCES"] = str(user)
    proc = subprocess.run(
        [sys.executable, "-S", str(ROOT / "tests" / "extension_check.py"), str(zp), str(site), str(out), *flags],
        capture_output=True, text=True, timeout=420, env=env, cwd=str(tmp_path),
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(out.read_text())


def test_zip_installs_imports_generates_and_uninstalls_cleanly(lite_zip, tmp_path):
    r = install_and_check(lite_zip, tmp_path)
    user = tmp_path / "blender-user"
    assert r["install_result"] == ["FINISHED"] and r["enabled"] and r["has_generate"]
    local = str(user.resolve())
    assert r["all_from_extension"], r["modules"]
    assert r["models_dir"].startswith(local) and r["models_dir"].endswith("visemo/_data/models")
    assert r["sample_speech"].startswith(local) and r["version"] == visemo.__version__
    # Add > Mesh > visemo Head: in the menu, at the cursor, 52 ARKit keys, mapped, the panel's target
    assert r["menu_entries"] == [["visemo.head_add", "visemo Head"]] and r["head_result"] == ["FINISHED"]
    assert r["head_location"] == [0.5, -1.0, 0.25] and r["head_selected"] and r["head_name"] == "visemo_head"
    assert r["head_keys"] == ["Basis", *arkit.NAMES] and r["head_target"] == "visemo_head"
    mapping = r["head_mapping"]
    assert mapping["preset"] == "arkit" and mapping["channels"] == {n: n for n in arkit.NAMES}
    assert r["generate_result"] == ["FINISHED"] and r["fcurves"] == 52 and r["keys_per_curve"] == [213]
    # ... and Generate moves its lips with the speech: open on vowels (mm), shut between
    assert r["lip_gap_max"] > 0.01 and r["lip_gap_min"] < 0.0005 and r["lip_openings"] >= 5
    assert r["actions"] == ["sense_and_sensibility_0870"]
    assert r["strips"] == ["sense_and_sensibility_0870.wav"]
    assert r["script_shipped"] and r["script_rc"] == 0 and r["script_fbx"], r["script_stderr"]
    assert "visemo: keyed 'visemo_head'" in r["script_stdout"]
    # Playblast: PyAV ships in every build; one frame per keyed frame, with the speech, the mouth moves
    assert r["av_from_extension"] and r["playblast_result"] == ["FINISHED"]
    blast = r["playblast"]
    assert blast["frames"] == r["playblast_keyed"] == 213 and blast["shape"] == [64, 64, 3]
    assert blast["audio"] == 1 and blast["std"] > 5 and blast["spread"] > 0.3
    assert r["left_registered"] == [] and r["scene_prop"] is False and r["menu_entries_left"] == []
    assert r["uninstall_result"] == ["FINISHED"] and r["package_dir_left"] is False


@pytest.mark.parametrize("platform, tag", [("windows-x64", "win_amd64"), ("macos-arm64", "arm64"),
                                           ("macos-x64", "x86_64")])
def test_wheels_are_fetched_per_platform(wheel_cache, platform, tag):
    reqs = build_extension.dependency_closure(("cffi",), platform)
    assert set(reqs) == {"cffi", "pycparser"}
    cffi = build_extension.fetch_wheel(reqs["cffi"], platform, wheel_cache)
    assert cffi is not None and tag in cffi.name and f"cffi-{reqs['cffi'].version}-cp311" in cffi.name
    assert build_extension.fetch_wheel(reqs["cffi"], platform, wheel_cache) == cffi  # cached


def test_build_refuses_unknown_platform(capsys):
    assert build_extension.main(["--platforms", "amiga-68k"]) == 2
    assert "unknown platform amiga-68k" in capsys.readouterr().err
    assert build_extension.main(["--video", "--full", "--platforms", "amiga-68k"]) == 2


def test_variants_are_named_by_their_features(tmp_path):
    be = build_extension
    assert [be.variant_name(*f) for f in ((False, False), (True, False), (False, True), (True, True))] == \
        ["lite", "full", "video", "full-video"]
    assert be.variant_features("full-video") == {"full", "video"} and be.variant_features("lite") == set()
    with pytest.raises(build_extension.BuildError, match="unknown build variant 'huge'"):
        be.build("huge", ["linux-x64"], tmp_path, tmp_path, split=False, log=lambda *a: None)
    assert list(tmp_path.iterdir()) == []  # refused before anything was fetched
    lite, full_video = be.project_requirements("lite"), be.project_requirements("full-video")
    names = lambda reqs: {re.split(r"[<>=;\s\[]", r, 1)[0].lower() for r in reqs}  # noqa: E731
    assert "av" in names(lite) and not {"mediapipe", "pillow", "matplotlib"} & names(lite)
    assert {"mediapipe", "pillow", "matplotlib", "h5py"} <= names(be.project_requirements("video"))
    assert set(lite) < set(full_video) and set(be.project_requirements("video")) < set(full_video)
    assert any(r.startswith("faster-whisper") for r in full_video)


@pytest.mark.parametrize("platform", list(build_extension.PLATFORM_TAGS))
def test_video_variant_ships_the_face_mesh_without_jax(platform):
    """mediapipe's legacy face mesh runs without jax/jaxlib/sentencepiece/sounddevice: left out, with reasons."""
    pytest.importorskip("mediapipe")
    be = build_extension
    got = be.dependency_closure(be.project_requirements("video"), platform)
    assert {"av", "mediapipe", "opencv-contrib-python", "pillow", "matplotlib", "protobuf", "absl-py", "attrs",
            "flatbuffers", "contourpy", "kiwisolver", "fonttools", "pyparsing", "cycler", "python-dateutil",
            "h5py", "fer"} <= set(got)
    left_out = {"jax", "jaxlib", "sentencepiece", "sounddevice"}
    assert not left_out & set(got) and left_out <= set(be.NOT_NEEDED)
    assert [n for n in got if n.startswith("opencv")] == ["opencv-contrib-python"]  # one OpenCV: mediapipe's
    assert not {"numpy", "tensorflow", "torch", "keras", "facenet-pytorch", "pandas", "moviepy"} & set(got)
    assert got["fer"].needed_by == ["h5py"] and got["fer"].version == "25.10.3"  # weights only, no deps
    assert all(r.version for r in got.values())  # pinned to what the tests ran against
    lite = be.dependency_closure(be.project_requirements("lite"), platform)
    assert "av" in lite and set(lite) < set(got)


def test_os_floor_reads_the_wheel_tags():
    floor = build_extension.os_floor
    mac = ["av-18.1.0-cp311-abi3-macosx_14_0_arm64.whl", "scipy-1.17.1-cp311-cp311-macosx_12_0_arm64.whl",
           "pocketsphinx-5.1.1-cp311-cp311-macosx_10_9_universal2.whl", "fer-25.10.3-py3-none-any.whl"]
    assert floor(mac, "macos-arm64") == ("macOS 14.0", ["av"])
    linux = ["opencv_contrib_python-4.11.0.86-cp37-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
             "mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl",
             "kiwisolver-1.5.1-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl"]
    assert floor(linux, "linux-x64") == ("glibc 2.28", ["mediapipe"])
    assert floor(["av-18.1.0-cp311-abi3-win_amd64.whl"], "windows-x64") is None


# ---------------------------------------------------------------- the -video zip (opt-in: large)
@pytest.fixture(scope="session")
def video_zip(tmp_path_factory, wheel_cache) -> Path:
    if not VIDEO_ZIP:
        pytest.skip("set VISEMO_TEST_VIDEO_ZIP=1 to build and install the -video zip (~130 MB more wheels)")
    out = tmp_path_factory.mktemp("dist-video")
    (zp,) = build_extension.build("video", ["linux-x64"], out, wheel_cache, split=True, log=lambda *a: None)
    return zp


def test_video_zip_installs_and_renders_a_talking_portrait(video_zip, tmp_path):
    assert video_zip.name == f"visemo-{visemo.__version__}-video-linux_x64.zip"
    with zipfile.ZipFile(video_zip) as z:
        projects = {Path(n).name.split("-")[0].lower() for n in z.namelist() if n.endswith(".whl")}
    assert {"av", "mediapipe", "opencv_contrib_python", "pillow", "matplotlib", "h5py", "fer"} <= projects
    assert not {"jax", "jaxlib", "sentencepiece", "sounddevice", "numpy", "opencv_python"} & projects

    r = install_and_check(video_zip, tmp_path, "--video")
    assert r["install_result"] == ["FINISHED"] and r["all_from_extension"] and r["generate_result"] == ["FINISHED"]
    assert r["playblast_result"] == ["FINISHED"] and r["playblast"]["frames"] == r["playblast_keyed"]
    assert r["video_all_from_extension"], r["video_modules"]
    assert all(r["not_shipped"].values()), r["not_shipped"]  # the face mesh ran without jax & co
    assert r["opencv_dists"] == ["opencv-contrib-python"] and r["fer_available"]
    portrait = r["portrait"]  # the core: render_portrait at 25 fps, 128 px, with the speech
    assert portrait["frames"] == r["portrait_expected"] == r["portrait_info"][0] > 100
    assert portrait["shape"] == [128, 128, 3] and portrait["audio"] == 1
    assert portrait["std"] > 20 and portrait["spread"] > 1.0  # a photo whose mouth moves
    assert r["export_portrait_result"] == ["FINISHED"]  # the add-on's operator, the scene's 30 fps
    op = r["export_portrait"]
    assert op["frames"] == 213 and op["shape"] == [64, 64, 3] and op["audio"] == 1 and op["std"] > 20
    assert r["left_registered"] == [] and r["uninstall_result"] == ["FINISHED"] and not r["package_dir_left"]
