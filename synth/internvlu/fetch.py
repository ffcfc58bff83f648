"""Where a checkpoint comes from: a local folder, or object storage (``s3://``, ``gs://``) copied
once into a local cache; and its digest, which names the model a run used.

No torch here: the driver digests the checkpoint when a run starts, before any worker exists.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from pathlib import Path

import pyarrow.fs as pafs

CHUNK = 8 << 20


class CheckpointSourceError(RuntimeError):
    """The checkpoint cannot be found or read, or is not the one the run recorded."""


def _open(uri: str) -> tuple[pafs.FileSystem, str]:
    from synth.inputs import filesystem

    try:
        return filesystem(uri)
    except (pafs.ArrowInvalid, OSError, ValueError) as e:
        raise CheckpointSourceError(f"cannot open checkpoint {uri!r}: {e}") from None


def list_files(uri: str) -> tuple[pafs.FileSystem, str, list[str]]:
    """The checkpoint's files, relative to its root, sorted (hidden files and folders left out)."""
    fs, root = _open(uri)
    info = fs.get_file_info(root)
    if info.type != pafs.FileType.Directory:
        raise CheckpointSourceError(
            f"checkpoint {uri!r} is not a folder: give the folder holding model_index.json "
            "(the official InternVL-U layout; `synth model tiny OUT` writes a small one)"
        )
    found = fs.get_file_info(pafs.FileSelector(root, recursive=True))
    rels = []
    for f in found:
        rel = os.path.relpath(f.path, root)
        if f.type == pafs.FileType.File and not any(p.startswith(".") for p in Path(rel).parts):
            rels.append(rel)
    if "model_index.json" not in rels:
        raise CheckpointSourceError(f"checkpoint {uri!r} has no model_index.json")
    return fs, root, sorted(rels)


def checkpoint_digest(uri: str) -> str:
    """sha256 over every file's relative path and bytes, in path order: the same weights in any
    folder or bucket give the same digest; one changed byte gives another. A local folder's digest
    is remembered per node by its files' paths, sizes and modification times, so the driver and
    every actor do not each read gigabytes again for a folder that has not changed."""
    fs, root, rels = list_files(uri)
    local = isinstance(fs, pafs.LocalFileSystem)
    memo = _memo_path(root, rels) if local else None
    if memo is not None and memo.is_file():
        return memo.read_text().strip()
    h = hashlib.sha256()
    for rel in rels:
        h.update(rel.encode() + b"\0")
        with fs.open_input_stream(f"{root}/{rel}") as f:
            while block := f.read(CHUNK):
                h.update(block)
        h.update(b"\0")
    digest = h.hexdigest()
    if memo is not None:
        try:
            memo.parent.mkdir(parents=True, exist_ok=True)
            tmp = memo.with_name(f"{memo.name}.tmp-{uuid.uuid4().hex[:8]}")
            tmp.write_text(digest)
            tmp.rename(memo)
        except OSError:  # a read-only cache only costs the next reader a rehash
            pass
    return digest


def _memo_path(root: str, rels: list[str]) -> Path | None:
    """Where the digest of the local folder ``root`` as it is now would be remembered: named by
    the hash of its files' relative paths, sizes and modification times (any change, another name)."""
    try:
        stats = [(rel, os.stat(os.path.join(root, rel))) for rel in rels]
    except OSError:
        return None
    key = hashlib.sha256(
        repr((os.path.realpath(root), [(r, s.st_size, s.st_mtime_ns) for r, s in stats])).encode()
    ).hexdigest()
    return cache_root() / "digests" / key


def read_json_file(uri: str, rel: str) -> dict:
    """One JSON file of the checkpoint at ``uri`` (local or remote), without copying the rest."""
    import json

    fs, root = _open(uri)
    try:
        with fs.open_input_stream(f"{root}/{rel}") as f:
            return json.loads(f.read().decode())
    except (OSError, ValueError) as e:
        raise CheckpointSourceError(f"checkpoint {uri!r}: cannot read {rel} ({e})") from None


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "unisynth" / "checkpoints"


def local_checkpoint(uri: str, digest: str | None = None, cache: str | None = None) -> Path:
    """A local folder holding ``uri``'s checkpoint, checked against ``digest`` when given: a local
    path as it is; a remote one copied once into ``cache`` (default
    ``~/.cache/unisynth/checkpoints``), as ``<cache>/<digest>``, under a temporary name, checked,
    then renamed, so a half copy is never used."""
    if "://" not in uri or uri.startswith("file://"):
        path = Path(uri.removeprefix("file://"))
        if digest is not None and (got := checkpoint_digest(str(path))) != digest:
            raise CheckpointSourceError(
                f"the checkpoint at {path} on {os.uname().nodename} is not the one this run started "
                f"with (digest {got[:16]}, recorded {digest[:16]}): every node needs the same files "
                "at that path (or give an s3:// or gs:// URI), or start a new run with --overwrite"
            )
        return path
    digest = digest or checkpoint_digest(uri)
    target = (Path(cache) if cache else cache_root()) / digest
    if target.is_dir():
        return target
    fs, root, rels = list_files(uri)
    tmp = target.with_name(f"{digest}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        for rel in rels:
            dest = tmp / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            with fs.open_input_stream(f"{root}/{rel}") as src, open(dest, "wb") as out:
                shutil.copyfileobj(src, out, CHUNK)
        if (got := checkpoint_digest(str(tmp))) != digest:
            raise CheckpointSourceError(
                f"{uri} changed since the run started (digest {got[:16]}, recorded {digest[:16]})"
            )
        try:
            tmp.rename(target)
        except OSError:  # another worker on this node finished the same copy first
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
