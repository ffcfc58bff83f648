"""Output to s3:// through pyarrow.fs, against a moto server on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from synth.cli.main import cli
from synth.validate import validate
from tests.ports import free_port


@pytest.fixture(scope="module")
def s3_endpoint():
    moto = Path(sys.executable).parent / "moto_server"
    if not moto.exists() and not shutil.which("moto_server"):
        pytest.fail("moto_server missing: pip install 'moto[server]' (a dev dependency)")
    port = free_port()
    proc = subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{port}",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    for _ in range(100):
        try:
            client.create_bucket(Bucket="synth-test")
            break
        except Exception:  # noqa: BLE001 - server still starting
            time.sleep(0.2)
    yield port
    proc.terminate()
    proc.wait(timeout=30)


def test_text_render_to_s3(s3_endpoint, ray_session, text_cfg_sets):
    # Ray workers inherit these from the session's environment (set in conftest before ray.init).
    assert os.environ["AWS_ACCESS_KEY_ID"] == "testing"
    uri = f"s3://synth-test/runs/text?endpoint_override=127.0.0.1:{s3_endpoint}&scheme=http&region=us-east-1"
    args = ["text-render", "--num", "6", "--out", uri, "--seed", "1", "--quiet"]
    for s in text_cfg_sets:
        args += ["--set", s]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output + repr(result.exception)
    check = validate(uri)
    assert check.ok, check.problems
    assert check.rows == 6
    again = CliRunner().invoke(cli, args)  # rerun: every unit already committed, nothing redone
    assert again.exit_code == 0 and "6 rows" in again.output


def test_photo_pool_and_inputs_on_s3(s3_endpoint):
    """``--images``/``--input`` URIs keep their query (the endpoint) on every path listed below them,
    and a pool on S3 reads one photo by its row group."""
    import io

    import numpy as np
    import pyarrow as pa
    import pyarrow.fs as pafs
    import pyarrow.parquet as pq
    from PIL import Image

    from synth.inputs import list_inputs
    from synth.sources import PhotoPool

    def png(seed):
        buf = io.BytesIO()
        Image.fromarray(np.random.default_rng(seed).integers(0, 255, (8, 8, 3), dtype=np.uint8)).save(
            buf, "PNG"
        )
        return buf.getvalue()

    fs = pafs.S3FileSystem(endpoint_override=f"127.0.0.1:{s3_endpoint}", scheme="http", region="us-east-1")
    table = pa.table({"image": [{"bytes": png(i), "path": None} for i in range(4)], "caption": list("abcd")})
    with fs.open_output_stream("synth-test/pool/a.parquet") as f:
        pq.write_table(table, f, row_group_size=2)
    for i in range(2):
        with fs.open_output_stream(f"synth-test/photos/sub/{i}.png") as f:
            f.write(png(10 + i))
    query = f"?endpoint_override=127.0.0.1:{s3_endpoint}&scheme=http&region=us-east-1"
    pool = PhotoPool(f"s3://synth-test/pool/*.parquet{query}")
    assert list(pool) == [f"a.parquet#{i}" for i in range(4)]
    photo = pool.load("a.parquet#3")
    assert photo.caption_en == "d" and photo.pixels.shape == (8, 8, 3)
    folder = PhotoPool(f"s3://synth-test/photos{query}")
    assert list(folder) == ["sub/0.png", "sub/1.png"] and folder.load("sub/1.png").pixels.shape == (8, 8, 3)
    entries = list_inputs([f"s3://synth-test/photos/*/*.png{query}"])
    assert [e.uri for e in entries] == [f"s3://synth-test/photos/sub/{i}.png{query}" for i in range(2)]


def test_sample_with_checkpoint_input_and_output_on_s3(s3_endpoint, ray_session, tmp_path):
    """``synth sample --checkpoint s3://... --input s3://... --out s3://...``: the workers copy the
    checkpoint once into the cache (checked against the run's digest), and the same digest names it
    as the local copy does."""
    import pyarrow.fs as pafs

    import synth
    from synth.internvlu.fetch import checkpoint_digest

    tiny = Path(__file__).resolve().parent / "data" / "ivu" / "tiny"
    query = f"?endpoint_override=127.0.0.1:{s3_endpoint}&scheme=http&region=us-east-1"
    fs = pafs.S3FileSystem(endpoint_override=f"127.0.0.1:{s3_endpoint}", scheme="http", region="us-east-1")
    pafs.copy_files(str(tiny), "synth-test/models/ivu-tiny", destination_filesystem=fs)
    ckpt = f"s3://synth-test/models/ivu-tiny{query}"
    assert checkpoint_digest(ckpt) == checkpoint_digest(str(tiny))
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("a red bicycle\na blue boat\n")
    pafs.copy_files(str(prompts), "synth-test/prompts.txt", destination_filesystem=fs)
    out = f"s3://synth-test/runs/gen{query}"
    cache = tmp_path / "cache"
    run = synth.run(
        "sample",
        out,
        overrides={
            "checkpoint": ckpt,
            "prompts": f"s3://synth-test/prompts.txt{query}",
            "steps": 2,
            "size": "32x32",
            "checkpoint_cache": str(cache),
        },  # fmt: skip
    )
    assert run["report"]["counts"]["kept"] == 2
    assert synth.validate(out).ok
    assert [p.name for p in cache.iterdir()] == [run["pinned"]["digest"]]  # one checked copy, no temporaries
