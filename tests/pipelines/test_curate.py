"""``synth curate`` end to end on the shared local Ray: a folder of good, bad, duplicated and
near-duplicated photos built from scikit-image's bundled ones, Parquet and WebDataset inputs,
the model filters with random-weight models in their published formats, --rethreshold, --against."""

from __future__ import annotations

import io
import json
import os
import struct
import tarfile
import zlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from PIL import Image

from pipelines.curate.samples import write_sample_photos
from synth.cli.main import cli
from synth.imageio import decode_image
from synth.schema import scores_of
from synth.sources import PhotoPool
from synth.validate import validate
from tests.cli_runner import invoke


def curate(out, *inputs, sets=(), extra=()):
    args = ["curate", "--out", str(out), "--quiet", "--no-preview", *extra]
    for i in inputs:
        args += ["--input", str(i)]
    for s in sets:
        args += ["--set", s]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    return result.output


def rows_of(out) -> list[dict]:
    rows = []
    for folder in ("data", "rejected"):
        for shard in sorted((Path(out) / folder).glob("*.parquet")):
            rows += pq.read_table(shard).to_pylist()
    return rows


def by_path(out, root) -> dict[str, dict]:
    return {str(Path(r["target_image"]["path"]).relative_to(root)): r for r in rows_of(out)}


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    return folder, write_sample_photos(str(folder))


@pytest.fixture(scope="module")
def sample_run(samples, tmp_path_factory, ray_session):
    folder, _ = samples
    out = tmp_path_factory.mktemp("curated") / "out"
    output = curate(out, folder, sets=["runtime.unit_size=7"])
    return out, output


def test_sample_folder_keeps_and_rejects_exactly(samples, sample_run):
    folder, expected = samples
    out, output = sample_run
    rows = by_path(out, folder)
    assert set(rows) == set(expected)
    groups: dict[str, list[str]] = {}
    for path, want in expected.items():
        if want.startswith("group:"):
            groups.setdefault(want, []).append(path)
        else:
            assert (rows[path]["reason"] or "kept") == want, (path, rows[path]["detail"])
    by_id = {r["sample_id"]: r for r in rows.values()}
    for name, members in groups.items():
        kept = [p for p in members if rows[p]["status"] == "kept"]
        assert len(kept) == 1, (name, {p: rows[p]["reason"] for p in members})
        keeper = rows[kept[0]]
        for p in members:
            r = rows[p]
            if p == kept[0]:
                continue
            assert r["reason"] in ("duplicate_near", "duplicate_exact"), (p, r["reason"])
            assert r["dup_of"] == keeper["sample_id"] and by_id[r["dup_of"]]["status"] == "kept"
            # without aesthetic scores the representative is the smallest sample id
            assert keeper["sample_id"] < r["sample_id"] or r["reason"] == "duplicate_exact"
    exact = [p for p, r in rows.items() if r["reason"] == "duplicate_exact"]
    assert len(exact) == 1 and exact[0] in ("coffee.png", "copies/coffee_lossless.webp")
    assert "aesthetic filter off: set filters.clip.weights and filters.aesthetic.head" in output
    assert "watermark filter off" in output


def test_sample_output_is_valid_and_accounts_for_every_input(samples, sample_run):
    folder, expected = samples
    out, _ = sample_run
    result = validate(str(out))
    assert result.ok, result.problems
    c = result.counts
    assert c["kept"] + c["rejected"] + c["error"] == len(expected) == result.rows
    run = json.loads((out / "run.json").read_text())
    assert run["report"]["inputs"] == len(expected) and run["status"] == "complete"
    assert run["models"]["filters"]["nsfw"].startswith("off")
    assert run["decided"]["near_duplicate_groups"] == 4 and run["decided"]["exact_duplicates"] == 1


def test_rows_keep_original_bytes_and_measurements(samples, sample_run):
    folder, _ = samples
    out, _ = sample_run
    rows = by_path(out, folder)
    r = rows["gradient.png"]
    assert r["target_image"]["bytes"] == (folder / "gradient.png").read_bytes()  # a portable PNG: as is
    assert (r["width"], r["height"]) == (640, 480) and r["task"] == "image" and r["domain"] == "image"
    assert isinstance(r["phash"], int)
    meta = json.loads(r["meta"])
    assert meta["format"] == "PNG" and len(meta["pixel_sha256"]) == 64 and meta["converted"] is False
    assert rows["notes.jpg"]["target_image"]["bytes"] is None
    assert rows["notes.jpg"]["detail"] == "not an image format PIL can identify"


def test_rerun_is_a_no_op_and_resumes_lost_units(samples, sample_run, tmp_path):
    folder, _ = samples
    out, _ = sample_run
    before = {p.name: p.read_bytes() for p in (out / "data").glob("*.parquet")}
    (out / "_units" / "part-000001.json").unlink()
    (out / "_work" / "score" / "_units" / "part-000002.json").unlink()
    curate(out, folder, sets=["runtime.unit_size=7"])
    run = json.loads((out / "run.json").read_text())
    assert run["invocations"][-1]["units_run"] == 1  # only the scored unit that was lost
    # the rescored unit came out byte-identical, so its final shard stands: only the lost one is written
    assert run["decided"]["units_written"] == 1
    assert {p.name: p.read_bytes() for p in (out / "data").glob("*.parquet")} == before
    # another folder, another unit size: the same ids and bytes of every row
    other = tmp_path / "again"
    curate(other, folder, sets=["runtime.unit_size=5"])
    key = lambda r: r["sample_id"]  # noqa: E731
    a, b = sorted(rows_of(out), key=key), sorted(rows_of(other), key=key)
    assert [(r["sample_id"], r["status"], r["reason"], r["target_image"]["bytes"]) for r in a] == [
        (r["sample_id"], r["status"], r["reason"], r["target_image"]["bytes"]) for r in b
    ]


def test_changed_inputs_are_refused(tmp_path, ray_session):
    folder = tmp_path / "in"
    folder.mkdir()
    Image.fromarray(PhotoPool._skimage_pixels("coffee")).save(folder / "a.png")
    curate(tmp_path / "out", folder)
    Image.fromarray(PhotoPool._skimage_pixels("rocket")).save(folder / "b.png")
    result = CliRunner().invoke(
        cli, ["curate", "--input", str(folder), "--out", str(tmp_path / "out"), "--quiet"]
    )
    assert result.exit_code != 0 and "the inputs changed" in str(result.exception)
    assert "(1 entries then, 2 now)" in str(result.exception)


def test_against_an_earlier_output(samples, sample_run, tmp_path):
    folder, _ = samples
    out, _ = sample_run
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    Image.fromarray(PhotoPool._skimage_pixels("rocket")).resize((700, 467)).save(fresh / "rocket_again.png")
    Image.fromarray(PhotoPool._skimage_pixels("camera")).save(fresh / "camera.png")
    curate(tmp_path / "o", fresh, extra=["--against", str(out)])
    rows = by_path(tmp_path / "o", fresh)
    assert rows["camera.png"]["status"] == "kept"
    assert rows["rocket_again.png"]["reason"] == "duplicate_near"
    earlier = {r["sample_id"]: r for r in rows_of(out)}
    assert earlier[rows["rocket_again.png"]["dup_of"]]["status"] == "kept"
    assert "earlier output" in rows["rocket_again.png"]["detail"]


def _bomb_png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def _save(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def test_bad_and_unusual_inputs(tmp_path, ray_session):
    photo = PhotoPool._skimage_pixels("chelsea")  # 451x300
    folder = tmp_path / "in"
    folder.mkdir()
    exif = Image.Exif()
    exif[0x0112] = 6
    palette = Image.fromarray(photo).convert("P", palette=Image.ADAPTIVE, colors=64)
    files = {
        "zero.jpg": b"",
        "text.jpg": b"hello, I am text\n",
        "bomb.png": _bomb_png(50000, 50000),
        "truncated.jpg": _save(Image.fromarray(photo), "JPEG")[:2000],
        "cmyk.jpg": _save(Image.fromarray(photo).convert("CMYK"), "JPEG", quality=95),
        "deep.png": _save(Image.fromarray(photo[..., 0].astype(np.uint16) * 257), "PNG"),
        "palette.png": _save(palette, "PNG", transparency=0),
        "rotated.jpg": _save(Image.fromarray(photo), "JPEG", exif=exif.tobytes(), quality=95),
        "plain.webp": _save(Image.fromarray(photo), "WEBP", quality=90),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    hf = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    cells = [
        {"bytes": _save(Image.fromarray(photo[::-1]), "PNG"), "path": "x.png"},
        None,
        {"bytes": b"junk", "path": None},
    ]
    pq.write_table(pa.table({"image": pa.array(cells, hf)}), tmp_path / "rows.parquet")
    out = tmp_path / "out"
    curate(
        out,
        folder,
        tmp_path / "rows.parquet",
        sets=["filters.resolution.min_side=64", "filters.phash.enabled=false"],
    )
    rows = {r["target_image"]["path"].rsplit("/", 1)[-1]: r for r in rows_of(out)}
    reasons = {k: r["reason"] or "kept" for k, r in rows.items()}
    assert reasons == {
        "zero.jpg": "decode_error",
        "text.jpg": "decode_error",
        "bomb.png": "decompression_bomb",
        "truncated.jpg": "decode_error",
        "cmyk.jpg": "kept",
        "deep.png": "kept",
        "palette.png": "kept",
        "rotated.jpg": "kept",
        "plain.webp": "kept",
        "rows.parquet#0": "kept",
        "rows.parquet#1": "decode_error",
        "rows.parquet#2": "decode_error",
    }
    for name in ("cmyk.jpg", "deep.png", "palette.png", "rotated.jpg"):  # converted, stored as PNG
        r = rows[name]
        assert r["target_image"]["bytes"][:8] == b"\x89PNG\r\n\x1a\n" and json.loads(r["meta"])["converted"]
    assert (rows["rotated.jpg"]["width"], rows["rotated.jpg"]["height"]) == (300, 451)
    assert rows["plain.webp"]["target_image"]["bytes"] == files["plain.webp"]
    deep = decode_image(rows["deep.png"]["target_image"]["bytes"])
    assert abs(int(deep[..., 0].astype(int).mean()) - int(photo[..., 0].astype(int).mean())) <= 1
    assert (decode_image(rows["palette.png"]["target_image"]["bytes"]) >= 0).all()
    result = validate(str(out))
    assert result.ok and result.rows == 12 == sum(result.counts.values())


def _webdataset(path: Path, photos: list[str]) -> None:
    with tarfile.open(path, "w") as tar:
        for i, name in enumerate(photos):
            for ext, data in (
                ("jpg", _save(Image.fromarray(PhotoPool._skimage_pixels(name)), "JPEG", quality=92)),
                ("txt", f"a photo of {name}".encode()),
                ("json", json.dumps({"key": f"{i:09d}"}).encode()),
            ):
                info = tarfile.TarInfo(f"{i:09d}.{ext}")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))


def test_webdataset_and_parquet_inputs(tmp_path, ray_session):
    shards = tmp_path / "tars"
    shards.mkdir()
    _webdataset(shards / "00000.tar", ["astronaut", "coffee"])
    _webdataset(shards / "00001.tar", ["rocket", "astronaut"])  # the astronaut again: a duplicate
    pq.write_table(
        pa.table(
            {
                "img": [_save(Image.fromarray(PhotoPool._skimage_pixels("chelsea")), "PNG")],
                "caption": ["a cat"],
            }
        ),
        tmp_path / "p.parquet",
    )
    out = tmp_path / "out"
    curate(out, str(shards / "{00000..00001}.tar"), tmp_path / "p.parquet", extra=["--image-column", "img"])
    rows = rows_of(out)
    assert len(rows) == 5
    paths = {r["target_image"]["path"].rsplit("/", 1)[-1]: r for r in rows}
    assert set(paths) == {
        "00000.tar#000000000",
        "00000.tar#000000001",
        "00001.tar#000000000",
        "00001.tar#000000001",
        "p.parquet#0",
    }
    assert paths["00000.tar#000000001"]["captions"][0]["text"] == "a photo of coffee"
    assert paths["p.parquet#0"]["captions"][0]["text"] == "a cat"
    assert sorted(r["reason"] or "kept" for r in rows).count("duplicate_exact") == 1
    run = json.loads((out / "run.json").read_text())
    assert run["report"]["inputs"] == 5 and len(run["plan"]) == 3  # one unit per tar
    assert validate(str(out)).ok


def test_model_filters_score_every_image_and_rethreshold(
    samples, model_sets, tiny_models, tmp_path, ray_session
):
    import torch

    from filters.clip import ClipConfig, load_encoder
    from synth.models.heads import load_aesthetic_head

    folder, expected = samples
    out = tmp_path / "scored"
    output = curate(
        out,
        folder,
        sets=[*model_sets, "filters.aesthetic.min=-100", "filters.nsfw.max=1", "filters.watermark.max=1"],
    )
    assert "filter off" not in output
    phases = json.loads((out / "run.json").read_text())["invocations"][-1]["phase_seconds"]
    assert set(phases) == {"setup", "units", "finalize"} and phases["setup"] > 0  # models loaded
    rows = by_path(out, folder)
    decodable = [r for r in rows.values() if r["width"]]
    for r in decodable:  # every score, kept or not
        assert set(scores_of(r)) == {"aesthetic", "nsfw", "watermark"}, r["scores"]
    # the stored score is what the production loaders give for that image
    r = rows["gradient.png"]
    m = tiny_models
    encoder = load_encoder(
        ClipConfig(model=m["clip_model"], weights=m["clip"], model_json=m["clip_json"], device="cpu")
    )
    emb = torch.from_numpy(encoder.embed([decode_image(r["target_image"]["bytes"])]))
    with torch.no_grad():
        want = float(load_aesthetic_head(m["aesthetic"], encoder.dim)(emb)[0])
    assert scores_of(r)["aesthetic"] == pytest.approx(want, rel=1e-4, abs=1e-5)
    # group representatives are now the most aesthetic member
    for r in rows.values():
        if r["reason"] == "duplicate_near":
            rep = next(x for x in rows.values() if x["sample_id"] == r["dup_of"])
            assert scores_of(rep)["aesthetic"] >= scores_of(r)["aesthetic"]
    # re-decide with a real aesthetic threshold: no model runs, the stored scores decide
    kept = [scores_of(r)["aesthetic"] for r in rows.values() if r["status"] == "kept"]
    cut = float(np.median(kept))
    refused = CliRunner().invoke(cli, ["curate", "--input", str(folder), "--out", str(out), "--quiet",
                                       *sum((["--set", s] for s in model_sets), []), "--set", f"filters.aesthetic.min={cut}",
                                       "--set", "filters.nsfw.max=1", "--set", "filters.watermark.max=1"])  # fmt: skip
    assert refused.exit_code != 0 and "--rethreshold" in str(refused.exception)
    sets = [*model_sets, f"filters.aesthetic.min={cut}", "filters.nsfw.max=1", "filters.watermark.max=1"]
    curate(out, folder, sets=sets, extra=["--rethreshold"])
    run = json.loads((out / "run.json").read_text())
    assert run["invocations"][-1]["units_run"] == 0  # the scoring pass did not run again
    assert set(run["invocations"][-1]["phase_seconds"]) == {"finalize"}
    after = by_path(out, folder)
    for path, r in after.items():
        assert r["scores"] == rows[path]["scores"]
        if rows[path]["status"] == "kept":
            low = scores_of(r)["aesthetic"] < cut
            assert (r["reason"] == "low_aesthetic") == low
    assert any(r["reason"] == "low_aesthetic" for r in after.values())
    assert validate(str(out)).ok


def test_preview_shows_duplicates_beside_their_keeper(sample_run):
    from synth.preview import write_preview

    out, _ = sample_run
    page = Path(write_preview(str(out))).read_text()
    assert "kept instead:" in page and "duplicate_near" in page
    assert len(list((out / "preview" / "img").glob("*_rep.jpg"))) >= 1


GPU_CLUSTER_RUN = """
import json, sys
import ray
from pipelines.curate import PIPELINE
from synth.config import default_config_path, load_config
from synth.runner import run_pipeline

# a cluster that declares one GPU (its actors see CUDA_VISIBLE_DEVICES=0; torch finds no CUDA
# here, so the models run on the CPU) and eight CPUs: eight actors of a quarter GPU would not fit
ray.init(address="local", num_cpus=8, num_gpus=1, include_dashboard=False, logging_level="ERROR")
cfg = load_config(PIPELINE.config_model, default_config_path("curate"), json.loads(sys.argv[1]))
run = run_pipeline(PIPELINE, cfg, sys.argv[2], progress=False)
print(json.dumps({"status": run["status"], "counts": run["report"]["counts"]}))
"""


def test_model_actors_take_gpu_shares_and_start_only_as_many_as_fit(
    samples, model_sets, tmp_path, ray_session
):
    """With GPUs in the cluster each model actor takes runtime.gpus_per_worker of one, and only as
    many start as the GPU shares hold (four quarters of one GPU here, though eight CPUs are free):
    more would wait unplaced and the run would never start. Decoding, which asks for no GPU, runs
    on a pool of its own as Ray tasks at the same time as the models, and the output equals the
    one-pool path's (the CPU-only session Ray) byte for byte."""
    import subprocess
    import sys

    folder, expected = samples
    sets = [
        *model_sets,
        "runtime.gpus_per_worker=0.25",
        "runtime.unit_size=3",
        f"inputs={json.dumps([str(folder)])}",
    ]
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    done = subprocess.run(
        [sys.executable, "-c", GPU_CLUSTER_RUN, json.dumps(sets), str(tmp_path / "out")],
        capture_output=True, text=True, timeout=300, env=env, cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == "complete"
    assert sum(result["counts"].values()) == len(expected)
    assert validate(str(tmp_path / "out")).ok
    spans: dict[str, list[tuple[float, float, int]]] = {}
    for path in sorted((tmp_path / "out" / "_work" / "score" / "_units").glob("*.json")):
        manifest = json.loads(path.read_text())
        for seg in manifest["segments"]:
            spans.setdefault(seg["segment"], []).append((seg["start"], seg["end"], manifest["unit"]))
    assert set(spans) == {"decode", "clip+watermark+release", "commit"}, spans
    assert any(  # another unit's decoding ran while a model actor worked
        d0 < m1 and m0 < d1 and du != mu
        for d0, d1, du in spans["decode"]
        for m0, m1, mu in spans["clip+watermark+release"]
    ), spans
    curate(tmp_path / "one_pool", folder, sets=sets[:-1], extra=["--set", sets[-1]])
    for sub in ("data", "rejected", "_work/score/data", "_work/score/rejected"):
        ours = {p.name: p.read_bytes() for p in (tmp_path / "out" / sub).glob("*.parquet")}
        one = {p.name: p.read_bytes() for p in (tmp_path / "one_pool" / sub).glob("*.parquet")}
        assert ours and ours == one, sub


FRESH_PROCESS_RUN = """
import json, logging, sys
import psutil
from pipelines.curate import PIPELINE
from synth.config import default_config_path, load_config
from synth.runner import run_pipeline

lines = []
handler = logging.Handler()
handler.emit = lambda record: lines.append(record.getMessage())
logging.getLogger("synth.runner").addHandler(handler)
logging.getLogger("synth.runner").setLevel(logging.DEBUG)
cfg = load_config(PIPELINE.config_model, default_config_path("curate"), json.loads(sys.argv[1]))
run = run_pipeline(PIPELINE, cfg, sys.argv[2], progress=False)
ray_processes = psutil.Process().children(recursive=True)
print(json.dumps({"status": run["status"], "log": lines, "pids": [p.pid for p in ray_processes],
                  "commands": [" ".join(p.cmdline()) for p in ray_processes]}))
"""


def test_a_fresh_process_starts_a_lean_ray_works_while_it_starts_and_writes_the_same_bytes(
    samples, sample_run, tmp_path
):
    """A run in a process of its own starts its own local Ray without the dashboard head and the
    autoscaler monitor, its driver commits units while that Ray starts, the shards are the same
    bytes as the run on the session's Ray, and no Ray process outlives the driver."""
    import subprocess
    import sys
    import time

    import psutil

    folder, _ = samples
    out, _ = sample_run
    sets = ["runtime.unit_size=7", f"inputs={json.dumps([str(folder)])}"]
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    done = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS_RUN, json.dumps(sets), str(tmp_path / "out")],
        capture_output=True, text=True, timeout=300, env=env, cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == "complete"
    took = [line for line in result["log"] if "while Ray started" in line]
    assert took and not took[0].startswith("the driver took 0 "), result["log"]
    commands = " ".join(result["commands"])
    assert "raylet" in commands and "gcs_server" in commands
    assert "dashboard/dashboard.py" not in commands and "autoscaler/_private/monitor.py" not in commands
    for folder_name in ("data", "rejected"):
        ours = sorted((tmp_path / "out" / folder_name).glob("*.parquet"))
        assert [p.name for p in ours] == sorted(p.name for p in (out / folder_name).glob("*.parquet"))
        for p in ours:
            assert p.read_bytes() == (out / folder_name / p.name).read_bytes(), p
    deadline = time.monotonic() + 10
    while any(psutil.pid_exists(pid) for pid in result["pids"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in result["pids"] if psutil.pid_exists(pid)]
    assert not left, f"Ray processes left after the driver exited: {left}"
