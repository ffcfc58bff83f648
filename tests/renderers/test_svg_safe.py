"""Untrusted SVG: every threat named in DESIGN.md is refused, stripped or cut short."""

from __future__ import annotations

import base64
import io
import time

import numpy as np
import pytest
from PIL import Image

from renderers.svg.safe import SvgError, SvgRenderer, SvgTimeout, UnsafeSvg, isolate, sanitize

OK = '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"><rect id="r" x="5" y="5" width="10" height="10" fill="red"/><circle id="c" cx="30" cy="15" r="5"/></svg>'


def _svg(body: str, extra: str = "") -> str:
    return f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="64" height="64"{extra}>{body}</svg>'


def _png(w: int, h: int) -> str:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (0, 128, 255)).save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def test_renders_plain_svg():
    img = SvgRenderer().rgb(OK)
    assert img.shape == (30, 40, 3)
    assert tuple(img[10, 10]) == (255, 0, 0) and tuple(img[0, 0]) == (255, 255, 255)


@pytest.mark.parametrize(
    "body",
    [
        '<image href="file:///etc/passwd" width="10" height="10"/>',
        '<image xlink:href="/etc/passwd" width="10" height="10"/>',
        '<use href="http://127.0.0.1:9/evil.svg#x"/>',
        '<rect width="5" height="5" fill="url(http://127.0.0.1:9/p.svg#g)"/>',
        '<style>@import url("file:///etc/passwd");</style>',
        '<rect width="5" height="5" style="fill: url(file:///tmp/x.svg#a)"/>',
        '<a href="javascript:alert(1)"><rect width="5" height="5"/></a>',
    ],
)
def test_external_references_are_refused(body):
    with pytest.raises(UnsafeSvg) as e:
        SvgRenderer().rgb(_svg(body))
    assert e.value.reason == "unsafe_input"


def test_internal_references_and_data_images_pass():
    body = (
        '<defs><linearGradient id="g"><stop offset="0" stop-color="red"/><stop offset="1" stop-color="blue"/></linearGradient></defs>'
        f'<rect width="32" height="64" fill="url(#g)"/><image x="32" width="32" height="64" href="{_png(4, 4)}"/>'
    )
    img = SvgRenderer().rgb(_svg(body))
    assert tuple(img[32, 48]) == (0, 128, 255)  # the embedded PNG was drawn


def test_embedded_image_bomb_is_refused():
    with pytest.raises(UnsafeSvg, match="exceeds"):
        SvgRenderer(max_pixels=1_000_000).rgb(
            _svg(f'<image width="10" height="10" href="{_png(2000, 1000)}"/>')
        )


def test_entity_expansion_is_refused():
    lol = (
        '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "lollollollollol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>&c;</text></svg>'
    )
    with pytest.raises(UnsafeSvg, match="EntitiesForbidden"):
        sanitize(lol)


def test_external_entity_is_refused():
    xxe = '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><text>&x;</text></svg>'
    with pytest.raises(UnsafeSvg):
        sanitize(xxe)


@pytest.mark.parametrize(
    "size", ['width="100000" height="100000"', 'viewBox="0 0 90000 90000"', 'width="5000in" height="5000in"']
)
def test_huge_dimensions_are_refused(size):
    with pytest.raises(UnsafeSvg, match="exceeds"):
        sanitize(f'<svg xmlns="http://www.w3.org/2000/svg" {size}><rect width="1" height="1"/></svg>')


def test_scripts_foreign_objects_and_handlers_are_stripped():
    body = (
        '<script>alert(1)</script><foreignObject width="9" height="9"><div xmlns="http://www.w3.org/1999/xhtml">x</div></foreignObject>'
        '<rect width="9" height="9" onload="alert(2)" onclick="x()"/>'
    )
    clean = sanitize(_svg(body)).decode()
    assert (
        "script" not in clean
        and "foreignObject" not in clean
        and "onload" not in clean
        and "onclick" not in clean
    )
    assert "<ns0:rect" in clean or "<rect" in clean


@pytest.mark.parametrize(
    "bad",
    [
        "not xml at all",
        "<svg",
        '<html xmlns="http://www.w3.org/1999/xhtml"/>',
        "<svg xmlns='http://www.w3.org/2000/svg'/>",
    ],
)
def test_bad_svg_is_a_render_error(bad):
    with pytest.raises(SvgError) as e:
        SvgRenderer().rgb(bad)
    assert e.value.reason == "render_error"


def test_use_bomb_times_out_and_the_renderer_recovers():
    # Each level draws the previous one ten times: 10^7 rectangles, a classic SVG denial of service.
    levels = ['<rect id="l0" width="1" height="1"/>']
    for i in range(1, 8):
        levels.append(
            f'<g id="l{i}">' + "".join(f'<use href="#l{i - 1}" x="{k}"/>' for k in range(10)) + "</g>"
        )
    bomb = _svg("<defs>" + "".join(levels) + '</defs><use href="#l7"/>')
    renderer = SvgRenderer(timeout=2.0)
    t0 = time.monotonic()
    with pytest.raises(SvgTimeout) as e:
        renderer.rgb(bomb)
    assert e.value.reason == "render_timeout" and time.monotonic() - t0 < 30
    assert renderer.rgb(OK).shape == (30, 40, 3)  # a fresh child process serves the next drawing
    renderer.close()


def test_isolate_keeps_only_the_named_elements():
    r = SvgRenderer()
    alpha = r.rgba(isolate(OK, {"c"}))[..., 3]
    assert alpha[15, 30] > 0 and alpha[10, 10] == 0
    assert not np.any(r.rgba(isolate(OK, set()))[..., 3])


def test_output_keeps_plain_tags_when_another_library_renames_the_namespace():
    """svgpathtools (imported by build123d) maps the SVG namespace to ``svg:`` process-wide; our
    output must not change with what else a worker imported."""
    from xml.etree.ElementTree import register_namespace

    register_namespace("svg", "http://www.w3.org/2000/svg")
    clean = sanitize(_svg('<rect width="9" height="9"/>')).decode()
    assert clean.startswith("<svg ") and "<rect " in clean and "svg:" not in clean
