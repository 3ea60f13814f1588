"""Hide and reveal latency (median of several runs, in memory) and peak memory of one model at one size: what
``veil bench hide|qr|image`` (veil.cli.bench) runs in a fresh process per size, so that its peak RSS is its own."""
from __future__ import annotations

import statistics
import time

import numpy as np


SIZES = [(256, 256), (512, 512), (1024, 1024), (1920, 1080)]


def _smooth_image(rng, w: int, h: int):
    """A smooth random photo-like image: upsampled noise."""
    from PIL import Image

    small = Image.fromarray(rng.integers(0, 256, (max(2, h // 32), max(2, w // 32), 3), dtype=np.uint8))
    return small.resize((w, h), Image.BICUBIC)


def _timed(hide, reveal, repeats: int, check=None) -> dict:
    """Median latencies of ``hide()`` then ``reveal(stego)`` over ``repeats`` runs after one warm-up, and
    this process's peak RSS (MB); with ``check(revealed)``, how many runs got the payload back."""
    import resource

    import torch

    hide_t, reveal_t, ok = [], [], 0
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for i in range(repeats + 1):
        t0 = time.perf_counter()
        stego = hide()
        t1 = time.perf_counter()
        got = reveal(stego)
        t2 = time.perf_counter()
        if i:  # the first run warms up
            hide_t.append(t1 - t0)
            reveal_t.append(t2 - t1)
            ok += bool(check(got)) if check else 0
    row = {"hide_s": statistics.median(hide_t), "reveal_s": statistics.median(reveal_t),
           "hide_all_s": hide_t, "reveal_all_s": reveal_t, "revealed_ok": ok, "repeats": repeats,
           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
           "rss_after_load_mb": rss0, "torch_threads": torch.get_num_threads()}
    if check is None:       # an image always comes back; its quality is `veil eval image`'s business
        del row["revealed_ok"]
    return row


def measure_image(model_name: str, w: int, h: int, repeats: int) -> dict:
    """Child process of ``veil bench image``: hide (PIL cover + PIL secret -> PIL) and reveal latencies."""
    from ..api import CODEC, get_model, hide_image, reveal_image

    model = CODEC if model_name == CODEC else get_model(model_name, "image")
    rng = np.random.default_rng(0)
    cover, secret = _smooth_image(rng, w, h), _smooth_image(rng, w, h)
    return {"size": f"{w}x{h}", **_timed(lambda: hide_image(cover, secret, model=model),
                                         lambda s: reveal_image(s, model=model), repeats)}


def measure(model_name: str | None, w: int, h: int, repeats: int) -> dict:
    """Child process of ``veil bench qr``: hide and reveal latencies, texts read back, peak RSS."""
    from ..api import get_model, hide_qr, reveal_qr

    model = get_model(model_name)
    cover = _smooth_image(np.random.default_rng(0), w, h)
    text = "veil benchmark 0123456789"
    # the calibrated gain: the network's cost, not a per-image verification's
    return {"size": f"{w}x{h}", **_timed(lambda: hide_qr(cover, text, model=model, strength=1.0),
                                         lambda s: reveal_qr(s, model=model), repeats, check=lambda t: t == text)}


def measure_hide(model_name: str | None, w: int, h: int, repeats: int) -> dict:
    """Child process of ``veil bench hide``: hide and reveal latencies (PIL -> PIL, PIL -> message), and the
    median time of saving the same stego image as PNG (Pillow's default compression), the yardstick."""
    import io

    from PIL import Image

    from ..api import get_model, hide, reveal

    from ..imaging import sample_path
    from ..imaging import load_image

    model = get_model(model_name, "message")
    # A photo, not the upsampled noise of the other benches: noise blocks of the chip grid's scale at full
    # contrast are a cover this model does not serve (docs/hide.md, limits).
    cover = load_image(sample_path()).convert("RGB").resize((w, h), Image.BICUBIC)
    text = "veil bench 01234"
    row = _timed(lambda: hide(cover, text, model=model), lambda s: reveal(s, model=model), repeats,
                 check=lambda t: t == text)
    stego = hide(cover, text, model=model)
    saves = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        stego.save(io.BytesIO(), format="PNG")
        saves.append(time.perf_counter() - t0)
    return {"size": f"{w}x{h}", **row, "png_save_s": statistics.median(saves)}
