#!/usr/bin/env python3
"""Make the README's pictures: docs/images/emotions.png and docs/images/panel.png.

    .venv/bin/python scripts/make_readme_images.py [--out docs/images]

``emotions.png``: the bundled head speaking the bundled sample line, keyed by
the add-on's own *Generate* (loaded from ``addon/``), once "happy" and once
"sad" — the same frames side by side, rendered with Workbench (a few seconds).

``panel.png``: the sidebar panel.  Blender draws no UI without a window, so
the panels' real ``draw()`` methods run against a *recording* layout (which
notes every row, property, label, operator and list), and that record is
laid out in Blender's default dark-theme look and rendered (Workbench again,
flat planes and text objects).  The picture therefore follows the panel code.

Needs the ``bpy`` module (4.5); run from the repository root or anywhere.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import struct
import sys
import tempfile
import zlib
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp(prefix="visemo-img-"))

import bpy  # noqa: E402
import numpy as np  # noqa: E402

PANELS = ("VISEMO_PT_main", "VISEMO_PT_timeline", "VISEMO_PT_mapping", "VISEMO_PT_video")
ADDON_NAME = "visemo_addon_images"


# ====================================================================== recording layout
class _OperatorProps(SimpleNamespace):
    """What ``layout.operator`` returns: accepts any property assignment."""


class Rec:
    """A stand-in for ``bpy.types.UILayout`` that records what a draw() call asks for.

    Containers (column, row, box, split) hold ``items``; leaves are dicts with
    the text to show, already read from the live data.
    """

    def __init__(self, kind="column", context=None, **args):
        self.kind, self.args, self.items = kind, args, []
        self.context = context
        self.scale_x = self.scale_y = 1.0
        self.active = self.enabled = True
        self.alert = False
        self.use_property_split = self.use_property_decorate = False
        self.alignment = "EXPAND"
        self.operator_context = "INVOKE_DEFAULT"

    # -- containers
    def _child(self, kind, **args):
        r = Rec(kind, self.context, **args)
        self.items.append(r)
        return r

    def column(self, align=False, heading="", **_):
        return self._child("column", align=align)

    def row(self, align=False, heading="", **_):
        return self._child("row", align=align)

    def box(self):
        return self._child("box")

    def split(self, factor=0.0, align=False):
        return self._child("split", factor=factor, align=align)

    # -- leaves
    def separator(self, factor=1.0, **_):
        self.items.append({"kind": "separator", "factor": factor})

    def label(self, text="", icon="NONE", **_):
        self.items.append({"kind": "label", "text": text, "icon": icon})

    def operator(self, idname, text=None, icon="NONE", **_):
        if text is None:
            cat, name = idname.split(".")
            text = getattr(getattr(bpy.ops, cat), name).get_rna_type().name
        self.items.append({"kind": "operator", "text": text, "icon": icon})
        return _OperatorProps()

    def progress(self, text="", factor=0.0, type="BAR", **_):
        self.items.append({"kind": "progress", "text": text, "factor": factor})

    def prop(self, data, property, text=None, icon="NONE", expand=False, slider=False, toggle=-1,
             icon_only=False, emboss=True, placeholder="", **_):
        rna = data.bl_rna.properties[property]
        label = rna.name if text is None else text
        value = getattr(data, property)
        leaf = {"kind": "prop", "ptype": rna.type, "text": label, "icon": icon, "emboss": emboss}
        if rna.type == "BOOLEAN":
            leaf.update(value=bool(value), toggle=toggle == 1 or (toggle is True))
        elif rna.type == "ENUM":
            items = [(i.identifier, i.name) for i in rna.enum_items]
            leaf.update(expand=expand, items=items, value=value,
                        value_text=dict(items).get(value, str(value)))
        elif rna.type in ("INT", "FLOAT"):
            if rna.type == "FLOAT":
                shown = f"{value:.3f}" if rna.subtype == "FACTOR" else f"{value:.2f}"
            else:
                shown = str(value)
            leaf.update(value_text=shown,
                        slider=slider or rna.subtype == "FACTOR",
                        factor=(value - rna.hard_min) / max(1e-9, rna.hard_max - rna.hard_min)
                        if rna.subtype == "FACTOR" else None)
        elif rna.type == "POINTER":
            leaf.update(value_text=getattr(value, "name", "") if value is not None else "")
        else:
            shown = str(value)
            if rna.subtype == "FILE_PATH" and shown:
                shown = Path(shown).name
            leaf.update(value_text=shown, placeholder=placeholder)
        self.items.append(leaf)

    def prop_search(self, data, property, search_data, search_property, text=None, icon="NONE", **_):
        self.prop(data, property, text=text, icon=icon)

    def template_list(self, listtype_name, list_id, dataptr, propname, active_dataptr, active_propname,
                      rows=5, **_):
        cls = getattr(bpy.types, listtype_name)
        fake = SimpleNamespace(bitflag_filter_item=1 << 30, filter_name="", use_filter_invert=False)
        coll = getattr(dataptr, propname)
        flags = [1] * len(coll)
        if hasattr(cls, "filter_items"):
            flags, _order = cls.filter_items(fake, self.context, dataptr, propname)
            flags = flags or [1] * len(coll)
        active = getattr(active_dataptr, active_propname)
        shown = []
        for index, item in enumerate(coll):
            if flags[index] and len(shown) < rows:
                r = Rec("row", self.context)
                cls.draw_item(fake, self.context, r, dataptr, item, 0, active_dataptr, active_propname, index)
                shown.append({"row": r, "active": index == active})
        self.items.append({"kind": "list", "rows": shown, "min_rows": rows})


def record_panels(context) -> list[dict]:
    """Run each visemo panel's draw() against a recording layout: [{title, header, body}]."""
    out = []
    for name in PANELS:
        cls = getattr(bpy.types, name)
        if hasattr(cls, "poll") and not cls.poll(context):
            continue
        body = Rec("panel", context)
        cls.draw(SimpleNamespace(layout=body), context)
        header = None
        if hasattr(cls, "draw_header"):
            header = Rec("row", context)
            cls.draw_header(SimpleNamespace(layout=header), context)
        out.append({"title": cls.bl_label, "header": header, "body": body,
                    "child": getattr(cls, "bl_parent_id", "") != ""})
    return out


def flatten_text(panels) -> list[str]:
    """Every piece of text the recorded panels show (titles, labels, buttons, values)."""
    texts = []

    def walk(node):
        if isinstance(node, Rec):
            for it in node.items:
                walk(it)
        elif node["kind"] == "list":
            for row in node["rows"]:
                walk(row["row"])
        else:
            for key in ("text", "value_text"):
                if node.get(key):
                    texts.append(node[key])

    for p in panels:
        texts.append(p["title"])
        walk(p["body"])
    return texts


# ====================================================================== layout → shapes
THEME = dict(  # Blender 4.x default dark theme (sRGB)
    region=(0x30, 0x30, 0x30), header=(0x3d, 0x3d, 0x3d), sub=(0x37, 0x37, 0x37), box=(0x2a, 0x2a, 0x2a),
    field=(0x1d, 0x1d, 0x1d), button=(0x54, 0x54, 0x54), text=(0xe6, 0xe6, 0xe6), dim=(0x9a, 0x9a, 0x9a),
    blue=(0x47, 0x72, 0xb3), check=(0x54, 0x54, 0x54), list=(0x28, 0x28, 0x28), alert=(0xb8, 0x4b, 0x4b),
    active_row=(0x33, 0x4d, 0x80), tab=(0x28, 0x28, 0x28),
)
ROW_H, GAP, PAD, FONT = 22, 4, 10, 11.5


class Canvas:
    def __init__(self):
        self.rects, self.texts = [], []

    def rect(self, x, y, w, h, color, radius=3.0):
        self.rects.append((x, y, w, h, THEME.get(color, color), radius))

    def text(self, x, y, s, color="text", align="LEFT", size=FONT, width=None):
        if width is not None:  # crude clipping: ~0.55 em per character
            limit = max(1, int(width / (size * 0.56)))
            if len(s) > limit:
                s = s[: max(1, limit - 1)] + "…"
        self.texts.append((x, y, s, THEME.get(color, color), align, size))


def _fixed_width(node):
    """Width a node wants regardless of the space (icon-only buttons), else None."""
    if isinstance(node, dict):
        if node["kind"] == "operator" and not node["text"]:
            return ROW_H + 2
        if node["kind"] == "prop" and node["ptype"] == "BOOLEAN" and not node["text"]:
            return ROW_H
        if node["kind"] == "separator":
            return None
        return None
    if node.kind == "column":
        ws = [_fixed_width(c) for c in node.items if not (isinstance(c, dict) and c["kind"] == "separator")]
        return max(ws) if ws and all(ws) else None
    return None


def _height(node, w, scale=1.0) -> float:
    if isinstance(node, dict):
        k = node["kind"]
        if k == "separator":
            return 6 * node["factor"]
        if k == "list":
            return max(node["min_rows"], len(node["rows"])) * (ROW_H - 2) + 6
        if k == "prop" and node["ptype"] == "ENUM" and node["expand"]:
            return ROW_H * scale
        return ROW_H * scale
    scale = scale * node.scale_y
    if node.kind in ("row", "split"):
        widths = _child_widths(node, w)
        return max([_height(c, cw, scale) for c, cw in zip(node.items, widths)] or [0])
    inner = w - (2 * 6 if node.kind == "box" else 0)
    gap = 2 if node.args.get("align") else GAP
    hs = [_height(c, inner, scale) for c in node.items]
    total = sum(hs) + gap * max(0, len(hs) - 1)
    return total + (12 if node.kind == "box" else 0)


def _child_widths(node, w):
    items = node.items
    if not items:
        return []
    gap = 1 if node.args.get("align") else GAP
    if node.kind == "split":
        f = node.args.get("factor") or 1.0 / len(items)
        first = w * f
        rest = (w - first - gap * (len(items) - 1)) / max(1, len(items) - 1)
        return [first] + [rest] * (len(items) - 1)
    fixed = [_fixed_width(c) for c in items]
    free = w - sum(f for f in fixed if f) - gap * (len(items) - 1)
    flex = sum(1 for f in fixed if not f)
    return [f if f else free / max(1, flex) for f in fixed]


def _draw(cv: Canvas, node, x, y, w, scale=1.0, dim=False):
    """Draw ``node`` with its top-left corner at (x, y) (y grows downwards); returns its height."""
    if isinstance(node, dict):
        h = _height(node, w, scale)
        _leaf(cv, node, x, y, w, h, dim)
        return h
    scale *= node.scale_y
    dim = dim or not node.active or not node.enabled
    if node.kind in ("row", "split"):
        widths = _child_widths(node, w)
        gap = 1 if node.args.get("align") else GAP
        h = _height(node, w, scale / node.scale_y)
        cx = x
        for c, cw in zip(node.items, widths):
            _draw(cv, c, cx, y, cw, scale, dim or (isinstance(c, Rec) and not c.active))
            cx += cw + gap
        return h
    pad = 6 if node.kind == "box" else 0
    h = _height(node, w, scale / node.scale_y)
    if node.kind == "box":
        cv.rect(x, y, w, h, "box", 4)
    gap = 2 if node.args.get("align") else GAP
    cy = y + pad
    for c in node.items:
        cy += _draw(cv, c, x + pad, cy, w - 2 * pad, scale, dim) + gap
    return h


def _leaf(cv: Canvas, n, x, y, w, h, dim):
    text_color = "dim" if dim else "text"
    mid = y + h / 2
    k = n["kind"]
    if k == "label":
        cv.text(x + 4, mid, n["text"], text_color, width=w - 8)
    elif k == "operator":
        cv.rect(x, y + 1, w, h - 2, "button")
        label = n["text"] or {"ADD": "+", "REMOVE": "−", "TRIA_UP": "▲", "TRIA_DOWN": "▼",
                              "LOOP_BACK": "↺"}.get(n["icon"], "·")
        cv.text(x + w / 2, mid, label, text_color, "CENTER", width=w - 6)
    elif k == "progress":
        cv.rect(x, y + 3, w, h - 6, "field")
        cv.rect(x, y + 3, w * n["factor"], h - 6, "blue")
        cv.text(x + w / 2, mid, n["text"], text_color, "CENTER", width=w - 6)
    elif k == "list":
        cv.rect(x, y, w, h, "list", 3)
        ry = y + 3
        for row in n["rows"]:
            if row["active"]:
                cv.rect(x + 2, ry, w - 4, ROW_H - 2, "active_row", 2)
            _draw(cv, row["row"], x + 4, ry, w - 8, (ROW_H - 2) / ROW_H, dim)
            ry += ROW_H - 2
    elif k == "prop":
        _prop(cv, n, x, y, w, h, text_color)


def _prop(cv, n, x, y, w, h, text_color):
    mid = y + h / 2
    t = n["ptype"]
    if t == "BOOLEAN":
        if n.get("toggle"):
            cv.rect(x, y + 1, w, h - 2, "blue" if n["value"] else "button")
            cv.text(x + w / 2, mid, n["text"], text_color, "CENTER", width=w - 6)
        else:
            s = 13
            cv.rect(x + 3, mid - s / 2, s, s, "blue" if n["value"] else "check", 3)
            if n["value"]:
                cv.rect(x + 3 + 4, mid - s / 2 + 4, s - 8, s - 8, (0xff, 0xff, 0xff), 1)
            if n["text"]:
                cv.text(x + s + 8, mid, n["text"], text_color, width=w - s - 10)
        return
    if t == "ENUM" and n["expand"]:
        items = n["items"]
        bw = w / len(items)
        for i, (ident, name) in enumerate(items):
            cv.rect(x + i * bw, y + 1, bw - 1, h - 2, "blue" if ident == n["value"] else "button")
            cv.text(x + i * bw + bw / 2, mid, name, text_color, "CENTER", width=bw - 6)
        return
    label = n["text"]
    fx, fw = x, w
    if label and t in ("STRING", "POINTER", "ENUM"):
        lw = min(90.0, w * 0.36)
        cv.text(x + 2, mid, label + ":" if t != "ENUM" else label, text_color, width=lw - 4)
        fx, fw = x + lw, w - lw
    if t in ("INT", "FLOAT"):
        cv.rect(fx, y + 1, fw, h - 2, "button" if not n.get("emboss", True) is False else "field")
        if n.get("factor") is not None:
            cv.rect(fx, y + 1, fw * max(0.0, min(1.0, n["factor"])), h - 2, "blue")
        shown = f"{label}: {n['value_text']}" if label else n["value_text"]
        cv.text(fx + fw / 2, mid, shown, text_color, "CENTER", width=fw - 6)
        return
    cv.rect(fx, y + 1, fw, h - 2, "field" if t != "ENUM" else "button")
    value = n.get("value_text", "")
    if t == "ENUM":
        cv.text(fx + 6, mid, value, text_color, width=fw - 24)
        cv.text(fx + fw - 8, mid, "▾", text_color, "RIGHT")
    elif value:
        cv.text(fx + 6, mid, value, text_color, width=fw - 10)
    else:
        cv.text(fx + 6, mid, n.get("placeholder") or "", "dim", width=fw - 10)


def panel_canvas(panels, width=360) -> tuple[Canvas, int]:
    """Lay the recorded panels out like Blender's sidebar; returns the canvas and its height."""
    cv = Canvas()
    inner = width - 2 * PAD - 26  # room for the category tab on the right
    y = 8
    for p in panels:
        x0 = PAD + (6 if p["child"] else 0)
        pw = inner - (12 if p["child"] else 0)
        cv.rect(x0, y, pw, 26, "header" if not p["child"] else "sub", 4)
        tx = x0 + 10
        cv.text(tx, y + 13, "▾", "text")
        tx += 16
        if p["header"] is not None:
            _draw(cv, p["header"], tx, y + 2, 22)
            tx += 24
        cv.text(tx, y + 13, p["title"], "text", size=FONT + 0.5)
        y += 30
        body_h = _height(p["body"], pw - 16)
        cv.rect(x0, y - 4, pw, body_h + 12, "region" if p["child"] else "sub", 4)
        _draw(cv, p["body"], x0 + 8, y, pw - 16)
        y += body_h + 14
    total = int(y + 6)
    cv.rects.insert(0, (0, 0, width, total, THEME["region"], 0))
    tab_x = width - 26
    cv.rects.insert(1, (tab_x, 0, 26, total, THEME["tab"], 0))
    for i, name in enumerate(("Item", "Tool", "View", "visemo")):
        ty = 12 + i * 70
        cv.rects.append((tab_x + 2, ty, 22, 64, THEME["blue"] if name == "visemo" else THEME["button"], 3))
        cv.texts.append((tab_x + 13, ty + 32, name, THEME["text"], "CENTER_VERTICAL", FONT - 1))
    return cv, total


# ====================================================================== canvas → PNG (Workbench)
def _linear(c):
    out = []
    for v in c:
        v = v / 255.0
        out.append(v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4)
    return (*out, 1.0)


def _rounded_rect(x, y, w, h, r, segs=4):
    r = max(0.0, min(r, w / 2, h / 2))
    if r < 0.5:
        return [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]
    pts = []
    for cx, cy, a0 in ((x + w - r, y + r, -90), (x + w - r, y + h - r, 0), (x + r, y + h - r, 90),
                       (x + r, y + r, 180)):
        for i in range(segs + 1):
            a = math.radians(a0 + 90 * i / segs)
            pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    return pts


def _flat_scene(width, height):
    """An empty scene with an orthographic camera over [0, width] x [0, height] (pixel units)."""
    from visemo.blender.scene import new_empty_scene

    sc = new_empty_scene()
    sc.render.engine = "BLENDER_WORKBENCH"
    sc.display.shading.light = "FLAT"
    sc.display.shading.color_type = "OBJECT"
    sc.display.render_aa = "16"
    sc.view_settings.view_transform = "Standard"
    sc.render.resolution_x, sc.render.resolution_y = int(width), int(height)
    sc.render.resolution_percentage = 100
    cam = bpy.data.objects.new("cam", bpy.data.cameras.new("cam"))
    cam.data.type = "ORTHO"
    cam.data.ortho_scale = max(width, height) * 0.01
    cam.location = (width * 0.005, -height * 0.005, 10)
    sc.collection.objects.link(cam)
    sc.camera = cam
    return sc


def render_canvas(cv: Canvas, width, height, path: Path) -> Path:
    sc = _flat_scene(width, height)
    z = 0.0
    s = 0.01
    for (x, y, w, h, color, r) in cv.rects:
        pts = _rounded_rect(x, y, w, h, r)
        me = bpy.data.meshes.new("r")
        me.from_pydata([(px * s, -py * s, z) for px, py in pts], [], [list(range(len(pts)))])
        ob = bpy.data.objects.new("r", me)
        ob.color = _linear(color)
        sc.collection.objects.link(ob)
        z += 0.001
    for (x, y, text, color, align, size) in cv.texts:
        cu = bpy.data.curves.new("t", "FONT")
        cu.body = text
        cu.size = size * s * 1.2
        cu.align_y = "CENTER"
        cu.align_x = {"CENTER_VERTICAL": "CENTER"}.get(align, align)
        ob = bpy.data.objects.new("t", cu)
        ob.location = (x * s, -y * s, z + 0.5)
        if align == "CENTER_VERTICAL":
            ob.rotation_euler = (0, 0, math.radians(90))
        ob.color = _linear(color)
        sc.collection.objects.link(ob)
    return _render_png(sc, path)


def _render_png(sc, path: Path) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        sc.render.filepath = str(Path(tmp) / "frame.png")
        sc.render.image_settings.file_format = "PNG"
        sc.render.image_settings.color_mode = "RGB"
        bpy.ops.render.render(write_still=True, scene=sc.name)
        img = bpy.data.images.load(sc.render.filepath)
        w, h = img.size
        px = np.empty(w * h * 4, np.float32)
        img.pixels.foreach_get(px)
        bpy.data.images.remove(img)
    rgb = (np.clip(px.reshape(h, w, 4)[::-1, :, :3], 0, 1) * 255 + 0.5).astype(np.uint8)
    return write_png(path, rgb)


def write_png(path: Path, rgb: np.ndarray) -> Path:
    """8-bit RGB PNG (rows top to bottom), each row with the best of PNG's Sub/Up filters."""
    h, w, _ = rgb.shape
    raw = bytearray()
    prev = np.zeros((w * 3,), np.int16)
    for row in rgb.reshape(h, w * 3).astype(np.int16):
        sub = row.copy()
        sub[3:] -= row[:-3]
        up = row - prev
        best = min(((0, row), (1, sub), (2, up)), key=lambda fr: int(np.abs((fr[1] + 128) % 256 - 128).sum()))
        raw.append(best[0])
        raw += (best[1] % 256).astype(np.uint8).tobytes()
        prev = row

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b""))
    return path


# ====================================================================== the add-on and the head
def load_addon():
    """Register the add-on from the checkout's addon/ folder; returns the module."""
    spec = importlib.util.spec_from_file_location(ADDON_NAME, ROOT / "addon" / "__init__.py",
                                                  submodule_search_locations=[str(ROOT / "addon")])
    module = importlib.util.module_from_spec(spec)
    sys.modules[ADDON_NAME] = module
    spec.loader.exec_module(module)
    module.register()
    return module


PART_COLORS = {"skin": (0.80, 0.58, 0.47), "eye_left": (0.93, 0.93, 0.92), "eye_right": (0.93, 0.93, 0.92),
               "teeth_upper": (0.93, 0.91, 0.84), "teeth_lower": (0.93, 0.91, 0.84),
               "tongue": (0.72, 0.33, 0.33), "eyelashes": (0.12, 0.09, 0.08), "iris": (0.20, 0.28, 0.38)}


def build_head():
    """The bundled head, one material per part (and an iris on each eye)."""
    from visemo.blender import build_head_object
    from visemo.face.model import load_face_model

    m = load_face_model()
    obj = build_head_object(m.vertices, m.face_sizes, m.face_indices, m.deltas, m.names, name="visemo_head")
    names = list(m.part_names) + ["iris"]
    for name in names:
        mat = bpy.data.materials.new(name)
        mat.diffuse_color = (*PART_COLORS.get(name, (0.8, 0.8, 0.8)), 1.0)
        obj.data.materials.append(mat)
    starts = np.concatenate([[0], np.cumsum(m.face_sizes)[:-1]])
    first = m.face_indices[starts]
    index = m.parts[first].astype(np.int32)
    for eye in ("eye_left", "eye_right"):  # front cap of each eyeball → iris
        e = m.part_names.index(eye)
        verts = np.nonzero(m.parts == e)[0]
        front = m.vertices[verts[np.argmin(m.vertices[verts, 1])]]
        centres = np.array([m.vertices[m.face_indices[s:s + n]].mean(0) for s, n in zip(starts, m.face_sizes)])
        near = (index == e) & (np.linalg.norm((centres - front)[:, [0, 2]], axis=1) < 0.0062) & \
               (centres[:, 1] < front[1] + 0.004)
        index[near] = len(names) - 1
    obj.data.polygons.foreach_set("material_index", index)
    obj.data.update()
    return obj


def emotion_frames(out: Path, frames=(24, 52, 96, 150), tile=240) -> Path:
    """The head saying the sample line, happy (top row) and sad (bottom row), same frames."""
    from mathutils import Vector
    from visemo.blender.scene import new_empty_scene
    from visemo.paths import sample_speech

    sc = new_empty_scene()
    sc.render.fps = 30
    head = build_head()
    bpy.context.view_layer.objects.active = head
    head.select_set(True)
    cam = bpy.data.objects.new("cam", bpy.data.cameras.new("cam"))
    cam.data.lens = 85
    target = Vector((0.0, -0.06, 0.725))
    cam.location = target + Vector((0.16, -0.62, 0.03))
    cam.rotation_euler = (target - cam.location).to_track_quat("-Z", "Y").to_euler()
    sc.collection.objects.link(cam)
    sc.camera = cam
    label = bpy.data.objects.new("label", bpy.data.curves.new("label", "FONT"))
    label.data.size = 0.011
    label.data.materials.append(bpy.data.materials.new("label"))
    label.data.materials[0].diffuse_color = (0.02, 0.02, 0.03, 1.0)
    label.parent = cam
    label.location = (-0.088, 0.08, -0.45)  # top left of the view, in front of the head
    sc.collection.objects.link(label)

    sc.render.engine = "BLENDER_WORKBENCH"
    shading = sc.display.shading
    shading.light, shading.color_type = "STUDIO", "MATERIAL"
    shading.show_cavity, shading.cavity_type = True, "WORLD"
    sc.display.render_aa = "8"
    sc.view_settings.view_transform = "Standard"
    sc.world = bpy.data.worlds.new("bg")
    sc.world.color = (0.78, 0.80, 0.83)
    sc.render.resolution_x = sc.render.resolution_y = tile

    s = sc.visemo
    speech = sample_speech()
    s.speech_path, s.transcript = str(speech), speech.with_suffix(".txt").read_text().strip()
    s.blinks, s.seed, s.intensity = False, 1, 1.0
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for emotion in ("happy", "sad"):
            s.emotion = emotion
            sc.frame_current = 1
            bpy.ops.visemo.generate()
            tiles = []
            for f in frames:
                sc.frame_set(f)
                label.data.body = f"{emotion}  {f / 30:.1f} s"
                tiles.append(_read_png(_render_png(sc, Path(tmp) / f"{emotion}_{f}.png")))
            rows.append(np.concatenate(_spaced(tiles, axis=1), axis=1))
    grid = np.concatenate(_spaced(rows, axis=0), axis=0)
    return write_png(out, grid)


def _spaced(images, axis, gap=4):
    out = []
    for i, im in enumerate(images):
        if i:
            shape = list(im.shape)
            shape[axis] = gap
            out.append(np.full(shape, 255, np.uint8))
        out.append(im)
    return out


def _read_png(path: Path) -> np.ndarray:
    img = bpy.data.images.load(str(path))
    w, h = img.size
    px = np.empty(w * h * 4, np.float32)
    img.pixels.foreach_get(px)
    bpy.data.images.remove(img)
    return (np.clip(px.reshape(h, w, 4)[::-1, :, :3], 0, 1) * 255 + 0.5).astype(np.uint8)


def panel_image(out: Path) -> Path:
    """The sidebar as the add-on draws it, for a CC4-style head with an emotion timeline."""
    from visemo.blender.scene import new_empty_scene
    from visemo.paths import sample_speech

    sc = new_empty_scene()
    sc.render.fps = 30
    head = build_head()
    bpy.context.view_layer.objects.active = head
    s = sc.visemo
    s.target = head
    s.speech_path = str(sample_speech())
    s.emotion, s.intensity, s.seed = "happy", 0.8, 1
    for frame, prompt, intensity in ((60, "angry", 0.9), (150, "sad", 0.6)):
        k = s.emotion_keys.add()
        k.frame, k.prompt, k.intensity = frame, prompt, intensity
    s.emotion_key_index = 0
    s.transition = 12
    bpy.ops.visemo.mapping_edit()
    head.visemo_rig.search = "mouthSmile"
    panels = record_panels(bpy.context)
    cv, height = panel_canvas(panels)
    return render_canvas(cv, 360, height, out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    args = ap.parse_args(argv)
    addon = load_addon()
    try:
        for path in (emotion_frames(args.out / "emotions.png"), panel_image(args.out / "panel.png")):
            print(f"{path}  {path.stat().st_size / 1024:.0f} KiB")
    finally:
        addon.unregister()
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # after an in-process render, Blender's GPU worker would hang a normal exit
