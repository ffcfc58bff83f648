"""Loaders for published model formats, from local files only (nothing is downloaded)."""


class ModelSetupError(RuntimeError):
    """A model file is missing or is not in the expected format; fails the run before any work."""
