"""The visibility figure of docs/qr.md: the bundled photo (held out of training), a 256 px crop shown at 1.5x, as
the cover, qr_densenet's stego and the robust model's (the default) stego (each with its PSNR), and the strength
`--verify` picks for the robust model on it. Run: .venv/bin/python scripts/qr_visibility.py
-> results/qr_visibility_astronaut.png."""
from importlib import resources

from PIL import Image, ImageDraw

import veil
from veil.api import hide_qr_report
from veil.imaging import pil_to_tensor
from veil.metrics import psnr

TEXT = "meet me at the old bridge, 6pm"
TARGETS = "blur:1+jpeg:75,jpeg:50,resize:0.5,resize:0.5:bicubic,blur:1,noise:2,jpeg:75"


def main() -> int:
    cover = Image.open(resources.files("veil") / "assets" / "astronaut.png").convert("RGB")
    tiles = [("cover", cover)]
    for m in ["qr_densenet", "qr_densenet.robust"]:
        s = veil.hide_qr(cover, TEXT, model=m)
        tiles.append((f"{m} {psnr(pil_to_tensor(s), pil_to_tensor(cover)):.1f} dB", s))
        print(tiles[-1][0])
    s, rep = hide_qr_report(cover, TEXT, model="qr_densenet.robust", verify=TARGETS)
    print(f"qr_densenet.robust --verify {TARGETS}: {rep.describe()}; "
          f"{psnr(pil_to_tensor(s), pil_to_tensor(cover)):.1f} dB")
    box, w = (96, 16, 352, 272), 384     # face and background
    out = Image.new("RGB", (w * 3, w + 22), "white")
    d = ImageDraw.Draw(out)
    for i, (name, im) in enumerate(tiles):
        out.paste(im.crop(box).resize((w, w), Image.NEAREST), (i * w, 22))
        d.text((i * w + 6, 5), name, fill="black")
    out.save("results/qr_visibility_astronaut.png", optimize=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
