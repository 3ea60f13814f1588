"""Every model architecture's builder, by name (the ``arch`` of ``arch.tag``). A family registers its builder with
:func:`register_model` when its module is imported; :mod:`veil.registry` builds models and loads released weights."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

BUILDERS: dict[str, Callable[..., Any]] = {}


def register_model(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator: register a builder under its function name (the ``arch``)."""
    BUILDERS[fn.__name__] = fn
    return fn
