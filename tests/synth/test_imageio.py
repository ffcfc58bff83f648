"""Decoding: every mode to RGB as displayed, bombs and garbage become reason codes."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from synth.imageio import DecodeError, decode, decode_image, encode_png, to_rgb


def save(img: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def test_png_round_trip_is_lossless_and_deterministic():
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 256, (17, 23, 3), dtype=np.uint8)
    data = encode_png(arr)
    assert data == encode_png(arr.copy())
    out = decode_image(data)
    assert out.dtype == np.uint8 and out.shape == (17, 23, 3)
    np.testing.assert_array_equal(out, arr)


def test_grayscale_becomes_rgb():
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    out = decode_image(save(Image.fromarray(gray, "L")))
    assert out.shape == (3, 4, 3)
    for c in range(3):
        np.testing.assert_array_equal(out[..., c], gray)


def test_rgba_is_composited_on_white():
    rgba = np.zeros((2, 3, 4), np.uint8)
    rgba[0, 0] = (255, 0, 0, 255)  # opaque red stays red
    rgba[0, 1] = (255, 0, 0, 0)  # transparent red becomes white
    rgba[0, 2] = (0, 0, 0, 128)  # half-transparent black becomes mid gray
    rgba[1, :] = (0, 0, 255, 0)
    out = decode_image(save(Image.fromarray(rgba, "RGBA")))
    assert out.shape == (2, 3, 3)
    assert tuple(out[0, 0]) == (255, 0, 0)
    assert tuple(out[0, 1]) == (255, 255, 255)
    assert all(abs(int(v) - 127) <= 2 for v in out[0, 2])
    assert (out[1] == 255).all()


def test_la_is_composited_on_white():
    la = Image.new("LA", (2, 1), (0, 0))
    la.putpixel((1, 0), (0, 255))
    out = decode_image(save(la))
    assert tuple(out[0, 0]) == (255, 255, 255)
    assert tuple(out[0, 1]) == (0, 0, 0)


def test_palette_image():
    img = Image.new("P", (4, 2))
    img.putpalette([0, 0, 0, 10, 200, 30] + [0] * (256 * 3 - 6))
    img.putpixel((1, 0), 1)
    out = decode_image(save(img))
    assert out.shape == (2, 4, 3)
    assert tuple(out[0, 1]) == (10, 200, 30)
    assert tuple(out[0, 0]) == (0, 0, 0)


def test_palette_with_transparency_is_composited_on_white():
    img = Image.new("P", (2, 1))
    img.putpalette([0, 0, 0, 200, 0, 0] + [0] * (256 * 3 - 6))
    img.putpixel((1, 0), 1)
    data = save(img, transparency=0)
    out = decode_image(data)
    assert tuple(out[0, 0]) == (255, 255, 255)
    assert tuple(out[0, 1]) == (200, 0, 0)


def test_16bit_grayscale_is_scaled_to_8bit():
    arr = np.array([[0, 1000], [30000, 65535]], dtype=np.uint16)
    img = Image.fromarray(arr)
    assert img.mode.startswith("I")
    out = decode_image(save(img))
    assert out.dtype == np.uint8 and out.shape == (2, 2, 3)
    assert out[0, 0, 0] == 0
    assert out[1, 1, 0] == 255
    assert 0 < out[0, 1, 0] < out[1, 0, 0] < 255
    assert (out[..., 0] == out[..., 1]).all() and (out[..., 1] == out[..., 2]).all()


def test_dark_16bit_image_stays_dark():
    arr = np.full((3, 3), 2570, dtype=np.uint16)  # 2570 / 257 = 10
    out = decode_image(save(Image.fromarray(arr)))
    assert (out == 10).all()


def test_decode_reports_what_was_converted():
    rgb = save(Image.new("RGB", (4, 3), (1, 2, 3)), "JPEG")
    assert decode(rgb).portable and decode(rgb).format == "JPEG"
    cmyk = decode(save(Image.new("CMYK", (4, 3)), "JPEG"))
    assert cmyk.mode == "CMYK" and not cmyk.portable
    assert not decode(save(Image.new("RGB", (4, 3)), "BMP")).portable
    exif = Image.Exif()
    exif[0x0112] = 6
    turned = decode(save(Image.new("RGB", (4, 3)), "JPEG", exif=exif.tobytes()))
    assert turned.transposed and not turned.portable and turned.pixels.shape == (4, 3, 3)


def test_exif_orientation_is_applied():
    arr = np.zeros((20, 40, 3), np.uint8)
    arr[:, :20] = (255, 0, 0)  # left half red
    img = Image.fromarray(arr)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    data = save(img, "JPEG", exif=exif.tobytes(), quality=95)
    assert Image.open(io.BytesIO(data)).size == (40, 20)
    out = decode_image(data)
    assert out.shape == (40, 20, 3)
    # after a clockwise turn, the stored left half is on top
    assert out[5, 10, 0] > 200 and out[5, 10, 2] < 60
    assert out[35, 10, 0] < 60


def test_cmyk_jpeg_becomes_rgb():
    img = Image.new("CMYK", (5, 4), (0, 0, 0, 0))
    out = decode_image(save(img, "JPEG"))
    assert out.shape == (4, 5, 3)
    assert out.min() > 240


def test_decompression_bomb():
    data = encode_png(np.zeros((40, 50, 3), np.uint8))
    with pytest.raises(DecodeError) as exc:
        decode_image(data, max_pixels=1000)
    assert exc.value.reason == "decompression_bomb"
    assert "50x40" in str(exc.value)
    assert decode_image(data, max_pixels=2000).shape == (40, 50, 3)


@pytest.mark.parametrize("data", [b"garbage bytes, not an image", b"", b"\x89PNG\r\n\x1a\n" + b"\x00" * 30])
def test_garbage_is_decode_error(data):
    with pytest.raises(DecodeError) as exc:
        decode_image(data)
    assert exc.value.reason == "decode_error"
    assert isinstance(exc.value, ValueError)


def test_truncated_png_is_decode_error():
    rng = np.random.default_rng(1)
    data = encode_png(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8))
    with pytest.raises(DecodeError) as exc:
        decode_image(data[: len(data) // 2])
    assert exc.value.reason == "decode_error"


def test_to_rgb_of_float_mode():
    img = Image.fromarray(np.array([[0.0, 1.0]], np.float32), "F")
    out = to_rgb(img)
    assert out.shape == (1, 2, 3) and out.dtype == np.uint8


def test_an_rgb_photo_is_decoded_once_and_its_array_made_on_first_use():
    """No copy of a decoded RGB JPEG without an EXIF turn (a copy per step cost more than the
    decode itself); the array, made only when asked, equals the image's pixels."""
    rng = np.random.default_rng(2)
    data = save(Image.fromarray(rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)), "JPEG", quality=90)
    img = decode(data)
    assert img.image.mode == "RGB" and img.image.size == (60, 40) and "pixels" not in vars(img)
    np.testing.assert_array_equal(img.pixels, np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))
    assert img.pixels is img.pixels


def test_exif_turn_in_place_keeps_the_reported_format_and_mode():
    exif = Image.Exif()
    exif[0x0112] = 3  # upside down: same size, so only the orientation says it was turned
    img = decode(save(Image.new("L", (5, 3), 40), "JPEG", exif=exif.tobytes()))
    assert img.transposed and img.format == "JPEG" and img.mode == "L" and img.image.mode == "RGB"
    assert img.pixels.shape == (3, 5, 3) and not img.portable
