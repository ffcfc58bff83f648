"""``synth physics --documents`` against a local OpenAI-compatible test server whose answers range
from a good SVG to hostile ones: every page ends kept or rejected with its reason."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from PIL import Image, ImageDraw, ImageFont

from synth.cli.main import cli
from synth.schema import scores_of
from tests.cli_runner import invoke

GOOD = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480"><polygon points="80,400 560,400 560,150" fill="none" stroke="black"/>'
    '<rect x="300" y="230" width="70" height="45" fill="#ccd" transform="rotate(-27 335 252)"/>'
    '<text x="40" y="50" font-family="DejaVu Sans" font-size="22">m = 2 kg</text></svg>'
)
ANSWERS = {
    "incline": "Here is the figure:\n```svg\n" + GOOD + "\n```",
    "passwd": '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><image href="file:///etc/passwd" width="9" height="9"/></svg>',
    "laughs": '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;">]><svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><text>&b;</text></svg>',
    "huge": '<svg xmlns="http://www.w3.org/2000/svg" width="200000" height="200000"><rect width="9" height="9"/></svg>',
    "sorry": "Sorry, I cannot draw that.",
}


REQUESTS: list = []


def draw(body: dict) -> str:
    REQUESTS.append(body)
    prompt = body["messages"][-1]["content"][0]["text"].lower()
    return next((a for k, a in ANSWERS.items() if k in prompt), "no figure")


@pytest.fixture(scope="module")
def llm_url(fake_llm):
    return fake_llm(draw, "fake-physics-llm", usage=(120, 80))


def _page(words: str, figure: bool = True) -> Image.Image:
    page = Image.new("RGB", (1000, 1300), "white")
    d = ImageDraw.Draw(page)
    font = ImageFont.truetype("DejaVuSans.ttf", 34)
    d.text((60, 60), f"1. A block rests on an {words} plane.", font=font, fill="black")
    d.text((60, 120), "Find the friction force on it.", font=font, fill="black")
    if figure:
        d.polygon([(150, 900), (800, 900), (800, 450)], outline="black", width=5)
        d.rectangle([450, 560, 560, 660], outline="black", width=5)
    return page


@pytest.fixture(scope="module")
def documents(tmp_path_factory):
    folder = tmp_path_factory.mktemp("exam_pages")
    first = _page("incline")
    first.save(folder / "exam.pdf", save_all=True, append_images=[_page("passwd"), _page("laughs")])
    _page("huge").save(folder / "scan_huge.png")
    _page("sorry", figure=False).save(folder / "scan_sorry.png")
    Image.new("RGB", (600, 800), "white").save(folder / "blank.png")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 this is not a pdf")
    return folder, {
        "exam.pdf#p1": "kept", "exam.pdf#p2": "unsafe_input", "exam.pdf#p3": "unsafe_input",
        "scan_huge.png": "unsafe_input", "scan_sorry.png": "llm_invalid_output", "blank.png": "no_text_found",
        "broken.pdf#p1": "decode_error",
    }  # fmt: skip


def test_document_path_end_to_end(documents, llm_url, tmp_path, ray_session):
    folder, expected = documents
    out = tmp_path / "docs"
    args = ["physics", "--documents", str(folder), "--out", str(out), "--quiet", "--set", f"llm.base_url={llm_url}",
            "--set", "llm.retries=1", "--set", "llm.price_in_per_mtok=1.0", "--set", "llm.price_out_per_mtok=2.0",
            "--set", f"llm.cache_dir={tmp_path / 'cache'}"]  # fmt: skip
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    checked = CliRunner().invoke(cli, ["validate", str(out), "--json"])
    assert checked.exit_code == 0, checked.output
    rows = pq.read_table(out / "data").to_pylist() + pq.read_table(out / "rejected").to_pylist()
    assert len(rows) == len(expected)  # every page accounted for
    by_key = {json.loads(r["meta"])["key"]: r for r in rows}
    for key, outcome in expected.items():
        row = by_key[key]
        assert (row["status"] if outcome == "kept" else row["reason"]) == outcome, (
            key,
            row["reason"],
            row["detail"],
        )
    kept = by_key["exam.pdf#p1"]
    meta = json.loads(kept["meta"])
    assert meta["llm"] == {"model": "fake-physics-llm", "tokens_in": 120, "tokens_out": 80, "cost": 0.00028}
    assert kept["program"]["lang"] == "svg" and "m = 2 kg" in kept["program"]["source"]
    assert "incline" in kept["instruction"] and kept["aux_images"]  # the page's own figure, as reference
    assert any(t["text"] == "m = 2 kg" for t in kept["texts"]) and scores_of(kept)["label_ned_mean"] <= 0.25
    # The model saw the problem text, read by OCR from the rasterised PDF page.
    assert any("friction" in r["messages"][-1]["content"][0]["text"] for r in REQUESTS)
    assert json.loads(by_key["scan_sorry.png"]["meta"])["llm"]["tokens_in"] == 240  # asked twice
    llm = json.loads((out / "run.json").read_text())["report"]["llm"]
    # 4 pages with text and a figure answer once each (one is refused later, by the renderer),
    # the page without a figure is asked twice; the blank page and the broken PDF never reach the LLM.
    assert llm["requests_sent"] == 6 and llm["failures"] == 1 and llm["cache_hits"] == 0
    assert llm["tokens_in"] == 6 * 120 and llm["retries"] == 1
    # A rerun into a new folder sends only what was never answered validly.
    again = tmp_path / "again"
    result = invoke(*args[:4], str(again), *args[5:])
    assert result.exit_code == 0, result.output
    llm = json.loads((again / "run.json").read_text())["report"]["llm"]
    assert llm["cache_hits"] == 4 and llm["requests_sent"] == 2


def test_document_path_without_llm_says_so(documents, tmp_path):
    folder, _ = documents
    result = CliRunner().invoke(cli, ["physics", "--documents", str(folder), "--out", str(tmp_path / "x")])
    assert result.exit_code != 0
    assert "llm.base_url" in str(result.exception)
    down = CliRunner().invoke(
        cli,
        [
            "physics",
            "--documents",
            str(folder),
            "--out",
            str(tmp_path / "y"),
            "--set",
            "llm.base_url=http://127.0.0.1:9/v1",
        ],
    )
    assert down.exit_code != 0 and "does not answer" in str(down.exception)
