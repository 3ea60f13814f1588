import os
import random
import tempfile
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

torch.set_num_threads(min(2, os.cpu_count() or 1))
# The user's model folder (veil.weights.user_dir) is an empty one of the tests' own: what a developer released
# into ~/.cache/veil/weights must not change what the tests load. Subprocesses inherit it.
os.environ["VEIL_WEIGHTS"] = tempfile.mkdtemp(prefix="veil-test-weights-")


@pytest.fixture(scope="session")
def sample_path() -> Path:
    return Path(str(resources.files("veil") / "assets" / "astronaut.png"))


@pytest.fixture(scope="session")
def sample(sample_path) -> Image.Image:
    return Image.open(sample_path).convert("RGB")


@pytest.fixture
def rng():
    return random.Random(1234)


def photo_like(w: int, h: int, seed: int = 0) -> Image.Image:
    """A smooth photo-like image (upsampled noise) that no model has seen."""
    r = np.random.default_rng(seed)
    small = Image.fromarray(r.integers(0, 256, (max(2, h // 24), max(2, w // 24), 3), dtype=np.uint8))
    return small.resize((w, h), Image.BICUBIC)
