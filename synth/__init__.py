"""unisynth: the data engine for unified multimodal models.

The public API. Each ``synth`` command is a thin wrapper over one of these functions::

    import synth

    run = synth.run("text_render", "out/text", num=200, overrides={"render.min_contrast": 7})
    run["report"]["counts"]                # {'kept': ..., 'rejected': ..., 'error': ...}
    synth.validate("out/text").ok          # what `synth validate` checks
    synth.inspect("out/text")["reasons"]   # what `synth inspect --json` prints
    synth.preview("out/text")              # 'out/text/preview/index.html'
    cfg = synth.load_config("curate", {"filters.phash.max_distance": 6})

``synth.validate`` and ``synth.preview`` are these functions, not the modules of the same names
(import their other names from the modules: ``from synth.validate import Validation``).
"""

__version__ = "0.1.0"  # before the imports below: the modules they load read it from here

import json  # noqa: E402
from collections.abc import Mapping, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from synth.config import ConfigError, Overrides, PipelineConfig, default_config_path  # noqa: E402
from synth.config import load_config as _load_yaml  # noqa: E402
from synth.preview import write_preview as preview  # noqa: E402
from synth.report import inspect  # noqa: E402
from synth.validate import validate  # noqa: E402

__all__ = ["ConfigError", "__version__", "inspect", "load_config", "preview", "run", "validate"]


def _pipeline(name: str):
    """The registered pipeline called ``name`` (``text-render`` or ``text_render``).

    ``pipelines`` is imported here, not at the top: dependencies point one way (synth.cli ->
    pipelines -> renderers/filters -> synth core), so the core imports a domain only when a caller
    asks for one by name, as ``synth.cli`` does.
    """
    from pipelines import MODULES, pipeline

    key = name.replace("-", "_")
    if key not in MODULES:
        raise ConfigError(f"no pipeline {name!r}; registered: {', '.join(sorted(MODULES))}")
    return pipeline(key)


def load_config(
    pipeline: str,
    overrides: Overrides | None = None,
    *,
    config: str | Path | None = None,
    inputs: Sequence[str] | None = None,
) -> PipelineConfig:
    """The validated config of ``pipeline``: its shipped ``configs/<name>.yaml`` (or the YAML file
    ``config``), then ``overrides`` (``{"render.min_contrast": 7}``, or ``--set`` strings), then
    ``inputs`` (the files or run folders a transform reads).

    >>> synth.load_config("text_render", {"runtime.unit_size": 32}).runtime.unit_size
    32
    """
    p = _pipeline(pipeline)
    if inputs:
        if "inputs" not in p.config_model.model_fields:
            raise ConfigError(f"{p.name} takes no inputs: it draws its samples (give num instead)")
        overrides = _with(overrides, "inputs", [str(i) for i in inputs])
    return _load_yaml(p.config_model, config or default_config_path(p.name), overrides)


def _with(overrides: Overrides | None, key: str, value: Any) -> Overrides:
    """``overrides`` plus ``key`` set to ``value``, last (so it wins), in the same form."""
    if isinstance(overrides, Mapping):
        return {**overrides, key: value}
    return [*(overrides or []), f"{key}={json.dumps(value)}"]  # JSON is YAML: it parses back as is


def run(
    pipeline: str,
    out: str,
    num: int | None = None,
    *,
    inputs: Sequence[str] | None = None,
    overrides: Overrides | None = None,
    config: str | Path | None = None,
    overwrite: bool = False,
    retry_errors: bool = False,
    rethreshold: bool = False,
    progress: bool | None = False,
) -> dict[str, Any]:
    """Run ``num`` samples of ``pipeline`` (or all of its ``inputs``) into ``out`` (a path or an
    ``s3://``/``gs://`` URI) and return the run report: run.json, with the resolved config, the unit
    plan and, under ``report``, the counts by status and reason.

    A rerun into the same ``out`` skips committed units and extends to a larger ``num``; the flags
    are those of ``synth <domain>``. Raises ``ConfigError`` for a bad config and
    ``synth.runner.RunError`` for a run that cannot go on.
    """
    from synth.runner import RunError, run_pipeline  # imports Ray: only when a run is asked for

    p = _pipeline(pipeline)
    cfg = load_config(pipeline, overrides, config=config, inputs=inputs)
    takes_inputs = any(getattr(cfg, key, None) for key in ("inputs", "documents", "prompts"))
    if num is None and not takes_inputs and not rethreshold:  # a rethreshold keeps the planned num
        raise RunError(
            f"{p.name} draws its samples: give num (samples to attempt), or inputs where it takes them"
        )
    return run_pipeline(
        p,
        cfg,
        out,
        num,
        overwrite=overwrite,
        retry_errors=retry_errors,
        rethreshold=rethreshold,
        progress=progress,
    )
