"""``python -m visemo.batch lines.csv --out-dir takes`` — the same as ``visemo batch``."""

import sys

from ..cli import main

if __name__ == "__main__":
    sys.exit(main(["batch", *sys.argv[1:]]))
