"""A run draws from the font set it recorded when it started: a font added before a resume changes
nothing, and a recorded font gone missing refuses the resume (and fails a worker) by name."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import matplotlib
import pyarrow.parquet as pq
import pytest

from pipelines.text_render import PIPELINE
from pipelines.text_render.stages import RenderText
from synth.config import default_config_path, load_config
from synth.fonts import FontSetError
from synth.runner import RunError, run_pipeline
from synth.validate import validate

DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
STIX = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "STIXGeneral.ttf"


def _cfg(folder: Path):
    sets = ["render.sizes=[[512,512]]", "verify.full_pass_every=0", "runtime.unit_size=4", "seed=11"]
    return load_config(
        PIPELINE.config_model, default_config_path("text_render"), [*sets, f"fonts.dirs=[{folder}]"]
    )


def _samples(out: Path) -> dict[str, tuple]:
    rows = pq.read_table(out / "data").to_pylist() + pq.read_table(out / "rejected").to_pylist()
    return {r["sample_id"]: ((r["target_image"] or {}).get("bytes"), r["spec"]) for r in rows}


def _interrupt(out: Path, unit: int) -> None:
    """What a kill leaves: the unit's manifest and shards gone, the rest committed."""
    for rel in (
        f"_units/part-{unit:06d}.json",
        f"data/part-{unit:06d}.parquet",
        f"rejected/part-{unit:06d}.parquet",
    ):
        (out / rel).unlink(missing_ok=True)


def test_resume_after_adding_a_font_equals_an_uninterrupted_run(tmp_path, ray_session):
    folder = tmp_path / "fonts"  # a configured font folder, holding one face when the run starts
    folder.mkdir()
    shutil.copy(DEJAVU, folder / "DejaVuSans.ttf")
    cfg = _cfg(folder)
    clean, resumed, fresh = tmp_path / "clean", tmp_path / "resumed", tmp_path / "fresh"
    run_pipeline(PIPELINE, cfg, str(clean), 8, progress=False)
    run_pipeline(PIPELINE, cfg, str(resumed), 8, progress=False)
    recorded = json.loads((resumed / "run.json").read_text())["pinned"]["fonts"]
    assert str(folder / "DejaVuSans.ttf") in {f["path"] for f in recorded}
    _interrupt(resumed, 1)

    shutil.copy(STIX, folder / "STIXGeneral.ttf")  # installed between the kill and the resume
    run_pipeline(PIPELINE, cfg, str(resumed), 8, progress=False)
    assert json.loads((resumed / "run.json").read_text())["pinned"]["fonts"] == recorded
    assert validate(str(resumed)).ok
    assert _samples(resumed) == _samples(clean)
    for name in sorted(p.name for p in (clean / "data").iterdir()):
        assert (resumed / "data" / name).read_bytes() == (clean / "data" / name).read_bytes()

    # the control: a new run does draw with the new face, so the resume above had a font to ignore
    run_pipeline(PIPELINE, cfg, str(fresh), 8, progress=False)
    assert str(folder / "STIXGeneral.ttf") in {
        f["path"] for f in json.loads((fresh / "run.json").read_text())["pinned"]["fonts"]
    }
    assert _samples(fresh) != _samples(clean)

    # a recorded face removed: the resume is refused, naming the face and what to do
    (folder / "DejaVuSans.ttf").unlink()
    _interrupt(resumed, 0)
    with pytest.raises(RunError) as exc:
        run_pipeline(PIPELINE, cfg, str(resumed), 8, progress=False)
    text = str(exc.value)
    assert f"cannot resume {resumed}" in text
    assert f"'DejaVu Sans Book' ({folder / 'DejaVuSans.ttf'}) is missing" in text and "copy that file" in text
    assert not (resumed / "_units" / "part-000000.json").exists()  # nothing drawn with a substitute


def test_a_worker_without_a_recorded_face_fails_its_setup(tmp_path):
    """A node whose font file differs from the record (here: replaced after the run started)."""
    folder = tmp_path / "fonts"
    folder.mkdir()
    shutil.copy(DEJAVU, folder / "DejaVuSans.ttf")
    plain = _cfg(folder)
    _, cfg = PIPELINE.pin(plain, None)
    assert cfg.fonts.pinned and plain.fonts.pinned is None  # the caller's config is left alone
    # the set rides outside both hashes: sample ids and decisions are those of the plain config
    assert (cfg.content_hash(), cfg.decision_hash()) == (plain.content_hash(), plain.decision_hash())
    stage = RenderText(cfg)
    stage.setup()
    assert str(folder / "DejaVuSans.ttf") in {f.path for f in stage.fonts.faces}
    shutil.copy(STIX, folder / "DejaVuSans.ttf")
    with pytest.raises(FontSetError, match=r"'DejaVu Sans Book' .* differs from the run's file"):
        RenderText(cfg).setup()
