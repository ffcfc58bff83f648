"""The stages of ``synth meme``: detect the captions, erase them, plan the joke, draw the captions,
verify the drawing, then write each row.

Work is per template and per plan, rows are per kind: the rows of one template share ``_group``,
and each stage keeps what it computed for a template (or a plan) in a small per-worker memo, so
the add, t2i and replace rows of a plan are drawn from one detection, one erasure, one answer and
one drawing. Every memoised value is a pure function of its key, so a template whose rows fall
into two units gives the same result in both.

Where things are: ``template.py`` (Detect, Remove), ``joke.py`` (Joke, BundledPlan), ``draw.py``
(Render, Verify), ``columns.py`` (WriteRow), ``common.py`` (the memo and the drawing of a plan);
this module holds the decision and the stage list.
"""

from __future__ import annotations

from pipelines.meme.columns import WriteRow
from pipelines.meme.config import MemeConfig
from pipelines.meme.draw import Render, Verify
from pipelines.meme.joke import BundledPlan, Joke
from pipelines.meme.template import Detect, Remove
from synth.decision import Decide, Decision, Verdict
from synth.stage import Row, Stage


def decide(scores: dict[str, float], row: Row, t) -> Verdict:
    """Kept unless a stored score fails its threshold; the first failing check names the reason."""
    if scores.get("caption_ned_max", 0.0) > t.max_ned:
        return (
            "ocr_mismatch",
            f"a caption line reads back at NED {scores['caption_ned_max']:.2f} > {t.max_ned}",
        )
    if scores.get("caption_inside", 1.0) < 1 or scores.get("placement_ok", 1.0) < 1:
        return "verify_failed", "a caption is not where its plan places it (or leaves the image)"
    if scores.get("subject_overlap", 0.0) > t.max_subject_overlap:
        return (
            "verify_failed",
            f"a caption covers {scores['subject_overlap']:.0%} of a region the plan keeps clear",
        )
    if scores.get("removal_clean", 1.0) < t.min_removal_clean:
        return (
            "verify_failed",
            f"OCR still finds text where {1 - scores['removal_clean']:.0%} of the old captions were",
        )
    return None


DECISION = Decision(decide, frozenset({"ocr_mismatch", "verify_failed"}))


def build_stages(cfg: MemeConfig) -> list[Stage]:
    stages: list[Stage] = [Detect(cfg), Remove(cfg)]
    if "render" in cfg.stages:
        stages.append(Joke(cfg) if "joke" in cfg.stages else BundledPlan(cfg))
        stages.append(Render(cfg))
        if "verify" in cfg.stages:
            stages.append(Verify(cfg))
    return [*stages, WriteRow(cfg), Decide(DECISION, cfg.thresholds)]
