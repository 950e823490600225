"""The installable extension zip: build it with scripts/build_extension.py, install it, use it.

The zip is built once per test session (lite variant, linux-x64 wheels; the
wheels are cached in a session temp folder).  It is then installed with
``bpy.ops.extensions.package_install_files`` in a *separate* Python started
with ``-S``, whose only third-party packages are the ones Blender itself
bundles (bpy, numpy): visemo, scipy, soundfile and pocketsphinx must come from
the zip's wheels (tests/extension_check.py).
"""

import json
import os
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import build_extension  # noqa: E402


@pytest.fixture(scope="session")
def wheel_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("wheel-cache")


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
            "mapping.py", "preferences.py"} <= names
    wheels = [w.removeprefix("./") for w in manifest["wheels"]]
    assert set(wheels) == {n for n in names if n.endswith(".whl")}
    projects = {Path(w).name.split("-")[0].lower() for w in wheels}
    assert {"visemo", "scipy", "soundfile", "pocketsphinx", "cffi", "pycparser"} <= projects
    assert not {"numpy", "sounddevice", "faster_whisper", "ctranslate2", "av"} & projects
    assert all("manylinux" in w or "-none-any" in w or "py2.py3-none" in w for w in wheels)
    assert {"visemo/_data/models/arkit_head/model.json", "visemo/_data/models/arkit_head/head.npz",
            "visemo/_data/speech/sense_and_sensibility_0870.wav",
            "visemo/_data/speech/sense_and_sensibility_0870.txt"} <= inside
    assert not any(Path(n).name.startswith("build") and n.endswith(".py") for n in inside)  # build scripts stay home


def test_zip_validates(lite_zip):
    proc = subprocess.run([sys.executable, str(build_extension.blender_ext_path()), "validate", str(lite_zip)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_zip_installs_imports_generates_and_uninstalls_cleanly(lite_zip, tmp_path):
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
        [sys.executable, "-S", str(ROOT / "tests" / "extension_check.py"), str(lite_zip), str(site), str(out)],
        capture_output=True, text=True, timeout=300, env=env, cwd=str(tmp_path),
    )  # a class left registered would hang the exit: the timeout fails the test
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    r = json.loads(out.read_text())
    assert r["install_result"] == ["FINISHED"] and r["enabled"] and r["has_generate"]
    local = str(user.resolve())
    assert r["all_from_extension"], r["modules"]
    assert r["models_dir"].startswith(local) and r["models_dir"].endswith("visemo/_data/models")
    assert r["sample_speech"].startswith(local) and r["version"] == visemo.__version__
    assert r["generate_result"] == ["FINISHED"] and r["fcurves"] == 52 and r["keys_per_curve"] == [213]
    assert r["actions"] == ["sense_and_sensibility_0870"]
    assert r["strips"] == ["sense_and_sensibility_0870.wav"]
    assert r["script_shipped"] and r["script_rc"] == 0 and r["script_fbx"], r["script_stderr"]
    assert "visemo: keyed 'visemo_head'" in r["script_stdout"]
    assert r["left_registered"] == [] and r["scene_prop"] is False
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
