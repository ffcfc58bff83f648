"""``synth caption`` on real text-render rows against a local VLM test server: the image arrives as
a decodable data URI, captions are stored by style, bad answers are retried then rejected."""

from __future__ import annotations

import base64
import io
import json

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from PIL import Image

from synth.cli.main import cli
from tests.cli_runner import invoke

SIZES: list = []


def caption(body: dict) -> str:
    """Decodes the image it was sent; "people" on even widths; with STRICT in the system prompt the
    human-centric caption is left empty although people are present (an invalid answer)."""
    part = body["messages"][-1]["content"][0]
    header, b64 = part["image_url"]["url"].split(",", 1)
    assert header == "data:image/jpeg;base64"
    with Image.open(io.BytesIO(base64.b64decode(b64))) as im:
        SIZES.append(im.size)
    people = im.size[0] % 2 == 0
    answer = {"concise": f"A poster, {im.size[0]} px wide.", "dense": "Text on a background.", "people_present": people,
              "human_centric": "A person reads it." if people else ""}  # fmt: skip
    if "STRICT" in body["messages"][0]["content"]:
        answer["human_centric"] = ""
    return json.dumps(answer)


@pytest.fixture(scope="module")
def server(fake_llm):
    return fake_llm(caption, "fake-vlm", usage=(700, 40))


@pytest.fixture(scope="module")
def images(tmp_path_factory, ray_session, text_cfg_sets):
    out = tmp_path_factory.mktemp("caption") / "text"
    sets = [a for s in text_cfg_sets for a in ("--set", s)]
    result = invoke("text-render", "--num", "6", "--out", str(out), "--quiet", "--no-preview", *sets)
    assert result.exit_code == 0, result.output
    return out


def test_captions_by_style(images, server, tmp_path):
    out = tmp_path / "cap"
    args = ["caption", "--input", str(images), "--out", str(out), "--quiet", "--set", f"llm.base_url={server}",
            "--set", "max_side=256", "--set", f"llm.cache_dir={tmp_path / 'c'}"]  # fmt: skip
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert CliRunner().invoke(cli, ["validate", str(out)]).exit_code == 0
    rows = pq.read_table(out / "data").to_pylist()
    assert len(rows) == pq.read_table(images / "data").num_rows
    assert all(max(s) <= 256 for s in SIZES)  # downscaled before sending
    for row in rows:
        styles = [c["style"] for c in row["captions"]]
        assert styles[:2] == ["concise", "dense"]
        width = int(row["captions"][0]["text"].split(", ")[1].split(" ")[0])
        assert ("human-centric" in styles) == (width % 2 == 0)
        assert json.loads(row["meta"])["caption"]["prompt"] == "caption/1"


def test_invalid_answers_are_llm_invalid_output(images, server, tmp_path):
    out = tmp_path / "strict"
    args = ["caption", "--input", str(images), "--out", str(out), "--quiet", "--set", f"llm.base_url={server}",
            "--set", "prompt=STRICT", "--set", "llm.retries=1", "--set", "llm.cache=false"]  # fmt: skip
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    errors = pq.read_table(out / "rejected").to_pylist()
    kept = pq.read_table(out / "data").num_rows
    assert kept + len(errors) == pq.read_table(images / "data").num_rows
    assert errors and all(r["status"] == "error" and r["reason"] == "llm_invalid_output" for r in errors)
    llm = json.loads((out / "run.json").read_text())["report"]["llm"]
    assert llm["failures"] == len(errors) and llm["requests_sent"] == kept + 2 * len(errors)


def test_retry_errors_samples_new_seeds(images, fake_llm, tmp_path):
    """A server that answers each image invalidly for the first three seeds it is asked with: the
    run ends every row llm_invalid_output (three tries); --retry-errors starts at the fourth seed
    (recorded in the cache), so every row is kept. Asking the old seeds again would fail again."""
    seen: dict[str, list[int]] = {}

    def picky(body: dict) -> str:
        image = body["messages"][-1]["content"][0]["image_url"]["url"]
        seeds = seen.setdefault(image, [])
        if body["seed"] not in seeds:
            seeds.append(body["seed"])
        valid = seeds.index(body["seed"]) >= 3
        return json.dumps({"concise": "A poster." if valid else "", "dense": "Text.", "people_present": False,
                           "human_centric": ""})  # fmt: skip

    url = fake_llm(picky, "picky-vlm")
    out = tmp_path / "retry"
    args = ["caption", "--input", str(images), "--out", str(out), "--quiet", "--no-preview",
            "--set", f"llm.base_url={url}", "--set", f"llm.cache_dir={tmp_path / 'c'}"]  # fmt: skip
    assert invoke(*args).exit_code == 0
    n = pq.read_table(images / "data").num_rows
    assert pq.read_table(out / "rejected").num_rows == n and pq.read_table(out / "data").num_rows == 0
    assert invoke(*args, "--retry-errors").exit_code == 0
    assert pq.read_table(out / "data").num_rows == n and pq.read_table(out / "rejected").num_rows == 0
    assert all(len(s) == 4 for s in seen.values())  # three failed seeds, then one new one
    assert CliRunner().invoke(cli, ["validate", str(out)]).exit_code == 0
