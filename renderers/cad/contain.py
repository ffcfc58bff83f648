"""Read untrusted CAD files in a child process (synth.contain), so a hang or a crash in
OpenCascade costs a child. The forkserver preloads build123d and the reader: a child starts in
milliseconds, and never inherits the caller's state (a plain fork of a process that has run an
OpenCascade boolean deadlocks)."""

from __future__ import annotations

from renderers.cad.read import CadReject, precheck, read_part
from synth.contain import Reader

PRELOAD = ("build123d", "trimesh", "renderers.cad.read")


class CadReader(Reader):
    """read_part in a long-lived child process with a per-read timeout (seconds): ``read(data,
    suffix, limits) -> PartViews``. Raises CadReject: "timeout" past the timeout, "decode_error"
    when the child dies, and the child's own CadReject as it was raised."""

    load = staticmethod(read_part)
    precheck = staticmethod(precheck)
    modules = PRELOAD
    rejects = CadReject
