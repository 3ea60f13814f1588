"""Exceptions raised by veil's public API.

Every error a user can cause is a :class:`VeilError`; the CLI turns it into one line on stderr
and a non-zero exit code (2 for bad input, 1 when nothing could be revealed).
"""


class VeilError(Exception):
    """Base class of every error veil raises on purpose."""

    exit_code = 2


class InputError(VeilError):
    """The user gave something veil cannot use (missing file, corrupt image, bad text, ...)."""


class CapacityError(InputError):
    """The payload does not fit into what the chosen model can carry."""


class RevealError(VeilError):
    """No payload could be read back from the image."""

    exit_code = 1


class MissingExtra(VeilError):
    """A feature needs a package of an optional extra that is not installed."""


def require(module: str, extra: str):
    """``module`` imported, or :class:`MissingExtra` naming the extra that installs it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(f"this needs {module.split('.')[0]}, which is not installed: "
                           f"pip install 'veil[{extra}]'") from None
