"""Domain pipelines, registered by name (the CLI word with ``_`` for ``-``).

Each name maps to the module holding its ``PIPELINE``, imported only when asked for: a command
that runs one domain (``synth curate``) does not pay for importing every other domain's drawing
libraries (matplotlib, scipy, RDKit...), which took longer than hashing a thousand images.
"""

from __future__ import annotations

import importlib

from synth.pipeline import Pipeline

#: Every domain, in the order ``synth --help`` and ``make demo`` list them.
MODULES = {
    "text_render": "pipelines.text_render",
    "text_edit": "pipelines.text_edit",
    "curate": "pipelines.curate",
    "physics": "pipelines.physics",
    "cs_diagram": "pipelines.cs_diagram",
    "geometry": "pipelines.geometry",
    "meme": "pipelines.meme",
    "cad": "pipelines.cad",
    "rotate": "pipelines.rotate",
    "chemistry": "pipelines.chemistry",
    "biology": "pipelines.biology",
    "caption": "pipelines.caption",
    "translate": "pipelines.translate",
    "rewrite": "pipelines.rewrite",
    "cot": "pipelines.cot",
    "sample": "pipelines.sample",
}


def pipeline(name: str) -> Pipeline:
    """The pipeline called ``name``, importing only its module. KeyError if there is none."""
    return importlib.import_module(MODULES[name]).PIPELINE


def registry() -> dict[str, Pipeline]:
    """Every pipeline by name (imports them all)."""
    return {name: pipeline(name) for name in MODULES}
