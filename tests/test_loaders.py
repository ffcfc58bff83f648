"""Every domain's output loads where users load Parquet: Hugging Face ``datasets`` (without
streaming, images decoded through ``datasets.Image``), pandas, polars, DuckDB and Ray Data."""

from __future__ import annotations

import glob
import json

import pytest

from tests.cli_runner import invoke

DOMAINS = {  # name -> command line after the pipeline word (tiny, fast settings)
    "text_render": ["text-render", "--num", "4", "--set", "runtime.unit_size=2",
                    "--set", "render.sizes=[[384,384]]"],
    "text_edit": ["text-edit", "--num", "4", "--set", "runtime.unit_size=2"],
    "physics": ["physics", "--num", "4"],
    "cs_diagram": ["cs-diagram", "--num", "4"],
    "geometry": ["geometry", "--num", "4"],
    "meme": ["meme", "--num", "3", "--set", "stages=[detect,remove,render,verify]"],
}  # fmt: skip


@pytest.fixture(scope="module")
def outputs(tmp_path_factory, ray_session, fake_llm):
    """One small real output per domain, plus curation of photos and captions by a fake VLM."""
    from pipelines.curate.samples import write_sample_photos

    root = tmp_path_factory.mktemp("loaders")
    done = {}
    for name, args in DOMAINS.items():
        out = root / name
        result = invoke(*args, "--out", str(out), "--quiet", "--no-preview")
        assert result.exit_code == 0, result.output
        done[name] = out
    write_sample_photos(str(root / "photos"))
    result = invoke(
        "curate", "--input", str(root / "photos"), "--out", str(root / "curate"), "--quiet", "--no-preview"
    )
    assert result.exit_code == 0, result.output
    done["curate"] = root / "curate"
    answer = json.dumps({"concise": "A poster.", "dense": "Text on a plain background.",
                         "people_present": False, "human_centric": ""})  # fmt: skip
    url = fake_llm(lambda body: answer, "fake-vlm")
    out = root / "caption"
    result = invoke("caption", "--input", str(done["text_render"]), "--out", str(out), "--quiet", "--no-preview",
                    "--set", f"llm.base_url={url}", "--set", f"llm.cache_dir={root / 'cache'}")  # fmt: skip
    assert result.exit_code == 0, result.output
    done["caption"] = out
    return done


def _shards(out) -> list[str]:
    files = sorted(glob.glob(f"{out}/data/*.parquet"))
    assert files, f"{out} has no data shards"
    return files


@pytest.mark.parametrize("domain", [*DOMAINS, "curate", "caption"])
def test_loads_in_hf_datasets_without_streaming(outputs, domain, tmp_path, monkeypatch):
    datasets = pytest.importorskip("datasets")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    ds = datasets.load_dataset(
        "parquet", data_files=_shards(outputs[domain]), split="train", cache_dir=str(tmp_path)
    )
    assert ds.num_rows > 0
    listed = datasets.List if hasattr(datasets, "List") else datasets.Sequence
    ds = ds.cast_column("target_image", datasets.Image()).cast_column("source_image", datasets.Image())
    ds = ds.cast_column("aux_images", listed(datasets.Image()))
    row = ds[0]
    shown = row["source_image"] if row["task"] == "und" else row["target_image"]
    assert shown.size == (row["width"], row["height"])
    for image in [row["source_image"], *(row["aux_images"] or [])]:
        if image is not None:
            image.load()  # decodes
    assert all(isinstance(s["name"], str) and isinstance(s["value"], float) for s in row["scores"] or [])
    names = [s["name"] for s in row["scores"] or []]
    assert names == sorted(names)


@pytest.mark.parametrize("domain", [*DOMAINS, "curate", "caption"])
def test_loads_in_pandas_polars_duckdb_and_ray(outputs, domain, ray_session):
    import pandas as pd
    import pyarrow.parquet as pq

    files = _shards(outputs[domain])
    rows = pq.read_table(files).num_rows
    columns = pq.read_schema(files[0]).names
    frame = pd.concat([pd.read_parquet(f) for f in files])
    assert len(frame) == rows and list(frame.columns) == columns
    polars = pytest.importorskip("polars")
    pl = polars.read_parquet(files)
    assert pl.height == rows and pl.columns == columns
    duckdb = pytest.importorskip("duckdb")
    listing = "[" + ", ".join(f"'{f}'" for f in files) + "]"
    con = duckdb.connect()
    assert con.execute(f"SELECT count(*) FROM read_parquet({listing})").fetchone()[0] == rows
    named = con.execute(
        f"SELECT count(*) FROM (SELECT unnest(scores) AS s FROM read_parquet({listing})) WHERE s.name IS NOT NULL"
    ).fetchone()[0]
    assert named == sum(
        len(s or []) for s in pq.read_table(files, columns=["scores"]).column("scores").to_pylist()
    )
    import ray

    taken = ray.data.read_parquet(files).take_all()
    assert len(taken) == rows and set(taken[0]) == set(columns)
