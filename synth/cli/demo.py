"""``synth demo``: the quickstart behind ``make demo``."""

from __future__ import annotations

import json
from pathlib import Path

import click

import synth
from pipelines import registry
from synth.report import summary_line
from synth.runner import RunError


@click.command()
@click.option("--out", default="out/demo", help="Folder for the demo outputs.")
@click.option("--num", default=60, help="Samples per domain.")
def demo(out: str, num: int) -> None:
    """The quickstart behind `make demo`: every domain on an embedded local Ray, validated, with previews
    (the LLM stages need a server, so they are left out: see `synth llm serve`).
    Curation runs on a folder of scikit-image's photos with planted duplicates and broken files, and
    text editing also on photos with signs drawn on them (real scenes: the text is found by OCR)."""
    from pipelines.curate.samples import write_sample_photos
    from pipelines.text_edit.samples import write_sample_scenes

    samples = {"curate": (write_sample_photos, "photos with planted duplicates and broken files"),
               "text_edit_real": (write_sample_scenes, "photos with signs, and some without usable text")}  # fmt: skip
    runs = [(name, name) for name, p in registry().items() if not p.needs_llm and not p.needs_model] + [
        ("text_edit_real", "text_edit")
    ]
    failed = []
    for folder_name, name in runs:
        folder = str(Path(out) / folder_name)
        sets = ["seed=7", *DEMO_SETS.get(folder_name, [])]
        if folder_name in samples:
            write, what = samples[folder_name]
            inputs = str(Path(out) / f"{folder_name}_inputs")
            expected = write(inputs)
            sets.append(f"inputs={json.dumps([inputs])}")
            click.echo(f"== {folder_name}: {len(expected)} {what} in {inputs} -> {folder}")
        else:
            click.echo(f"== {folder_name}: {num} samples -> {folder}")
        run = synth.run(name, folder, num, overrides=sets, overwrite=True, progress=None)
        click.echo(f"   {summary_line(run['report'])}")
        result = synth.validate(folder)
        click.echo(f"   validate: {'OK' if result.ok else 'INVALID'}; preview: {synth.preview(folder)}")
        if not result.ok:
            failed.append(folder_name)
    if not _sample_demo(out):
        failed.append("sample")
    if failed:
        raise RunError(f"demo outputs failed validation: {failed}")


#: Overrides of a domain's demo run: memes take bundled plans, since the demo has no LLM server.
DEMO_SETS = {"meme": ["stages=[detect,remove,render,verify]"]}


#: What the sample demo's preview says above its pictures.
TINY_NOTE = (
    "Sampled with a tiny random-weight InternVL-U checkpoint (synth model tiny): the images are noise "
    "and the text is gibberish by design. The run shows the pipeline (batching, resumable units, the "
    "schema); give --checkpoint a trained model for real samples."
)


def _sample_demo(out: str) -> bool:
    """``synth sample`` on the text-render prompts with a tiny random checkpoint made here."""
    from synth.internvlu.presets import make_tiny
    from synth.writer import OutputDir

    checkpoint = Path(out) / "ivu-tiny"
    make_tiny(checkpoint)
    folder = str(Path(out) / "sample")
    click.echo(
        f"== sample: the text_render prompts through a tiny random InternVL-U ({checkpoint}) -> {folder}"
    )
    sets = [
        "seed=7",
        f"checkpoint={json.dumps(str(checkpoint))}",
        f"inputs={json.dumps([str(Path(out) / 'text_render')])}",
    ]
    run = synth.run("sample", folder, overrides=sets, overwrite=True, progress=None)
    OutputDir(folder).write_json("run.json", {**run, "notes": [TINY_NOTE]})
    click.echo(f"   {summary_line(run['report'])} (random weights: the images are noise)")
    result = synth.validate(folder)
    click.echo(f"   validate: {'OK' if result.ok else 'INVALID'}; preview: {synth.preview(folder)}")
    return result.ok
