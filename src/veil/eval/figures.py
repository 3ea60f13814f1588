"""Figures shared by ``veil eval`` and ``veil report``: examples with magnified residuals, cover/stego
histograms, ROC curves. Each ``plot_*`` returns a matplotlib figure; :func:`save_figure` writes it to a file
and :func:`figure_png` to PNG bytes (the report inlines those). matplotlib is imported only when drawing.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from ..files import write_atomic


def pyplot():
    """matplotlib's pyplot on the Agg backend, or MissingExtra (exit 2: install veil[eval])."""
    from ..errors import require

    require("matplotlib", "eval").use("Agg")
    return require("matplotlib.pyplot", "eval")


def magnified(a: Image.Image, b: Image.Image, m: float) -> np.ndarray:
    """Seed 003 eq. 4: clip(|I1 - I2| * M, 0, 1), as float HxWx3."""
    x = np.asarray(a.convert("RGB"), np.float64) / 255.0
    y = np.asarray(b.convert("RGB"), np.float64) / 255.0
    return np.clip(np.abs(x - y) * m, 0, 1)


def plot_examples(examples, title: str):
    """Rows of (cover, stego, secret, revealed) PIL images: the images and their residuals x5 and x10."""
    plt = pyplot()
    cols = ["cover", "stego", "|C-E| x5", "|C-E| x10", "secret", "revealed", "|H-D| x5", "|H-D| x10"]
    fig, axes = plt.subplots(len(examples), len(cols), figsize=(2 * len(cols), 2.1 * len(examples)), squeeze=False)
    for r, (cover, stego, secret, revealed) in enumerate(examples):
        panels = [np.asarray(cover), np.asarray(stego), magnified(cover, stego, 5), magnified(cover, stego, 10),
                  np.asarray(secret.convert("RGB")), np.asarray(revealed.convert("RGB")),
                  magnified(secret, revealed, 5), magnified(secret, revealed, 10)]
        for c, (ax, im) in enumerate(zip(axes[r], panels)):
            ax.imshow(im, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(cols[c], fontsize=9)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


class Histograms:
    """Pooled 256-bin histograms of covers and of their stego images (R, G, B summed)."""

    def __init__(self):
        self.cover, self.stego = np.zeros(256), np.zeros(256)

    def add(self, cover: Image.Image | None = None, stego: Image.Image | None = None) -> None:
        """Count a cover, a stego image, or (usually) both."""
        if cover is not None:
            self.cover += np.bincount(np.asarray(cover.convert("RGB")).ravel(), minlength=256)
        if stego is not None:
            self.stego += np.bincount(np.asarray(stego.convert("RGB")).ravel(), minlength=256)

    def result(self) -> dict:
        """Both histograms and the L1 distance between them normalised."""
        hc, he = self.cover, self.stego
        return {"cover": hc.tolist(), "stego": he.tolist(),
                "l1": float(np.abs(hc / hc.sum() - he / he.sum()).sum())}


def plot_histograms(hists: dict[str, dict], title: str, labels: tuple[str, str] = ("cover", "stego")):
    """One panel per entry of ``hists`` ({name: Histograms.result()})."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(hists), figsize=(5 * len(hists), 3.2), squeeze=False)
    for ax, (name, h) in zip(axes[0], hists.items()):
        ax.plot(np.arange(256), h["cover"], lw=1, label=labels[0])
        ax.plot(np.arange(256), h["stego"], lw=1, label=labels[1], alpha=0.8)
        ax.set_title(f"{name}: L1 distance {h['l1']:.4f}", fontsize=9)
        ax.set_xlabel("pixel value (R, G, B pooled)")
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_roc(curves: dict[str, dict], title: str):
    """ROC curves ({name: {"fpr", "tpr", "auc"}}) as dashed lines through the sweep's points, with the
    chance line (seed 003, Fig. 10)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4.6, 4.4))
    for name, c in curves.items():
        pts = sorted(set(zip(c["fpr"], c["tpr"])) | {(0.0, 0.0), (1.0, 1.0)})
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "--o", ms=2.5, lw=1.2 if name != "fused" else 2,
                label=f"{name} (AUC {c['auc']:.3f})")
    ax.plot([0, 1], [0, 1], color="green", lw=1, label="chance")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel("false positive rate (clean called stego)")
    ax.set_ylabel("true positive rate")
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def save_figure(fig, path: str | Path, dpi: int = 80) -> Path:
    """Write ``fig`` (a .jpg is written at quality 90: photo panels stay small in the repository)."""
    plt = pyplot()
    path = Path(path)
    jpeg = {"pil_kwargs": {"quality": 90}} if path.suffix.lower() in (".jpg", ".jpeg") else {}
    write_atomic(path, lambda tmp: fig.savefig(tmp, dpi=dpi, **jpeg), force=True)
    plt.close(fig)
    return path


def figure_png(fig, dpi: int = 80) -> bytes:
    plt = pyplot()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()
