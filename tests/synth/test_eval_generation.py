"""``synth eval generation`` on our own runs as predictions: the ground truth scores perfectly where
it must, a damaged copy lower; errors are rows, not crashes; Ray gives the figures of one process
and a stopped evaluation resumes; CLIPScore and the VLM judge through their real clients."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image, ImageFilter

from synth.evaluate.generation import ClipScoreConfig, GenerationEvalConfig, evaluate_run
from synth.evaluate.units import EvalError
from synth.llm import LlmConfig
from synth.schema import scores_of
from tests.cli_runner import invoke


def sets(*pairs: str) -> list[str]:
    return [x for s in pairs for x in ("--set", s)]


@pytest.fixture(scope="module")
def text_run(tmp_path_factory, ray_session, text_cfg_sets):
    out = tmp_path_factory.mktemp("gen") / "text"
    result = invoke(
        "text-render", "--num", "6", "--out", str(out), "--seed", "5", "--quiet", *sets(*text_cfg_sets)
    )
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def edit_run(tmp_path_factory, ray_session):
    out = tmp_path_factory.mktemp("gen") / "edit"
    result = invoke("text-edit", "--num", "4", "--out", str(out), "--seed", "2", "--quiet",
                    *sets("runtime.unit_size=4", "render.sizes=[[640,640],[768,576]]"))  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


def copy_run(run: Path, dest: Path, change) -> Path:
    """The run's kept rows as a new run folder, each row passed through ``change(index, row)``:
    what a model's `synth sample` output looks like, with the images we choose."""
    (dest / "data").mkdir(parents=True)
    shutil.copy(run / "run.json", dest / "run.json")
    k = 0
    for shard in sorted((run / "data").glob("*.parquet")):
        table = pq.read_table(shard)
        rows = table.to_pylist()
        for row in rows:
            change(k, row)
            k += 1
        pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), dest / "data" / shard.name)
    return dest


def png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def blurred(k: int, row: dict) -> None:
    image = Image.open(io.BytesIO(row["target_image"]["bytes"])).convert("RGB")
    row["target_image"] = {"bytes": png(image.filter(ImageFilter.GaussianBlur(3))), "path": None}


def painted(k: int, row: dict) -> None:
    image = Image.open(io.BytesIO(row["target_image"]["bytes"])).convert("RGB")
    w, h = image.size
    image.paste((255, 0, 255), (0, h // 4, w, 3 * h // 4))
    row["target_image"] = {"bytes": png(image), "path": None}


def one_process(**kw) -> GenerationEvalConfig:
    return GenerationEvalConfig(workers=0, **kw)


def figures(report: dict) -> dict:
    return {k: v for k, v in report.items() if k != "runtime"}


def test_ground_truth_reads_perfectly_and_blur_scores_lower(text_run, tmp_path):
    gt = evaluate_run(str(text_run), str(tmp_path / "gt.json"), one_process(), progress=False)
    rows = gt["records"]
    assert gt["summary"]["scored"] == len(rows) == len(pq.read_table(text_run / "data"))
    assert all(r["expected_from"] == "texts" and r["task"] == "t2i" for r in rows)
    # exact where the verifier read every line exactly; else no worse than its own worst line
    verified = {r["sample_id"]: scores_of(r) for r in pq.read_table(text_run / "data").to_pylist()}
    for r in rows:
        worst = verified[r["sample_id"]]["ocr_ned_max"]
        assert r["ocr_ned"] <= worst + 0.01 and (worst > 0 or r["ocr_word_acc"] == 1.0), r
    assert sum(r["ocr_word_acc"] == 1.0 for r in rows) >= len(rows) - 1
    assert set(gt["by_language"]) <= {"en", "zh"} and gt["by_language"]
    assert gt["notes"] and "CLIPScore off" in gt["notes"][0]
    assert json.loads((tmp_path / "gt.json").read_text())["summary"] == gt["summary"]

    bad = evaluate_run(str(copy_run(text_run, tmp_path / "blur", blurred)), None, one_process(),
                       work=str(tmp_path / "w"), progress=False)  # fmt: skip
    assert bad["summary"]["ocr_word_acc"] < 0.5 and bad["summary"]["ocr_ned"] > 0.5
    for lang, g in bad["by_language"].items():
        assert g["ocr_word_acc"] < gt["by_language"][lang]["ocr_word_acc"]


def test_rows_without_a_usable_image_are_errors_with_a_reason(text_run, tmp_path):
    def spoil(k: int, row: dict) -> None:
        if k == 0:
            row["target_image"] = None
        elif k == 1:
            row["target_image"] = {"bytes": b"not an image", "path": None}
        elif k == 2:
            row["task"], row["response"] = "und", "an answer"

    report = evaluate_run(str(copy_run(text_run, tmp_path / "bad", spoil)), None, one_process(),
                          work=str(tmp_path / "w"), progress=False)  # fmt: skip
    status = [(r["status"], r["reason"]) for r in report["records"][:3]]
    assert status == [("error", "no_image"), ("error", "decode_error"), ("skipped", "not_an_image_row")]
    s = report["summary"]
    assert s["rows"] == s["scored"] + s["error"] + s["skipped"] and s["error"] == 2
    assert set(report["errors"]) == {"no_image", "decode_error"}


def test_edit_rows_psnr_outside_the_mask_and_text_edit_metrics(edit_run, tmp_path):
    gt = evaluate_run(str(edit_run), None, one_process(), work=str(tmp_path / "gt"), progress=False)
    rows = gt["records"]
    assert rows and all(r["task"] == "edit" and r["status"] == "scored" for r in rows)
    assert all(r["psnr_outside"] == 100.0 for r in rows), rows
    assert all(r.get("te_correctness_ned", 0.0) == 0.0 for r in rows), rows  # a deletion has no new line
    assert gt["summary"]["te_placed"] >= 0.9
    assert "ocr_word_acc" not in gt["summary"]  # an edit instruction's quotes are not asked to be drawn

    bad = evaluate_run(str(copy_run(edit_run, tmp_path / "paint", painted)), None, one_process(),
                       work=str(tmp_path / "bad"), progress=False)  # fmt: skip
    assert bad["summary"]["psnr_outside"] < 20
    assert bad["summary"]["te_placed"] < gt["summary"]["te_placed"]
    assert "sub:text_edit/" in "\n".join(_table(bad))


def _table(report: dict) -> list[str]:
    from synth.evaluate.summary import table

    return table(report).splitlines()


def test_ray_equals_one_process_and_a_stopped_eval_resumes(text_run, tmp_path):
    single = evaluate_run(str(text_run), None, one_process(unit_rows=2), work=str(tmp_path / "one"),
                          progress=False)  # fmt: skip
    work = tmp_path / "ray"
    parallel = evaluate_run(str(text_run), None, GenerationEvalConfig(unit_rows=2, workers=2), work=str(work),
                            progress=False)  # fmt: skip
    assert parallel["runtime"]["workers"] == 2 and parallel["runtime"]["units_run"] == 3
    assert figures(parallel) == figures(single)
    # what a killed run leaves: some units committed, one never written, a half-written file
    (work / "units" / "part-000001.json").unlink()
    (work / "units" / "part-000002.json.tmp-0123456789ab").write_text("{half")
    resumed = evaluate_run(str(text_run), None, GenerationEvalConfig(unit_rows=2, workers=2), work=str(work),
                           progress=False)  # fmt: skip
    assert resumed["runtime"]["units_run"] == 1 and figures(resumed) == figures(single)
    assert not list((work / "units").glob("*.tmp-*"))
    with pytest.raises(EvalError, match="--overwrite"):  # other settings never mix into these figures
        evaluate_run(str(text_run), None, one_process(unit_rows=3), work=str(work), progress=False)


def test_a_sample_output_scores_the_prompt_the_sampler_read(text_run, tmp_path):
    """`synth sample` records its prompt column in run.json and the mode in meta.sample; a text
    answer (mode text) is not an image to score."""

    def sampled(k: int, row: dict) -> None:
        row["cot"] = 'A sign that reads "HELLO WORLD".'
        mode = "text" if k == 0 else "image"
        row["meta"] = json.dumps({**json.loads(row["meta"]), "sample": {"mode": mode, "steps": 20}})

    pred = copy_run(text_run, tmp_path / "sampled", sampled)
    run = json.loads((pred / "run.json").read_text())
    run.update(pipeline="sample", config={**run["config"], "prompt_column": "cot"})
    (pred / "run.json").write_text(json.dumps(run))
    report = evaluate_run(str(pred), None, one_process(), work=str(tmp_path / "w"), progress=False)
    first, *rest = report["records"]
    assert first["status"] == "skipped" and first["mode"] == "text"
    assert all(r["mode"] == "image" and r["expected_from"] == "prompt" for r in rest)
    assert all(r["blocks"][0]["words"] == 2 and r["ocr_word_acc"] == 0.0 for r in rest)
    assert report["pred_counts"] == run["report"]["counts"]


def test_cli_prints_the_table_and_where_the_report_went(text_run, tmp_path):
    out = tmp_path / "report.json"
    result = invoke(
        "eval", "generation", "--pred", str(text_run), "--out", str(out), "--workers", "0", "--quiet"
    )
    assert result.exit_code == 0, result.output
    assert "WordAcc" in result.output and "sub:text_render/" in result.output and "language" in result.output
    assert f"report: {out}" in result.output and (tmp_path / "report.json.work" / "eval.json").exists()
    assert json.loads(out.read_text())["summary"]["rows"] == len(pq.read_table(text_run / "data"))
    with pytest.raises(EvalError, match="no such folder"):
        invoke("eval", "generation", "--pred", str(tmp_path / "nothing"), "--out", str(out))


@pytest.fixture(scope="module")
def text_clip(tmp_path_factory):
    """A random-weight open_clip model with the real tokenizer's vocabulary (the text tower is
    used here), registered from JSON and saved as open_clip saves a state dict."""
    import open_clip
    import torch

    d = tmp_path_factory.mktemp("clip")
    arch = d / "TinyTextCLIP-test.json"
    arch.write_text(json.dumps({
        "embed_dim": 32, "quick_gelu": True,
        "vision_cfg": {"image_size": 64, "layers": 1, "width": 32, "patch_size": 16, "head_width": 16},
        "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
    }))  # fmt: skip
    open_clip.add_model_config(str(arch))
    torch.manual_seed(0)
    torch.save(open_clip.create_model("TinyTextCLIP-test").state_dict(), d / "open_clip_pytorch_model.bin")
    return ClipScoreConfig(weights=str(d / "open_clip_pytorch_model.bin"), model="TinyTextCLIP-test",
                           model_json=str(arch), device="cpu")  # fmt: skip


def test_clip_score_with_a_local_checkpoint(text_run, text_clip, tmp_path):
    import open_clip
    import torch

    report = evaluate_run(str(text_run), None, one_process(clip=text_clip), work=str(tmp_path / "w"),
                          progress=False)  # fmt: skip
    rows = report["records"]
    assert all(0 <= r["clip_score"] <= 100 for r in rows) and "clip_score" in report["summary"]
    assert not any("CLIPScore off" in n for n in report["notes"])
    # the first row by open_clip's own code: 100 * max(cos(image, prompt), 0)
    model, _, preprocess = open_clip.create_model_and_transforms(
        text_clip.model, pretrained=text_clip.weights
    )
    row = pq.read_table(text_run / "data").to_pylist()[0]
    with torch.no_grad():
        image = model.encode_image(
            preprocess(Image.open(io.BytesIO(row["target_image"]["bytes"])))[None], normalize=True
        )
        text = model.encode_text(
            open_clip.get_tokenizer(text_clip.model)([row["instruction"]]), normalize=True
        )
    assert rows[0]["clip_score"] == pytest.approx(100 * max(float((image * text).sum()), 0), abs=1e-3)


def test_vlm_judge_through_the_llm_client(edit_run, fake_llm, tmp_path):
    seen = []

    def answer(body):
        seen.append(body)
        return json.dumps({"instruction_following": 7, "consistency": 9, "quality": 8, "reason": "fine"})

    cfg = one_process(judge=LlmConfig(base_url=fake_llm(answer, "judge-vlm"), cache=False))
    report = evaluate_run(str(edit_run), None, cfg, work=str(tmp_path / "w"), progress=False)
    rows = report["records"]
    assert all(r["judge_instruction_following"] == 7 and r["judge_reason"] == "fine" for r in rows)
    assert report["summary"]["judge_consistency"] == 9 and report["settings"]["judge"]["model"] is None
    assert len(seen) == len(rows) and seen[0]["response_format"]["type"] == "json_schema"
    images = [c for c in seen[0]["messages"][1]["content"] if c["type"] == "image_url"]
    assert len(images) == 2 and images[0]["image_url"]["url"].startswith("data:image/png;base64,")

    broken = one_process(judge=LlmConfig(base_url=fake_llm(lambda b: "no json", "judge-vlm"), cache=False,
                                         retries=0))  # fmt: skip
    report = evaluate_run(str(edit_run), None, broken, work=str(tmp_path / "w2"), progress=False)
    assert all(
        r["status"] == "scored" and "judge_error" in r and "psnr_outside" in r for r in report["records"]
    )
    assert any("VLM judge failed" in n for n in report["notes"])


def test_undecodable_mask_or_source_still_counts_the_row(edit_run, tmp_path):
    def spoil(k: int, row: dict) -> None:
        if k == 0:
            row["source_image"] = {"bytes": b"broken", "path": None}
        elif k == 1:
            row["aux_images"] = []

    report = evaluate_run(str(copy_run(edit_run, tmp_path / "x", spoil)), None, one_process(),
                          work=str(tmp_path / "w"), progress=False)  # fmt: skip
    first, second = report["records"][:2]
    assert (
        first["status"] == "error" and first["reason"] == "decode_error" and "input image" in first["detail"]
    )
    assert (
        second["status"] == "scored" and "psnr_outside" not in second and "no edit mask" in second["detail"]
    )
    assert np.isfinite(report["summary"]["psnr_outside"])
