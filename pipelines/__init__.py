"""Domain pipelines, registered by name (the CLI word with ``_`` for ``-``)."""

from synth.pipeline import Pipeline


def registry() -> dict[str, Pipeline]:
    from pipelines.caption import PIPELINE as caption
    from pipelines.cot import PIPELINE as cot
    from pipelines.cs_diagram import PIPELINE as cs_diagram
    from pipelines.curate import PIPELINE as curate
    from pipelines.physics import PIPELINE as physics
    from pipelines.rewrite import PIPELINE as rewrite
    from pipelines.text_edit import PIPELINE as text_edit
    from pipelines.text_render import PIPELINE as text_render
    from pipelines.translate import PIPELINE as translate

    return {
        p.name: p
        for p in (text_render, text_edit, curate, physics, cs_diagram, caption, translate, rewrite, cot)
    }
