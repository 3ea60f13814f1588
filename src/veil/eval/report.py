"""``veil report``: one self-contained HTML page (images inlined) from the files in ``results/``.

Sections, each present when its result files are:
- models: every released card and what it reports;
- a live example: a text hidden in the bundled photo by the default QR model (cover, stego, residual x5 and
  x10, the recovered QR code), made when the report is built;
- image into image: the seed 003 metrics per model and size, with the example figures (cover, stego,
  secret, revealed, residuals x5 / x10) and cover-vs-stego histograms that ``veil eval image`` drew;
- steganalysis: AUC and TPR at 5% FPR per detector and stego set, the ROC curves and histograms redrawn
  from ``steganalysis_*.json`` with the functions ``veil eval`` uses (:mod:`veil.eval.figures`);
- image disguise: the generator x disguise-image SSIM matrix and its figure (``veil eval disguise``);
- QR: ``veil eval qr`` summaries and the robustness matrix (with its plot);
- benchmarks: ``veil bench`` latencies.
Nothing is recomputed from photos: the numbers are the JSON files' numbers.
"""
from __future__ import annotations

import base64
import datetime as _dt
import html
import json
from pathlib import Path

CSS = """body{font:14px/1.45 system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}h3{font-size:1.1em}
table{border-collapse:collapse;margin:.6em 0 1.2em}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}img{max-width:100%;border:1px solid #eee}
.note{color:#555;font-size:.92em}.row{display:flex;flex-wrap:wrap;gap:1em}.row>div{flex:1 1 380px}"""


# ----------------------------------------------------------------------------- html pieces

def _img(data: bytes, mime: str = "image/png", alt: str = "") -> str:
    return f'<img alt="{html.escape(alt)}" src="data:{mime};base64,{base64.b64encode(data).decode()}">'


def _img_file(path: Path) -> str:
    mime = "image/jpeg" if path.suffix.lower() in (".jpg", ".jpeg") else "image/png"
    return _img(path.read_bytes(), mime, path.name)


def _fig(fig) -> str:
    from .figures import figure_png

    return _img(figure_png(fig))


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1000 else f"{v:.0f}"
    return html.escape(str(v))


def _table(header: list[str], rows: list[list]) -> str:
    h = "".join(f"<th>{html.escape(c)}</th>" for c in header)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{h}</tr>{body}</table>"


def _load(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


# ----------------------------------------------------------------------------- sections

def section_models() -> str:
    from ..registry import list_cards

    rows = []
    for c in list_cards():
        m = c.get("metrics", {})
        bits = []
        if "psnr" in m:
            bits.append(f"PSNR {m['psnr']:.1f} dB")
        if "success_256" in m:
            bits.append(f"ok@256 {m['success_256']:.1%}")
        for k, v in m.items():
            if k.startswith("image_") and isinstance(v, dict):
                bits.append(f"{k[6:]}: cover {v['cover_psnr']:.1f} / secret {v['secret_psnr']:.1f} dB")
        if "steganalysis" in m:
            s = m["steganalysis"]
            bits.append(f"AUC vs {c.get('target')} {s['auc']:.3f}")
        if "clean_seed_format" in m:
            bits.append(f"6 digits exact {m['clean_seed_format']['exact']:.2%} on {m['clean_seed_format']['n']} codes")
        rows.append([c["name"], c.get("task", ""), c.get("parameters", 0), "; ".join(bits) or "not measured"])
    return "<h2>Models</h2>" + _table(["model", "task", "parameters", "measured"], rows)


def section_live() -> str:
    from importlib import resources

    import numpy as np
    from PIL import Image

    from ..api import hide_qr, reveal_qr_image
    from ..imaging import pil_to_tensor
    from ..metrics import psnr
    from .figures import pyplot, magnified
    from .image import through_png

    text = "veil report: a live example"
    cover = Image.open(str(resources.files("veil") / "assets" / "astronaut.png")).convert("RGB")
    stego = through_png(hide_qr(cover, text))
    got, qr = reveal_qr_image(stego)
    p = psnr(pil_to_tensor(cover), pil_to_tensor(stego))
    tiles = [("cover", np.asarray(cover)), ("stego (PNG)", np.asarray(stego)),
             ("|C-S| x5", magnified(cover, stego, 5)), ("|C-S| x10", magnified(cover, stego, 10)),
             ("recovered QR", np.asarray(qr.convert("RGB")))]
    plt = pyplot()
    fig, axes = plt.subplots(1, len(tiles), figsize=(2.6 * len(tiles), 2.9))
    for ax, (t, im) in zip(axes, tiles):
        ax.imshow(im, interpolation="nearest")
        ax.set_title(t, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return (f"<h2>Live example</h2><p>The default QR model hides <code>{html.escape(text)}</code> in the bundled "
            f"photo; the stego image went through a PNG file (PSNR {p:.2f} dB) and reads back as "
            f"<code>{html.escape(str(got))}</code>.</p>" + _fig(fig))


def section_image(res: Path) -> str:
    files = sorted(res.glob("image_*.json"))
    if not files:
        return ""
    rows, figs = [], []
    for f in files:
        d = _load(f)
        if not d or "overall" not in d:
            continue
        o = d["overall"]
        rows.append([d["model"], d["size"], o["n"], o["cover_psnr"], o["cover_ssim"], o["secret_psnr"],
                     o["secret_ssim"], o["cover_changing_rate"], o["decoded_rate"], o["payload_bpp"]])
        for extra in (f.with_suffix(".jpg"), f.with_name(f.stem + "_hist.png")):
            if extra.is_file():
                figs.append((f"{d['model']} at {d['size']}", extra))
    out = ("<h2>Image into image</h2><p class=note>Held-out photos; stego images saved as 8-bit PNG and read "
           "back. Seed 003's decoded rate, payload (bpp) and cover changing rate.</p>"
           + _table(["model", "size", "pairs", "cover PSNR", "cover SSIM", "secret PSNR", "secret SSIM",
                     "cover changing", "decoded rate", "bpp"], rows))
    out += "<h3>Samples: covers, stego images, revealed secrets, residuals x5 and x10; histograms</h3>"
    out += "".join(f"<p class=note>{html.escape(t)}</p>{_img_file(p)}" for t, p in figs)
    return out


def section_steganalysis(res: Path) -> str:
    from .figures import plot_histograms, plot_roc

    files = sorted(res.glob("steganalysis_*.json"))
    if not files:
        return ""
    rows, blocks = [], []
    for f in files:
        d = _load(f)
        if not d or "detectors" not in d:
            continue
        for k, v in d["detectors"].items():
            rows.append([d["label"], k, d["n_clean"], d["n_stego"], v["auc"], v["auc_rank"], v["tpr_at_5pct_fpr"]])
        curves = {k: {**v["roc"], "auc": v["auc"]} for k, v in d["detectors"].items()}
        blocks.append(f"<div><h3>{html.escape(d['label'])}</h3>"
                      + _fig(plot_roc(curves, f"{d['label']}: {d['n_clean']} clean vs {d['n_stego']} stego"))
                      + _fig(plot_histograms({d["label"]: d["histograms"]}, "pooled histograms", ("clean", "stego")))
                      + "</div>")
    return ("<h2>Steganalysis</h2><p class=note>Classical detectors (veil's four, fused by their mean) and "
            "learned xunet steganalysers; AUC from the 0..1 step 0.01 threshold sweep and the exact rank AUC; "
            "chance is 0.5.</p>" + _table(["stego set", "detector", "clean", "stego", "AUC", "rank AUC",
                                           "TPR at 5% FPR"], rows) + "<div class=row>" + "".join(blocks) + "</div>")


def section_disguise(res: Path) -> str:
    d = _load(res / "disguise.json")
    if not d or "ssim" not in d:
        return ""
    head = ["generator (disguise -> secret)"] + [f"{x} in" for x in d["disguises"]] + ["training (s)"]
    rows = [[f"{g['name']}: {g['disguise']} -> {g['secret']}", *d["ssim"][i], g["train_seconds"]]
            for i, g in enumerate(d["generators"])]
    png = res / "disguise.png"
    return ("<h2>Image disguise</h2><p class=note>SSIM of each generator's output against its secret, for every "
            f"disguise image fed in ({d['size']}x{d['size']}, {'colour' if d['color'] else 'grey'}).</p>"
            + _table(head, rows) + (_img_file(png) if png.is_file() else ""))


def section_qr(res: Path) -> str:
    out = []
    rows = []
    for f in sorted(res.glob("qr_eval_*.json")):
        d = _load(f)
        if d and "overall" in d:
            o = d["overall"]
            rows.append([d["model"], o["n"], o["success"], o["module_accuracy"], o["psnr_mean"], o["ssim_mean"]])
    if rows:
        out.append("<h2>Invisible QR</h2><p class=note>Texts hidden in held-out photos and sharp-edged covers, "
                   "read back from 8-bit PNG files.</p>"
                   + _table(["model", "images", "text read", "module accuracy", "PSNR", "SSIM"], rows))
    for f in sorted(res.glob("robust_*.json")):
        d = _load(f)
        if not d or "cells" not in d:
            continue
        rows = [[spec, c["n"], c["success"], c["module_accuracy"], c.get("psnr_attacked_vs_stego") or ""]
                for spec, c in d["cells"].items()]
        out.append(f"<h3>Robustness of {html.escape(d['model'])}</h3>"
                   + _table(["attack", "images", "text read", "module accuracy", "PSNR attacked vs stego"], rows))
        png = f.with_suffix(".png")
        if png.is_file():
            out.append(_img_file(png))
    return "".join(out)


def section_bench(res: Path) -> str:
    rows = []
    for f in sorted(res.glob("bench_*.json")):
        d = _load(f)
        if not d or "results" not in d:
            continue
        for r in d["results"]:
            rows.append([d.get("model", f.stem), r.get("size", ""), r.get("hide_s", ""), r.get("reveal_s", ""),
                         r.get("peak_rss_mb", "")])
    if not rows:
        return ""
    return "<h2>Benchmarks</h2>" + _table(["model", "size", "hide (s)", "reveal (s)", "peak RSS (MB)"], rows)


def build(results: Path, live: bool = True) -> str:
    from .. import __version__

    parts = [section_models()]
    if live:
        parts.append(section_live())
    parts += [section_image(results), section_steganalysis(results), section_disguise(results), section_qr(results),
              section_bench(results)]
    when = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    return (f"<!doctype html><html><head><meta charset=utf-8><title>veil report</title><style>{CSS}</style>"
            f"</head><body><h1>veil report</h1><p class=note>veil {__version__}, built {when} from "
            f"{html.escape(str(results))}/</p>" + "".join(parts) + "</body></html>\n")
