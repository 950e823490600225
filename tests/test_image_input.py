"""visemo.image.load_rgb: every photo input a user may give, valid or not.

Each test writes its own files in tmp_path (Pillow, and OpenCV for 16-bit PNGs
and PGMs; those tests skip without them) and checks exact pixel values,
shapes, orientation or the one-line message.
"""

from __future__ import annotations

import os
import struct
import wave
import zlib

import numpy as np
import pytest

from visemo.errors import ImageError, PromptError
from visemo.image import MAX_SIDE_PX, load_rgb

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


@pytest.fixture
def Image():  # noqa: N802 - named like the module it stands for
    return pytest.importorskip("PIL.Image")


@pytest.fixture
def cv2():
    return pytest.importorskip("cv2")


def rgb_ok(x: np.ndarray) -> np.ndarray:
    """``x`` after checking it is what load_rgb promises."""
    assert x.dtype == np.uint8 and x.ndim == 3 and x.shape[2] == 3
    assert x.flags["C_CONTIGUOUS"]
    return x


def over_white(c, alpha):
    """Reference compositing over white, in floats: round(c·α + 255·(1 − α))."""
    a = np.asarray(alpha, np.float64) / 255.0
    return np.round(np.asarray(c, np.float64) * a + 255.0 * (1.0 - a)).astype(np.uint8)


def refused(source, match: str) -> str:
    """The ImageError message for ``source`` (checked: matches ``match``, one line)."""
    with pytest.raises(ImageError, match=match) as info:
        load_rgb(source)
    msg = str(info.value)
    assert "\n" not in msg and ";" in msg  # what was wrong; what to do
    return msg


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header says ``width`` x ``height`` (8-bit RGB) and holds no pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


# ---------------------------------------------------------------------- missing / not images
def test_missing_path_folder_and_empty_file(tmp_path):
    refused(tmp_path / "missing.png", r"photo not found: .*missing\.png; check the path")
    refused(str(tmp_path / "missing.png"), "not found")
    refused(tmp_path, "is a folder, not an image file; give the path of the photo itself")
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    refused(empty, r"cannot read empty\.jpg as an image: the file is empty \(0 bytes\)")


def test_non_image_files_say_what_they_are(tmp_path, Image):
    text = tmp_path / "notes.jpg"
    text.write_text("my best photo\nis elsewhere\n")
    refused(text, r"cannot read notes\.jpg as an image: it is a text file, not a picture; "
                  "use a JPEG or PNG photo")
    speech = tmp_path / "speech.wav"
    with wave.open(str(speech), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(np.zeros(1600, "<i2").tobytes())
    refused(speech, r"cannot read speech\.wav as an image: it is a WAV audio file, not a picture")
    heic = tmp_path / "IMG_0001.HEIC"
    heic.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(200))
    refused(heic, r"IMG_0001\.HEIC as an image: it is a HEIC/HEIF photo .*convert it to JPEG or PNG")
    garbage = tmp_path / "face.jpg"  # the phrasing tests/test_emotion_photo.py relies on
    garbage.write_bytes(b"\xff\xd8 not really a jpeg")
    refused(garbage, r"cannot read face\.jpg as an image")


def test_unreadable_file_says_permission_denied(tmp_path, Image, monkeypatch):
    p = tmp_path / "locked.png"
    Image.new("RGB", (4, 4)).save(p)
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # root reads it anyway: make Pillow refuse
        def denied(*args, **kwargs):
            raise PermissionError(13, "Permission denied", str(p))

        monkeypatch.setattr(Image, "open", denied)
    p.chmod(0)
    try:
        refused(p, r"cannot open locked\.png: permission denied; check the file's permissions")
    finally:
        p.chmod(0o644)


# ---------------------------------------------------------------------- damaged files
def test_truncated_jpeg_and_png_are_refused_not_half_loaded(tmp_path, Image):
    noise = np.random.default_rng(0).integers(0, 256, (64, 96, 3), np.uint8)
    for fmt, kw in (("jpg", {"quality": 90}), ("jpg", {"quality": 90, "progressive": True}),
                    ("png", {})):
        whole = tmp_path / f"whole.{fmt}"
        Image.fromarray(noise).save(whole, **kw)
        data = whole.read_bytes()
        assert rgb_ok(load_rgb(whole)).shape == (64, 96, 3)  # the complete file loads
        for keep in (0.5, 0.95):
            cut = tmp_path / f"cut.{fmt}"
            cut.write_bytes(data[:int(len(data) * keep)])
            refused(cut, r"cannot read cut\.\w+ as an image: the file is incomplete or damaged "
                         r"\(image file is truncated.*\); copy or download it again")
    header = tmp_path / "header.png"
    header.write_bytes(data[:30])  # the PNG signature, then nothing Pillow can identify
    refused(header, r"header\.png as an image: it starts like a PNG file but is incomplete or damaged")


def test_damaged_png_data_is_refused(tmp_path, Image):
    p = tmp_path / "bitflip.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (32, 32, 3), np.uint8)).save(p)
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside the compressed pixels: CRC or inflate fails
    p.write_bytes(bytes(data))
    refused(p, r"cannot read bitflip\.png as an image: the file is incomplete or damaged")


# ---------------------------------------------------------------------- size limit
def test_oversized_photo_is_refused_from_its_header_before_decoding(tmp_path, Image):
    assert MAX_SIDE_PX == 8000

    def header_and_a_little(width):  # a JPEG cut just after its scan header
        p = tmp_path / f"wide{width}.jpg"
        Image.new("RGB", (width, 8), (90, 90, 90)).save(p)
        data = p.read_bytes()
        p.write_bytes(data[:data.index(b"\xff\xda") + 20])
        return p

    # At the limit, the cut file would have to be decoded, and decoding fails ...
    refused(header_and_a_little(8000), "incomplete or damaged")
    # ... over it, the size from the header refuses it first.
    refused(header_and_a_little(8001), r"wide8001\.jpg is 8001x8 px, over the 8000 px limit on a "
                                       r"side; resize it to at most 8000 px on its longest side")
    tall = tmp_path / "tall.png"
    tall.write_bytes(png_header_only(100, 9000))  # 0.9 Mpx: under Pillow's own bomb limit
    refused(tall, r"is 100x9000 px, .*resize it to at most 8000 px")
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_header_only(20000, 20000))  # 400 Mpx: Pillow's DecompressionBombError
    refused(bomb, r"bomb\.png is (too large to open safely|20000x20000 px).*resize it to at most 8000 px")
    ok = tmp_path / "ok.png"
    Image.new("RGB", (8000, 2), (1, 2, 3)).save(ok)
    assert (rgb_ok(load_rgb(ok)) == (1, 2, 3)).all()


def test_pillow_decompression_bomb_error_and_warning_become_image_errors(tmp_path, Image, monkeypatch):
    small, big = tmp_path / "small.png", tmp_path / "big.png"
    Image.new("RGB", (40, 30)).save(small)   # 1200 px: over the limit -> warning
    Image.new("RGB", (50, 50)).save(big)     # 2500 px: over twice the limit -> error
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    refused(small, r"small\.png is too large to open safely \(Image size \(1200 pixels\).*; resize it")
    refused(big, r"big\.png is too large to open safely \(Image size \(2500 pixels\).*; resize it")


# ---------------------------------------------------------------------- colour modes
def test_cmyk_jpeg_comes_out_as_the_right_colours(tmp_path, Image):
    inks = [(0, 0, 0, 0), (255, 0, 0, 0), (0, 255, 0, 0), (0, 0, 255, 0), (0, 0, 0, 255),
            (0, 0, 0, 128)]
    want = [WHITE, (0, 255, 255), (255, 0, 255), (255, 255, 0), (0, 0, 0), (127, 127, 127)]
    cmyk = np.zeros((16, 16 * len(inks), 4), np.uint8)
    for i, ink in enumerate(inks):
        cmyk[:, 16 * i:16 * (i + 1)] = ink
    p = tmp_path / "print.jpg"
    Image.fromarray(cmyk, "CMYK").save(p, quality=95)
    assert Image.open(p).mode == "CMYK"
    got = rgb_ok(load_rgb(p))
    assert got.shape == (16, 16 * len(inks), 3)
    for i, colour in enumerate(want):
        np.testing.assert_allclose(got[8, 16 * i + 8], colour, atol=6, err_msg=str(inks[i]))


def test_grey_bilevel_and_grey_with_alpha(tmp_path, Image):
    levels = np.arange(256, dtype=np.uint8).reshape(16, 16)
    Image.fromarray(levels, "L").save(tmp_path / "l.png")
    got = rgb_ok(load_rgb(tmp_path / "l.png"))
    assert (got == levels[..., None]).all()
    Image.fromarray(levels >= 128).convert("1").save(tmp_path / "bw.png")
    assert (rgb_ok(load_rgb(tmp_path / "bw.png")) == np.where(levels >= 128, 255, 0)[..., None]).all()
    alpha = np.array([0, 1, 64, 128, 200, 255], np.uint8)
    la = np.stack([np.full(6, 100, np.uint8), alpha], axis=1)[None]  # [1, 6, 2]
    Image.fromarray(la, "LA").save(tmp_path / "la.png")
    got = rgb_ok(load_rgb(tmp_path / "la.png"))
    assert (got[0] == over_white(100, alpha)[:, None]).all()
    assert got[0, 0].tolist() == [255, 255, 255] and got[0, -1].tolist() == [100, 100, 100]
    grey_key = Image.fromarray(np.array([[50, 60]], np.uint8), "L")  # tRNS: level 50 is clear
    grey_key.save(tmp_path / "key.png", transparency=50)
    assert rgb_ok(load_rgb(tmp_path / "key.png"))[0].tolist() == [[255] * 3, [60] * 3]


@pytest.mark.parametrize("fmt", ["png", "gif"])
def test_palette_images_with_and_without_transparency(tmp_path, Image, fmt):
    idx = np.array([[0, 1, 2], [2, 1, 0]], np.uint8)
    pal = Image.fromarray(idx, "P")
    pal.putpalette([10, 20, 30, 200, 0, 0, 0, 90, 250] + [0] * (256 * 3 - 9))
    pal.save(tmp_path / f"plain.{fmt}")
    colours = np.array([(10, 20, 30), (200, 0, 0), (0, 90, 250)], np.uint8)
    assert (rgb_ok(load_rgb(tmp_path / f"plain.{fmt}")) == colours[idx]).all()
    pal.save(tmp_path / f"clear.{fmt}", transparency=0)  # index 0 fully transparent
    assert Image.open(tmp_path / f"clear.{fmt}").mode == "P"
    want = colours[idx].copy()
    want[idx == 0] = WHITE
    assert (rgb_ok(load_rgb(tmp_path / f"clear.{fmt}")) == want).all()


def test_palette_with_partial_alpha_and_rgba_are_composited_over_white(tmp_path, Image):
    rgba = np.array([[[200, 100, 50, 0], [200, 100, 50, 128], [200, 100, 50, 255],
                      [0, 0, 0, 77]]], np.uint8)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "cutout.png")
    got = rgb_ok(load_rgb(tmp_path / "cutout.png"))
    assert (got[0] == over_white(rgba[0, :, :3], rgba[0, :, 3:])).all()
    assert got[0, 0].tolist() == [255, 255, 255] and got[0, 2].tolist() == [200, 100, 50]
    pal = Image.fromarray(np.array([[0, 1]], np.uint8), "P")
    pal.putpalette([200, 100, 50, 0, 0, 0] + [0] * 762)
    pal.save(tmp_path / "pa.png", transparency=bytes([128, 255]))  # per-entry alpha (tRNS)
    assert load_rgb(tmp_path / "pa.png")[0].tolist() == [over_white((200, 100, 50), 128).tolist(),
                                                         [0, 0, 0]]


def test_sixteen_bit_grey_png_is_scaled_not_clipped(tmp_path, Image, cv2):
    a8 = np.arange(256, dtype=np.uint8).reshape(8, 32)
    wobble = np.random.default_rng(2).integers(-128, 128, a8.shape)  # under half an 8-bit level
    a16 = np.clip(a8.astype(np.int64) * 257 + wobble, 0, 65535).astype(np.uint16)
    p = tmp_path / "grey16.png"
    assert cv2.imwrite(str(p), a16)
    with Image.open(p) as im:
        assert im.mode == "I;16"
        assert (np.asarray(im.convert("RGB")) == 255).mean() > 0.9  # the trap: plain convert clips
    got = rgb_ok(load_rgb(p))
    assert (got == a8[..., None]).all()


def test_sixteen_bit_colour_png_matches_its_eight_bit_version(tmp_path, Image, cv2):
    rng = np.random.default_rng(3)
    rgb8 = rng.integers(0, 256, (16, 24, 3), np.uint8)
    exact = rgb8.astype(np.uint16) * 257
    wobbly = np.clip(exact.astype(np.int64) + rng.integers(-128, 128, rgb8.shape), 0, 65535)
    for name, rgb16 in (("exact", exact), ("wobbly", wobbly.astype(np.uint16))):
        p = tmp_path / f"{name}16.png"
        assert cv2.imwrite(str(p), rgb16[..., ::-1])  # OpenCV writes BGR
        with Image.open(p) as im:
            assert im.mode == "RGB"  # Pillow keeps the high byte of each 16-bit sample
        got = rgb_ok(load_rgb(p)).astype(int)
        assert np.abs(got - rgb8).max() <= (0 if name == "exact" else 1), name
    alpha8 = np.array([0, 128, 255] * 8, np.uint8)[None].repeat(16, 0)
    p = tmp_path / "rgba16.png"
    bgra16 = np.concatenate([exact[..., ::-1], (alpha8.astype(np.uint16) * 257)[..., None]], axis=2)
    assert cv2.imwrite(str(p), bgra16)
    got = rgb_ok(load_rgb(p)).astype(int)
    assert np.abs(got - over_white(rgb8, alpha8[..., None])).max() <= 1


def test_wide_integer_and_float_grey_files(tmp_path, Image, cv2):
    a8 = np.arange(256, dtype=np.uint8).reshape(16, 16)
    Image.fromarray(a8.astype(np.int32) * 257).save(tmp_path / "i32.tif")
    assert Image.open(tmp_path / "i32.tif").mode == "I"
    assert (rgb_ok(load_rgb(tmp_path / "i32.tif")) == a8[..., None]).all()
    assert cv2.imwrite(str(tmp_path / "g16.pgm"), a8.astype(np.uint16) * 257)
    assert Image.open(tmp_path / "g16.pgm").mode == "I"
    assert (rgb_ok(load_rgb(tmp_path / "g16.pgm")) == a8[..., None]).all()
    Image.fromarray(a8.astype(np.float32) / 255).save(tmp_path / "f.tif")
    assert Image.open(tmp_path / "f.tif").mode == "F"
    assert (rgb_ok(load_rgb(tmp_path / "f.tif")) == a8[..., None]).all()
    Image.fromarray(np.array([[0, 70000]], np.int32)).save(tmp_path / "wide.tif")
    refused(tmp_path / "wide.tif", r"wide\.tif holds grey levels 0\.\.70000, outside 16 bits; save it")
    Image.fromarray(np.array([[0.5, np.nan]], np.float32)).save(tmp_path / "nan.tif")
    refused(tmp_path / "nan.tif", r"nan\.tif holds NaN or infinite values")


def test_animated_gif_gives_its_first_frame(tmp_path, Image):
    frames = [Image.new("RGB", (4, 4), c) for c in (RED, BLUE)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=100)
    assert (rgb_ok(load_rgb(tmp_path / "anim.gif")) == RED).all()


# ---------------------------------------------------------------------- EXIF orientation
def upright_pattern() -> np.ndarray:
    """[48, 80, 3]: red top-left, green top-right, blue bottom-left, white bottom-right."""
    p = np.zeros((48, 80, 3), np.uint8)
    p[:24, :40], p[:24, 40:], p[24:, :40], p[24:, 40:] = RED, GREEN, BLUE, WHITE
    return p


STORED_AS = {  # how a camera stores the upright picture P for each EXIF Orientation value
    1: lambda p: p,
    2: lambda p: p[:, ::-1],                       # mirrored left-right
    3: lambda p: p[::-1, ::-1],                    # upside down
    4: lambda p: p[::-1],                          # mirrored top-bottom
    5: lambda p: p.transpose(1, 0, 2),             # mirrored along the main diagonal
    6: lambda p: np.rot90(p, 1),                   # sensor turned: shown turned 90° clockwise
    7: lambda p: p[::-1, ::-1].transpose(1, 0, 2),  # mirrored along the other diagonal
    8: lambda p: np.rot90(p, -1),                  # shown turned 90° anticlockwise
}


@pytest.mark.parametrize("orientation", [1, 2, 3, 4, 5, 6, 7, 8])
def test_exif_rotated_phone_photo_comes_out_upright(tmp_path, Image, orientation):
    upright = upright_pattern()
    stored = np.ascontiguousarray(STORED_AS[orientation](upright))
    exif = Image.Exif()
    exif[0x0112] = orientation
    p = tmp_path / f"phone{orientation}.jpg"
    Image.fromarray(stored).save(p, quality=95, exif=exif)
    with Image.open(p) as im:
        assert im.getexif()[0x0112] == orientation and im.size == stored.shape[1::-1]
    got = rgb_ok(load_rgb(p))
    assert got.shape == (48, 80, 3)
    for (y, x), colour in zip([(12, 20), (12, 60), (36, 20), (36, 60)], (RED, GREEN, BLUE, WHITE)):
        np.testing.assert_allclose(got[y, x], colour, atol=12, err_msg=f"at {(y, x)}")


def test_exif_orientation_six_by_hand(tmp_path, Image):
    """Orientation 6 spelled out: the stored top row becomes the right-hand column."""
    stored = np.zeros((40, 64, 3), np.uint8)
    stored[:16] = RED                      # a red band along the stored top edge
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(stored).save(tmp_path / "six.jpg", quality=95, exif=exif)
    got = rgb_ok(load_rgb(tmp_path / "six.jpg"))
    assert got.shape == (64, 40, 3)        # portrait now
    assert got[32, 32].tolist() == pytest.approx(RED, abs=12)   # right-hand side: red
    assert got[32, 8].tolist() == pytest.approx((0, 0, 0), abs=12)


# ---------------------------------------------------------------------- arrays
def test_grey_and_rgb_arrays_are_returned_as_new_contiguous_rgb():
    grey = np.array([[0, 7], [128, 255]], np.uint8)
    for a in (grey, grey[..., None]):
        assert (rgb_ok(load_rgb(a)) == grey[..., None]).all()
    rgb = np.random.default_rng(4).integers(0, 256, (5, 6, 3), np.uint8)
    view = rgb[:, ::-1]                                 # not contiguous
    got = rgb_ok(load_rgb(view))
    assert (got == view).all() and not np.shares_memory(got, rgb)
    same = load_rgb(rgb)
    assert (same == rgb).all() and not np.shares_memory(same, rgb)
    assert (rgb_ok(load_rgb(np.array([[True, False]]))) == [[WHITE, (0, 0, 0)]]).all()
    assert (load_rgb(np.array([[3, 250]], np.int64)) == [[3] * 3, [250] * 3]).all()


def test_rgba_arrays_are_composited_over_white():
    alpha = np.array([0, 1, 127, 128, 254, 255], np.uint8)
    rgba = np.zeros((1, 6, 4), np.uint8)
    rgba[..., :3] = (200, 100, 50)
    rgba[..., 3] = alpha
    got = rgb_ok(load_rgb(rgba))
    assert (got[0] == over_white((200, 100, 50), alpha[:, None])).all()
    assert got[0, 0].tolist() == [255, 255, 255] and got[0, -1].tolist() == [200, 100, 50]
    f = load_rgb(rgba.astype(np.float32) / 255.0)      # float RGBA: the same
    assert (f == got).all()


def test_sixteen_bit_and_float_arrays_are_scaled():
    a8 = np.arange(256, dtype=np.uint8).reshape(16, 16)
    assert (load_rgb(a8.astype(np.uint16) * 257) == a8[..., None]).all()
    assert load_rgb(np.array([[128, 129, 65535]], np.uint16))[0, :, 0].tolist() == [0, 1, 255]
    rgba16 = np.array([[[65535, 0, 0, 0], [0, 65535, 0, 65535]]], np.uint16)
    assert load_rgb(rgba16).tolist() == [[list(WHITE), list(GREEN)]]
    f = np.array([[0.0, 0.25, 0.5, 1.0, 1.005, -0.005]])
    assert load_rgb(f)[0, :, 0].tolist() == [0, 64, 128, 255, 255, 0]
    assert (load_rgb(a8.astype(np.float32) / 255) == a8[..., None]).all()
    # Float 0..255 (a common slip) is taken as 8-bit levels.
    assert load_rgb(np.array([[0.0, 100.4, 255.0]]))[0, :, 0].tolist() == [0, 100, 255]


def test_bad_arrays_are_refused():
    refused(np.zeros((4, 4, 4, 4)), r"the image array has shape \(4, 4, 4, 4\); give one picture "
                                    r"as \[H, W\], \[H, W, 1\], \[H, W, 3\] \(RGB\) or \[H, W, 4\] \(RGBA\)")
    refused(np.zeros((4, 4, 2), np.uint8), r"shape \(4, 4, 2\); .*\[H, W\]")
    refused(np.zeros((0, 4, 3), np.uint8), r"shape \(0, 4, 3\); .*\[H, W\]")
    refused(np.zeros(5, np.uint8), r"shape \(5,\); .*\[H, W\]")
    for bad in (np.nan, np.inf, -np.inf):
        refused(np.array([[0.5, bad]]), "the image array holds NaN or infinite values")
    refused(np.array([[-1.0, 1.0]]), r"holds floats -1\.\.1; scale them to 0\.\.1 first")
    refused(np.array([[0.0, 1000.0]]), r"holds floats 0\.\.1000; scale them to 0\.\.1 first")
    refused(np.array([[0, 300]], np.int32), r"holds integers 0\.\.300; give 8-bit levels 0\.\.255")
    refused(np.array([[-5, 3]], np.int16), r"holds integers -5\.\.3")
    refused(np.array([["a", "b"]]), r"the image array has dtype <U1; give numbers: uint8, uint16 or float")
    refused(np.zeros((2, 2), complex), "has dtype complex128; give numbers")
    refused(np.zeros((2, MAX_SIDE_PX + 1), np.uint8),
            r"the image array is 8001x2 px, over the 8000 px limit on a side; resize it to at most 8000 px")
    assert load_rgb(np.zeros((2, MAX_SIDE_PX), np.uint8)).shape == (2, MAX_SIDE_PX, 3)
    refused(12, r"an image must be a file path or a numpy array, got int")


# ---------------------------------------------------------------------- one loader
def test_the_emotion_photo_module_reexports_the_one_loader():
    from visemo.emotion import photo
    from visemo.image import load_rgb as the_loader

    assert photo.load_rgb is the_loader and photo.ImageError is ImageError
    assert issubclass(ImageError, PromptError)
