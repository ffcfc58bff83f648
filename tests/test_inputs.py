"""User inputs for text-render: a photo folder with a corrupt file, a Parquet of captioned photos,
and a text corpus. Bad inputs become rejected rows with reasons; nothing crashes the run."""

from __future__ import annotations

import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
from click.testing import CliRunner
from PIL import Image
from skimage import data

from synth.cli.main import cli
from synth.validate import validate

PHOTO_ONLY = [
    "render.backgrounds={photo: 1}",
    "runtime.unit_size=4",
    "render.sizes=[[512,512]]",
    "verify.full_pass_every=0",
]


def _run(out, num, sets, *extra):
    args = ["text-render", "--num", str(num), "--out", str(out), "--quiet", "--no-preview", *extra]
    for s in sets:
        args += ["--set", s]
    return CliRunner().invoke(cli, args)


def _jpeg(array) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def test_corrupt_photo_rejects_rows_not_the_run(tmp_path, ray_session):
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "a_good.jpg").write_bytes(_jpeg(data.coffee()))
    (photos / "b_broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    out = tmp_path / "o"
    result = _run(out, 12, PHOTO_ONLY, "--images", str(photos))
    assert result.exit_code == 0, result.output
    rejected = pq.read_table(out / "rejected").to_pylist()
    reasons = {r["reason"] for r in rejected}
    assert "decode_error" in reasons
    assert all("b_broken.jpg" in r["detail"] for r in rejected if r["reason"] == "decode_error")
    kept = pq.read_table(out / "data").to_pylist()
    assert kept and all(json.loads(r["spec"])["background"]["ref"] == "a_good.jpg" for r in kept)
    assert validate(str(out)).ok


def test_parquet_photos_with_captions_and_a_corpus(tmp_path, ray_session):
    table = pa.table(
        {
            "image": [{"bytes": _jpeg(data.rocket()), "path": "rocket.jpg"}],
            "caption": ["a rocket standing on its launch pad"],
        }
    )
    pq.write_table(table, tmp_path / "photos.parquet")
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("Midnight Noodle Bar\nFresh Bread Daily\n夜市小吃街\n春季读书会\n", encoding="utf-8")
    out = tmp_path / "o"
    sets = [*PHOTO_ONLY, "sources.corpus_share=1.0", "render.languages={en: 1}"]
    result = _run(out, 8, sets, "--images", str(tmp_path / "photos.parquet"), "--corpus", str(corpus))
    assert result.exit_code == 0, result.output
    rows = pq.read_table(out / "data").to_pylist()
    assert rows
    for r in rows:
        assert "a rocket standing on its launch pad" in r["instruction"]
        for t in r["texts"]:  # every drawn line comes from an English corpus line
            assert any(t["text"] in line for line in ("Midnight Noodle Bar", "Fresh Bread Daily")), t["text"]
