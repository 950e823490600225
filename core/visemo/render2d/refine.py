"""Optional learned refinement of generator v1's frames (torch; never required).

Generator v1 (:mod:`~visemo.render2d.portrait`) warps one photo: it cannot
show what the photo does not (the inside of an opening mouth, shading that
changes as skin folds) and its warp is only as right as the rig's basis.  A
*portrait refiner*, trained by :mod:`visemo.train.portrait_refiner` on
talking-head videos (self-supervised: frame t rebuilt from a reference frame
and the geometry at t), corrects v1's frame on a square **face box**, in the
spirit of the HEF generator of seed 000 (Xu et al.): flow and RGB are
predicted coarse to fine, each level adding to the upsampled one before it
(their eqs. 9, 10), and skip features are warped by the flow so far.

Inputs (all cropped to the face box, see :func:`face_box`):

- ``v1``: generator v1's frame, RGB;
- ``reference``: the working image (the photo v1 warps), RGB;
- ``geometry`` float32 [S, S, 5] (:data:`GEOMETRY_CHANNELS`, from
  :func:`v1_geometry` + :func:`crop_geometry`): v1's backward flow
  (where each pixel was taken from in the photo, in grid units: 2 / box side
  per pixel) — it says where v1 stretched, squeezed or moved skin, the places
  shading should change — and three masks of what v1 *invented* rather than
  warped: the painted mouth opening, the closing lid sheets, the eyeballs.
  All of it is known at run time from the rig and the frame's 52 weights.

Output: ``v1`` resampled by a predicted flow correction, plus a masked
residual RGB; both fade to zero over ``taper`` of the box at its edges, so the
refined box pastes into the frame without a seam.  With the last layer of
every head at zero (as a new network starts) the output *is* v1's frame.

Run time: ``refiner = load_refiner(folder)`` then, per frame,
``frame = refiner.refine_frame(renderer, weights, frame, replace)`` (CUDA when
present, else CPU).  Without torch, :func:`load_refiner` raises
:class:`~visemo.errors.DependencyError`.

File: ``model.pt`` = ``{"format": FORMAT, "version": VERSION, "config":
{...}, "state_dict": {...}}`` (loaded with ``weights_only=True``), next to a
``model.json`` card whose ``sha256`` is checked when present.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DependencyError, ModelError

__all__ = ["RefinerConfig", "PortraitRefiner", "load_refiner", "save_refiner", "build_network",
           "face_box", "v1_geometry", "crop_geometry", "GEOMETRY_CHANNELS", "FORMAT", "VERSION"]

FORMAT = "visemo.portrait_refiner"
VERSION = 1
WEIGHTS_FILE = "model.pt"
CARD_FILE = "model.json"

GEOMETRY_CHANNELS = ("flow_x", "flow_y", "mouth_hole", "closing_lid", "eyeball")
"""The geometry map's channels: v1's backward flow (grid units) and masks (0/1) of its painted parts."""

TORCH_HINT = "run `pip install torch==2.13.0` (CPU) or a CUDA build of torch"


@dataclass(frozen=True)
class RefinerConfig:
    """Everything that fixes a refiner network's shape and its crop (stored in ``model.pt``).

    ``net_size``: side (pixels) of the square the network works at; the box
    is area-resampled to it and the corrections upsampled back.
    ``channels``: feature channels at ``net_size``, /2, /4, /8.
    ``box_margin``: the face box is the landmarks' box grown by this share
    of its side on every side.  ``taper``: share of the box side over which
    corrections fade to zero at its edges.  ``flow_gain``: v1's flow (grid
    units) is multiplied by this as an input.  ``flow_scale``: a flow head's
    output times this is flow in grid units (small steps at the start).
    """

    net_size: int = 128
    channels: tuple[int, int, int, int] = (16, 32, 64, 96)
    box_margin: float = 0.12
    taper: float = 0.06
    flow_gain: float = 5.0
    flow_scale: float = 0.05

    def __post_init__(self) -> None:
        if int(self.net_size) != self.net_size or self.net_size < 32 or self.net_size % 8:
            raise ModelError(f"refiner net_size must be a multiple of 8, at least 32 (got {self.net_size!r}); "
                             "retrain the refiner with a valid --net-size")
        ch = tuple(self.channels)
        if len(ch) != 4 or not all(isinstance(c, int) and c > 0 for c in ch):
            raise ModelError(f"refiner channels must be 4 positive integers (got {self.channels!r}); "
                             "retrain the refiner")
        object.__setattr__(self, "channels", ch)
        for name in ("box_margin", "taper", "flow_gain", "flow_scale"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not np.isfinite(v) or v < 0:
                raise ModelError(f"refiner {name} must be a finite number >= 0 (got {v!r}); retrain the refiner")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (lists for tuples)."""
        d = asdict(self)
        d["channels"] = list(self.channels)
        return d

    @classmethod
    def from_dict(cls, d: Any) -> "RefinerConfig":
        """The config from ``d``; :class:`ModelError` on unknown keys or bad values."""
        if not isinstance(d, dict):
            raise ModelError(f"refiner config must be a dict, got {type(d).__name__}; retrain the refiner")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ModelError(f"unknown refiner config keys {unknown} (known: {sorted(known)}); "
                             "the model was made by another visemo version: retrain it or update visemo")
        d = dict(d)
        if "channels" in d and isinstance(d["channels"], list):
            d["channels"] = tuple(d["channels"])
        return cls(**d)


# ---------------------------------------------------------------------- crops and geometry
def face_box(points: np.ndarray, image_size: tuple[int, int], margin: float) -> tuple[int, int, int]:
    """The square face box (x0, y0, side) in whole pixels of the working image.

    ``points`` [478, 2+] landmarks (pixels); ``image_size`` (width, height).
    The box around the 468 mesh points, its larger side grown by ``margin``
    on each side, centred on them, moved (never shrunk below the image's
    smaller side) to lie inside the image.
    """
    p = np.asarray(points, np.float64)[:468, :2]
    lo, hi = p.min(axis=0), p.max(axis=0)
    w, h = int(image_size[0]), int(image_size[1])
    side = int(round(float((hi - lo).max()) * (1 + 2 * margin)))
    side = max(8, min(side + side % 2, w - w % 2, h - h % 2))
    cx, cy = (lo + hi) / 2
    x0 = int(np.clip(round(cx - side / 2), 0, w - side))
    y0 = int(np.clip(round(cy - side / 2), 0, h - side))
    return x0, y0, side


def crop(image: np.ndarray, box: tuple[int, int, int]) -> np.ndarray:
    """``image``'s face box (a view; copy it before writing)."""
    x0, y0, side = box
    return image[y0:y0 + side, x0:x0 + side]


def v1_geometry(renderer, weights: np.ndarray, replace: float = 0.0) -> np.ndarray:
    """Generator v1's geometry for one frame: float32 [H, W, 5] over the working image.

    ``renderer``: a :class:`~visemo.render2d.portrait.PortraitRenderer`;
    ``weights`` [52] ARKit weights (0..1) and ``replace`` as given to its
    ``frame`` (how much the frame's emotion replaces the photo's own).  Channels
    (:data:`GEOMETRY_CHANNELS`): backward flow x, y in *pixels* (the pixel at
    p shows the photo at p + flow; 0 where the mesh does not reach), then
    1.0 where v1 paints the mouth opening, draws a closing lid sheet, or
    shows an eyeball.  Re-runs v1's mesh and rasteriser (no pixels sampled
    twice; ≈ 10-20 ms at 512²).
    """
    from .mesh import EYE, HOLE, LID

    mesh = renderer.mesh
    pos, src = mesh.frame(renderer.rig.displacement(weights, replace))
    res = renderer.warp.warp(pos, src, mesh.layer, mesh.triangles)
    x0, y0, x1, y1 = mesh.roi
    rh, rw = y1 - y0, x1 - x0
    tri = res.triangle
    hit = tri >= 0
    safe = np.where(hit, tri, 0)
    layer = mesh.layer[mesh.triangles[safe, 0]].astype(np.float32)
    gx, gy = np.meshgrid(np.arange(rw, dtype=np.float32), np.arange(rh, dtype=np.float32))
    kind = mesh.kind[safe]
    h, w = renderer.rig.image.shape[:2]
    out = np.zeros((h, w, len(GEOMETRY_CHANNELS)), np.float32)
    roi = out[y0:y1, x0:x1]
    roi[..., 0] = np.where(hit, res.map_x - gx, 0.0)
    roi[..., 1] = np.where(hit, res.map_y - layer * rh - gy, 0.0)
    roi[..., 2] = hit & (kind == HOLE)
    roi[..., 3] = hit & (kind == LID)
    roi[..., 4] = hit & (kind == EYE)
    return out


def crop_geometry(geometry: np.ndarray, box: tuple[int, int, int]) -> np.ndarray:
    """:func:`v1_geometry`'s face box, flow converted to grid units (2 / side per pixel): float32 [S, S, 5]."""
    g = crop(geometry, box).astype(np.float32, copy=True)
    g[..., :2] *= 2.0 / box[2]
    return g


# ---------------------------------------------------------------------- the network
def _torch():
    try:
        import torch
    except ImportError as e:
        raise DependencyError(f"the portrait refiner needs torch; {TORCH_HINT} ({e})") from None
    return torch


@functools.lru_cache(maxsize=1)
def _network_class():
    """The nn.Module class (defined on first use, so importing this module needs no torch)."""
    torch = _torch()
    from torch import nn
    import torch.nn.functional as F

    def conv(cin: int, cout: int, stride: int = 1) -> nn.Module:
        return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=stride, padding=1), nn.LeakyReLU(0.2, inplace=True))

    def head(cin: int, cout: int) -> nn.Conv2d:
        """An output layer starting at zero (so a new network returns v1 unchanged)."""
        layer = nn.Conv2d(cin, cout, 3, padding=1)
        nn.init.zeros_(layer.weight)
        nn.init.zeros_(layer.bias)
        return layer

    def up(x, size):
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False)

    def base_grid(n: int, h: int, w: int, like):
        ys = (torch.arange(h, dtype=like.dtype, device=like.device) + 0.5) * (2.0 / h) - 1.0
        xs = (torch.arange(w, dtype=like.dtype, device=like.device) + 0.5) * (2.0 / w) - 1.0
        gy, gx = torch.meshgrid(ys, xs, indexing="ij")
        return torch.stack([gx, gy], dim=-1).expand(n, h, w, 2)

    def warp(x, flow):
        """Sample ``x`` [N, C, H, W] at pixel + ``flow`` [N, 2, H, W] (grid units)."""
        n, _, h, w = x.shape
        grid = base_grid(n, h, w, x) + flow.permute(0, 2, 3, 1)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)

    def edge_taper(h: int, w: int, share: float, like):
        """[1, 1, H, W]: 1 inside, smoothly down to 0 on the border pixels, over ``share`` of the side."""
        if share <= 0:
            return torch.ones(1, 1, h, w, dtype=like.dtype, device=like.device)

        def ramp(n):
            i = torch.arange(n, dtype=like.dtype, device=like.device)
            d = torch.minimum(i, n - 1 - i)  # 0 on the outermost pixels: they stay v1's exactly
            t = torch.clamp(d / (share * n), 0.0, 1.0)
            return t * t * (3 - 2 * t)

        return (ramp(h)[:, None] * ramp(w)[None, :])[None, None]

    class RefinerNet(nn.Module):
        """U-Net with HEF-style coarse-to-fine flow + RGB heads (see the module doc)."""

        def __init__(self, config: RefinerConfig) -> None:
            super().__init__()
            self.config = config
            c0, c1, c2, c3 = config.channels
            cin = 3 + 3 + len(GEOMETRY_CHANNELS)
            # encoder: one conv at full size (it is the costly level), then down + conv per level
            self.enc0 = conv(cin, c0)
            self.enc1 = nn.Sequential(conv(c0, c1, 2), conv(c1, c1))
            self.enc2 = nn.Sequential(conv(c1, c2, 2), conv(c2, c2))
            self.enc3 = nn.Sequential(conv(c2, c3, 2), conv(c3, c3))
            # decoder: one conv per level on [upsampled features, skip features warped by the flow so far]
            self.dec2 = conv(c3 + c2, c2)
            self.dec1 = conv(c2 + c1, c1)
            self.dec0 = conv(c1 + c0, c0)
            self.flow2, self.flow1, self.flow0 = head(c2, 2), head(c1, 2), head(c0, 2)
            self.rgb2, self.rgb1, self.rgb0 = head(c2, 3), head(c1, 3), head(c0, 3)
            self.mask0 = head(c0, 1)

        def forward(self, v1, reference, geometry):
            """``v1``, ``reference`` float [N, 3, H, W] in 0..1; ``geometry`` [N, 5, H, W] (grid units).

            Returns (refined [N, 3, H, W], aux) where aux holds the final
            ``flow`` [N, 2, H, W] (grid units), ``mask`` and ``residual`` at
            the network's size.  H, W: any size (the box); the network runs
            at ``config.net_size``.
            """
            cfg = self.config
            n, _, h, w = v1.shape
            s = cfg.net_size
            geo = torch.cat([geometry[:, :2] * cfg.flow_gain, geometry[:, 2:]], dim=1)
            x = torch.cat([v1, reference, geo], dim=1)
            if (h, w) != (s, s):
                x = F.interpolate(x, size=(s, s), mode="area" if h >= s else "bilinear",
                                  **({} if h >= s else {"align_corners": False}))
            e0 = self.enc0(x)
            e1 = self.enc1(e0)
            e2 = self.enc2(e1)
            e3 = self.enc3(e2)
            d2 = self.dec2(torch.cat([up(e3, e2.shape[-2:]), e2], 1))
            flow = self.flow2(d2) * cfg.flow_scale
            rgb = self.rgb2(d2)
            d1 = self.dec1(torch.cat([up(d2, e1.shape[-2:]), warp(e1, up(flow, e1.shape[-2:]))], 1))
            flow = self.flow1(d1) * cfg.flow_scale + up(flow, e1.shape[-2:])
            rgb = self.rgb1(d1) + up(rgb, e1.shape[-2:])
            d0 = self.dec0(torch.cat([up(d1, e0.shape[-2:]), warp(e0, up(flow, e0.shape[-2:]))], 1))
            flow = self.flow0(d0) * cfg.flow_scale + up(flow, e0.shape[-2:])
            rgb = self.rgb0(d0) + up(rgb, e0.shape[-2:])
            mask = torch.sigmoid(self.mask0(d0))
            taper = edge_taper(h, w, cfg.taper, v1)
            full_flow = up(flow, (h, w)) * taper
            residual = up(mask * rgb, (h, w)) * taper
            out = warp(v1, full_flow) + residual
            return out, {"flow": full_flow, "mask": mask, "residual": rgb}

    return RefinerNet


def build_network(config: RefinerConfig | None = None):
    """A new refiner network (torch ``nn.Module``; heads at zero, so it returns v1 unchanged)."""
    return _network_class()(config or RefinerConfig())


def parameter_count(net) -> int:
    """Number of trainable parameters of ``net``."""
    return int(sum(p.numel() for p in net.parameters() if p.requires_grad))


def pick_device(device: str = "auto") -> str:
    """"cuda" when ``device`` is "auto" and CUDA is present, else "cpu"; "cuda"/"cpu" as asked."""
    torch = _torch()
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device not in ("cpu", "cuda"):
        raise ModelError(f"device must be auto, cpu or cuda (got {device!r})")
    if device == "cuda" and not torch.cuda.is_available():
        raise DependencyError("--device cuda asked for, but torch sees no CUDA GPU; use --device cpu or auto")
    return device


# ---------------------------------------------------------------------- run time
class PortraitRefiner:
    """A loaded refiner: :meth:`refine` on face-box crops, :meth:`refine_frame` on whole frames."""

    def __init__(self, net, config: RefinerConfig, device: str = "cpu", card: dict | None = None) -> None:
        self.net = net.to(device).eval()
        self.config = config
        self.device = device
        self.card = card or {}
        self._prepared: tuple[Any, tuple[int, int, int], Any] | None = None

    def _tensor(self, rgb: np.ndarray):
        torch = _torch()
        t = torch.from_numpy(np.ascontiguousarray(rgb)).to(self.device)
        return t.permute(2, 0, 1)[None].float() / 255.0

    def refine(self, v1: np.ndarray, reference: np.ndarray, geometry: np.ndarray) -> np.ndarray:
        """The refined face box, RGB uint8 [S, S, 3].

        ``v1``/``reference`` RGB uint8 [S, S, 3]: v1's frame and the working
        image, cropped to the face box; ``geometry`` float32 [S, S, 5] from
        :func:`crop_geometry`.  Raises ValueError on mismatched shapes.
        """
        ref = self._tensor(reference)
        return self._run(v1, ref, geometry)

    def _run(self, v1: np.ndarray, ref, geometry: np.ndarray) -> np.ndarray:
        torch = _torch()
        v1 = np.asarray(v1)
        s = v1.shape[:2]
        if (v1.ndim != 3 or v1.shape[2] != 3 or tuple(ref.shape[-2:]) != s
                or geometry.shape != s + (len(GEOMETRY_CHANNELS),)):
            raise ValueError(f"refine wants v1 [S, S, 3], reference [S, S, 3] and geometry "
                             f"[S, S, {len(GEOMETRY_CHANNELS)}] of one size; got {v1.shape}, "
                             f"{tuple(ref.shape)}, {geometry.shape}")
        geo = torch.from_numpy(np.ascontiguousarray(geometry, np.float32)).to(self.device).permute(2, 0, 1)[None]
        with torch.inference_mode():
            out, _ = self.net(self._tensor(v1), ref, geo)
        out = (out[0].clamp(0, 1) * 255.0).round().to(torch.uint8).permute(1, 2, 0)
        return out.cpu().numpy()

    def refine_frame(self, renderer, weights: np.ndarray, frame: np.ndarray, replace: float = 0.0) -> np.ndarray:
        """``frame`` (v1's RGB uint8 [H, W, 3] for ``weights`` [52]) with its face box refined.

        ``renderer``: the :class:`~visemo.render2d.portrait.PortraitRenderer`
        that made ``frame`` (with ``replace``, as passed to its ``frame``).
        Returns a new array; pixels outside the face box are ``frame``'s own.
        """
        rig = renderer.rig
        if self._prepared is None or self._prepared[0] is not rig:
            box = face_box(rig.points, rig.size, self.config.box_margin)
            self._prepared = (rig, box, self._tensor(crop(rig.image, box)))
        _, box, ref = self._prepared
        geometry = crop_geometry(v1_geometry(renderer, weights, replace), box)
        out = np.array(frame, np.uint8, copy=True)
        x0, y0, side = box
        out[y0:y0 + side, x0:x0 + side] = self._run(crop(frame, box), ref, geometry)
        return out


def _weights_path(path: str | os.PathLike) -> Path:
    p = Path(path)
    return p / WEIGHTS_FILE if p.is_dir() else p


def load_refiner(path: str | os.PathLike, device: str = "auto") -> PortraitRefiner:
    """The refiner saved at ``path`` (a folder holding ``model.pt``, or the file itself).

    ``device``: "auto" (CUDA when present, else CPU), "cpu" or "cuda".
    Raises :class:`~visemo.errors.DependencyError` without torch and
    :class:`~visemo.errors.ModelError` for a missing, damaged or foreign file.
    """
    torch = _torch()
    weights = _weights_path(path)
    if not weights.is_file():
        raise ModelError(f"no portrait refiner at {path} ({weights.name} missing); train one with "
                         "`visemo train portrait-refiner VIDEO -o DIR` and pass that DIR")
    card = _read_card(weights)
    try:
        blob = torch.load(weights, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 -- any unpickling failure means the same thing to the user
        raise ModelError(f"{weights} is not a readable torch file ({type(e).__name__}: {e}); "
                         "retrain the refiner or restore the file") from None
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise ModelError(f"{weights} is not a visemo portrait refiner (format "
                         f"{blob.get('format') if isinstance(blob, dict) else type(blob).__name__!r}); "
                         "pass the folder written by `visemo train portrait-refiner`")
    if blob.get("version") != VERSION:
        raise ModelError(f"{weights} is portrait-refiner version {blob.get('version')!r}, this visemo "
                         f"reads version {VERSION}; retrain the refiner or update visemo")
    config = RefinerConfig.from_dict(blob.get("config"))
    net = build_network(config)
    state = blob.get("state_dict")
    if not isinstance(state, dict):
        raise ModelError(f"{weights} holds no state_dict; retrain the refiner")
    missing = sorted(set(net.state_dict()) - set(state))
    extra = sorted(set(state) - set(net.state_dict()))
    if missing or extra:
        raise ModelError(f"{weights} does not match its config (missing {missing[:3]}, unexpected "
                         f"{extra[:3]}); retrain the refiner")
    try:
        net.load_state_dict(state)
    except RuntimeError as e:
        raise ModelError(f"{weights}: weights do not fit the config's shapes "
                         f"({str(e).splitlines()[-1].strip()}); retrain the refiner") from None
    return PortraitRefiner(net, config, pick_device(device), card)


def _read_card(weights: Path) -> dict:
    """The ``model.json`` beside ``weights`` (empty when absent); its sha256 must match when given."""
    card_path = weights.with_name(CARD_FILE)
    if not card_path.is_file():
        return {}
    try:
        card = json.loads(card_path.read_text())
    except (OSError, ValueError) as e:
        raise ModelError(f"{card_path} is not valid JSON ({e}); fix or delete it") from None
    expected = card.get("sha256") if isinstance(card, dict) else None
    if isinstance(expected, str):
        from ..face.storage import sha256_file

        got = sha256_file(weights)
        if got != expected.lower():
            raise ModelError(f"{weights} does not match {card_path.name} (sha256 {got[:12]}…, card says "
                             f"{expected[:12]}…); retrain the refiner or restore the folder")
    return card if isinstance(card, dict) else {}


def save_refiner(net, config: RefinerConfig, folder: str | os.PathLike, card: dict | None = None) -> Path:
    """Write ``model.pt`` (+ ``model.json`` = ``card`` with the file's sha256) into ``folder``; return the .pt path."""
    torch = _torch()
    from ..export.atomic import atomic_path
    from ..face.storage import sha256_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / WEIGHTS_FILE
    state = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
    with atomic_path(weights) as tmp:
        torch.save({"format": FORMAT, "version": VERSION, "config": config.to_dict(), "state_dict": state}, tmp)
    if card is not None:
        card = dict(card, file=WEIGHTS_FILE, sha256=sha256_file(weights))
        with atomic_path(folder / CARD_FILE) as tmp:
            Path(tmp).write_text(json.dumps(card, indent=2) + "\n")
    return weights
