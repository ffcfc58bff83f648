"""``synth text-render``: text on solid, gradient, textured and photo backgrounds, English and
Chinese, every sample read back by OCR against its own ground truth."""

from pipelines.text_render.config import TextRenderConfig, pin_fonts
from pipelines.text_render.stages import DECISION, build_stages
from synth.pipeline import Pipeline

PIPELINE = Pipeline(
    name="text_render",
    domain="text",
    summary="Render English and Chinese text on solid, gradient, textured and photo backgrounds; verify by OCR.",
    config_model=TextRenderConfig,
    build_stages=build_stages,
    decide=DECISION,
    pin=pin_fonts,
)
