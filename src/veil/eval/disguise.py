"""``veil eval disguise``: seed 004's experiment (its Figs. 6-9) on the classic test images found here.

The paper trains one generator per (disguise, secret) pair and then feeds every disguise image to every
generator: only the matching pair gives the secret back. Peppers and Lena are not available here
(shared/DATA.md), so the roles go to: secrets astronaut (the portrait, Lena's role in Fig. 8) and baboon
(Fig. 9's secret); disguise images cameraman (the paper's), coffee (a food photo, for Peppers) and chelsea.
Each is cut to its centre square, made grey and resized to ``--size``.

As a user would: every image is an 8-bit PNG read back, every key goes through its file bytes (float16
weights), every output is 8-bit. Per generator and disguise input: SSIM and PSNR against the generator's
secret, and the Pearson correlation of the pixels (a faint or inverted copy of the secret has a low SSIM but
a correlation near +-1, so both are kept). Writes ``results/<name>.json`` and ``results/<name>.png`` (rows:
generators; columns: the secret, then the output for each disguise image).
"""
from __future__ import annotations

import io
import os
import platform
from dataclasses import asdict
from pathlib import Path

import numpy as np
from PIL import Image


BABOON = "/usr/share/doc/opencv-doc/examples/data/baboon.jpg"
SECRETS = ("astronaut", "baboon")
DISGUISES = ("cameraman", "coffee", "chelsea")
TARGETS = {"matched_ssim_min": 0.95, "mismatched_ssim_max": 0.30, "train_seconds_max": 300.0}


# ----------------------------------------------------------------------------- images

def _square_grey(a: np.ndarray, size: int) -> Image.Image:
    img = Image.fromarray(a).convert("L")
    w, h = img.size
    m = min(w, h)
    img = img.crop(((w - m) // 2, (h - m) // 2, (w - m) // 2 + m, (h - m) // 2 + m))
    return img.resize((size, size), Image.LANCZOS)


def classic_images(size: int) -> dict[str, Image.Image]:
    """name -> grey size x size PIL image, each through an 8-bit PNG file."""
    from ..errors import InputError

    try:
        from skimage import data
    except ImportError:
        raise InputError("eval disguise needs scikit-image for cameraman, astronaut, coffee and chelsea: "
                         "pip install 'veil[train]'") from None
    if not Path(BABOON).is_file():
        raise InputError(f"no baboon image at {BABOON}: install the opencv-doc package (scripts/get_data.sh)")
    arrays = {"astronaut": data.astronaut, "cameraman": data.camera, "coffee": data.coffee, "chelsea": data.chelsea,
              "baboon": lambda: np.asarray(Image.open(BABOON).convert("RGB"))}
    out = {}
    for name in SECRETS + DISGUISES:
        try:
            a = arrays[name]()
        except Exception as e:           # skimage fetches some images lazily; any failure is "not here"
            raise InputError(f"cannot load the {name} test image: {e}") from None
        buf = io.BytesIO()
        _square_grey(a, size).save(buf, format="PNG")
        out[name] = Image.open(io.BytesIO(buf.getvalue()))
        out[name].load()
    return out


# ----------------------------------------------------------------------------- measuring

def _corr(a, b) -> float:
    a, b = a.double().flatten(), b.double().flatten()
    a, b = a - a.mean(), b - b.mean()
    d = float(a.norm() * b.norm())
    return float((a * b).sum()) / d if d > 0 else 0.0


def key_alone(key, secret):
    """The secret read from the key file alone, with no disguise image: every output of the generator is
    sigmoid(W h) for some 64-number hidden code h, so the secret lies in the span of the output layer's 64
    columns, and photos are smooth where the random part of W is not. The smoothest image in that span
    (least squared differences between neighbouring pixels for its energy: a 64 x 64 generalised eigenproblem)
    is the attack. Returns |correlation| with the secret's pixels and the image for the figure, its sign and
    contrast matched to the secret (the sign is the one thing the attack cannot tell; an attacker looks at
    both)."""
    import torch

    from ..models.disguise import generator_from_bytes

    gen = generator_from_bytes(key.meta, key.weights)
    w = gen.fc2.weight.detach().double()                              # [C*S*S, hidden]
    cols = w.T.reshape(w.shape[1], gen.channels, gen.size, gen.size)
    dx, dy = cols.diff(dim=3).flatten(1), cols.diff(dim=2).flatten(1)
    chol = torch.linalg.cholesky(w.T @ w + 1e-9 * torch.eye(w.shape[1], dtype=w.dtype))
    inv = torch.linalg.inv(chol)
    _, vec = torch.linalg.eigh(inv @ (dx @ dx.T + dy @ dy.T) @ inv.T)
    out = (w @ (inv.T @ vec[:, 0])).reshape(1, gen.channels, gen.size, gen.size)
    c = _corr(out, secret)
    z = (out - out.mean()) / out.std() * (1 if c >= 0 else -1)
    shown = (z * secret.double().std() + secret.double().mean()).clamp(0, 1).float()
    return abs(c), shown


def _through_jpeg(img: Image.Image, quality: int) -> Image.Image:
    from ..imaging import jpeg_bytes

    with Image.open(io.BytesIO(jpeg_bytes(img, quality))) as im:
        return im.convert("L")


def evaluate(cfg, progress: bool = True, log=print):
    """Train the 6 generators and feed each the 3 disguise images; returns the result dict, the images and,
    per generator, its outputs for each disguise image and what its key alone gives away (for the figure).
    ``log``: where a line per generator goes."""
    from ..api import disguise_reveal, disguise_train
    from ..imaging import pil_to_tensor
    from ..metrics import psnr, ssim
    from ..payloads.keyfile import unpack_key

    images = classic_images(cfg.size)
    grey = {k: pil_to_tensor(v)[:, :1] for k, v in images.items()}
    gens, shown = [], []
    metrics = {"ssim": ssim, "psnr": psnr, "corr": _corr}
    matrix = {k: [] for k in metrics}
    for s in SECRETS:
        for d in DISGUISES:
            name = f"G{len(gens) + 1}"
            log(f"{name}: {d} -> {s}")
            key, info = disguise_train(images[d], images[s], cfg, progress=progress)
            key = unpack_key(key)
            outs = [disguise_reveal(images[d2], key, check=(d2 == d)) for d2 in DISGUISES]  # check passes only for d
            for k, f in metrics.items():
                matrix[k].append([f(pil_to_tensor(o)[:, :1], grey[s]) for o in outs])
            jpeg = pil_to_tensor(disguise_reveal(_through_jpeg(images[d], 95), key, check=False))[:, :1]
            corr, stolen = key_alone(key, grey[s])
            gens.append({"name": name, "disguise": d, "secret": s, "train_seconds": round(info["seconds"], 1),
                         "key_bytes": info["key_bytes"], "torch_threads": info["torch_threads"],
                         "ssim_disguise_jpeg95": ssim(jpeg, grey[s]), "key_alone_abs_corr": corr})
            shown.append(outs + [stolen[0, 0].numpy() * 255])
    return _result(cfg, gens, matrix), images, shown


def _result(cfg, gens, matrix) -> dict:
    own = [[g["disguise"] == d for d in DISGUISES] for g in gens]

    def cells(k, mine):
        return [v for row, m in zip(matrix[k], own) for v, ok in zip(row, m) if ok == mine]

    summary = {"matched_ssim": cells("ssim", True), "matched_ssim_min": min(cells("ssim", True)),
               "matched_psnr_min": min(cells("psnr", True)), "mismatched_ssim_max": max(cells("ssim", False)),
               "mismatched_abs_corr_max": max(abs(v) for v in cells("corr", False)),
               "disguise_jpeg95_ssim_max": max(g["ssim_disguise_jpeg95"] for g in gens),
               "key_alone_abs_corr_min": min(g["key_alone_abs_corr"] for g in gens),
               "train_seconds": [g["train_seconds"] for g in gens],
               "train_seconds_max": max(g["train_seconds"] for g in gens),
               "key_bytes": gens[0]["key_bytes"], "image_bytes": cfg.size * cfg.size * (3 if cfg.color else 1)}
    summary["targets_met"] = {
        "matched SSIM >= 0.95": summary["matched_ssim_min"] >= TARGETS["matched_ssim_min"],
        "mismatched SSIM <= 0.30": summary["mismatched_ssim_max"] <= TARGETS["mismatched_ssim_max"],
        "training < 300 s a pair": summary["train_seconds_max"] < TARGETS["train_seconds_max"]}
    return {"experiment": "seed 004 Figs. 6-9: every disguise image through every generator",
            "size": cfg.size, "color": cfg.color, "secrets": list(SECRETS), "disguises": list(DISGUISES),
            "rows": "generators G1..G6", "columns": "disguise images fed in", "generators": gens,
            "ssim": matrix["ssim"], "psnr": matrix["psnr"], "corr": matrix["corr"], "summary": summary,
            "config": asdict(cfg), "cpu_count": os.cpu_count(), "machine": platform.machine()}


# ----------------------------------------------------------------------------- figure

def figure(res: dict, images: dict, shown: list, path: Path) -> None:
    """Rows: generators; columns: the secret, the output for each disguise image, what the key alone gives."""
    from .figures import pyplot, save_figure

    plt = pyplot()

    n = len(DISGUISES)
    fig, axes = plt.subplots(len(shown) + 1, n + 2, figsize=(1.8 * (n + 2), 1.9 * (len(shown) + 1)))
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in (axes[0, 0], axes[0, -1]):
        ax.axis("off")
    for c, d in enumerate(DISGUISES):
        axes[0, c + 1].imshow(images[d], cmap="gray", vmin=0, vmax=255)
        axes[0, c + 1].set_title(f"disguise: {d}", fontsize=8)
    for r, g in enumerate(res["generators"]):
        row = axes[r + 1]
        row[0].imshow(images[g["secret"]], cmap="gray", vmin=0, vmax=255)
        row[0].set_title("its secret", fontsize=8)
        row[0].set_ylabel(f"{g['name']}: {g['disguise']}\n-> {g['secret']}", fontsize=8)
        for c, d in enumerate(DISGUISES):
            mine = d == g["disguise"]
            row[c + 1].imshow(shown[r][c], cmap="gray", vmin=0, vmax=255)
            row[c + 1].set_title(f"SSIM {res['ssim'][r][c]:.3f}", fontsize=8, color="green" if mine else "black")
            for side in row[c + 1].spines.values():
                side.set_edgecolor("green" if mine else "black")
                side.set_linewidth(2.5 if mine else 0.5)
        row[-1].imshow(shown[r][-1], cmap="gray", vmin=0, vmax=255)
        row[-1].set_title(f"key alone |r| {g['key_alone_abs_corr']:.2f}", fontsize=8, color="red")
    fig.suptitle(f"seed 004 image disguise, {res['size']}x{res['size']} grey: each generator (row) fed each disguise "
                 "image (columns; green: its own).\nLast column: the smoothest image the key's output layer can "
                 "make, no disguise image used (sign and contrast matched to the secret).", fontsize=8)
    fig.tight_layout()
    save_figure(fig, path, dpi=72)


# ----------------------------------------------------------------------------- command
