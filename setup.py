"""Packaging hook: the wheel carries the shipped models and the sample speech.

Everything else is in ``pyproject.toml``.  ``models/<name>/`` (model cards and
weights, not their build scripts) and ``assets/speech/`` are copied into the
built package as ``visemo/_data/models`` and ``visemo/_data/speech``, where
:func:`visemo.paths.models_dir` and :func:`visemo.paths.sample_speech` find
them in an installed wheel (a checkout or an editable install reads the
folders in place).
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
DATA = {"models": ROOT / "models", "speech": ROOT / "assets" / "speech"}
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "build.py", "build_*.py")


class build_py_with_data(build_py):
    """build_py, plus the model and sample-speech folders under visemo/_data."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads models/ and assets/ from the checkout
        for name, src in DATA.items():
            if src.is_dir():
                dst = Path(self.build_lib) / "visemo" / "_data" / name
                shutil.rmtree(dst, ignore_errors=True)
                shutil.copytree(src, dst, ignore=SKIP)


setup(cmdclass={"build_py": build_py_with_data})
