"""What ``--input`` and ``--images`` read: image folders, Parquet shards, WebDataset tars, local or
through any ``pyarrow.fs`` URI; and, where a command takes documents (``synth physics
--documents``), PDFs, one input per page. The one place that lists and reads inputs: curation and
real scenes read units here, LLM stages reopen run folders here, and photo pools
(``synth.sources``) read single photos here, a Parquet photo by its row group, a tar member by its
byte range.

Listing turns the ``--input`` arguments into entries (sorted, so a rerun plans the same units).
Units are slices of entries: image files in runs of ``unit_size``, Parquet rows in row ranges
(a unit may span shards), and one unit per tar (its members are only known by reading it).
Reading a unit yields one :class:`RawInput` per image, with its bytes or the reason it has none:
an unreadable input becomes a row with a reason, never an exception.
"""

from __future__ import annotations

import fnmatch
import glob
import hashlib
import os
import re
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from synth.identity import digest
from synth.pipeline import Unit

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")
#: What ``synth cad`` reads: B-rep STEP files and STL/OBJ meshes (every reader takes ``suffixes``).
CAD_SUFFIXES = (".step", ".stp", ".stl", ".obj")
PDF_DPI = 150  # pages are rasterised at this resolution...
PDF_MAX_SIDE = 2400  # ...and at most this many pixels on their longer side
DEFAULT_MAX_BYTES = 256 * 1024 * 1024


class InputError(ValueError):
    """An ``--input`` that names nothing usable; the message says what was expected."""


@dataclass(frozen=True)
class InputEntry:
    kind: str  # "file", "parquet", "tar" or "pdf"
    uri: str  # where to read it: a local path or a URI pyarrow.fs understands
    root: str  # the --input argument as given (part of every sample id)
    rel: str  # the path below the root, or the shard's file name
    rows: int = 1  # images it holds (a tar counts as 1: its members are read with it; a PDF its pages)


@dataclass(frozen=True)
class Slice:
    entry: InputEntry
    start: int = 0  # rows [start, stop) of a Parquet entry
    stop: int = 1


@dataclass
class RawInput:
    root: str
    key: str  # path below the root, "shard.parquet#row" or "shard.tar#key"
    ref: str  # where it came from, for target_image.path
    data: bytes | None
    error: tuple[str, str] | None = None  # (reason, detail) when there are no bytes to decode
    caption: str | None = None
    kind: str = "file"  # file, parquet or tar
    suffix: str | None = None  # the file's or tar member's suffix (".png", ".step"); None in Parquet

    @property
    def sample_id(self) -> str:
        """hash(input root as given, path below it or shard+key, digest of the input bytes)."""
        content = hashlib.sha256(self.data).hexdigest() if self.data is not None else None
        return digest(self.root, self.key, content)


def expand_braces(pattern: str) -> list[str]:
    """Shell-style braces: ``{00000..00099}`` (zero padding kept) and ``{a,b}``, as WebDataset URLs use."""
    m = re.search(r"\{([^{}]*)\}", pattern)
    if not m:
        return [pattern]
    head, tail, body = pattern[: m.start()], pattern[m.end() :], m.group(1)
    rng = re.fullmatch(r"(\d+)\.\.(\d+)", body)
    if rng:
        lo, hi = rng.group(1), rng.group(2)
        width = len(lo) if lo.startswith("0") else 0
        options = [str(i).zfill(width) for i in range(int(lo), int(hi) + 1)]
    else:
        options = body.split(",")
    return [p for opt in options for p in expand_braces(head + opt + tail)]


def filesystem(uri: str) -> tuple[pafs.FileSystem, str]:
    """(file system, path) of a local path or a ``pyarrow.fs`` URI (``s3://``, ``gs://``, with
    options such as ``?endpoint_override=`` in its query)."""
    if "://" in uri:
        return pafs.FileSystem.from_uri(uri)
    return pafs.LocalFileSystem(), os.path.abspath(uri)


def open_file(uri: str) -> pa.NativeFile:
    """A random-access file (local path or URI), for reading by row group or byte range."""
    fs, path = filesystem(uri)
    return fs.open_input_file(path)


def read_file(uri: str, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """A whole file; ``ValueError`` when it is larger than ``max_bytes``, ``OSError`` when unreadable."""
    fs, path = filesystem(uri)
    size = fs.get_file_info(path).size
    if size is not None and size > max_bytes:
        raise ValueError(f"{size} bytes exceeds decode.max_bytes={max_bytes}")
    with fs.open_input_stream(path) as f:
        return f.read()


def read_range(uri: str, offset: int, size: int) -> bytes:
    """``size`` bytes at ``offset`` (a tar member), without reading the rest of the file."""
    with open_file(uri) as f:
        f.seek(offset)
        return f.read(size)


def _split_query(uri: str) -> tuple[str, str]:
    """(the URI without its query, ``?query`` or ""): pyarrow.fs options (``endpoint_override``)
    ride in the query, which must follow every path listed below the URI and is never a glob."""
    if "://" in uri and "?" in uri:
        base, query = uri.split("?", 1)
        return base, "?" + query
    return uri, ""


def _is_glob(pattern: str) -> bool:
    return re.search(r"[*?\[]", _split_query(pattern)[0]) is not None


def _glob(pattern: str) -> list[str]:
    if "://" not in pattern:
        return sorted(glob.glob(pattern, recursive=True))
    fs, path = pafs.FileSystem.from_uri(pattern)
    scheme, query = pattern.split("://", 1)[0], _split_query(pattern)[1]
    base = re.split(r"[*?\[]", path, maxsplit=1)[0].rsplit("/", 1)[0]
    infos = fs.get_file_info(pafs.FileSelector(base, recursive=True, allow_not_found=True))
    return sorted(f"{scheme}://{i.path}{query}" for i in infos if fnmatch.fnmatch(i.path, path))


def _kind(path: str, documents: bool = False, suffixes: tuple[str, ...] = IMAGE_SUFFIXES) -> str | None:
    lower = path.lower()
    if documents and lower.endswith(".pdf"):
        return "pdf"
    if lower.endswith(".parquet"):
        return "parquet"
    if lower.endswith(".tar"):
        return "tar"
    if lower.endswith(suffixes):
        return "file"
    return None


def _parquet_rows(uri: str, image_column: str) -> int:
    """Row count from the footer; a shard without the image column fails the listing, not every row."""
    fs, path = filesystem(uri)
    try:
        with fs.open_input_file(path) as f:
            pf = pq.ParquetFile(f)
            names, rows = pf.schema_arrow.names, pf.metadata.num_rows
    except (OSError, pa.ArrowInvalid) as e:
        raise InputError(f"--input {uri}: not a readable Parquet file ({e})") from None
    if image_column not in names:
        raise InputError(
            f"--input {uri} has no column {image_column!r} (columns: {names}); pass --image-column"
        )
    return rows


def list_inputs(
    inputs: list[str],
    image_column: str = "image",
    documents: bool = False,
    suffixes: tuple[str, ...] = IMAGE_SUFFIXES,
) -> list[InputEntry]:
    """Entries for every ``--input`` (folder, file, glob or brace pattern), in a stable order;
    ``documents`` also takes PDFs; ``suffixes``: the files taken (images by default)."""
    entries: list[InputEntry] = []
    seen: set[str] = set()
    for arg in inputs:
        found: list[InputEntry] = []
        for pattern in expand_braces(arg):
            paths = _glob(pattern) if _is_glob(pattern) else [pattern]
            for path in paths:
                found.extend(_entries_for(arg, path, image_column, documents, suffixes))
        if not found:
            what = "documents" if documents else "images" if suffixes == IMAGE_SUFFIXES else "inputs"
            files = ".pdf or image files" if documents else f"{', '.join(suffixes)} files"
            raise InputError(
                f"{arg}: no {what} found (a folder of {files}, .parquet shards or WebDataset .tar shards)"
            )
        for e in found:
            if e.uri not in seen:
                seen.add(e.uri)
                entries.append(e)
    return entries


def _pdf_pages(uri: str) -> int:
    """Pages of a PDF; 1 for a PDF that does not open (reading it then yields a decode_error)."""
    import pypdfium2

    try:
        fs, path = filesystem(uri)
        with fs.open_input_stream(path) as f:
            doc = pypdfium2.PdfDocument(f.read())
        try:
            return max(1, len(doc))
        finally:
            doc.close()
    except (OSError, pypdfium2.PdfiumError):
        return 1


def _entries_for(
    arg: str,
    path: str,
    image_column: str,
    documents: bool = False,
    suffixes: tuple[str, ...] = IMAGE_SUFFIXES,
) -> list[InputEntry]:
    fs, local = filesystem(path)
    info = fs.get_file_info(local)
    if info.type == pafs.FileType.Directory:
        selector = pafs.FileSelector(local, recursive=True)
        files = sorted(
            i.path
            for i in fs.get_file_info(selector)
            if i.type == pafs.FileType.File and _kind(i.path, documents, suffixes) in ("file", "pdf")
        )
        prefix = path.split("://", 1)[0] + "://" if "://" in path else ""
        query = _split_query(path)[1]
        out = []
        for f in files:
            kind = _kind(f, documents, suffixes)
            rows = _pdf_pages(prefix + f + query) if kind == "pdf" else 1
            out.append(InputEntry(kind, prefix + f + query, arg, os.path.relpath(f, local), rows))
        return out
    if info.type != pafs.FileType.File:
        if re.search(r"[*?\[{]", _split_query(arg)[0]):
            return []  # a brace expansion may name shards that do not exist
        raise InputError(f"--input {path}: no such file or folder")
    kind = _kind(_split_query(path)[0], documents, suffixes)
    if kind is None:
        what = "images" if suffixes == IMAGE_SUFFIXES else " or ".join(suffixes) + " files"
        raise InputError(
            f"{path}: expected a folder, {what}{', PDFs' if documents else ''}, .parquet or .tar files"
        )
    rel = os.path.basename(local)
    rows = (
        _parquet_rows(path, image_column) if kind == "parquet" else _pdf_pages(path) if kind == "pdf" else 1
    )
    return [InputEntry(kind, path, arg, rel, rows)]


def run_shards(inputs: list[str]) -> list[str]:
    """``--input`` of a command that transforms our own outputs: a run folder (it holds
    ``run.json``) stands for its kept rows, ``data/part-*.parquet``; other arguments pass as given."""
    out = []
    for arg in inputs:
        fs, path = filesystem(arg)
        if fs.get_file_info(f"{path.rstrip('/')}/run.json").type == pafs.FileType.File:
            selector = pafs.FileSelector(f"{path.rstrip('/')}/data", allow_not_found=True)
            prefix = arg.split("://", 1)[0] + "://" if "://" in arg else ""
            shards = sorted(i.path for i in fs.get_file_info(selector) if i.path.endswith(".parquet"))
            if not shards:
                raise InputError(f"{arg}: a run folder without kept rows (data/ is empty)")
            out += [prefix + p + _split_query(arg)[1] for p in shards]
        else:
            out.append(arg)
    return out


def read_rows(unit: Unit) -> Iterator[tuple[str, dict | None, str | None]]:
    """Whole rows of the Parquet slices of a unit: (key, row, None) or (key, None, why not)."""
    for part in unit.inputs:
        entry = part.entry
        try:
            fs, path = filesystem(entry.uri)
            with fs.open_input_file(path) as f:
                pf = pq.ParquetFile(f)
                table = row_range(pf, part.start, part.stop, pf.schema_arrow.names)
        except (OSError, pa.ArrowException) as e:
            for row in range(part.start, part.stop):
                yield f"{entry.rel}#{row}", None, f"cannot read rows of {entry.uri}: {e}"
            continue
        for offset, row in enumerate(table.to_pylist()):
            yield f"{entry.rel}#{part.start + offset}", row, None


def plan_run_inputs(inputs: list[str], unit_size: int) -> tuple[list[Unit], dict]:
    """Units over the rows of earlier outputs (run folders or shards of our schema)."""
    return plan_inputs(run_shards(inputs), "sample_id", unit_size)


def reopened_rows(unit: Unit) -> list[dict]:
    """Earlier output rows as they are (same sample ids), reopened for another pipeline's stages;
    a slice that cannot be read becomes rows with ``io_error``."""
    from synth.stage import mark

    out = []
    for key, row, problem in read_rows(unit):
        if row is None:
            out.append(mark({"sample_id": key, "seed": 0, "meta": {"key": key}}, "io_error", problem))
            continue
        row.update(status=None, reason=None, detail=None)
        out.append(row)
    return out


def inputs_digest(entries: list[InputEntry]) -> str:
    return digest([[e.kind, e.uri, e.root, e.rel, e.rows] for e in entries])


def plan_inputs(
    inputs: list[str],
    image_column: str,
    unit_size: int,
    documents: bool = False,
    suffixes: tuple[str, ...] = IMAGE_SUFFIXES,
) -> tuple[list[Unit], dict]:
    """List the inputs and plan their units: (units, what run.json records about the inputs; its
    digest makes a rerun over other inputs refused)."""
    entries = list_inputs(inputs, image_column, documents, suffixes)
    units = plan_input_units(entries, unit_size)
    return units, {
        "entries": len(entries),
        "planned": units[-1].end if units else 0,
        "digest": inputs_digest(entries),
    }


def plan_input_units(entries: list[InputEntry], unit_size: int) -> list[Unit]:
    """Units over the images in ``entries``; ``start``/``end`` index images in listing order."""
    units: list[Unit] = []
    current: list[Slice] = []
    count = position = 0

    def close() -> None:
        nonlocal current, count
        if current:
            units.append(Unit(len(units), position - count, position, tuple(current)))
            current, count = [], 0

    for entry in entries:
        if entry.kind == "tar":
            close()
            position += 1
            current, count = [Slice(entry)], 1
            close()
            continue
        start = 0
        while start < entry.rows:
            take = min(unit_size - count, entry.rows - start)
            current.append(Slice(entry, start, start + take))
            start += take
            count += take
            position += take
            if count == unit_size:
                close()
    close()
    return units


def read_unit(
    unit: Unit,
    image_column: str = "image",
    caption_column: str = "caption",
    max_bytes: int = DEFAULT_MAX_BYTES,
    suffixes: tuple[str, ...] = IMAGE_SUFFIXES,
) -> Iterator[RawInput]:
    for part in unit.inputs:
        entry = part.entry
        if entry.kind == "file":
            yield _read_file(entry, max_bytes)
        elif entry.kind == "parquet":
            yield from _read_parquet(part, image_column, caption_column, max_bytes)
        elif entry.kind == "pdf":
            yield from _read_pdf(part, max_bytes)
        else:
            yield from _read_tar(entry, max_bytes, suffixes)


def _read_file(entry: InputEntry, max_bytes: int) -> RawInput:
    raw = RawInput(entry.root, entry.rel, entry.uri, None, suffix=os.path.splitext(entry.rel)[1].lower())
    try:
        raw.data = read_file(entry.uri, max_bytes)
    except OSError as e:
        raw.error = ("io_error", f"cannot read {entry.uri}: {e}")
    except ValueError as e:
        raw.error = ("decode_error", str(e))
    return raw


def _read_pdf(part: Slice, max_bytes: int) -> Iterator[RawInput]:
    """Pages [start, stop) of a PDF, each rasterised to PNG bytes (key ``file.pdf#p<n>``, from 1)."""
    import io

    import pypdfium2

    entry = part.entry

    def raw(page: int, **kw) -> RawInput:
        return RawInput(entry.root, f"{entry.rel}#p{page + 1}", f"{entry.uri}#p{page + 1}", kind="pdf", **kw)

    try:
        fs, path = filesystem(entry.uri)
        size = fs.get_file_info(path).size
        if size is not None and size > max_bytes:
            raise ValueError(f"{size} bytes exceeds the limit of {max_bytes}")
        with fs.open_input_stream(path) as f:
            doc = pypdfium2.PdfDocument(f.read())
    except (OSError, ValueError, pypdfium2.PdfiumError) as e:
        for page in range(part.start, part.stop):
            yield raw(page, data=None, error=("decode_error", f"cannot open {entry.uri} as a PDF: {e}"))
        return
    try:
        for page in range(part.start, part.stop):
            try:
                w, h = doc[page].get_size()
                scale = min(PDF_DPI / 72, PDF_MAX_SIDE / max(w, h, 1))
                image = doc[page].render(scale=scale).to_pil().convert("RGB")
                buf = io.BytesIO()
                image.save(buf, "PNG")
                yield raw(page, data=buf.getvalue())
            except (pypdfium2.PdfiumError, IndexError, ValueError) as e:
                yield raw(page, data=None, error=("decode_error", f"page {page + 1} of {entry.rel}: {e}"))
    finally:
        doc.close()


def cell_bytes(cell) -> tuple[bytes | None, str | None]:
    """An image cell: HF ``{bytes, path}`` struct or raw bytes; (bytes, None) or (None, why not)."""
    if isinstance(cell, dict):
        cell = cell.get("bytes")
    if isinstance(cell, bytes) and cell:
        return cell, None
    if cell is None or cell == b"":
        return None, "image cell is empty (path-only cells are not read)"
    return None, f"image cell holds {type(cell).__name__}, not bytes"


def _read_parquet(part: Slice, image_column: str, caption_column: str, max_bytes: int) -> Iterator[RawInput]:
    entry = part.entry

    def raw(row: int, **kw) -> RawInput:
        return RawInput(entry.root, f"{entry.rel}#{row}", f"{entry.uri}#{row}", kind="parquet", **kw)

    try:
        fs, path = filesystem(entry.uri)
        with fs.open_input_file(path) as f:
            pf = pq.ParquetFile(f)
            if image_column not in pf.schema_arrow.names:
                raise InputError(
                    f"{entry.uri} has no column {image_column!r} (columns: {pf.schema_arrow.names}); "
                    "pass --image-column"
                )
            columns = [image_column] + ([caption_column] if caption_column in pf.schema_arrow.names else [])
            table = row_range(pf, part.start, part.stop, columns)
    except (OSError, pa.ArrowException, InputError) as e:
        reason = (
            "io_error" if isinstance(e, OSError) and not isinstance(e, pa.ArrowException) else "decode_error"
        )
        for row in range(part.start, part.stop):
            yield raw(row, data=None, error=(reason, f"cannot read rows of {entry.uri}: {e}"))
        return
    images = table.column(image_column).to_pylist()
    captions = table.column(caption_column).to_pylist() if caption_column in table.column_names else None
    for offset, cell in enumerate(images):
        data, problem = cell_bytes(cell)
        if data is not None and len(data) > max_bytes:
            data, problem = None, f"{len(data)} bytes exceeds decode.max_bytes={max_bytes}"
        caption = captions[offset] if captions and isinstance(captions[offset], str) else None
        item = raw(part.start + offset, data=data, caption=caption)
        if problem:
            item.error = ("decode_error", f"{entry.rel} row {part.start + offset}: {problem}")
        yield item


def row_range(pf: pq.ParquetFile, start: int, stop: int, columns: list[str]) -> pa.Table:
    """Rows [start, stop) reading only the row groups that hold them."""
    groups, first, offset = [], None, 0
    for g in range(pf.metadata.num_row_groups):
        n = pf.metadata.row_group(g).num_rows
        if offset + n > start and offset < stop:
            groups.append(g)
            first = offset if first is None else first
        offset += n
    if not groups:
        return pa.table({c: pa.array([], pf.schema_arrow.field(c).type) for c in columns})
    return pf.read_row_groups(groups, columns=columns).slice(start - first, stop - start)


def tar_members(suffixes: tuple[str, ...] = IMAGE_SUFFIXES) -> set[str]:
    """What a WebDataset sample's members may be: one of ``suffixes``, and a caption ``.txt``."""
    return {s[1:] for s in suffixes} | {"txt"}


def _member_key(name: str) -> tuple[str, str] | None:
    """(sample key, lower-case extension) of a tar member: the key is the name up to the first dot
    of the file name, with its folder; None for names without one."""
    base = os.path.basename(name)
    if "." not in base or base.startswith("."):
        return None
    dirname = os.path.dirname(name)
    stem, ext = base.split(".", 1)
    return (f"{dirname}/{stem}" if dirname else stem), ext.lower()


@dataclass(frozen=True)
class TarSample:
    """A WebDataset sample of a tar: its key and where its members' bytes lie (ext -> offset, size)."""

    key: str
    members: dict[str, tuple[int, int]]


def tar_index(uri: str) -> list[TarSample]:
    """The samples of a tar in order, from its headers alone: the reader seeks over the data."""
    samples: list[TarSample] = []
    with open_file(uri) as f, tarfile.open(fileobj=f, mode="r:") as tar:
        for member in tar:
            named = _member_key(member.name) if member.isfile() else None
            if named is None:
                continue
            if not samples or samples[-1].key != named[0]:
                samples.append(TarSample(named[0], {}))
            if named[1] in tar_members():
                samples[-1].members[named[1]] = (member.offset_data, member.size)
    return samples


def _read_tar(
    entry: InputEntry, max_bytes: int, suffixes: tuple[str, ...] = IMAGE_SUFFIXES
) -> Iterator[RawInput]:
    """WebDataset members grouped by key (the name up to the first dot of the file name), in order;
    an image with a ``.txt`` beside it gets that text as its caption (img2dataset writes alt text there)."""

    def item(key: str, files: dict[str, bytes | str]) -> RawInput:
        raw = RawInput(entry.root, f"{entry.rel}#{key}", f"{entry.uri}#{key}", None, kind="tar")
        image_ext = next((e for e in files if "." + e in suffixes), None)
        raw.suffix = "." + image_ext if image_ext else None
        if image_ext is None:
            what = "image" if suffixes == IMAGE_SUFFIXES else "/".join(suffixes)
            raw.error = ("decode_error", f"{key}: no {what} member (has {sorted(files)})")
        elif isinstance(files[image_ext], str):
            raw.error = ("decode_error", f"{key}.{image_ext}: {files[image_ext]}")
        else:
            raw.data = files[image_ext]
        text = files.get("txt")
        if isinstance(text, bytes):
            raw.caption = text.decode("utf-8", "replace").strip() or None
        return raw

    members = tar_members(suffixes)
    key, files, read = None, {}, 0
    try:
        fs, path = filesystem(entry.uri)
        with fs.open_input_stream(path) as stream, tarfile.open(fileobj=stream, mode="r|*") as tar:
            for member in tar:
                named = _member_key(member.name) if member.isfile() else None
                if named is None:
                    continue
                k, ext = named
                if k != key and key is not None:
                    yield item(key, files)
                    read += 1
                    files = {}
                key = k
                if ext not in members:
                    continue
                if member.size > max_bytes:
                    files[ext] = f"{member.size} bytes exceeds decode.max_bytes={max_bytes}"
                    continue
                f = tar.extractfile(member)
                files[ext] = f.read() if f is not None else b""
    except (OSError, tarfile.TarError, EOFError) as e:
        if key is not None:
            yield item(key, files)
            key = None
        reason = "decode_error" if isinstance(e, tarfile.TarError | EOFError) else "io_error"
        tail = RawInput(entry.root, f"{entry.rel}#<after {read} samples>", entry.uri, None, kind="tar")
        tail.error = (reason, f"{entry.uri}: unreadable after {read} samples ({type(e).__name__}: {e})")
        yield tail
        return
    if key is not None:
        yield item(key, files)
