"""``synth cad`` end to end: every part kind draws, answers and takes every edit with pixels outside
the mask untouched; the views are checked against the mesh (a wrong drawing fails); rows are
deterministic; the CLI run validates."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pyarrow.parquet as pq
import pytest

from pipelines.cad.config import ALL_OPS, ALL_PARTS, CadConfig
from pipelines.cad.kind import part_views
from pipelines.cad.stages import build_stages
from pipelines.cad.verify import measure
from renderers.cad import sample_spec
from synth.evaluate.locality import changed_outside
from synth.identity import sample_rng
from synth.imageio import decode_image
from synth.stage import run_stages
from tests.cli_runner import invoke


@pytest.fixture(scope="module")
def stages():
    built = build_stages(CadConfig())
    for s in built:
        s.setup()
    return built


def _rows(stages, part: str, task: str, op: str | None, n: int = 1, seed: int = 700) -> list[dict]:
    draw, verify, decide = stages
    rows = []
    for i in range(n):
        row = {"seed": seed + i, "_index": i, "sample_id": str(i)}
        rows.append(draw.fill(row, sample_rng(row["seed"]), draw.kinds[part], task, op))
    return run_stages([verify, decide], rows, 16)


@pytest.mark.parametrize("op", ALL_OPS)
@pytest.mark.parametrize("part", ALL_PARTS)
def test_every_edit_of_every_part_verifies(stages, part, op):
    [row] = _rows(stages, part, "edit", op)
    assert row["status"] == "kept", (row.get("reason"), row.get("detail"))
    assert row["domain"] == "spatial" and row["subdomain"] == f"cad/{part}/{op}"
    source, target = (decode_image(row[k]["bytes"]) for k in ("source_image", "target_image"))
    mask = decode_image(row["aux_images"][0]["bytes"])[..., 0]
    assert changed_outside(source, target, mask) == 0 and (source != target).any()
    assert 0 < (mask > 0).mean() < 0.9
    scores = row["scores"]
    assert scores["silhouette_mismatch"] <= 0.002 and scores["bbox_error"] <= 0.005
    assert scores["volume_error"] <= 1e-3
    spec = row["spec"]
    assert spec["edit"]["op"] == op and spec["source"]["part"]["kind"] == part
    assert row["instructions"][1]["language"] == "zh" and row["instructions"][1]["text"]


@pytest.mark.parametrize("part", ALL_PARTS)
def test_every_part_draws_and_answers(stages, part):
    t2i, und = _rows(stages, part, "t2i", None)[0], _rows(stages, part, "und", None, seed=800)[0]
    for row in (t2i, und):
        assert row["status"] == "kept", (row.get("reason"), row.get("detail"))
    assert t2i["target_image"] and t2i["instructions"][1]["text"]
    cams = t2i["spec"]["cameras"]  # exact: the part's mesh lands inside the canvas in every view
    assert t2i["spec"]["canvas"] == [t2i["width"], t2i["height"]] and cams
    pts = part_views(t2i["spec"]["structure"]["part"]).vertices
    for cam in cams.values():
        x = cam["origin_px"][0] + pts @ np.array(cam["x"]) * cam["scale"]
        y = cam["origin_px"][1] - pts @ np.array(cam["y"]) * cam["scale"]
        assert x.min() >= 0 and x.max() <= t2i["width"] and y.min() >= 0 and y.max() <= t2i["height"]
    assert und["response"] and und["target_image"] is None


def test_answers_come_from_the_solid():
    """A hole count asked of a plate equals the spec's grid (cols x rows), read from the solid."""
    from pipelines.cad.questions import ask

    spec = sample_spec(np.random.default_rng(5), "plate")
    facts = part_views(spec).facts
    grid = next(f for f in spec["features"] if f["name"] == "holes")
    assert sum(h["count"] for h in facts["holes"]) == grid["cols"] * grid["rows"]
    s = {"part": spec, "angle": "third", "layout": "sheet", "view": None, "iso": True, "omit": None,
         "style": "line"}  # fmt: skip
    answers = {ask(np.random.default_rng(i), s, facts).text.en: ask(np.random.default_rng(i), s, facts).answer
               for i in range(40)}  # fmt: skip
    holes = [a for q, a in answers.items() if q.startswith("How many holes")]
    assert holes and all(a == str(grid["cols"] * grid["rows"]) for a in holes)


def test_a_drawing_of_another_part_fails_the_mesh_check(stages):
    """The verifier is independent of the drawing: one part's lines over another's mesh fail."""
    kind = stages[0].kinds["bracket"]
    s = kind.sample(np.random.default_rng(3))
    [fig] = kind.draw([s])
    assert kind.verify([s], [fig]) is None and fig.measures["silhouette_mismatch"] == 0
    other = part_views(sample_spec(np.random.default_rng(4), "bracket"))
    scores, _ = measure(None, replace(other, strokes=fig.part.strokes), fig.places, fig.size)
    assert scores["silhouette_mismatch"] > 0.01 and scores["bbox_error"] > 0.005


def test_deterministic(stages):
    a = _rows(stages, "flange", "edit", "complete_iso")[0]
    b = _rows(stages, "flange", "edit", "complete_iso")[0]
    assert a["target_image"]["bytes"] == b["target_image"]["bytes"] and a["instruction"] == b["instruction"]


def test_cli_run_validates(tmp_path, ray_session):
    out = tmp_path / "cad"
    result = invoke("cad", "--num", "24", "--out", str(out), "--quiet", "--set", "runtime.unit_size=12")
    assert result.exit_code == 0, result.output
    report = json.loads(invoke("validate", str(out), "--json").output)
    assert report["ok"], report["problems"]
    rows = pq.read_table(out / "data").to_pylist()
    assert len(rows) >= 23  # at least 95% kept
    assert {r["task"] for r in rows} == {"t2i", "edit", "und"}
    assert all(r["domain"] == "spatial" and r["subdomain"].startswith("cad/") for r in rows)
    edits = invoke("cad", "--num", "6", "--out", str(tmp_path / "views"), "--quiet",
                   "--set", "tasks={edit: 1}", "--set", "edits=[complete_view]", "--set", "parts=[housing]")  # fmt: skip
    assert edits.exit_code == 0, edits.output
    got = pq.read_table(tmp_path / "views" / "data").to_pylist()
    assert got and all(r["subdomain"] == "cad/housing/complete_view" for r in got)


def _part_files(folder) -> dict[str, bytes]:
    """Good parts (STEP from the kernel, STL and OBJ from its mesh) and one file of each bad kind."""
    import io

    import trimesh
    from build123d import export_step

    from renderers.cad import build

    folder.mkdir(parents=True, exist_ok=True)
    export_step(build(sample_spec(np.random.default_rng(11), "flange")), str(folder / "flange.step"))
    pv = part_views(sample_spec(np.random.default_rng(12), "plate"))
    mesh = trimesh.Trimesh(pv.vertices, pv.triangles)
    mesh.merge_vertices()
    out = {"flange.step": (folder / "flange.step").read_bytes()}
    for suffix in ("stl", "obj"):
        buf = io.BytesIO()
        mesh.export(buf, file_type=suffix)
        out[f"plate.{suffix}"] = buf.getvalue()
    buf = io.BytesIO()
    trimesh.Trimesh(mesh.vertices, mesh.faces[1:]).export(buf, file_type="stl")
    out["open.stl"] = buf.getvalue()  # one triangle missing: not a closed solid
    out["truncated.step"] = out["flange.step"][: len(out["flange.step"]) // 2]
    out["noise.obj"] = bytes(range(256)) * 8
    for name, data in out.items():
        (folder / name).write_bytes(data)
    return out


def test_cli_reads_part_files_folder_parquet_and_tar(tmp_path, ray_session):
    """Every input ends kept or rejected with its reason; Parquet cells are recognised by their
    bytes, tar members by their suffix."""
    import tarfile

    import pyarrow as pa

    files = _part_files(tmp_path / "parts")
    names = sorted(files)
    pq.write_table(pa.table({"part": [files[n] for n in names]}), tmp_path / "parts.parquet")
    with tarfile.open(tmp_path / "parts.tar", "w") as tar:
        for i, name in enumerate(names):
            tar.add(tmp_path / "parts" / name, arcname=f"{i:04d}.{name.split('.')[-1]}")
    for inp in (tmp_path / "parts", tmp_path / "parts.parquet", tmp_path / "parts.tar"):
        out = tmp_path / f"out_{inp.name}"
        result = invoke("cad", "--input", str(inp), "--out", str(out), "--quiet")
        assert result.exit_code == 0, result.output
        report = json.loads(invoke("validate", str(out), "--json").output)
        assert report["ok"], report["problems"]
        kept = pq.read_table(out / "data").to_pylist()
        rejected = pq.read_table(out / "rejected").to_pylist()
        assert len(kept) + len(rejected) == len(files)
        assert sorted(r["subdomain"].split("/")[1] for r in kept) == ["obj", "step", "stl"], inp
        assert sorted(r["reason"] for r in rejected) == ["cad_invalid", "decode_error", "decode_error"], inp


def test_a_pocket_is_seen_from_above_and_hidden_from_the_front():
    """Visibility answers come from the kernel: the part drawn again without the feature."""
    from pipelines.cad import edits
    from pipelines.cad.visibility import seen

    spec = next(
        s
        for seed in range(200)
        if "pocket" in edits.removable(s := sample_spec(np.random.default_rng(seed), "plate"))
    )
    full = part_views(spec)
    bare = part_views(edits.apply(spec, {"op": "remove_feature", "feature": "pocket"}))
    assert [seen(full, bare, v) for v in ("top", "front", "iso")] == ["visible", "hidden", "visible"]
