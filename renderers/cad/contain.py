"""Read untrusted CAD files in a child process (synth.contain), so a hang or a crash in
OpenCascade costs a child. The forkserver preloads build123d and the reader: a child starts in
milliseconds, and never inherits the caller's state (a plain fork of a process that has run an
OpenCascade boolean deadlocks)."""

from __future__ import annotations

from renderers.cad.part import PartViews
from renderers.cad.read import CadReject, ReadLimits, precheck, read_part
from synth.contain import Contained

PRELOAD = ("build123d", "trimesh", "renderers.cad.read")


class CadReader(Contained):
    """read_part in a long-lived child process with a per-read timeout (seconds). Raises
    CadReject: "timeout" past the timeout, "decode_error" when the child dies, and the child's
    own CadReject as it was raised."""

    def __init__(self, timeout: float = 60.0):
        super().__init__(timeout, PRELOAD, CadReject)

    def read(self, data: bytes, suffix: str, limits: ReadLimits) -> PartViews:
        precheck(data, suffix, limits)  # a file refused unparsed never travels to the child
        return self.call(read_part, data, suffix, limits)
