"""The portrait refiner: network, save/load, run-time wrapper, training loop, bad inputs.

Small and synthetic (a few seconds on CPU); one test fits a real portrait rig
(mediapipe) to check the geometry map and the whole-frame path.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from visemo.errors import DependencyError, FormatError, ModelError, VisemoError  # noqa: E402
from visemo.render2d import refine as rf  # noqa: E402
from visemo.train import portrait_refiner as pr  # noqa: E402

TINY = rf.RefinerConfig(net_size=32, channels=(4, 8, 8, 8), box_margin=0.1)


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors: one thread is ~6x faster than two (no hand-offs between threads)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _randomise_heads(net, seed: int = 0) -> None:
    """Give every zero-initialised head small random weights (so the net is no longer the identity)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name.split(".")[0] in ("flow2", "flow1", "flow0", "rgb2", "rgb1", "rgb0", "mask0"):
                p.copy_(0.05 * torch.randn(p.shape, generator=g))


def _inputs(side: int = 40, seed: int = 0):
    rng = np.random.default_rng(seed)
    v1 = rng.integers(0, 256, (side, side, 3), dtype=np.uint8)
    ref = rng.integers(0, 256, (side, side, 3), dtype=np.uint8)
    geo = np.zeros((side, side, 5), np.float32)
    geo[..., :2] = rng.normal(0, 0.05, (side, side, 2))
    geo[10:20, 10:30, 2] = 1.0
    return v1, ref, geo


def _synthetic_video(n: int = 24, side: int = 32, seed: int = 0) -> pr.PreparedVideo:
    """Pairs where the real frame = v1 with its 'mouth hole' painted dark (what v1 cannot know)."""
    rng = np.random.default_rng(seed)
    ref = np.full((side, side, 3), 170, np.uint8)
    ref += rng.integers(0, 20, (side, side, 3), dtype=np.uint8)
    v1 = np.repeat(ref[None], n, axis=0)
    target = v1.copy()
    geometry = np.zeros((n, side, side, 5), np.float16)
    for k in range(n):
        h = 2 + k % 8
        y0, x0 = 16 - h // 2, 8 + k % 5
        geometry[k, y0:y0 + h, x0:x0 + 14, 2] = 1.0
        target[k, y0:y0 + h, x0:x0 + 14] = (60, 20, 25)
    heldout = np.arange(n) >= int(n * 0.75)
    return pr.PreparedVideo(name="synthetic", fps=15.0, frames=np.arange(n), heldout=heldout, reference_index=0,
                            box=(0, 0, side), mouth=(4, 8, 28, 26), reference=ref, v1=v1, target=target,
                            geometry=geometry, weights=np.zeros((n, 52), np.float32))


# ---------------------------------------------------------------------- network
def test_new_network_is_the_identity():
    net = rf.build_network(TINY)
    refiner = rf.PortraitRefiner(net, TINY)
    v1, ref, geo = _inputs()
    out = refiner.refine(v1, ref, geo)
    assert out.dtype == np.uint8 and out.shape == v1.shape
    assert np.array_equal(out, v1)


def test_default_network_is_small():
    n = rf.parameter_count(rf.build_network(rf.RefinerConfig()))
    assert 100_000 < n <= 2_000_000


def test_corrections_fade_to_zero_at_the_box_edge():
    net = rf.build_network(TINY)
    _randomise_heads(net)
    v1, ref, geo = _inputs(side=64)
    out = rf.PortraitRefiner(net, TINY).refine(v1, ref, geo)
    assert not np.array_equal(out, v1)                       # it does change the inside ...
    edge = np.zeros(out.shape[:2], bool)
    edge[0, :] = edge[-1, :] = edge[:, 0] = edge[:, -1] = True
    diff = np.abs(out.astype(int) - v1.astype(int)).max(axis=2)
    assert diff[edge].max() == 0                             # ... but not the border (taper)


def test_save_load_round_trip_gives_identical_outputs(tmp_path):
    net = rf.build_network(TINY)
    _randomise_heads(net, seed=3)
    rf.save_refiner(net, TINY, tmp_path, {"name": "test"})
    card = json.loads((tmp_path / "model.json").read_text())
    assert card["file"] == "model.pt" and len(card["sha256"]) == 64
    loaded = rf.load_refiner(tmp_path, device="cpu")
    assert loaded.config == TINY
    v1, ref, geo = _inputs(seed=5)
    a = rf.PortraitRefiner(net, TINY).refine(v1, ref, geo)
    b = loaded.refine(v1, ref, geo)
    assert not np.array_equal(a, v1)
    assert np.array_equal(a, b)
    assert np.array_equal(rf.load_refiner(tmp_path / "model.pt", device="cpu").refine(v1, ref, geo), a)


def test_refine_rejects_mismatched_shapes():
    refiner = rf.PortraitRefiner(rf.build_network(TINY), TINY)
    v1, ref, geo = _inputs(side=40)
    with pytest.raises(ValueError, match="one size"):
        refiner.refine(v1, ref[:30, :30], geo)


# ---------------------------------------------------------------------- training
def test_training_lowers_the_loss_on_synthetic_pairs():
    video = _synthetic_video()
    opts = pr.TrainOptions(steps=150, batch=4, lr=5e-3, train_size=32, device="cpu", flip=False, colour=0.0)
    before = pr.evaluate(None, [video], "train")["v1"]["face"][0]
    net, hist = pr.train_network([video], TINY, opts, log=lambda s: None)
    assert hist["steps"] == 150 and hist["train_pairs"] == 18
    first, last = hist["loss"][0][1], hist["loss"][-1][1]
    assert last < 0.7 * first
    res = pr.evaluate(rf.PortraitRefiner(net, TINY), [video], "train")
    assert res["v1"]["face"][0] == pytest.approx(before)
    assert res["refined"]["face"][0] < 0.7 * before          # L1 on the training frames, 8-bit levels
    assert res["refined"]["frames"] == 18


def test_training_respects_the_held_out_frames():
    video = _synthetic_video()
    data = pr.training_arrays([video], 32)                   # same size: no resampling
    assert len(data["v1"]) == video.train_count == 18
    held = video.target[video.heldout]
    assert len(held) == 6
    for t in held:
        assert not any(np.array_equal(t, d) for d in data["target"])


def test_metrics_values():
    a = np.full((32, 32, 3), 100, np.uint8)
    l1, psnr, ssim = pr.frame_metrics(a, a)
    assert (l1, psnr, ssim) == (0.0, 99.0, pytest.approx(1.0))
    b = a + 10
    l1, psnr, _ = pr.frame_metrics(b, a)
    assert l1 == 10.0 and psnr == pytest.approx(20 * np.log10(255 / 10))


def test_similarity_recovers_a_known_transform():
    rng = np.random.default_rng(1)
    src = rng.uniform(0, 300, (17, 2))
    ang, s, t = np.radians(7.0), 1.3, np.array([12.0, -5.0])
    rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    dst = s * src @ rot.T + t
    m = pr._similarity(src, dst)
    assert np.allclose(m[:, :2], s * rot, atol=1e-9) and np.allclose(m[:, 2], t, atol=1e-7)


def test_face_box_is_square_inside_the_image_and_holds_the_face():
    rng = np.random.default_rng(0)
    pts = rng.uniform([100, 80], [300, 330], (478, 2))
    lo, hi = pts[:468].min(0), pts[:468].max(0)
    x0, y0, side = rf.face_box(pts, (800, 800), 0.12)
    assert side % 2 == 0 and abs(side - (hi - lo).max() * 1.24) <= 2
    assert x0 <= lo[0] and y0 <= lo[1] and x0 + side >= hi[0] and y0 + side >= hi[1]
    x0, y0, side = rf.face_box(pts, (400, 300), 0.12)       # the image is smaller than the box
    assert side == 300 and 0 <= x0 and x0 + side <= 400 and y0 == 0


def test_crop_geometry_converts_flow_to_grid_units():
    g = np.zeros((100, 100, 5), np.float32)
    g[..., 0] = 5.0
    g[..., 2] = 1.0
    c = rf.crop_geometry(g, (10, 20, 50))
    assert c.shape == (50, 50, 5)
    assert np.allclose(c[..., 0], 5.0 * 2 / 50) and np.all(c[..., 2] == 1.0)
    assert g[0, 0, 0] == 5.0                                 # the input is not changed


# ---------------------------------------------------------------------- bad inputs
def test_missing_model_raises_model_error(tmp_path):
    with pytest.raises(ModelError, match="visemo train portrait-refiner"):
        rf.load_refiner(tmp_path / "nowhere")


def test_foreign_file_raises_model_error(tmp_path):
    torch.save({"format": "something.else", "version": 1}, tmp_path / "model.pt")
    with pytest.raises(ModelError, match="not a visemo portrait refiner"):
        rf.load_refiner(tmp_path)
    (tmp_path / "model.pt").write_bytes(b"not a torch file")
    with pytest.raises(ModelError, match="not a readable torch file"):
        rf.load_refiner(tmp_path)


def test_wrong_config_raises_model_error(tmp_path):
    net = rf.build_network(TINY)
    state = net.state_dict()
    base = {"format": rf.FORMAT, "version": rf.VERSION, "state_dict": state}
    torch.save(dict(base, config=dict(TINY.to_dict(), colour_magic=3)), tmp_path / "model.pt")
    with pytest.raises(ModelError, match="unknown refiner config keys.*colour_magic"):
        rf.load_refiner(tmp_path)
    torch.save(dict(base, config=dict(TINY.to_dict(), channels=[4, 8, 8, 16])), tmp_path / "model.pt")
    with pytest.raises(ModelError, match="do not fit the config"):
        rf.load_refiner(tmp_path)
    torch.save(dict(base, config=dict(TINY.to_dict(), net_size=30)), tmp_path / "model.pt")
    with pytest.raises(ModelError, match="multiple of 8"):
        rf.load_refiner(tmp_path)
    torch.save(dict(base, config=TINY.to_dict(), version=99), tmp_path / "model.pt")
    with pytest.raises(ModelError, match="version 99"):
        rf.load_refiner(tmp_path)


def test_tampered_weights_fail_the_card_check(tmp_path):
    net = rf.build_network(TINY)
    rf.save_refiner(net, TINY, tmp_path, {"name": "test"})
    _randomise_heads(net)
    torch.save({"format": rf.FORMAT, "version": rf.VERSION, "config": TINY.to_dict(),
                "state_dict": net.state_dict()}, tmp_path / "model.pt")
    with pytest.raises(ModelError, match="does not match model.json"):
        rf.load_refiner(tmp_path)


def test_no_torch_raises_dependency_error(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(DependencyError, match="pip install torch"):
        rf._torch()


def test_bad_videos_and_options(tmp_path):
    with pytest.raises(VisemoError, match="video not found"):
        pr.prepare_video(tmp_path / "missing.mp4")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00" * 1000)
    with pytest.raises(FormatError, match="cannot read a video stream"):
        pr.prepare_video(junk)
    with pytest.raises(VisemoError, match="--holdout"):
        pr.prepare_video(junk, pr.PrepareOptions(holdout=0.0))
    with pytest.raises(VisemoError, match="--align"):
        pr.PrepareOptions(align="sideways").check()
    with pytest.raises(VisemoError, match="--reference"):
        pr.PrepareOptions(reference="middle").check()


def test_main_exits_2_with_one_line_on_bad_input(tmp_path, capsys):
    code = pr.main([str(tmp_path / "missing.mp4"), "-o", str(tmp_path / "out"), "--device", "cpu"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("visemo: error: video not found") and "\n" not in err
    assert not (tmp_path / "out" / "model.pt").exists()


# ---------------------------------------------------------------------- on a real portrait
@pytest.fixture(scope="module")
def renderer():
    pytest.importorskip("mediapipe")
    skimage_data = pytest.importorskip("skimage.data")
    from visemo.render2d.portrait import PortraitRenderer
    from visemo.render2d.rig import fit_portrait

    return PortraitRenderer(fit_portrait(skimage_data.astronaut(), 256))


def test_geometry_map_follows_the_jaw(renderer):
    from visemo import arkit

    rest = rf.v1_geometry(renderer, np.zeros(52, np.float32))
    w = np.zeros(52, np.float32)
    w[arkit.NAMES.index("jawOpen")] = 1.0
    geo = rf.v1_geometry(renderer, w)
    assert geo.shape == renderer.rig.image.shape[:2] + (5,)
    chin = renderer.rig.points[152]
    x, y = int(round(chin[0])), int(round(chin[1]))
    # backward flow: the pixel where the opened chin now is shows the photo from above (flow y < 0)
    jaw_motion = renderer.rig.basis[arkit.NAMES.index("jawOpen"), 152, 1]
    assert jaw_motion > 3
    below = int(round(y + jaw_motion))
    assert geo[below, x, 1] < -0.5 * jaw_motion
    assert geo[..., 2].sum() > rest[..., 2].sum() + 50       # the mouth opening grew (pixels)
    assert set(np.unique(geo[..., 2:])) <= {0.0, 1.0}
    x0, y0, x1, y1 = renderer.mesh.roi
    outside = np.ones(geo.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    assert not geo[outside].any()


def test_refine_frame_at_init_returns_the_v1_frame(renderer):
    from visemo import arkit

    w = np.zeros(52, np.float32)
    w[arkit.NAMES.index("jawOpen")] = 0.6
    w[arkit.NAMES.index("mouthSmileLeft")] = 0.5
    frame = renderer.frame(w)
    refiner = rf.PortraitRefiner(rf.build_network(rf.RefinerConfig(net_size=64, channels=(4, 8, 8, 8))),
                                 rf.RefinerConfig(net_size=64, channels=(4, 8, 8, 8)))
    out = refiner.refine_frame(renderer, w, frame)
    assert out is not frame and np.array_equal(out, frame)
    net = refiner.net
    _randomise_heads(net)
    changed = refiner.refine_frame(renderer, w, frame)
    x0, y0, side = rf.face_box(renderer.rig.points, renderer.rig.size, refiner.config.box_margin)
    inside = np.zeros(frame.shape[:2], bool)
    inside[y0:y0 + side, x0:x0 + side] = True
    assert not np.array_equal(changed[inside], frame[inside])
    assert np.array_equal(changed[~inside], frame[~inside])
