"""How close veil's syndrome-trellis codes come to the rate-distortion bound, and how many samples a stealth text
changes. Writes results/stc_efficiency.json.

    python scripts/stc_efficiency.py

1. Uniform costs, 120,000 random cover bits, random messages at 0.5, 0.25 and 0.125 bits per sample, constraint
   heights 7 and 8: changes per sample against the bound H^-1(rate), and the efficiency (message bits per change)
   as a share of the bound's.
2. Stealth: random 16-character texts hidden in 256 px crops of the bundled photo (held out of every training
   set), saved as PNG and read back: samples changed.
"""
from __future__ import annotations

import io
import math
import random
import sys
from pathlib import Path

import numpy as np


def inverse_entropy(a: float) -> float:
    lo, hi = 0.0, 0.5
    for _ in range(60):
        mid = (lo + hi) / 2
        h = -mid * math.log2(mid) - (1 - mid) * math.log2(1 - mid) if mid > 0 else 0.0
        lo, hi = (mid, hi) if h < a else (lo, mid)
    return lo


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from PIL import Image

    import veil
    from veil.files import write_json
    from veil.imaging import sample_path
    from veil.payloads import stc
    from veil.payloads.qr import random_text

    rng = np.random.default_rng(1)
    n, rows = 120_000, []
    for w in (2, 4, 8):
        m = n // w
        x = rng.integers(0, 2, n, dtype=np.uint8)
        msg = rng.integers(0, 2, m, dtype=np.uint8)
        for h in (7, 8):
            y, _ = stc.embed(x, np.ones(n), msg, h=h, segments=32)
            rate, bound = float((y != x).mean()), inverse_entropy(m / n)
            rows.append({"bits_per_sample": m / n, "h": h, "changes_per_sample": rate, "bound": bound,
                         "share_of_bound_efficiency": bound / rate})
            print(f"{m / n:.3f} bits/sample, h {h}: {rate:.4f} changes/sample (bound {bound:.4f}), "
                  f"efficiency {bound / rate:.1%} of the bound")
    photo = Image.open(sample_path()).convert("RGB")
    texts, changes = random.Random(0), []
    for i in range(8):
        x0, y0 = (i % 4) * 64, (i // 4) * 128
        cover = photo.crop((x0, y0, x0 + 256, y0 + 256))
        text = random_text(texts, 16)
        buf = io.BytesIO()
        veil.hide(cover, text, stealth=True).save(buf, format="PNG")
        stego = Image.open(buf)
        assert veil.reveal(stego, stealth=True) == text
        changes.append(int((np.asarray(stego, int) != np.asarray(cover, int)).sum()))
    print(f"stealth, 16 characters in 256 px crops: {np.mean(changes):.0f} samples changed (of 196,608), "
          f"{min(changes)}-{max(changes)}")
    write_json("results/stc_efficiency.json", {"stc": rows, "stealth_16_characters_changes": changes,
                                               "cover": "8 crops of 256 px of the bundled photo, PNG"})
    print("-> results/stc_efficiency.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
