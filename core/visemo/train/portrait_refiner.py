"""Train the portrait refiner on talking-head videos (self-supervised; torch; never run at inference).

``visemo train portrait-refiner VIDEO [VIDEO ...] -o OUT_DIR`` (→ :func:`main`).

The only labels are the videos themselves: frame t is rebuilt from a
reference frame of the same video and the geometry at t.

1. **Fits** (pass 1, cached): every used frame → mediapipe's 478 landmarks
   (:func:`~visemo.face.landmarks.detect_faces`, steadied over ``steady``
   moved copies) → :func:`~visemo.emotion.photo.fit_expression` → 52 ARKit
   weights w_t (pose and scale are fitted out, so w_t does not depend on
   where the head is in the frame).  Frames without a face are skipped.
2. **Split**: the last ``holdout`` share of each video's used frames is
   held out — never trained on — and is what the final table measures.
3. **Reference**: the training frame with the least expression ("neutral",
   default), the first one ("first") or a given frame index; the portrait
   rig is fitted on it (:func:`~visemo.render2d.rig.fit_portrait`), exactly
   as for a photo at run time.
4. **Pairs** (pass 2, cached as npz): frame t is brought into the rig's
   working image — "crop": the reference's own square crop (tripod videos,
   renders), "face": a similarity fitted on rigid landmarks (forehead, nose
   bridge, temples, eye corners) onto the reference's, which takes out head
   translation, scale and roll — and cut to the face box.  Generator v1
   renders frame t from the reference with w_t; the pair is (v1's box, the
   reference's box, v1's geometry map, see :mod:`visemo.render2d.refine`)
   → the real frame's box.
5. **Training**: the network of :mod:`visemo.render2d.refine` (identity at
   start), Adam with a short warm-up and a cosine schedule, L1 + ``grad_weight`` × L1 of image
   gradients, on boxes area-resampled to ``train_size``; horizontal flips
   and a colour gain shared by input and target.  CUDA when present.
6. **Report**: L1 (8-bit levels), PSNR (dB) and SSIM of v1 and the refined
   frames against the real ones, on the face box at the working image's own
   resolution, for held-out frames (and a sample of training frames, to show
   the gap); also on the mouth box.  ``model.pt`` + ``model.json`` (card
   with these figures) go to OUT_DIR.

What the table measures: the same face, later in the same videos.  It says
nothing about faces the refiner never saw; head turns (yaw, pitch) are not
modelled by v1 and stay in the error.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

from ..errors import FormatError, ImageError, VisemoError
from ..render2d import refine as rf

__all__ = ["PrepareOptions", "TrainOptions", "PreparedVideo", "TrainReport", "prepare_video",
           "train_network", "evaluate", "train_portrait_refiner", "main", "add_arguments", "run"]

CACHE_VERSION = 1
RIGID_LANDMARKS = (10, 151, 9, 8, 168, 6, 197, 195, 5, 127, 356, 234, 454, 33, 133, 362, 263)
"""Landmarks that expressions move least (forehead, nose bridge, temples, eye corners): the "face" alignment."""

Log = Callable[[str], None]


@dataclass(frozen=True)
class PrepareOptions:
    """How a video becomes training pairs.

    ``size``: working image side (pixels, even), as ``--size`` of the
    renderer.  ``reference``: "neutral", "first" or a frame index (of the
    video's own frames).  ``align``: "face" or "crop" (module doc, step 4).
    ``holdout``: share of used frames held out at the end (0..0.9).
    ``stride``: use every stride-th frame; ``max_frames``: at most this many
    (0: all).  ``steady``: moved copies per landmark detection (0: one plain
    detection).  ``box_margin``: the face box margin (share of its side).
    """

    size: int = 512
    reference: str | int = "neutral"
    align: str = "face"
    holdout: float = 0.2
    stride: int = 1
    max_frames: int = 0
    steady: int = 4
    box_margin: float = rf.RefinerConfig.box_margin

    def check(self) -> None:
        """Raise VisemoError for values that cannot work."""
        if int(self.size) != self.size or self.size < 64 or self.size % 2:
            raise VisemoError(f"--size must be an even number of pixels, at least 64 (got {self.size})")
        if self.align not in ("face", "crop"):
            raise VisemoError(f"--align must be face or crop (got {self.align!r})")
        if not 0.0 < self.holdout < 0.9:
            raise VisemoError(f"--holdout must be between 0 and 0.9 (got {self.holdout}); "
                              "some frames must be held out to measure the refiner")
        if self.stride < 1 or self.max_frames < 0 or self.steady < 0:
            raise VisemoError("--stride must be >= 1, --max-frames and --steady >= 0")
        if not (isinstance(self.reference, int) or self.reference in ("neutral", "first")):
            raise VisemoError(f"--reference must be neutral, first or a frame index (got {self.reference!r})")


@dataclass(frozen=True)
class TrainOptions:
    """Training settings: ``steps`` (Adam steps), ``max_minutes`` (stop earlier; 0: no limit),
    ``batch``, ``lr`` (peak learning rate), ``train_size`` (pixels the boxes are resampled
    to), ``grad_weight`` (image-gradient L1 weight), ``flip`` / ``colour`` augmentations,
    ``seed``, ``device`` ("auto", "cpu", "cuda")."""

    steps: int = 800
    max_minutes: float = 0.0
    batch: int = 4
    lr: float = 2e-3
    train_size: int = 256
    grad_weight: float = 0.5
    flip: bool = True
    colour: float = 0.08
    seed: int = 0
    device: str = "auto"


@dataclass
class PreparedVideo:
    """One video's training pairs on its face box (S = box side, working-image pixels).

    ``name``: file name; ``frames`` [T]: source frame index of each pair;
    ``heldout`` bool [T]; ``reference_index``: the source frame the rig was
    fitted on; ``box`` (x0, y0, side) in the working image; ``mouth``
    (x0, y0, x1, y1) in box pixels.  ``reference`` uint8 [S, S, 3],
    ``v1``/``target`` uint8 [T, S, S, 3], ``geometry`` float16 [T, S, S, 5]
    (grid units, :func:`visemo.render2d.refine.crop_geometry`), ``weights``
    float32 [T, 52] (what v1 was driven with).  ``fps`` of the video;
    ``skipped``: frames without a face.
    """

    name: str
    fps: float
    frames: np.ndarray
    heldout: np.ndarray
    reference_index: int
    box: tuple[int, int, int]
    mouth: tuple[int, int, int, int]
    reference: np.ndarray
    v1: np.ndarray
    target: np.ndarray
    geometry: np.ndarray
    weights: np.ndarray
    skipped: int = 0

    @property
    def train_count(self) -> int:
        return int((~self.heldout).sum())

    @property
    def heldout_count(self) -> int:
        return int(self.heldout.sum())


@dataclass
class TrainReport:
    """What :func:`train_portrait_refiner` did: where the model went, the figures, the timings."""

    out_dir: Path
    table: str
    metrics: dict
    steps: int
    seconds: float
    parameters: int
    videos: list[dict] = field(default_factory=list)


# ---------------------------------------------------------------------- video reading
def read_frames(path: str | os.PathLike) -> tuple[float, Iterator[np.ndarray]]:
    """(fps, iterator of RGB uint8 frames [H, W, 3]) of a video file (PyAV)."""
    from ..render2d.video import require_av

    av = require_av()
    path = Path(path)
    if not path.is_file():
        raise VisemoError(f"video not found: {path}; pass existing video files")
    try:
        container = av.open(str(path))
        stream = container.streams.video[0]
    except (av.error.FFmpegError, IndexError) as e:
        raise FormatError(f"cannot read a video stream from {path} ({e}); "
                          "pass an mp4/mov/mkv file that ffmpeg can decode") from None
    fps = float(stream.average_rate or stream.guessed_rate or 30)

    def frames() -> Iterator[np.ndarray]:
        try:
            for frame in container.decode(stream):
                yield frame.to_ndarray(format="rgb24")
        except av.error.FFmpegError as e:
            raise FormatError(f"{path} is damaged ({e}); re-encode it or leave it out") from None
        finally:
            container.close()

    return fps, frames()


def _used(index: int, count: int, opts: PrepareOptions) -> bool:
    return index % opts.stride == 0 and (opts.max_frames == 0 or count < opts.max_frames)


# ---------------------------------------------------------------------- pass 1: fits
def fit_video(path: Path, opts: PrepareOptions, cache: Path | None, log: Log) -> dict:
    """Landmarks and fitted weights of every used frame: {"frames", "points" [T,478,3], "weights" [T,52], "fps"}."""
    from ..emotion.photo import fit_expression
    from ..face.landmarks import detect_faces, steady_landmarks

    key = _key("fits", path, opts.stride, opts.max_frames, opts.steady)
    file = cache / f"{path.stem}-fits-{key}.npz" if cache else None
    if file and file.is_file():
        z = np.load(file)
        return {k: z[k] for k in z.files} | {"fps": float(z["fps"])}
    fps, frames = read_frames(path)
    idx, pts, ws = [], [], []
    count = seen = 0
    t0 = time.time()
    for i, rgb in enumerate(frames):
        if not _used(i, count, opts):
            continue
        count += 1
        faces = detect_faces(rgb)
        if faces:
            face = steady_landmarks(rgb, faces[0], opts.steady) if opts.steady else faces[0]
            w, _ = fit_expression(face)
            idx.append(i)
            pts.append(face.points.astype(np.float32))
            ws.append(w)
        seen += 1
        if seen % 50 == 0:
            log(f"  {path.name}: fitted {seen} frames ({time.time() - t0:.0f} s)")
    if not idx:
        raise ImageError(f"no face found in any frame of {path}; use a video of one face looking at the camera")
    out = {"frames": np.array(idx), "points": np.array(pts), "weights": np.array(ws, np.float32),
           "skipped": np.array(count - len(idx)), "fps": np.array(fps)}
    if file:
        _save_npz(file, out)
    return out | {"fps": fps}


# ---------------------------------------------------------------------- pass 2: pairs
def prepare_video(path: str | os.PathLike, opts: PrepareOptions = PrepareOptions(), *,
                  cache: str | os.PathLike | None = None, weights: np.ndarray | None = None,
                  log: Log = print) -> PreparedVideo:
    """Training pairs of one video (see the module doc, steps 1-4), from ``cache`` when there.

    ``weights``: float32 [N, 52] per *source* frame to drive v1 with instead
    of the fitted weights (e.g. the known weights of a rendered test video;
    the fits still choose the reference and align the frames).
    """
    from ..render2d.portrait import PortraitRenderer
    from ..render2d.rig import fit_portrait

    opts.check()
    path = Path(path)
    if not path.is_file():
        raise VisemoError(f"video not found: {path}; pass existing video files")
    cache = Path(cache) if cache is not None else None
    fits = fit_video(path, opts, cache, log)
    frames, points, fitted = fits["frames"], fits["points"], fits["weights"]
    drive = fitted if weights is None else _override(weights, frames, path)
    n = len(frames)
    split = min(max(int(math.floor(n * (1 - opts.holdout))), 1), n - 1) if n > 1 else 0
    if split < 1:
        raise VisemoError(f"{path.name}: only {n} frame(s) with a face; a video needs at least 2 "
                          "(some to train on, some held out)")
    ref_pos = _reference_position(opts.reference, frames, fitted, split, path)
    key = _key("pairs", path, opts, _renderer_source(),
               None if weights is None else np.asarray(weights, np.float32).tobytes())
    file = cache / f"{path.stem}-pairs-{key}.npz" if cache else None
    if file and file.is_file():
        return _load_prepared(file)

    ref_index = int(frames[ref_pos])
    log(f"  {path.name}: {n} frames with a face, reference frame {ref_index}, "
        f"{n - split} held out; rendering v1")
    rgb_ref = _frame_at(path, ref_index)
    rig = fit_portrait(rgb_ref, opts.size)
    renderer = PortraitRenderer(rig)
    box = rf.face_box(rig.points, rig.size, opts.box_margin)
    side = box[2]
    v1 = np.empty((n, side, side, 3), np.uint8)
    target = np.empty_like(v1)
    geometry = np.empty((n, side, side, len(rf.GEOMETRY_CHANNELS)), np.float16)
    pos_of = {int(f): k for k, f in enumerate(frames)}
    _, stream = read_frames(path)
    t0 = time.time()
    for i, rgb in enumerate(stream):
        k = pos_of.get(i)
        if k is None:
            continue
        m = _alignment(opts.align, rig, points[k])
        work = warp_to_working(rgb, m, opts.size)
        target[k] = rf.crop(work, box)
        v1[k] = rf.crop(renderer.frame(drive[k]), box)
        geometry[k] = rf.crop_geometry(rf.v1_geometry(renderer, drive[k]), box)
        if (k + 1) % 50 == 0:
            log(f"  {path.name}: {k + 1}/{n} pairs ({time.time() - t0:.0f} s)")
    heldout = np.arange(n) >= split
    prepared = PreparedVideo(
        name=path.name, fps=fits["fps"], frames=frames, heldout=heldout, reference_index=ref_index,
        box=box, mouth=_mouth_box(rig.points, box), reference=np.ascontiguousarray(rf.crop(rig.image, box)),
        v1=v1, target=target, geometry=geometry, weights=np.asarray(drive, np.float32),
        skipped=int(fits.get("skipped", 0)))
    if file:
        _save_prepared(file, prepared)
    return prepared


def _override(weights: np.ndarray, frames: np.ndarray, path: Path) -> np.ndarray:
    w = np.asarray(weights, np.float32)
    if w.ndim != 2 or w.shape[1] != 52 or len(w) <= int(frames.max()):
        raise VisemoError(f"{path.name}: weights must be [frames, 52] covering frame {int(frames.max())}, "
                          f"got {w.shape}")
    return w[frames]


def _reference_position(reference, frames: np.ndarray, fitted: np.ndarray, split: int, path: Path) -> int:
    """Position (into the used frames) of the reference; always a training frame."""
    if reference == "first":
        return 0
    if reference == "neutral":
        from .. import arkit

        gaze = np.array([name.startswith("eyeLook") for name in arkit.NAMES])
        return int(np.argmin(np.abs(fitted[:split][:, ~gaze]).sum(axis=1)))
    hits = np.flatnonzero(frames == int(reference))
    if not len(hits):
        raise VisemoError(f"{path.name}: frame {reference} has no face or is not used "
                          "(see --stride/--max-frames); pick another --reference")
    if hits[0] >= split:
        raise VisemoError(f"{path.name}: reference frame {reference} is in the held-out part "
                          f"(from frame {int(frames[split])} on); pick an earlier one")
    return int(hits[0])


def _frame_at(path: Path, index: int) -> np.ndarray:
    _, stream = read_frames(path)
    for i, rgb in enumerate(stream):
        if i == index:
            stream.close()
            return rgb
    raise FormatError(f"{path.name}: frame {index} could not be decoded again; re-encode the video")


def _similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """2×3 least-squares similarity (Umeyama) taking points ``src`` [K, 2] onto ``dst``."""
    mu_s, mu_d = src.mean(0), dst.mean(0)
    a, b = src - mu_s, dst - mu_d
    u, s, vt = np.linalg.svd(b.T @ a / len(src))
    d = np.sign(np.linalg.det(u @ vt))
    rot = u @ np.diag([1.0, d]) @ vt
    scale = (s * [1.0, d]).sum() / a.var(0).sum()
    m = np.zeros((2, 3))
    m[:, :2] = scale * rot
    m[:, 2] = mu_d - m[:, :2] @ mu_s
    return m


def _alignment(mode: str, rig, points: np.ndarray) -> np.ndarray:
    """2×3 map from a frame's pixels to the working image's (module doc, step 4)."""
    if mode == "face":
        idx = list(RIGID_LANDMARKS)
        return _similarity(points[idx, :2].astype(np.float64), rig.points[idx, :2])
    x0, y0, _, factor = rig.crop
    return np.array([[factor, 0, -x0 * factor], [0, factor, -y0 * factor]], np.float64)


def warp_to_working(rgb: np.ndarray, m: np.ndarray, size: int) -> np.ndarray:
    """``rgb`` mapped by the 2×3 ``m`` into a ``size``² image (area-filtered first when it shrinks)."""
    import cv2

    scale = math.sqrt(abs(np.linalg.det(m[:, :2])))
    m = np.array(m, np.float64)
    if scale < 1.0:
        h, w = rgb.shape[:2]
        sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
        rgb = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA)
        m[:, 0] *= w / sw
        m[:, 1] *= h / sh
    return cv2.warpAffine(rgb, m, (size, size), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)


def _mouth_box(points: np.ndarray, box: tuple[int, int, int]) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) in box pixels around the lips, with room for the jaw to open."""
    from ..render2d import topology as topo

    lips = points[list(topo.LIPS_UPPER_OUTER + topo.LIPS_LOWER_OUTER), :2] - np.array(box[:2])
    (x0, y0), (x1, y1) = lips.min(0), lips.max(0)
    w = x1 - x0
    side = box[2]
    return (int(max(0, x0 - 0.2 * w)), int(max(0, y0 - 0.25 * w)),
            int(min(side, x1 + 0.2 * w)), int(min(side, y1 + 0.6 * w)))


# ---------------------------------------------------------------------- cache files
def _key(*parts) -> str:
    h = hashlib.sha256(str(CACHE_VERSION).encode())
    for p in parts:
        if isinstance(p, Path):
            st = p.stat()
            p = f"{p.resolve()}|{st.st_size}|{st.st_mtime_ns}"
        h.update(p if isinstance(p, bytes) else repr(p).encode())
    return h.hexdigest()[:12]


def _renderer_source() -> bytes:
    """The render2d sources' bytes: a changed generator v1 makes cached v1 renders stale."""
    folder = Path(rf.__file__).parent
    return b"".join(f.read_bytes() for f in sorted(folder.glob("*.py")) if f.name != "refine.py")


def _save_npz(file: Path, arrays: dict) -> None:
    from ..export.atomic import atomic_path

    with atomic_path(file) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)


def _save_prepared(file: Path, p: PreparedVideo) -> None:
    _save_npz(file, {"name": np.array(p.name), "fps": np.array(p.fps), "frames": p.frames,
                     "heldout": p.heldout, "reference_index": np.array(p.reference_index),
                     "box": np.array(p.box), "mouth": np.array(p.mouth), "reference": p.reference,
                     "v1": p.v1, "target": p.target, "geometry": p.geometry, "weights": p.weights,
                     "skipped": np.array(p.skipped)})


def _load_prepared(file: Path) -> PreparedVideo:
    z = np.load(file)
    return PreparedVideo(name=str(z["name"]), fps=float(z["fps"]), frames=z["frames"], heldout=z["heldout"],
                         reference_index=int(z["reference_index"]), box=tuple(int(v) for v in z["box"]),
                         mouth=tuple(int(v) for v in z["mouth"]), reference=z["reference"], v1=z["v1"],
                         target=z["target"], geometry=z["geometry"], weights=z["weights"],
                         skipped=int(z["skipped"]))


# ---------------------------------------------------------------------- training
def _resized(images: np.ndarray, size: int) -> np.ndarray:
    """[N, S, S, C] → [N, size, size, C] (area when shrinking), same dtype."""
    import cv2

    if images.shape[1] == size:
        return images
    interp = cv2.INTER_AREA if images.shape[1] > size else cv2.INTER_LINEAR
    work = np.float32 if images.dtype == np.float16 else images.dtype
    out = np.empty((len(images), size, size, images.shape[3]), images.dtype)
    for i, im in enumerate(images):
        for c in range(0, images.shape[3], 3):  # cv2.resize takes at most 4 channels
            part = cv2.resize(np.ascontiguousarray(im[..., c:c + 3], work), (size, size), interpolation=interp)
            out[i, ..., c:c + 3] = part.reshape(size, size, -1)
    return out


def training_arrays(videos: Sequence[PreparedVideo], size: int) -> dict[str, np.ndarray]:
    """All training (not held-out) pairs, resampled to ``size``²: uint8/float16 NHWC arrays + reference id."""
    v1, target, geometry, ref_id, refs = [], [], [], [], []
    for j, p in enumerate(videos):
        keep = ~p.heldout
        v1.append(_resized(p.v1[keep], size))
        target.append(_resized(p.target[keep], size))
        geometry.append(_resized(p.geometry[keep], size))
        ref_id.append(np.full(int(keep.sum()), j))
        refs.append(_resized(p.reference[None], size)[0])
    return {"v1": np.concatenate(v1), "target": np.concatenate(target), "geometry": np.concatenate(geometry),
            "ref_id": np.concatenate(ref_id), "references": np.array(refs)}


def _batch(data: dict, idx: np.ndarray, rng: np.random.Generator, opts: TrainOptions, device: str):
    """Tensors (v1, reference, geometry, target) for sample indices ``idx``, augmented."""
    import torch

    def t(a):
        return torch.from_numpy(np.ascontiguousarray(a)).to(device).permute(0, 3, 1, 2).float()

    v1, tgt = t(data["v1"][idx]) / 255.0, t(data["target"][idx]) / 255.0
    ref = t(data["references"][data["ref_id"][idx]]) / 255.0
    geo = t(data["geometry"][idx])
    if opts.flip:
        flip = torch.from_numpy(rng.random(len(idx)) < 0.5).to(device)
        if flip.any():
            v1[flip], ref[flip], tgt[flip], geo[flip] = (x[flip].flip(-1) for x in (v1, ref, tgt, geo))
            geo[flip, 0] = -geo[flip, 0]
    if opts.colour > 0:
        gain = torch.from_numpy(rng.uniform(1 - opts.colour, 1 + opts.colour, (len(idx), 3, 1, 1))).float().to(device)
        v1, ref, tgt = v1 * gain, ref * gain, tgt * gain
    return v1, ref, geo, tgt


def image_loss(out, target, grad_weight: float):
    """L1 + ``grad_weight`` × L1 of horizontal and vertical differences (both 0..1 images)."""
    loss = (out - target).abs().mean()
    if grad_weight > 0:
        for dim in (-1, -2):
            loss = loss + grad_weight * (out.diff(dim=dim) - target.diff(dim=dim)).abs().mean()
    return loss


def train_network(videos: Sequence[PreparedVideo], config: rf.RefinerConfig = rf.RefinerConfig(),
                  opts: TrainOptions = TrainOptions(), log: Log = print, net=None):
    """Train a refiner network on the training pairs of ``videos``; return (net, history).

    ``history``: {"steps", "seconds", "loss" (per logged step), "v1_loss"
    (the same batches' v1 loss), "device", "train_pairs"}.  Stops after
    ``opts.steps`` or ``opts.max_minutes``, whichever comes first; the
    learning rate warms up over the first 5 % of the steps, then follows a
    cosine down to 5 % over the progress towards that first limit.
    ``net``: continue from it.
    """
    import torch

    device = rf.pick_device(opts.device)
    torch.manual_seed(opts.seed)
    rng = np.random.default_rng(opts.seed)
    data = training_arrays(videos, opts.train_size)
    count = len(data["v1"])
    if count == 0:
        raise VisemoError("no training frames; give longer videos or a smaller --holdout")
    net = (net or rf.build_network(config)).to(device).train()
    if device == "cpu":
        net = net.to(memory_format=torch.channels_last)
    optim = torch.optim.Adam(net.parameters(), lr=opts.lr)
    warm = max(1, opts.steps // 20)  # linear warm-up: the zero heads' first steps overshoot otherwise
    limit_s = 60.0 * opts.max_minutes
    history = {"loss": [], "v1_loss": [], "device": device, "train_pairs": count}
    t0 = time.time()
    every = max(1, opts.steps // 20)
    run_loss = run_v1 = 0.0
    step = 0
    for step in range(1, opts.steps + 1):
        # cosine decay over the run's progress: steps done or time used, whichever is further
        progress = max(step / opts.steps, (time.time() - t0) / limit_s if limit_s else 0.0)
        lr_scale = min(1.0, step / warm) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0))))
        for group in optim.param_groups:
            group["lr"] = opts.lr * lr_scale
        idx = rng.integers(0, count, opts.batch)
        v1, ref, geo, tgt = _batch(data, idx, rng, opts, device)
        out, _ = net(v1, ref, geo)
        loss = image_loss(out, tgt, opts.grad_weight)
        optim.zero_grad(set_to_none=True)
        loss.backward()
        optim.step()
        run_loss += float(loss.detach())
        with torch.no_grad():
            run_v1 += float(image_loss(v1, tgt, opts.grad_weight))
        timed_out = bool(limit_s) and time.time() - t0 > limit_s
        if step % every == 0 or step == opts.steps or timed_out:
            n = every if step % every == 0 else step % every
            history["loss"].append((step, run_loss / n))
            history["v1_loss"].append((step, run_v1 / n))
            log(f"  step {step:5d}/{opts.steps}  loss {run_loss / n:.4f}  (v1 {run_v1 / n:.4f})  "
                f"{time.time() - t0:5.0f} s")
            run_loss = run_v1 = 0.0
        if timed_out:
            log(f"  stopped after {step} steps: --max-minutes {opts.max_minutes:g} reached")
            break
    history["steps"] = step
    history["seconds"] = time.time() - t0
    net = net.to(memory_format=torch.contiguous_format).eval()
    return net, history


# ---------------------------------------------------------------------- evaluation
def frame_metrics(pred: np.ndarray, target: np.ndarray) -> tuple[float, float, float]:
    """(L1 in 8-bit levels, PSNR dB, SSIM) of two RGB uint8 images."""
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    a, b = pred.astype(np.float64), target.astype(np.float64)
    l1 = float(np.abs(a - b).mean())
    mse = float(((a - b) ** 2).mean())
    psnr = 99.0 if mse == 0 else float(peak_signal_noise_ratio(target, pred, data_range=255))
    ssim = float(structural_similarity(target, pred, channel_axis=2, data_range=255))
    return l1, psnr, ssim


METHODS = ("reference", "v1", "refined")


def evaluate(refiner: rf.PortraitRefiner | None, videos: Sequence[PreparedVideo], split: str = "heldout",
             limit: int = 0, seed: int = 0) -> dict:
    """Mean metrics per method on ``split`` ("heldout" or "train") frames of ``videos``.

    Methods: "reference" (the reference frame unchanged: no motion at all),
    "v1", "refined" (when ``refiner``).  Each → {"face": (L1, PSNR, SSIM),
    "mouth": (L1, PSNR, SSIM), "frames": n}.  ``limit``: at most this many
    frames per video, spread evenly (0: all).
    """
    rows: dict[str, dict[str, list]] = {m: {"face": [], "mouth": []} for m in METHODS}
    for p in videos:
        pick = np.flatnonzero(p.heldout if split == "heldout" else ~p.heldout)
        if limit and len(pick) > limit:
            pick = pick[np.linspace(0, len(pick) - 1, limit).round().astype(int)]
        mx0, my0, mx1, my1 = p.mouth
        ref_t = refiner._tensor(p.reference) if refiner is not None else None
        for k in pick:
            outs = {"reference": p.reference, "v1": p.v1[k]}
            if refiner is not None:
                outs["refined"] = refiner._run(p.v1[k], ref_t, p.geometry[k].astype(np.float32))
            for name, img in outs.items():
                rows[name]["face"].append(frame_metrics(img, p.target[k]))
                rows[name]["mouth"].append(frame_metrics(img[my0:my1, mx0:mx1], p.target[k][my0:my1, mx0:mx1]))
    out = {}
    for name, r in rows.items():
        if r["face"]:
            out[name] = {"face": tuple(np.mean(r["face"], axis=0).tolist()),
                         "mouth": tuple(np.mean(r["mouth"], axis=0).tolist()), "frames": len(r["face"])}
    return out


def format_table(results: dict[str, dict]) -> str:
    """The figures as a plain-text table: one row per (split, method)."""
    head = (f"{'frames':<22}{'method':<11}{'n':>5}  {'L1 face':>8} {'PSNR face':>9} {'SSIM face':>9}  "
            f"{'L1 mouth':>8} {'PSNR mouth':>10} {'SSIM mouth':>10}")
    lines = [head, "-" * len(head)]
    for split, res in results.items():
        for name in METHODS:
            if name not in res:
                continue
            r = res[name]
            (l1, ps, ss), (ml1, mps, mss) = r["face"], r["mouth"]
            lines.append(f"{split:<22}{name:<11}{r['frames']:>5}  {l1:8.2f} {ps:9.2f} {ss:9.4f}  "
                         f"{ml1:8.2f} {mps:10.2f} {mss:10.4f}")
    return "\n".join(lines)


def example_sheet(refiner: rf.PortraitRefiner, videos: Sequence[PreparedVideo], count: int = 4) -> np.ndarray:
    """RGB uint8 image: held-out frames as rows of (v1, refined, real frame, |refined - real| x4)."""
    import cv2

    rows = []
    for p in videos:
        pick = np.flatnonzero(p.heldout)
        for k in pick[np.linspace(0, len(pick) - 1, max(1, count // len(videos))).round().astype(int)]:
            ref = refiner.refine(p.v1[k], p.reference, p.geometry[k].astype(np.float32))
            diff = np.clip(np.abs(ref.astype(int) - p.target[k].astype(int)) * 4, 0, 255).astype(np.uint8)
            row = np.concatenate([p.v1[k], ref, p.target[k], diff], axis=1)
            rows.append(cv2.resize(row, (4 * 256, 256), interpolation=cv2.INTER_AREA))
    return np.concatenate(rows, axis=0)


# ---------------------------------------------------------------------- the command
def train_portrait_refiner(videos: Sequence[str | os.PathLike], out_dir: str | os.PathLike, *,
                           prepare: PrepareOptions = PrepareOptions(), train: TrainOptions = TrainOptions(),
                           config: rf.RefinerConfig | None = None, cache: str | os.PathLike | None = None,
                           log: Log = print) -> TrainReport:
    """Prepare ``videos``, train, evaluate on held-out frames, write ``model.pt`` + ``model.json`` to ``out_dir``.

    Raises :class:`~visemo.errors.VisemoError` subclasses for unusable
    videos and settings, DependencyError without torch, mediapipe or av.
    """
    import cv2

    if not videos:
        raise VisemoError("give at least one training video")
    prepare.check()
    config = config or rf.RefinerConfig(box_margin=prepare.box_margin)
    out_dir = Path(out_dir)
    cache = Path(cache) if cache is not None else out_dir / "cache"
    rf.pick_device(train.device)  # fail on --device cuda without a GPU before any work
    t0 = time.time()
    log(f"preparing {len(videos)} video(s) (landmarks, fits, v1 renders; cached in {cache})")
    prepared = [prepare_video(v, prepare, cache=cache, log=log) for v in videos]
    prep_s = time.time() - t0
    n_train = sum(p.train_count for p in prepared)
    n_held = sum(p.heldout_count for p in prepared)
    log(f"{n_train} training pairs, {n_held} held out ({prep_s:.0f} s); training on {rf.pick_device(train.device)}")
    net, hist = train_network(prepared, config, train, log)
    refiner = rf.PortraitRefiner(net, config, hist["device"])
    log("evaluating")
    results = {"held-out": evaluate(refiner, prepared, "heldout"),
               "train (sample)": evaluate(refiner, prepared, "train", limit=max(1, 48 // len(prepared)))}
    table = format_table(results)
    params = rf.parameter_count(net)
    video_rows = [{"file": p.name, "fps": p.fps, "pairs": len(p.frames), "train": p.train_count,
                   "held_out": p.heldout_count, "reference_frame": p.reference_index,
                   "frames_without_face": p.skipped, "face_box": list(p.box)} for p in prepared]
    card = _card(config, params, prepare, train, hist, video_rows, results)
    weights = rf.save_refiner(net, config, out_dir, card)
    sheet = example_sheet(refiner, prepared)
    cv2.imwrite(str(out_dir / "heldout_examples.png"), sheet[:, :, ::-1])
    log(f"wrote {weights} and {out_dir / rf.CARD_FILE} ({time.time() - t0:.0f} s in all)")
    return TrainReport(out_dir=out_dir, table=table, metrics=results, steps=hist["steps"],
                       seconds=hist["seconds"], parameters=params, videos=video_rows)


def _card(config, params, prepare, train, hist, videos, results) -> dict:
    from .. import __version__

    def fig(res):
        return {name: {"frames": r["frames"],
                       "face": dict(zip(("l1_8bit", "psnr_db", "ssim"), np.round(r["face"], 4).tolist())),
                       "mouth": dict(zip(("l1_8bit", "psnr_db", "ssim"), np.round(r["mouth"], 4).tolist()))}
                for name, r in res.items()}

    return {
        "name": "portrait_refiner", "format": rf.FORMAT, "version": rf.VERSION, "visemo": __version__,
        "licence": "GPL-3.0-or-later",
        "description": "Refines generator v1's talking-portrait frames on the face box: a flow correction "
                       "applied to v1's frame plus a masked residual RGB (coarse to fine, after HEF, seed 000).",
        "inputs": {"v1": "RGB uint8 [S, S, 3], generator v1's frame on the face box",
                   "reference": "RGB uint8 [S, S, 3], the working image (the photo) on the face box",
                   "geometry": {"shape": "float32 [S, S, 5]", "channels": list(rf.GEOMETRY_CHANNELS),
                                "flow_units": "grid units (2 / S per pixel), backward: pixel p shows the photo at p + flow"}},
        "outputs": {"refined": "RGB uint8 [S, S, 3] on the face box"},
        "config": config.to_dict(), "parameters": params,
        "training": {"self_supervised": "frame t rebuilt from a reference frame of the same video and the ARKit "
                                        "weights fitted to frame t (mediapipe + fit_expression); no other labels",
                     "videos": videos, "prepare": {k: getattr(prepare, k) for k in prepare.__dataclass_fields__},
                     "options": {k: getattr(train, k) for k in train.__dataclass_fields__},
                     "steps": hist["steps"], "seconds": round(hist["seconds"], 1), "device": hist["device"],
                     "final_loss": hist["loss"][-1][1] if hist["loss"] else None},
        "figures": {"metric_notes": "face box at the working image's resolution; L1 in 8-bit levels; "
                                    "held-out = last frames of each video, never trained on",
                    **{split: fig(res) for split, res in results.items()}},
    }


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The ``visemo train portrait-refiner`` arguments."""
    d, t = PrepareOptions(), TrainOptions()
    p.add_argument("videos", nargs="+", metavar="VIDEO", help="talking-head videos of one face each")
    p.add_argument("-o", "--output", required=True, metavar="OUT_DIR", help="folder for model.pt and model.json")
    p.add_argument("--size", type=int, default=d.size, help="working image side in pixels (as the renderer's --size)")
    p.add_argument("--steps", type=int, default=t.steps, help="training steps")
    p.add_argument("--max-minutes", type=float, default=t.max_minutes, help="stop training after this long (0: no limit)")
    p.add_argument("--batch", type=int, default=t.batch)
    p.add_argument("--lr", type=float, default=t.lr)
    p.add_argument("--train-size", type=int, default=t.train_size, help="pixels the face box is resampled to for training")
    p.add_argument("--net-size", type=int, default=rf.RefinerConfig.net_size, help="pixels the network works at")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--holdout", type=float, default=d.holdout, help="share of each video's last frames held out")
    p.add_argument("--reference", default="neutral", help="reference frame: neutral, first or a frame index")
    p.add_argument("--align", default=d.align, choices=("face", "crop"),
                   help="face: follow the head (similarity); crop: fixed crop (tripod or rendered videos)")
    p.add_argument("--stride", type=int, default=d.stride, help="use every N-th frame")
    p.add_argument("--max-frames", type=int, default=d.max_frames, help="at most this many frames per video (0: all)")
    p.add_argument("--steady", type=int, default=d.steady, help="moved copies per landmark detection")
    p.add_argument("--cache", default=None, help="folder for prepared pairs (default OUT_DIR/cache)")
    p.add_argument("--seed", type=int, default=t.seed)


def run(args: argparse.Namespace, log: Log = print) -> TrainReport:
    """Run the command for parsed ``args`` (raises VisemoError on bad input)."""
    ref = args.reference
    reference = int(ref) if isinstance(ref, str) and ref.lstrip("-").isdigit() else ref
    prepare = PrepareOptions(size=args.size, reference=reference, align=args.align, holdout=args.holdout,
                             stride=args.stride, max_frames=args.max_frames, steady=args.steady)
    if args.steps < 1 or args.batch < 1 or not args.lr > 0 or args.train_size < 32:
        raise VisemoError("--steps and --batch must be >= 1, --lr > 0, --train-size >= 32")
    train = TrainOptions(steps=args.steps, max_minutes=args.max_minutes, batch=args.batch, lr=args.lr,
                         train_size=args.train_size, seed=args.seed, device=args.device)
    config = rf.RefinerConfig(net_size=args.net_size, box_margin=prepare.box_margin)
    report = train_portrait_refiner(args.videos, args.output, prepare=prepare, train=train, config=config,
                                    cache=args.cache, log=log)
    log(f"\nportrait refiner: {report.parameters:,} parameters, {report.steps} steps in {report.seconds:.0f} s\n")
    log(report.table)
    return report


def main(argv: list[str] | None = None) -> int:
    """``visemo train portrait-refiner ...``: exit 0 on success, 2 on bad input (one line on stderr)."""
    p = argparse.ArgumentParser(prog="visemo train portrait-refiner",
                                description="Train the talking-portrait refiner on videos of a face (self-supervised).")
    add_arguments(p)
    args = p.parse_args(argv)
    try:
        run(args)
    except VisemoError as e:
        print(f"visemo: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
