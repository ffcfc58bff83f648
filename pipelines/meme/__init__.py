"""``synth meme``: memes in five stages (detect the captions, erase them, plan the joke, draw the
captions, verify), from a folder of memes, earlier template runs, or photos. Rows: clean templates,
template -> captioned meme edits, captioned memes as t2i, and meme -> new caption edits, each with
its humour plan as chain-of-thought."""

from typing import Any

from pipelines.meme.config import MemeConfig
from pipelines.meme.source import SOURCE_KEYS, plan_inputs, rows
from pipelines.meme.stages import DECISION, build_stages
from pipelines.text_render.config import pin_fonts
from synth.llm import LlmClient
from synth.pipeline import Pipeline, Unit


def plan_units(cfg: MemeConfig) -> tuple[list[Unit], dict[str, Any]] | None:
    """Check the LLM server first when the joke stage asks it (a run without one stops here)."""
    if "joke" in cfg.stages:
        LlmClient(cfg.llm).connect()
    return plan_inputs(cfg)


def describe(cfg: MemeConfig) -> dict[str, Any]:
    plans = "llm" if "joke" in cfg.stages else "bundled"
    return {"stages": list(cfg.stages), "plans": plans, "inpaint": cfg.remove.inpaint}


PIPELINE = Pipeline(
    name="meme",
    domain="humor",
    summary="Memes: captions detected and erased into clean templates, humour plans (LLM or bundled) drawn "
    "as classic or modern captions and read back by OCR; edit, t2i and template rows with the plan as CoT.",
    config_model=MemeConfig,
    build_stages=build_stages,
    source=rows,
    plan_inputs=plan_units,
    decide=DECISION,
    source_keys=lambda cfg: SOURCE_KEYS,
    describe=describe,
    pin=pin_fonts,
)
