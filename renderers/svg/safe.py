"""Render SVG that may be hostile: the only door through which SVG becomes pixels.

SVG is a document format that can reach outside itself: ``<image href="file:///etc/passwd">``,
``<use href="http://...">``, CSS ``@import``, XML entities that expand a kilobyte into gigabytes,
a ``width`` of a million pixels. Every SVG, our generators' included, goes through
:func:`sanitize` and :class:`SvgRenderer`:

* parsing with defusedxml: entity declarations and external entities are refused, so entity
  expansion cannot start (a bare DOCTYPE, as Graphviz writes, is fine);
* references: only in-document ones (``#id``) and ``data:`` images pass; anything else is refused
  (the row is ``unsafe_input``), and cairosvg's own fetcher refuses everything but ``data:``;
* scripts, foreign objects and ``on*`` event attributes are stripped (cairosvg ignores them, but
  a stored ``program`` must not carry them to a browser);
* size: the output and every embedded raster are capped in pixels;
* time: untrusted SVG renders in a child process that is killed after ``timeout`` seconds.
"""

from __future__ import annotations

import base64
import binascii
import io
import multiprocessing
import re
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from xml.etree.ElementTree import Element, register_namespace, tostring

import numpy as np
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring
from PIL import Image

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
MAX_BYTES = 4_000_000
MAX_PIXELS = 16_000_000  # output and embedded images alike


def serialize(root: Element) -> bytes:
    """UTF-8 bytes of an SVG tree with plain ``<svg>`` tags. The prefixes live in ElementTree's
    process-wide table, which other libraries rewrite on import (svgpathtools, which build123d
    imports, maps the SVG namespace to ``svg:``), so they are set again right before writing."""
    register_namespace("", SVG_NS)  # plain <svg>, not <ns0:svg> or <svg:svg>
    register_namespace("xlink", XLINK_NS)
    return tostring(root, encoding="utf-8")


STRIPPED = {"script", "foreignObject", "iframe", "embed", "object", "audio", "video", "handler", "listener"}
DATA_IMAGE = re.compile(r"^data:image/(png|jpeg|jpg|gif|webp);base64,", re.I)
_URL = re.compile(r"url\(\s*['\"]?\s*([^)'\"\s]*)", re.I)
_UNITS = {"": 1.0, "px": 1.0, "pt": 96 / 72, "pc": 16.0, "mm": 96 / 25.4, "cm": 96 / 2.54, "in": 96.0}


class SvgError(ValueError):
    """An SVG that cannot be drawn; ``reason`` is the row's reason code."""

    reason = "render_error"


class UnsafeSvg(SvgError):
    reason = "unsafe_input"


class SvgTimeout(SvgError):
    reason = "render_timeout"


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def _check_reference(value: str, max_pixels: int) -> None:
    value = value.strip()
    if not value or value.startswith("#"):
        return
    if not DATA_IMAGE.match(value):
        raise UnsafeSvg(f"external reference refused: {value[:80]!r} (only #id and data:image URIs pass)")
    try:
        raw = base64.b64decode(value.split(",", 1)[1], validate=False)
        with Image.open(io.BytesIO(raw)) as im:
            w, h = im.size
    except (binascii.Error, OSError, Image.DecompressionBombError) as e:
        raise UnsafeSvg(f"embedded image does not decode: {e}") from e
    if w * h > max_pixels:
        raise UnsafeSvg(f"embedded image of {w}x{h} pixels exceeds the cap of {max_pixels}")


def _check_css(text: str, max_pixels: int) -> None:
    if "@import" in text.lower():
        raise UnsafeSvg("CSS @import refused")
    for ref in _URL.findall(text):
        _check_reference(ref, max_pixels)


def _length(value: str | None) -> float | None:
    if value is None:
        return None
    m = re.fullmatch(r"\s*([0-9.eE+-]+)\s*([a-z%]*)\s*", value)
    if not m or m.group(2) not in _UNITS:
        return None  # percentages and ems: the viewBox decides
    try:
        return float(m.group(1)) * _UNITS[m.group(2)]
    except ValueError:
        return None


def intrinsic_size(root: Element) -> tuple[float, float]:
    """Width and height in CSS pixels, from width/height or the viewBox."""
    w, h = _length(root.get("width")), _length(root.get("height"))
    box = root.get("viewBox")
    if (w is None or h is None) and box:
        parts = [float(p) for p in re.split(r"[\s,]+", box.strip()) if p]
        if len(parts) == 4:
            w = w if w is not None else parts[2]
            h = h if h is not None else parts[3]
    if w is None or h is None or not (w > 0 and h > 0):
        raise SvgError("the SVG has no usable width/height or viewBox")
    return w, h


def parse(svg: str | bytes, max_bytes: int = MAX_BYTES) -> Element:
    """Parse with entities refused; the root must be ``<svg>``."""
    data = svg.encode() if isinstance(svg, str) else svg
    if len(data) > max_bytes:
        raise UnsafeSvg(f"SVG of {len(data)} bytes exceeds the cap of {max_bytes}")
    try:
        root = fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as e:
        raise UnsafeSvg(f"XML feature refused: {type(e).__name__}") from e
    except ParseError as e:
        raise SvgError(f"not well-formed XML: {e}") from e
    if _local(root.tag) != "svg":
        raise SvgError(f"root element is <{_local(root.tag)}>, not <svg>")
    return root


def clean(root: Element, max_pixels: int = MAX_PIXELS) -> Element:
    """Strip scripts, foreign objects and event handlers; refuse external references (in place)."""
    for parent in list(root.iter()):
        for child in list(parent):
            if not isinstance(child.tag, str) or _local(child.tag) in STRIPPED:
                parent.remove(child)
    for el in root.iter():
        for key in list(el.attrib):
            name = _local(key).lower()
            if name.startswith("on"):
                del el.attrib[key]
            elif name in ("href", "src"):
                _check_reference(el.attrib[key], max_pixels)
            elif "url(" in el.attrib[key].lower():
                _check_css(el.attrib[key], max_pixels)
        if _local(el.tag) == "style" and el.text:
            _check_css(el.text, max_pixels)
    return root


def sanitize(svg: str | bytes, max_pixels: int = MAX_PIXELS, max_bytes: int = MAX_BYTES) -> bytes:
    """The SVG as safe bytes (raises :class:`UnsafeSvg` or :class:`SvgError`)."""
    root = clean(parse(svg, max_bytes), max_pixels)
    w, h = intrinsic_size(root)
    if w * h > max_pixels:
        raise UnsafeSvg(f"SVG of {w:.0f}x{h:.0f} pixels exceeds the cap of {max_pixels}")
    return serialize(root)


def _refuse_fetch(url: str, *args, **kwargs):
    """cairosvg's fetcher: only data: URIs (already checked by :func:`clean`) are resolved."""
    from cairosvg.url import fetch

    if not url.startswith("data:"):
        raise UnsafeSvg(f"external reference refused: {url[:80]!r}")
    return fetch(url, *args, **kwargs)


def _rasterize(data: bytes, width: int | None, height: int | None) -> np.ndarray:
    from cairosvg.surface import PNGSurface

    png = PNGSurface.convert(  # svg2png itself does not pass a url_fetcher through
        bytestring=data,
        output_width=width,
        output_height=height,
        unsafe=False,
        url_fetcher=_refuse_fetch,
    )
    with Image.open(io.BytesIO(png)) as im:
        return np.asarray(im.convert("RGBA"))


def over_white(rgba: np.ndarray) -> np.ndarray:
    """RGB of an RGBA image composited on white."""
    a = rgba[..., 3:4].astype(np.float32) / 255.0
    rgb = rgba[..., :3].astype(np.float32) * a + 255.0 * (1 - a)
    return np.round(rgb).astype(np.uint8)


class SvgRenderer:
    """Sanitises and rasterises SVG. With ``timeout`` set, rasterising happens in a child process
    (spawned once, reused, killed and respawned when a drawing runs past the timeout), so a
    pathological SVG costs a timeout, never the worker."""

    def __init__(self, timeout: float | None = None, max_pixels: int = MAX_PIXELS):
        self.timeout = timeout
        self.max_pixels = max_pixels
        self._pool: ProcessPoolExecutor | None = None

    def rgba(self, svg: str | bytes, width: int | None = None, height: int | None = None) -> np.ndarray:
        data = sanitize(svg, self.max_pixels)
        if width and height and width * height > self.max_pixels:
            raise UnsafeSvg(f"output of {width}x{height} pixels exceeds the cap of {self.max_pixels}")
        if self.timeout is None:
            return self._call(data, width, height)
        if self._pool is None:
            self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        future = self._pool.submit(_rasterize, data, width, height)
        try:
            return future.result(timeout=self.timeout)
        except FutureTimeout:
            self.close()
            raise SvgTimeout(f"rendering ran past {self.timeout} s") from None
        except BrokenProcessPool as e:
            self.close()
            raise SvgError(f"the renderer process died: {e}") from e
        except Exception as e:  # noqa: BLE001 - cairosvg's errors are many and untyped
            if isinstance(e, SvgError):
                raise
            raise SvgError(f"cairosvg: {type(e).__name__}: {e}") from e

    def rgb(self, svg: str | bytes, width: int | None = None, height: int | None = None) -> np.ndarray:
        return over_white(self.rgba(svg, width, height))

    @staticmethod
    def _call(data: bytes, width: int | None, height: int | None) -> np.ndarray:
        try:
            return _rasterize(data, width, height)
        except SvgError:
            raise
        except Exception as e:  # noqa: BLE001 - cairosvg's errors are many and untyped
            raise SvgError(f"cairosvg: {type(e).__name__}: {e}") from e

    def close(self) -> None:
        if self._pool is not None:
            for proc in list(getattr(self._pool, "_processes", {}).values()):
                proc.kill()
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def __getstate__(self):  # a stage holding a renderer pickles without its child process
        return {"timeout": self.timeout, "max_pixels": self.max_pixels, "_pool": None}


def isolate(svg: str | bytes, keep: set[str]) -> bytes:
    """The same SVG drawing only the elements whose ``id`` is in ``keep`` (with their children),
    plus definitions and the containers above them: rasterised, its alpha is exactly where those
    elements put paint. Edit masks and label boxes come from this."""
    root = parse(svg)

    def prune(el: Element) -> bool:  # True when el should stay
        if el.get("id") in keep:
            return True
        if _local(el.tag) in ("defs", "style", "clipPath", "marker", "linearGradient", "radialGradient"):
            return True
        kept = [c for c in list(el) if prune(c)]
        for c in list(el):
            if c not in kept:
                el.remove(c)
        return bool(kept)

    for child in list(root):
        if not prune(child):
            root.remove(child)
    return serialize(root)


def alpha_box(rgba: np.ndarray) -> list[float] | None:
    """[x0, y0, x1, y1] of the painted pixels, or None where nothing is painted."""
    ys, xs = np.nonzero(rgba[..., 3])
    if not len(xs):
        return None
    return [float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)]
