#!/usr/bin/env bash
# Quick start: set up, then animate the bundled speech clip on the bundled head
# with an emotion, writing an animated Blender scene and an FBX to out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/visemo animate assets/speech/sense_and_sensibility_0870.wav --emotion happy \
    -o out/demo.blend -o out/demo.fbx -o out/demo.json "$@"
echo "demo: open out/demo.blend in Blender 4.2+ (press Space to play with sound) or import out/demo.fbx"
