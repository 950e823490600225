"""Text-encoder graphs whose weights come from an installed package, laid out once in the cache.

visemo ships only an encoder's computation graph (``models/emotion_space``);
its weights stay in the package that distributes them.  On first use they are
written in the layout the graph's external data expects, into
``<cache>/<prefix>-<sha>/`` next to a copy of the graph, checked against the
sha256 the model card gives, and reused afterwards.  The folder appears
atomically (built in a temporary folder, then renamed), so an interrupted
first run leaves nothing half-written.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

from .. import models
from .encoders import cache_dir


def prepared_graph(model: models.Model, graph_key: str, spec: dict, prefix: str,
                   write: Callable[[Path], None]) -> Path:
    """Path of the runnable copy of ``model``'s graph ``graph_key`` in the cache.

    ``spec`` (the card's entry for the encoder) names the ``weights_file`` and its
    ``weights_sha256``, and optionally ``extra_files`` {name: sha256} that ``write``
    also produces.  ``write(folder)`` writes them into ``folder`` (it checks its own
    sources).  Raises :class:`visemo.errors.ModelError` when a written file does not
    match the card.
    """
    graph = model.file(graph_key)
    expected = {spec["weights_file"]: spec["weights_sha256"], **spec.get("extra_files", {})}
    folder = cache_dir() / f"{prefix}-{spec['weights_sha256'][:16]}"
    target_graph = folder / graph.name
    if not (target_graph.is_file() and all((folder / name).is_file() for name in expected)):
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{prefix}-", dir=folder.parent))
        try:
            write(tmp)
            shutil.copyfile(graph, tmp / graph.name)
            if folder.exists():
                shutil.rmtree(folder)
            os.replace(tmp, folder)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    else:
        models.verify_file(target_graph, model.files()[graph_key]["sha256"], f"cached {prefix} graph")
    for name, sha in expected.items():
        models.verify_file(folder / name, sha, f"cached {prefix} {name}")
    return target_graph
