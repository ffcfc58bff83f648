"""``synth meme`` end to end on memes made from bundled photos with known captions: detection finds
them, removal erases them, templates feed a second run whose LLM plans (a local test server) are
drawn and read back; ungrounded or off-schema answers lose no row; bad inputs get reasons; runs
are deterministic and validate."""

from __future__ import annotations

import glob
import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from pipelines.cot.config import ACTIONS
from pipelines.meme import plan as plans
from pipelines.meme.columns import old_captions
from pipelines.meme.config import Thresholds
from pipelines.meme.samples import write_memes
from pipelines.meme.stages import decide
from synth.evaluate.locality import changed_outside
from synth.evaluate.text import ned
from synth.imageio import decode_image
from synth.schema import scores_of
from synth.validate import validate
from tests.cli_runner import invoke

REGIONS = ["top", "bottom", "subject"]


def _rows(out, kept: bool = True) -> list[dict]:
    files = sorted(glob.glob(f"{out}/{'data' if kept else 'rejected'}/*.parquet"))
    return [r for f in files for r in pq.read_table(f).to_pylist()]


def _run(*args: str):
    result = invoke("meme", *args, "--quiet", "--no-preview")
    assert result.exit_code == 0, result.output
    return result


# ---------------------------------------------------------------------------------------------
# the plan


def _plan(**change) -> dict:
    plan = {"situation": "A cat at a desk.", "intent": "Work avoidance.", "setup": "A deadline is near.",
            "punchline": "Nap first.", "keep_clear": [],
            "captions": [{"placement": "top", "region": "top", "en": "Deadline today", "zh": "今天截止"},
                         {"placement": "label", "region": "subject", "en": "Me", "zh": "我"}]}  # fmt: skip
    plan.update(change)
    return plan


def test_bundled_plans_are_grounded_and_fit():
    for p in plans.bundled():
        plans.check(p, REGIONS, 60, 12, 3)
    # a template without a subject never gets a label plan
    rng = np.random.default_rng(0)
    for _ in range(40):
        assert all(c["placement"] != "label" for c in plans.bundled_plan(rng, ["top", "bottom"])["captions"])


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (
            {"captions": [{"placement": "label", "region": "the moon", "en": "Me", "zh": "我"}]},
            "not a region",
        ),
        ({"captions": [{"placement": "top", "region": "bottom", "en": "Me", "zh": "我"}]}, "has region"),
        (
            {"captions": [{"placement": "top", "region": "top", "en": "word " * 13, "zh": "我"}]},
            "at most 12 words",
        ),
        ({"captions": [{"placement": "top", "region": "top", "en": "x" * 61, "zh": "我"}]}, "1 to 60"),
        ({"captions": [{"placement": "top", "region": "top", "en": "Hi", "zh": "hello"}]}, "Chinese"),
        ({"captions": [{"placement": "top", "region": "top", "en": "A", "zh": "甲"}] * 2}, "two captions"),
        ({"keep_clear": ["subject"]}, "both labelled and kept clear"),
        ({"setup": ""}, "'setup'"),
    ],
)
def test_plan_check_refuses(change, why):
    with pytest.raises(ValueError, match=why):
        plans.check(_plan(**change), REGIONS, 60, 12, 3)


def test_cot_is_the_cot_format_with_meme_actions():
    text = plans.cot_text(plans.check(_plan(), REGIONS, 60, 12, 3), "zh")
    heads = [ln for ln in text.splitlines() if ln.endswith(":") and not ln[0].isdigit()]
    assert heads == ["Sub-tasks:", "Constraints:", "Operations:"] and text.startswith("Objective: ")
    ops = [ln.split(". ", 1)[1].split()[0] for ln in text.split("Operations:\n")[1].splitlines()]
    assert set(ops) <= set(ACTIONS["meme"]) and "今天截止" in text and "Deadline today" not in text


def test_decision_from_stored_scores():
    t = Thresholds()
    ok = {"caption_ned_max": 0.0, "caption_inside": 1.0, "placement_ok": 1.0, "subject_overlap": 0.0}
    assert decide(ok, {}, t) is None
    assert decide({**ok, "caption_ned_max": 0.5}, {}, t)[0] == "ocr_mismatch"
    assert decide({**ok, "placement_ok": 0.0}, {}, t)[0] == "verify_failed"
    assert decide({**ok, "subject_overlap": 0.9}, {}, t)[0] == "verify_failed"
    assert decide({**ok, "removal_clean": 0.5}, {}, t)[0] == "verify_failed"


# ---------------------------------------------------------------------------------------------
# end to end


@pytest.fixture(scope="module")
def memes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("memes") / "in"
    truth = write_memes(str(folder), 6, seed=3)
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    return folder, truth


@pytest.fixture(scope="module")
def templates(memes, tmp_path_factory, ray_session):
    folder, _ = memes
    out = tmp_path_factory.mktemp("meme") / "templates"
    _run("--input", str(folder), "--out", str(out), "--set", "stages=[detect,remove]")
    return out


def test_templates_detect_and_erase_known_captions(memes, templates):
    _, truth = memes
    by_file = {t["file"]: t for t in truth}
    kept = _rows(templates)
    assert len(kept) == 6 and {r["task"] for r in kept} == {"image"}
    [bad] = _rows(templates, kept=False)
    assert bad["reason"] == "decode_error" and "broken.png" in json.loads(bad["meta"])["key"]
    found = drawn = 0
    for row in kept:
        known = by_file[json.loads(row["meta"])["key"]]["captions"]
        read = [t["text"] for t in row["texts"]]
        drawn += len(known)
        found += sum(any(ned(c["text"], r) <= 0.2 for r in read) for c in known)
        source, template = (decode_image(row[k]["bytes"]) for k in ("source_image", "target_image"))
        mask = decode_image(row["aux_images"][0]["bytes"])[..., 0]
        assert changed_outside(source, template, mask) == 0 and (source != template).any()
        assert scores_of(row)["removal_clean"] == 1.0
    assert found == drawn, f"detection read {found} of {drawn} known captions"
    assert validate(str(templates)).ok


def _grounded(body: dict) -> str:
    """A plan on the regions the schema enumerates, as guided decoding would answer; with LABEL in
    the template description, a label on the first label region."""
    schema = body["response_format"]["json_schema"]["schema"]
    regions = schema["properties"]["captions"]["items"]["properties"]["region"]["enum"]
    user = json.loads(body["messages"][1]["content"])
    assert set(user["regions"]) == set(regions) and user["old_captions"]
    captions = [{"placement": "top", "region": "top", "en": "When the tests pass", "zh": "测试通过了"},
                {"placement": "bottom", "region": "bottom", "en": "On the first try", "zh": "一次就过"}]  # fmt: skip
    return json.dumps({"situation": "s", "intent": "i", "setup": "a", "punchline": "b", "captions": captions})


def _ungrounded(body: dict) -> str:
    return json.dumps({"situation": "s", "intent": "i", "setup": "a", "punchline": "b",
                       "captions": [{"placement": "label", "region": "the moon", "en": "Hi", "zh": "你好"}]})  # fmt: skip


def test_llm_plans_give_rows_of_every_kind(templates, fake_llm, tmp_path):
    url = fake_llm(_grounded, "fake-joker")
    out = tmp_path / "memes"
    _run("--input", str(templates), "--out", str(out), "--set", f"llm.base_url={url}",
         "--set", "llm.cache=false", "--set", "captions_per_template=2")  # fmt: skip
    kept, rejected = _rows(out), _rows(out, kept=False)
    assert len(kept) + len(rejected) == 6 * 2 * 3
    assert {r["subdomain"] for r in kept} == {"meme/add", "meme/t2i", "meme/replace"}
    assert len(kept) >= 30, [(r["reason"], r["detail"]) for r in rejected]
    for row in kept:
        s = scores_of(row)
        assert s["caption_ned_max"] <= 0.25 and s["placement_ok"] == 1.0
        assert (
            row["cot"].startswith("Objective:") and json.loads(row["meta"])["joke"]["model"] == "fake-joker"
        )
        target = decode_image(row["target_image"]["bytes"])
        if row["task"] == "edit":
            source = decode_image(row["source_image"]["bytes"])
            mask = decode_image(row["aux_images"][0]["bytes"])[..., 0]
            assert changed_outside(source, target, mask) == 0
            words = "TESTS PASS" if row["language"] == "en" else "测试通过了"
            assert words.lower() in row["instruction"].lower()
        if row["subdomain"] == "meme/replace":
            assert {t["role"] for t in row["texts"]} >= {"source", "caption_top"}
    assert validate(str(out)).ok


def test_ungrounded_answers_lose_no_row(templates, fake_llm, tmp_path):
    url = fake_llm(_ungrounded)
    out = tmp_path / "bad"
    _run("--input", str(templates), "--out", str(out), "--set", f"llm.base_url={url}",
         "--set", "llm.cache=false", "--set", "llm.retries=1", "--set", "rows=[add,t2i]")  # fmt: skip
    rows = _rows(out, kept=False)
    assert len(rows) == 12 and not _rows(out)
    assert {r["reason"] for r in rows} == {"llm_invalid_output"} and "the moon" in rows[0]["detail"]


def test_photo_templates_are_deterministic(tmp_path, ray_session):
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name
        _run("--num", "9", "--out", str(out), "--set", "stages=[detect,remove,render,verify]",
             "--set", "runtime.unit_size=4")  # fmt: skip
        outs.append(out)
    a, b = (sorted(_rows(o) + _rows(o, kept=False), key=lambda r: r["sample_id"]) for o in outs)
    assert [r["sample_id"] for r in a] == [r["sample_id"] for r in b] and len(a) == 9
    assert all(x["target_image"] == y["target_image"] for x, y in zip(a, b, strict=True))
    kept = _rows(outs[0])
    assert len(kept) >= 7 and {r["subdomain"] for r in kept} == {"meme/add", "meme/t2i", "meme/replace"}
    assert all(scores_of(r)["detect_recall"] == 1.0 for r in kept)
    assert validate(str(outs[0])).ok


def test_old_captions_name_labels_as_regions_do():
    class C:
        def __init__(self, placement, text):
            self.placement, self.text = placement, text

    got = old_captions([C("top", "A"), C("label", "B"), C("label", "C"), C("bottom", "D")])
    assert [c["region"] for c in got] == ["top", "label_1", "label_2", "bottom"]


# ---------------------------------------------------------------------------------------------
# the verifier catches a wrong drawing


@pytest.fixture(scope="module")
def drawn():
    from pipelines.meme.common import Drawer
    from pipelines.meme.config import MemeConfig
    from pipelines.meme.draw import Verify
    from pipelines.meme.regions import regions
    from synth.sources import skimage_pixels

    cfg = MemeConfig()
    template = skimage_pixels("chelsea")
    named = regions(template, [], 0.34)
    plan = plans.check(_plan(), list(named), 60, 12, 3)
    meme = Drawer(cfg).draw(template, plan, "en", "classic", named)
    verify = Verify(cfg)
    verify.setup()

    def check(meme=meme, plan=plan, extra=None) -> dict:
        row = {
            "_meme": meme,
            "_p": {"plan": plan},
            "_g": {"template": template, "regions": {**named, **(extra or {})}},
            "meta": {},
        }
        [row] = verify.process_batch([row])
        return row["scores"]

    return meme, plan, check


def test_verify_passes_a_right_drawing(drawn):
    _, _, check = drawn
    s = check()
    assert decide(s, {}, Thresholds()) is None and s["placement_ok"] == 1.0 and s["caption_ned_max"] <= 0.1


def test_verify_catches_wrong_text_place_and_cover(drawn):
    import dataclasses

    meme, plan, check = drawn
    lines = [dataclasses.replace(meme.lines[0], text="SOMETHING ELSE ENTIRELY"), *meme.lines[1:]]
    assert decide(check(meme=dataclasses.replace(meme, lines=lines)), {}, Thresholds())[0] == "ocr_mismatch"
    moved = {
        **plan,
        "captions": [{**plan["captions"][0], "placement": "bottom", "region": "bottom"}, plan["captions"][1]],
    }
    assert check(plan=moved)["placement_ok"] == 0.0
    face = meme.areas[0]  # a region the plan keeps clear, right under the top caption
    covered = check(plan={**plan, "keep_clear": ["face"]}, extra={"face": face})
    assert covered["subject_overlap"] == 1.0 and decide(covered, {}, Thresholds())[0] == "verify_failed"


def test_lama_removal_from_local_weights(memes, tiny_lama, tmp_path, ray_session):
    folder, _ = memes
    out = tmp_path / "lama"
    _run("--input", str(folder), "--out", str(out), "--set", "stages=[detect,remove]",
         "--set", "remove.inpaint=lama", "--set", f"remove.inpaint_weights={json.dumps(tiny_lama[0])}",
         "--set", "remove.inpaint_device=cpu")  # fmt: skip
    kept = _rows(out) + _rows(out, kept=False)
    assert len(kept) == 7
    for row in _rows(out):
        erase = json.loads(row["spec"])["erase"]
        assert erase["method"] == "lama" and len(erase["weights"]) >= 16
        source, template = (decode_image(row[k]["bytes"]) for k in ("source_image", "target_image"))
        mask = decode_image(row["aux_images"][0]["bytes"])[..., 0]
        assert changed_outside(source, template, mask) == 0 and (source != template).any()


def test_llm_captions_the_faces_cannot_draw_are_refused_not_boxed(templates, fake_llm, tmp_path):
    """An LLM's caption is untrusted: characters no chosen face draws (an emoji, a control
    character) would come out as boxes; the row is rejected render_error, and no row is lost."""

    def emoji(body: dict) -> str:
        captions = [
            {"placement": "top", "region": "top", "en": "Deal with it \U0001f60e\u0007", "zh": "就这样吧"}
        ]
        return json.dumps(
            {"situation": "s", "intent": "i", "setup": "a", "punchline": "b", "captions": captions}
        )

    url = fake_llm(emoji)
    out = tmp_path / "emoji"
    _run("--input", str(templates), "--out", str(out), "--set", f"llm.base_url={url}", "--set", "llm.cache=false",
         "--set", "rows=[t2i]", "--set", "joke.languages={en: 1}")  # fmt: skip
    rows = _rows(out, kept=False)
    assert len(rows) == 6 and not _rows(out)
    assert {r["reason"] for r in rows} == {"render_error"} and "cannot draw" in rows[0]["detail"]


def test_memes_from_a_parquet_shard(memes, tmp_path, ray_session):
    """Memes as curation takes them: a Parquet shard with an image column (the HF Image layout)."""
    import pyarrow as pa

    folder, truth = memes
    cells = [{"bytes": (folder / t["file"]).read_bytes(), "path": t["file"]} for t in truth[:3]]
    pq.write_table(
        pa.table({"image": cells, "caption": ["a cat", None, "a rocket"]}), tmp_path / "memes.parquet"
    )
    out = tmp_path / "from_parquet"
    _run("--input", str(tmp_path / "memes.parquet"), "--out", str(out), "--set", "stages=[detect,remove]")
    rows = _rows(out)
    assert len(rows) == 3 and all(json.loads(r["meta"])["key"].startswith("memes.parquet#") for r in rows)
    assert json.loads(rows[0]["meta"])["description"] == {"en": "a cat"}
    assert all(scores_of(r)["removal_clean"] == 1.0 for r in rows)
