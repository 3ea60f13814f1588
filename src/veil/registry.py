"""The single source of truth for models: ``arch`` builders and ``arch.tag`` released weights.

``arch`` is the code (a registered builder), ``tag`` the weights (a card in ``veil/cards`` plus a
``.safetensors`` file in ``veil/weights``). ``qr_densenet`` alone means its default tag.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import InputError
from .models.builders import BUILDERS as _BUILDERS
from .models.builders import register_model  # noqa: F401  (re-exported: families register through it)

# The model each task uses when the user names none; an ``arch`` named alone means its entry here, else
# ``arch.default``.
DEFAULTS = {"message": "spread.default", "qr": "qr_densenet.quiet", "image": "stegnet.default",
            "qrnet": "qrnet.default"}
DEFAULT_TAG = "default"
# Former names that still load (with one warning per process): name -> the name it now has.
ALIASES = {"qr_densenet.default": "qr_densenet.quiet", "qrnet.seed": "qrnet.paper"}
_warned: set[str] = set()


def _ensure_models_imported() -> None:
    from . import models  # noqa: F401


def list_archs() -> list[str]:
    _ensure_models_imported()
    return sorted(_BUILDERS)


def card_dirs() -> list:
    """Folders of cards, first match wins: the user's model folder (veil.weights.user_dir), then the package's."""
    from .weights import package_dirs, user_dir

    return [user_dir(), package_dirs()[0]]


def list_cards() -> list[dict]:
    """Every released model's card (the user's folder first: a card there replaces the package's of the same
    name), sorted by name."""
    cards: dict[str, dict] = {}
    for d in card_dirs():
        if not d.is_dir():
            continue
        for f in sorted(d.glob("*.json")):
            try:
                card = json.loads(f.read_text())
            except (OSError, ValueError):
                continue              # not a card (a user's folder may hold other JSON)
            if isinstance(card, dict) and "name" in card and "arch" in card:
                cards.setdefault(card["name"], card)
    return [cards[k] for k in sorted(cards)]


def card_path(name: str) -> Path | None:
    """Where the card of ``name`` (``arch.tag``) is read from, or None."""
    for d in card_dirs():
        if (d / f"{name}.json").is_file():
            return d / f"{name}.json"
    return None


def save_card(card: dict, dest: str | Path | None = None) -> Path:
    """Write ``card`` (atomically) into ``dest``: a folder of cards and weights side by side, or one laid out as the
    package (``cards/``, ``weights/``: a checkout's src/veil). Default: the user's model folder. Never the
    installed package unless it is named."""
    from .files import write_json
    from .weights import user_dir

    d = Path(dest) if dest is not None else user_dir()
    d = d / "cards" if (d / "cards").is_dir() else d
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"{card['name']}.json"
    write_json(path, card)
    return path


def update_card(name: str, update, dest: str | Path | None = None) -> Path:
    """Apply ``update(card)`` (it edits the dict) to the card of released model ``name`` and :func:`save_card` it."""
    card = json.loads(json.dumps(get_card(name, None)))
    update(card)
    return save_card(card, dest)


def list_models() -> list[str]:
    """Names (``arch.tag``) of every model with released weights."""
    return [c["name"] for c in list_cards()]


def resolve_name(name: str | None, task: str = "qr") -> str:
    """The full ``arch.tag`` of a model name: None is ``task``'s default; an ``arch`` alone is its default tag (the
    task default's tag when that default is of this arch, e.g. qr_densenet -> qr_densenet.quiet); a former name
    (:data:`ALIASES`) is its new one, with a warning the first time."""
    if name is None:
        return DEFAULTS[task]
    name = name.strip()
    if "." not in name:
        return next((d for d in DEFAULTS.values() if d.split(".")[0] == name), f"{name}.{DEFAULT_TAG}")
    if name in ALIASES:
        if name not in _warned:
            import warnings

            _warned.add(name)
            warnings.warn(f"the model name {name} is deprecated: it is {ALIASES[name]} now", FutureWarning,
                          stacklevel=3)
        return ALIASES[name]
    return name


def get_card(name: str | None, task: str | None = "qr") -> dict:
    """The card of a released model; ``task`` None accepts any task (a name is then required)."""
    full = resolve_name(name, task)
    f = card_path(full)
    if f is None:
        known = ", ".join(list_models()) or "none"
        raise InputError(f"unknown model '{name}': released models are {known}")
    card = json.loads(f.read_text())
    if task is not None and card.get("task", task) != task:
        raise InputError(f"model '{full}' is a {card.get('task')} model, not a {task} model")
    return card


def create_model(arch: str, **kwargs: Any):
    """Build an untrained model of ``arch`` with ``kwargs`` (training, tests)."""
    _ensure_models_imported()
    arch = arch.split(".")[0]
    if arch not in _BUILDERS:
        raise InputError(f"unknown architecture '{arch}': known are {', '.join(sorted(_BUILDERS))}")
    return _BUILDERS[arch](**kwargs)


def load_model(name: str | None = None, task: str | None = None):
    """Build a released model and load its weights (sha256-checked, strict); eval mode. ``name``: ``arch`` or
    ``arch.tag``, any listed name; None: the default of ``task`` (message, qr, image or qrnet). ``task``, when
    given with a name, is checked against the card."""
    if name is None and task is None:
        raise InputError(f"name a model, or a task whose default to load: {', '.join(DEFAULTS)}")
    from .devices import place
    from .weights import load_weights

    card = get_card(name, task)
    model = create_model(card["arch"], **card.get("kwargs", {}))
    load_weights(model, card)
    model.eval()
    place(model)                        # its networks on the device veil.devices.use chose (the CPU by default)
    model.card = card
    for attr, other in getattr(model, "linked_models", dict)().items():     # models that this one consults
        setattr(model, attr, load_model(other, None))
    return model


@lru_cache(maxsize=8)
def _cached_model(name: str | None, task: str):
    return load_model(name, task)


def get_model(model=None, task: str = "qr"):
    """A loaded model: pass a name (``arch`` or ``arch.tag``), None for the default, or a model object."""
    if model is None or isinstance(model, str):
        return _cached_model(model, task)
    return model
