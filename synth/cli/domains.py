"""One ``synth <domain>`` command per pipeline in the registry: the options every run shares
(``--out``, ``--config``, ``--set``, the runtime flags), then a generator's ``--num`` and ``--seed``
or a transform's ``--input`` files and run folders."""

from __future__ import annotations

import json

import click

import synth
from synth.cli.meme import meme_samples
from synth.cli.text_edit import text_edit_export
from synth.config import default_config_path
from synth.pipeline import Pipeline
from synth.report import summary_line
from synth.writer import OutputDir


def _common_options(func):
    """Options every pipeline command shares (applied bottom-up, so they list in this order)."""
    options = [
        click.option(
            "--out", default=None, help="Output folder: a path, s3://bucket/prefix or gs://... (required)"
        ),
        click.option(
            "--config",
            "config_path",
            type=click.Path(dir_okay=False),
            default=None,
            help="YAML config instead of the shipped one (a copy of configs/<name>.yaml, named in --help).",
        ),
        click.option(
            "--set",
            "overrides",
            multiple=True,
            metavar="KEY=VALUE",
            help="Override a config key (YAML value), e.g. --set runtime.unit_size=128",
        ),
        click.option(
            "--address",
            default=None,
            help="Ray cluster address ('auto' inside a cluster); default: RAY_ADDRESS or a local Ray.",
        ),
        click.option("--workers", type=int, default=None, help="Parallel workers (default: one per CPU)."),
        click.option(
            "--overwrite", is_flag=True, help="Replace an existing output made with another config."
        ),
        click.option("--retry-errors", is_flag=True, help="Redo the units that hold rows with status=error."),
        click.option(
            "--preview/--no-preview", default=True, help="Write preview/index.html when done (default on)."
        ),
        click.option("--quiet", is_flag=True, help="No progress bar."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _runtime_sets(common: dict) -> list[str]:
    """The --set overrides plus what the shared options say about the runtime."""
    sets = list(common["overrides"])
    if common["address"]:
        sets.append(f"runtime.address={json.dumps(common['address'])}")
    if common["workers"]:
        sets.append(f"runtime.workers={common['workers']}")
    return sets


def _run(pipeline: Pipeline, common: dict, sets: list[str], num: int | None = None, **flags) -> None:
    """``synth.run`` with ``sets``, then print where the output went and its counts."""
    out = common["out"]
    run = synth.run(
        pipeline.name,
        out,
        num,
        overrides=sets,
        config=common["config_path"],
        overwrite=common["overwrite"],
        retry_errors=common["retry_errors"],
        progress=not common["quiet"],
        **flags,
    )
    click.echo(f"wrote {OutputDir(out).uri}: {summary_line(run['report'])}")
    for name, state in (run.get("models") or {}).get("filters", {}).items():
        if state != "on":
            click.echo(f"  {name} filter {state}")
    if common["preview"]:
        click.echo(f"preview: {synth.preview(out)}")


def _pipeline_command(pipeline: Pipeline) -> click.Command:
    word = pipeline.name.replace("_", "-")
    subcommands = SUBCOMMANDS.get(pipeline.name, [])
    fields = pipeline.config_model.model_fields
    has_sources = "sources" in fields  # photos (and texts) to draw with
    sources = fields["sources"].annotation.model_fields if has_sources else {}
    has_corpus = "corpus" in sources
    decorator = (
        click.group(name=word, help=pipeline_help(pipeline), invoke_without_command=True)
        if subcommands
        else click.command(name=word, help=pipeline_help(pipeline))
    )

    @decorator
    @click.option("--num", type=int, default=None, help="Samples to attempt (kept + rejected + error = NUM).")
    @click.option("--seed", type=int, default=None, help="Run seed (default: the config's, 0).")
    @click.option(
        "--input",
        "inputs",
        multiple=True,
        hidden="inputs" not in fields,
        help="Photos to work on instead of drawn scenes: a folder, files, .parquet or .tar shards "
        "(globs and {000..099} ranges quoted). Repeatable; --num is then not needed.",
    )
    @click.option(
        "--documents",
        multiple=True,
        hidden="documents" not in fields,
        help="Pages of problems (a folder, PDFs or page images) whose figures an LLM draws as SVG; "
        "needs --set llm.base_url=http://HOST:PORT/v1. Repeatable; --num is then not needed.",
    )
    @click.option(
        "--images",
        default=None,
        hidden=not has_sources,
        help="Photo folder or Parquet file for photo backgrounds.",
    )
    @click.option(
        "--corpus",
        default=None,
        hidden=not has_corpus,
        type=click.Path(exists=True, dir_okay=False),
        help="Text file, one text per line.",
    )
    @click.option(
        "--rethreshold",
        is_flag=True,
        hidden=pipeline.decide is None,
        help="Re-decide an existing output with new thresholds from its stored scores (nothing is "
        "drawn or read again; only units whose rows change are rewritten). --num may be left out.",
    )
    @_common_options
    @click.pass_context
    def command(ctx, num, seed, inputs, documents, images, corpus, rethreshold, **common):
        if ctx.invoked_subcommand:
            return
        for given, option, key in ((inputs, "--input", "inputs"), (documents, "--documents", "documents")):
            if given and key not in fields:
                raise click.UsageError(f"synth {word} takes no {option}")
        if (num is None and not inputs and not documents and not rethreshold) or common["out"] is None:
            raise click.UsageError(
                "--num (or --input) and --out are required, e.g. --num 200 --out out/" + pipeline.name
            )
        sets = _runtime_sets(common)
        if inputs:
            sets.append(f"inputs={json.dumps(list(inputs))}")
        if documents:
            sets.append(f"documents={json.dumps(list(documents))}")
        if seed is not None:
            sets.append(f"seed={seed}")
        if images and not has_sources:
            raise click.UsageError(f"synth {word} draws no photos: --images does not apply")
        if corpus and not has_corpus:
            raise click.UsageError(f"synth {word} draws no texts from a corpus: --corpus does not apply")
        if images:
            sets.append(f"sources.images={json.dumps(images)}")
        if corpus:
            sets.append(f"sources.corpus={json.dumps(corpus)}")
        _run(pipeline, common, sets, num, rethreshold=rethreshold)

    for sub in subcommands:
        command.add_command(sub)
    return command


def pipeline_help(pipeline: Pipeline) -> str:
    word = pipeline.name.replace("_", "-")
    extra = EXAMPLES.get(pipeline.name, f"synth {word} --num 200 --out out/{pipeline.name}")
    return f"{pipeline.summary}\n\n\b\nExamples:\n  {extra}\n\nDefaults: {default_config_path(pipeline.name)}"


EXAMPLES = {
    "text_edit": "synth text-edit --num 2000 --out out/text_edit\n"
    "  synth text-edit --input photos_with_text/ --out out/text_edit_real\n"
    "  synth text-edit --num 300 --out out/bench_te --set split=test\n"
    "  synth text-edit export out/bench_te --format textedit --out bench/\n"
    "  synth eval text-edit --pred model_outputs/ --bench bench/ --out report.json",
    "physics": "synth physics --num 2000 --out out/physics\n"
    "  synth physics --num 500 --out out/circuits --set kinds=[series_circuit,parallel_circuit] --set tasks={edit:1}\n"
    "  synth physics --documents exam_pages/ --out out/physics_docs --set llm.base_url=http://127.0.0.1:8000/v1",
    "caption": "synth caption --input out/curated --out out/captioned --set llm.base_url=http://127.0.0.1:8000/v1",
    "cot": "synth cot --input out/physics --out out/physics_cot --set llm.base_url=http://127.0.0.1:8000/v1\n"
    "  synth cot --input out/memes --out out/memes_cot --set flavour=meme",
    "translate": "synth translate --input out/text --out out/text_zh --set llm.base_url=http://127.0.0.1:8000/v1\n"
    "  synth translate --input out/text_zh --out out/text_en --set to=en --set llm.base_url=http://127.0.0.1:8000/v1",
    "rewrite": "synth rewrite --input out/text_edit --out out/text_edit_llm --set llm.base_url=http://127.0.0.1:8000/v1\n"
    "  synth rewrite --input out/cs_edits --out out/cs_edits_llm --set variants=5",
    "geometry": "synth geometry --num 2000 --out out/geometry\n"
    "  synth geometry --num 500 --out out/geo_edits --set tasks={edit:1} --set solids=[cube,pyramid,frustum]\n"
    "  synth geometry --num 500 --out out/geo_und --set tasks={und:1} --set projection=oblique",
    "meme": "synth meme samples --out memes/ --num 12\n"
    "  synth meme --input memes/ --out out/meme_templates --set stages=[detect,remove]\n"
    "  synth meme --input out/meme_templates --out out/memes --set llm.base_url=http://127.0.0.1:8000/v1\n"
    "  synth meme --num 200 --out out/memes_demo --set stages=[detect,remove,render,verify]",
    "cad": "synth cad --num 2000 --out out/cad\n"
    "  synth cad --num 500 --out out/cad_edits --set tasks={edit:1}\n"
    "  synth cad --num 500 --out out/cad_views --set tasks={edit:1} --set edits=[complete_view,complete_iso]\n"
    "  synth cad --num 300 --out out/cad_und --set tasks={und:1} --set parts=[flange,housing]",
    "rotate": "synth rotate --num 500 --out out/rotate\n"
    "  synth rotate --input objaverse_glbs/ --out out/rotate_files\n"
    "  synth rotate --num 200 --out out/rotate_turns --set tasks={edit:1} --set directions={left:1,right:1}\n"
    "  synth rotate --num 200 --out out/rotate_bg --set strategy=background_first --images out/curated\n"
    "  synth rotate --num 200 --out out/rotate_tt --set tasks={turntable:1} --set turntable.views=8 --set turntable.columns=4\n"
    "  synth rotate --input glbs/ --out out/rotate_named --set name_with_llm=true --set llm.base_url=http://127.0.0.1:8000/v1",
    "chemistry": "synth chemistry --num 2000 --out out/chem\n"
    "  synth chemistry --num 500 --out out/chem_edits --set tasks={edit:1} --set kinds=[molecule]\n"
    "  synth chemistry --num 500 --out out/chem_und --set tasks={und:1}",
    "biology": "synth biology --num 2000 --out out/bio\n"
    "  synth biology --num 500 --out out/bio_genetics --set kinds=[punnett,pedigree,central_dogma] --set tasks={edit:1}",
    "cs_diagram": "synth cs-diagram --num 2000 --out out/cs\n"
    "  synth cs-diagram --num 500 --out out/cs_some --set kinds=[bst,heap,graph_bfs,dfa,linked_list,bar_chart]\n"
    "  synth cs-diagram --num 500 --out out/cs_edits --set tasks={edit:1}",
}


SUBCOMMANDS = {"text_edit": [text_edit_export], "meme": [meme_samples]}


def _inputs_command(pipeline: Pipeline) -> click.Command:
    word = pipeline.name.replace("_", "-")
    help_text = f"""{pipeline.summary}

    \b
    Examples:
      synth {word} --input photos/ --out out/curated
      synth {word} --input 'shards/*.parquet' --image-column image --out out/curated
      synth {word} --input 'tars/{{00000..00099}}.tar' --out out/curated
      synth {word} --input photos/ --out out/curated --set filters.phash.max_distance=6
      synth {word} --input photos/ --out out/curated --set filters.aesthetic.min=5.5 --rethreshold

    Model filters are on when their weights are set (README: 'Model weights').
    Defaults: {default_config_path(pipeline.name)}"""

    @click.command(name=word, help=help_text)
    @click.option(
        "--input",
        "inputs",
        multiple=True,
        required=True,
        help="A folder (recursive), image files, .parquet or WebDataset .tar shards; globs and "
        "{000..099} ranges work when quoted. Repeatable.",
    )
    @click.option("--image-column", default=None, help="Image column of Parquet inputs (default: image).")
    @click.option(
        "--against",
        multiple=True,
        help="An earlier curated output: images near-duplicating its kept ones are dropped. Repeatable.",
    )
    @click.option(
        "--rethreshold",
        is_flag=True,
        help="Re-decide an existing output with new thresholds from its stored scores (no model runs).",
    )
    @_common_options
    def command(inputs, image_column, against, rethreshold, **common):
        if common["out"] is None:
            raise click.UsageError("--out is required, e.g. --out out/" + pipeline.name)
        sets = [f"inputs={json.dumps(list(inputs))}"] + _runtime_sets(common)
        if image_column:
            sets.append(f"image_column={json.dumps(image_column)}")
        if against:
            sets.append(f"against={json.dumps(list(against))}")
        _run(pipeline, common, sets, rethreshold=rethreshold)

    return command


def domain_command(pipeline: Pipeline) -> click.Command:
    """``synth <domain>``: a generator's command, a transform's when it needs ``--input``, or the
    pipeline's own (``synth sample``)."""
    if pipeline.name == "sample":
        from synth.cli.sample import sample_command

        return sample_command(pipeline)
    return (_inputs_command if pipeline.inputs_required else _pipeline_command)(pipeline)
