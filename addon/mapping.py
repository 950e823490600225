"""The add-on side of rig mapping: which shape key takes which ARKit channel.

The mapping itself is :mod:`visemo.rigmap` (pure Python).  An object's
mapping is stored as JSON in its ``visemo_mapping`` custom property — the
form visemo's keying and the batch scripts read; without one, visemo maps
automatically (exact ARKit names, then the best preset, then fuzzy names).
The panel's editable table (``Object.visemo_rig.channels``) is a view of that
JSON: every edit of a row rewrites it.
"""

try:  # the core ships as a wheel; the add-on still registers (and says so) without it
    from visemo import arkit as _arkit
    from visemo import rigmap as _rigmap
except ImportError:  # pragma: no cover - only when the extension's wheels are missing
    _arkit = _rigmap = None

PROPERTY = getattr(_rigmap, "PROPERTY", "visemo_mapping")


def _preset_items():
    items = [("auto", "Auto", "The preset that maps the most channels of this rig")]
    if _rigmap is not None:
        for name, (label, _table) in _rigmap.PRESETS.items():
            items.append((name, label, f"Shape keys named as in {label}"))
    return tuple(items)


PRESET_ITEMS = _preset_items()
TOTAL = len(_arkit.NAMES) if _arkit is not None else 52
_syncing = False
_cache: dict = {}


def available() -> bool:
    """Whether the visemo core (with its rig mapping) is importable."""
    return _rigmap is not None


def shape_key_names(obj) -> list[str] | None:
    """The object's shape key names without the Basis, or None when it has none."""
    if obj is None or obj.type != "MESH" or obj.data.shape_keys is None:
        return None
    key = obj.data.shape_keys
    ref = key.reference_key
    return [kb.name for kb in key.key_blocks if ref is None or kb.name != ref.name]


def stored(obj) -> str | None:
    """The object's stored mapping (JSON text), or None (automatic)."""
    value = obj.get(PROPERTY) if obj is not None else None
    return value if isinstance(value, str) and value.strip() else None


def resolve(obj):
    """``(Mapping or None, error message or None)`` for ``obj``, cached for drawing."""
    names = shape_key_names(obj)
    if names is None:
        return None, "no shape keys"
    if _rigmap is None:
        return None, "the visemo library is not installed"
    spec = stored(obj)
    cache_key = (obj.name_full, tuple(names), spec)
    hit = _cache.get(cache_key)
    if hit is None:
        try:
            hit = (_rigmap.resolve(names, spec), None)
        except Exception as e:  # a hand-edited property may hold anything: show, don't raise
            hit = (None, str(e))
        if len(_cache) > 64:
            _cache.clear()
        _cache[cache_key] = hit
    return hit


def status_line(obj) -> str:
    """'N of 52 channels map onto its shape keys' (or why none can)."""
    m, err = resolve(obj)
    if m is None:
        return f"0 of {TOTAL} channels: {err}"
    source = "stored mapping" if stored(obj) else f"auto: {m.preset}"
    return f"{m.count} of {TOTAL} channels map onto its shape keys ({source})"


def store(obj, m) -> None:
    """Write Mapping ``m`` as the object's stored mapping and refresh its table."""
    obj[PROPERTY] = m.to_json()
    fill_rows(obj, m)


def clear(obj) -> None:
    """Forget the stored mapping (back to automatic) and empty the table."""
    if PROPERTY in obj:
        del obj[PROPERTY]
    global _syncing
    _syncing = True
    try:
        obj.visemo_rig.channels.clear()
    finally:
        _syncing = False


def fill_rows(obj, m) -> None:
    """One table row per ARKit channel, from Mapping ``m``."""
    global _syncing
    _syncing = True
    try:
        rows = obj.visemo_rig.channels
        rows.clear()
        for name in _arkit.NAMES:
            row = rows.add()
            row.name = row.arkit = name
            row.keys = ", ".join(m.channels.get(name, ()))
            row.gain = m.gain.get(name, 1.0)
    finally:
        _syncing = False


def rows_to_dict(obj) -> dict:
    """The table as a rigmap dict (preset 'custom')."""
    channels, gain = {}, {}
    for row in obj.visemo_rig.channels:
        keys = [k.strip() for k in row.keys.split(",") if k.strip()]
        if keys:
            channels[row.arkit] = keys[0] if len(keys) == 1 else keys
        if abs(row.gain - 1.0) > 1e-6:
            gain[row.arkit] = round(float(row.gain), 6)
    return {"format": _rigmap.FORMAT, "version": _rigmap.VERSION, "preset": "custom",
            "channels": channels, "gain": gain}


def row_changed(row, context):
    """Update callback of a table row: rewrite the object's stored mapping."""
    if _syncing or _rigmap is None:
        return
    obj = row.id_data
    try:
        m = _rigmap.Mapping.from_dict(rows_to_dict(obj))
    except Exception as e:  # keep the previous JSON; the panel shows the error
        print(f"visemo: mapping not stored: {e}")
        return
    obj[PROPERTY] = m.to_json()


def unmapped_report(obj) -> tuple[list[str], list[str]]:
    """(ARKit channels without a shape key, stored key names the mesh lacks)."""
    m, _ = resolve(obj)
    if m is None:
        return list(_arkit.NAMES) if _arkit else [], []
    return list(m.unmapped), list(getattr(m, "missing", ()))


def build(obj, preset: str):
    """A fresh Mapping for ``obj`` from ``preset`` ('auto' or a preset name)."""
    names = shape_key_names(obj) or []
    return _rigmap.build_mapping(names, preset)


def load(obj):
    """The Mapping ``obj`` uses now (stored, or automatic)."""
    names = shape_key_names(obj) or []
    return _rigmap.resolve(names, stored(obj))

