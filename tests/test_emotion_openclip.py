"""The optional open_clip path, with a tiny open_clip model (random weights) made by the test."""

import json
import sys

import numpy as np
import pytest

from visemo import arkit
from visemo.errors import DependencyError

torch = pytest.importorskip("torch", reason="open_clip needs torch")


def _import_open_clip():
    from visemo.emotion.openclip import import_open_clip

    try:
        return import_open_clip()
    except DependencyError:
        pytest.skip("open_clip_torch is not installed (pip install open_clip_torch)")


TINY = {"embed_dim": 32,
        "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "head_width": 16, "patch_size": 16},
        "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1}}


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory):
    open_clip = _import_open_clip()
    d = tmp_path_factory.mktemp("open_clip")
    cfg = d / "visemo-tiny-clip.json"
    cfg.write_text(json.dumps(TINY))
    open_clip.add_model_config(str(cfg))
    torch.manual_seed(0)
    model = open_clip.create_model("visemo-tiny-clip")
    ckpt = d / "tiny.pt"
    torch.save({"state_dict": model.state_dict()}, ckpt)
    return cfg, ckpt


def test_open_clip_text_and_image_towers(tiny_clip, tmp_path, monkeypatch):
    from PIL import Image

    from visemo.emotion import encoders, resolve_prompt
    from visemo.emotion.openclip import use_open_clip

    cfg, ckpt = tiny_clip
    monkeypatch.setenv("VISEMO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delitem(encoders._CACHE, "open_clip", raising=False)
    enc = use_open_clip("visemo-tiny-clip", ckpt, config=cfg)
    try:
        assert enc.dim == 32
        t = enc.encode(["happy", "sad"])
        assert t.shape == (2, 32) and np.allclose(np.linalg.norm(t, axis=1), 1, atol=1e-5)
        r = enc.project(t)
        assert r.expression.shape == (2, arkit.COUNT) and r.style.shape[0] == 2
        assert ((r.expression >= 0) & (r.expression <= 1)).all()
        assert list((tmp_path / "cache").glob("open_clip-*.npz"))        # projector fitted once, cached
        img = Image.fromarray((np.random.default_rng(0).random((40, 40, 3)) * 255).astype(np.uint8))
        ri = enc.image_to_expression([img])
        assert ri.expression.shape == (1, arkit.COUNT)
        # random weights carry no meaning: only check the path runs and gives weights or a clear error
        try:
            e = resolve_prompt("quietly furious", encoder="open_clip")
            assert e.weights.shape == (arkit.COUNT,) and e.source == "model"
        except Exception as err:  # noqa: BLE001 - must be the documented error
            from visemo.errors import PromptError
            assert isinstance(err, PromptError)
        # basic words never need the encoder
        assert resolve_prompt("happy", encoder="open_clip").source == "lexicon"
    finally:
        encoders._CACHE.pop("open_clip", None)


def test_missing_open_clip_is_a_dependency_error(monkeypatch):
    import builtins

    from visemo.emotion import openclip

    real = builtins.__import__

    def fake(name, *a, **k):
        if name == "open_clip":
            raise ImportError("No module named 'open_clip'", name="open_clip")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(DependencyError, match="pip install open_clip_torch"):
        openclip.OpenClipEncoder("ViT-B-32", "/nonexistent.pt")
