"""The cover photo corpus of ``shared/DATA.md``: find the photos that packages install, split whole
photos into train and validation, and cache them (long side <= 1920 px) outside the repository.

    veil data prepare [--out DIR]      # default: $VEIL_DATA or ~/.cache/veil/covers

Layout of the cache: ``train/*.png``, ``val/*.png`` (whole held-out photos),
``val_sharp/*.png`` (synthetic sharp-edge covers, a fixed seed) and ``manifest.json``.
"""
from __future__ import annotations

import glob
import hashlib
import os
import random
from pathlib import Path

import numpy as np
from PIL import Image

from ..files import write_atomic, write_json

MAX_LONG_SIDE = 1920
VAL_FRACTION = 0.1
# Held out whatever the hash says: the bundled demo photo must not be a training photo.
FORCE_VAL = {"skimage_astronaut"}

WALLPAPERS = ["BytheWater", "ColdRipple", "ColorfulCups", "DarkestHour", "EveningGlow", "FallenLeaf", "Grey",
              "Kite", "OneStandsOut", "Path", "summer_1am", "Volna"]
UBUNTU_BG = ["Bridge", "Dragonfly", "Picture_0B", "Picture_1A", "Wine", "aitzgorri", "free", "friends",
             "greentock", "life", "picosdeeuropa", "seeding", "sunset", "Kleiber"]
OPENCV = ["aero1", "aero3", "aloeL", "aloeR", "apple", "baboon", "board", "building", "butterfly", "chicky_512",
          "ela_original", "fruits", "graf1", "graf3", "home", "left", "right", "leuvenA", "leuvenB",
          "licenseplate_motion", "messi5", "orange", "rubberwhale1", "rubberwhale2", "smarties", "squirrel_cls",
          "stuff", "sudoku"]
SKIMAGE = {"astronaut": "astronaut", "chelsea": "chelsea", "coffee": "coffee", "rocket": "rocket",
           "motorcycle_left": "stereo_motorcycle", "hubble_deep_field": "hubble_deep_field"}


def default_dir() -> Path:
    return Path(os.environ.get("VEIL_DATA", Path.home() / ".cache" / "veil" / "covers"))


def _find_sources() -> dict[str, object]:
    """name -> path or loader of every photo of the corpus present on this machine."""
    src: dict[str, object] = {}
    for design in WALLPAPERS:
        files = glob.glob(f"/usr/share/wallpapers/{design}/contents/images/*")
        if files:
            src[f"wallpaper_{design}"] = max(files, key=os.path.getsize)
    for f in sorted(glob.glob("/usr/share/backgrounds/mate/nature/*.jpg")):
        src[f"mate_{Path(f).stem}"] = f
    for stem in UBUNTU_BG:
        files = glob.glob(f"/usr/share/backgrounds/{stem}_by_*.jpg")
        if files:
            src[f"bg_{stem}"] = files[0]
    base = "/usr/share/doc/opencv-doc/examples/data"
    for stem in OPENCV:
        files = glob.glob(f"{base}/{stem}.jpg") + glob.glob(f"{base}/{stem}.png")
        if files:
            src[f"opencv_{stem}"] = files[0]
    try:
        import skimage.data as skd

        for name, fn in SKIMAGE.items():
            # stereo_motorcycle returns (left, right, disparity): keep the left photo
            src[f"skimage_{name}"] = (lambda f=fn: (lambda r: r[0] if isinstance(r, tuple) else r)(getattr(skd, f)()))
    except ImportError:
        pass
    try:
        from sklearn.datasets import load_sample_images

        imgs = load_sample_images()
        for fname, arr in zip(imgs.filenames, imgs.images):
            src[f"sklearn_{Path(fname).stem}"] = (lambda a=arr: a)
    except ImportError:
        pass
    try:
        import matplotlib

        f = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
        if f.is_file():
            src["mpl_grace_hopper"] = str(f)
    except ImportError:
        pass
    return src


def _load(source) -> Image.Image:
    if callable(source):
        a = np.asarray(source())
        img = Image.fromarray(a.astype(np.uint8))
    else:
        img = Image.open(source)
        img.load()
    img = img.convert("RGB")
    w, h = img.size
    if max(w, h) > MAX_LONG_SIDE:
        s = MAX_LONG_SIDE / max(w, h)
        img = img.resize((max(1, round(w * s)), max(1, round(h * s))), Image.LANCZOS)
    return img


def split_names(names: list[str]) -> tuple[list[str], list[str]]:
    """Whole-photo split: 10% validation chosen by a hash of the name (stable across machines)."""
    ranked = sorted(names, key=lambda n: hashlib.sha1(n.encode()).hexdigest())
    n_val = max(1, round(VAL_FRACTION * len(names)))
    val = set(ranked[:n_val]) | (FORCE_VAL & set(names))
    return sorted(n for n in names if n not in val), sorted(val)


def prepare(out: Path | None = None, n_sharp: int = 12, log=print) -> dict:
    out = Path(out or default_dir())
    sources = _find_sources()
    if not sources:
        from ..errors import InputError

        raise InputError("no corpus photos found: install the packages that carry them (scripts/get_data.sh, or "
                         "make data in a checkout)")
    train, val = split_names(list(sources))
    for sub in ("train", "val", "val_sharp"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    missing = []
    for split, names in (("train", train), ("val", val)):
        for name in names:
            dst = out / split / f"{name}.png"
            if not dst.exists():
                try:
                    img = _load(sources[name])
                    write_atomic(dst, lambda tmp, img=img: img.save(tmp), force=True)
                except Exception as e:  # a wheel may lack a file (data needing a download): skip it
                    missing.append(name)
                    log(f"skipped {name}: {e}")
    train = [n for n in train if n not in missing]
    val = [n for n in val if n not in missing]
    from .synthetic import synthetic_cover

    rng = random.Random(12345)
    for i in range(n_sharp):
        dst = out / "val_sharp" / f"synthetic_{i:02d}.png"
        if not dst.exists():
            w, h = rng.choice([(256, 256), (512, 384), (1024, 768), (1920, 1080)])
            img = Image.fromarray(synthetic_cover(rng, w, h))
            write_atomic(dst, lambda tmp, img=img: img.save(tmp), force=True)
    manifest = {"train": train, "val": val, "val_sharp": n_sharp, "max_long_side": MAX_LONG_SIDE}
    from .digits import prepare_digits

    manifest["digits"] = prepare_digits(out, log)
    write_json(out / "manifest.json", manifest)
    log(f"{len(train)} training photos, {len(val)} validation photos, {n_sharp} synthetic sharp covers -> {out}")
    return manifest
