"""``synth meme samples``: a folder of memes with known captions, made from bundled photos, to try
``synth meme --input`` without a meme collection."""

from __future__ import annotations

import click


@click.command(name="samples")
@click.option("--out", required=True, help="Folder for the memes (meme_000.png ...) and captions.json.")
@click.option("--num", type=int, default=12, show_default=True, help="Memes to write.")
@click.option("--seed", type=int, default=0, show_default=True, help="Which bundled plans caption them.")
@click.option("--images", default=None, help="Photo folder or Parquet file (default: scikit-image's photos).")
def meme_samples(out: str, num: int, seed: int, images: str | None) -> None:
    """Write NUM classic memes: photos captioned with bundled plans, and captions.json with the
    captions as drawn."""
    from pipelines.meme.config import MemeConfig
    from pipelines.meme.samples import write_memes

    cfg = MemeConfig(sources={"images": images}) if images else None
    write_memes(out, num, seed, cfg)
    click.echo(
        f"wrote {num} memes to {out}; try: synth meme --input {out} --out out/memes --set stages=[detect,remove]"
    )
