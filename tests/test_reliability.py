"""Bad values, odd terminals, huge or damaged files, rotated photos and colour profiles: one line and exit 2 (or the
right image), never a traceback, a wrong text or a stego that hides nothing."""
import io
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

import veil
from veil.cli.main import main
from veil.errors import InputError


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_exit_2(code, out, err):
    return code == 2 and out == "" and len(err.strip().splitlines()) == 1 and "Traceback" not in err


# ----------------------------------------------------------------------------- bad values on the command line

@pytest.mark.parametrize("argv", [
    ["attack", "{cover}", "-o", "{out}", "--noise", "2", "--seed", "99999999999999999999999"],
    ["attack", "{cover}", "-o", "{out}", "--noise", "2", "--seed", "-1"],
    ["qrnet", "read", "{cover}", "--threads", "-3"],
    ["qrnet", "read", "{cover}", "--threads", "0"],
    ["disguise", "train", "--disguise", "{cover}", "--secret", "{cover}", "-o", "{out}", "--lr", "nan"],
    ["disguise", "train", "--disguise", "{cover}", "--secret", "{cover}", "-o", "{out}", "--lr", "-1"],
    ["train", "spread", "--steps", "1", "--seed", "1e30"],
    ["analyze", "{cover}", "--threshold", "inf"],
], ids=["seed-overflow", "seed-negative", "threads-neg", "threads-0", "lr-nan", "lr-neg", "seed-float", "thr-inf"])
def test_bad_numbers_are_one_line_and_exit_2(argv, sample_path, tmp_path, capsys):
    out = tmp_path / "out.png"
    argv = [a.format(cover=sample_path, out=out) for a in argv]
    code, stdout, err = run(capsys, *argv)
    assert one_line_exit_2(code, stdout, err), err
    assert not out.exists()


@pytest.mark.slow
def test_a_text_the_terminal_cannot_encode_is_exit_2_and_json_still_gives_it_exactly(sample_path, tmp_path):
    stego = tmp_path / "s.png"
    env = dict(os.environ, PYTHONIOENCODING="cp1252")
    veil_cli = [sys.executable, "-m", "veil"]
    r = subprocess.run([*veil_cli, "hide", str(sample_path), "-t", "hi 😀", "-o", str(stego)], env=env,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([*veil_cli, "reveal", str(stego)], env=env, capture_output=True)
    assert r.returncode == 2 and r.stdout == b"" and b"cp1252" in r.stderr and b"Traceback" not in r.stderr
    r = subprocess.run([*veil_cli, "reveal", str(stego), "--json"], env=env, capture_output=True)
    import json
    assert r.returncode == 0 and json.loads(r.stdout)["message"] == "hi 😀"


def test_an_input_in_a_folder_without_permission_is_exit_2(monkeypatch, tmp_path, capsys):
    """Root ignores permissions, so the refusal the OS gives a user is raised where veil first touches the path."""
    import veil.imaging

    def denied(self, *a, **k):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(veil.imaging.Path, "exists", denied)
    code, stdout, err = run(capsys, "reveal", tmp_path / "locked" / "s.png")
    assert one_line_exit_2(code, stdout, err) and "Permission denied" in err


# ----------------------------------------------------------------------------- the Python API

def test_api_verify_of_the_wrong_type_is_input_error(sample):
    for f in (veil.hide_qr, veil.hide):
        with pytest.raises(InputError, match="verify"):
            f(sample, "x", verify=5)


def test_api_truncated_file_is_input_error(sample_path, tmp_path):
    part = tmp_path / "t.png"
    part.write_bytes(sample_path.read_bytes()[:30000])
    for call in (lambda im: veil.hide_qr(im, "x"), lambda im: veil.reveal(im), lambda im: veil.reveal_qr(im),
                 lambda im: veil.analyze_image(im), lambda im: veil.hide_image(im, im)):
        with pytest.raises(InputError, match="cannot read"):
            call(Image.open(part))


# ----------------------------------------------------------------------------- pixel limit from the header

def test_an_image_over_the_pixel_limit_is_refused_before_decoding(tmp_path, capsys):
    big = tmp_path / "big.png"
    Image.new("L", (11000, 10000)).save(big)                    # 110 Mpx, about 100 kB on disk
    import resource
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with warnings.catch_warnings():
        warnings.simplefilter("error")                           # no raw DecompressionBombWarning either
        code, stdout, err = run(capsys, "reveal", big)
    assert one_line_exit_2(code, stdout, err) and "110.0 Mpx" in err and "100 Mpx" in err
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000    # kB: never decoded (110 MB)
    code, stdout, err = run(capsys, "reveal", big, "--max-pixels", "1000")
    assert one_line_exit_2(code, stdout, err)
    with warnings.catch_warnings(), pytest.raises(InputError, match="too large to decode"):
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)      # Pillow's own, at the caller's open
        veil.reveal(Image.open(big))


def test_the_limit_is_veils_own_not_pillows(tmp_path):
    import veil.imaging  # noqa: F401  (importing veil leaves the caller's Pillow limit alone)
    assert Image.MAX_IMAGE_PIXELS == int(1024 * 1024 * 1024 // 4 // 3)
    small = tmp_path / "s.png"
    Image.new("RGB", (100, 100)).save(small)
    with veil.imaging.pixel_limit(5000):
        with pytest.raises(InputError, match="100x100"):
            veil.imaging.load_image(small)
    assert veil.imaging.load_image(small).size == (100, 100)


# ----------------------------------------------------------------------------- orientation and colour profile

def _rotated_jpeg(img: Image.Image, orientation: int) -> Image.Image:
    """``img`` stored sideways in a JPEG whose EXIF says how to turn it upright (orientation 6: 90° clockwise)."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    img.transpose(Image.Transpose.ROTATE_90).save(buf, format="JPEG", quality=95, exif=exif.tobytes())
    buf.seek(0)
    return Image.open(buf)


def test_api_applies_exif_orientation_like_the_cli(sample):
    cover = sample.resize((256, 192))
    sideways = _rotated_jpeg(cover, 6)
    assert sideways.size == (192, 256)
    stego = veil.hide(sideways, "upright")
    assert stego.size == (256, 192)
    assert veil.reveal(stego) == "upright"
    stego_qr = veil.hide_qr(_rotated_jpeg(cover, 6), "up")
    assert stego_qr.size == (256, 192)
    diff = np.abs(np.asarray(stego, np.float32) - np.asarray(cover, np.float32)).mean()
    assert diff < 6                                              # the same picture, not a turned one


def _with_profile(img: Image.Image) -> tuple[Image.Image, bytes]:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    buf = io.BytesIO()
    img.save(buf, format="PNG", icc_profile=icc)
    buf.seek(0)
    return Image.open(buf), icc


def test_the_stego_keeps_the_covers_colour_profile_and_exif_on_request(sample, tmp_path, capsys):
    cover, icc = _with_profile(sample.resize((256, 256)))
    assert veil.hide(cover, "p").info.get("icc_profile") == icc
    path = tmp_path / "c.jpg"
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"
    exif[0x0112] = 6
    sample.resize((256, 192)).transpose(Image.Transpose.ROTATE_90).save(path, quality=95, icc_profile=icc,
                                                                         exif=exif.tobytes())
    for extra, kept in (([], False), (["--keep-metadata"], True)):
        out = tmp_path / f"s{len(extra)}.png"
        code, _, err = run(capsys, "hide", path, "-t", "meta", "-o", out, *extra)
        assert code == 0, err
        with Image.open(out) as im:
            assert im.size == (256, 192) and im.info.get("icc_profile") == icc
            got = im.getexif()
            assert (got.get(0x010F) == "CameraMaker") is kept
            assert got.get(0x0112, 1) == 1                          # upright pixels: no turn left to apply


# ----------------------------------------------------------------------------- a hide that hides nothing

@pytest.mark.parametrize("route", ["qr", "spread"])
def test_a_strength_too_low_to_read_back_writes_nothing(route, sample_path, tmp_path, capsys):
    out = tmp_path / "s.png"
    hide = ["qr", "hide"] if route == "qr" else ["hide"]
    code, stdout, err = run(capsys, *hide, sample_path, "-t", "lost", "-o", out, "--strength", "0.001")
    assert one_line_exit_2(code, stdout, err) and "does not read back" in err and not out.exists()
    code, _, err = run(capsys, *hide, sample_path, "-t", "lost", "-o", out, "--strength", "0.001", "--no-check")
    assert code == 0 and out.exists() and "warning" in err and "does not read back" in err
    with pytest.raises(InputError, match="does not read back"):
        (veil.hide_qr if route == "qr" else veil.hide)(Image.open(sample_path), "lost", strength=0.001)
    _, report = (veil.api.hide_qr_report if route == "qr" else veil.api.hide_report)(
        Image.open(sample_path), "kept", strength=1)
    assert report.reads_back is True


_UNDER_A_MEMORY_LIMIT = """
import resource, sys
from veil.cli.main import main
import numpy, torch, PIL.Image
vm = int(next(l for l in open("/proc/self/status") if l.startswith("VmSize")).split()[1]) << 10
limit = vm + (int(sys.argv[1]) << 20)       # room above what the imports already mapped
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmSize from /proc")
@pytest.mark.parametrize("room, argv", [
    (150, ["attack", "{src}", "-o", "{out}", "--contrast", "0.9"]),             # fails in a PyTorch allocation
    (60, ["attack", "{src}", "-o", "{out}", "--contrast", "0.9"]),              # fails in NumPy / Pillow
    (60, ["image", "hide", "{src}", "{src}", "-o", "{out}", "--model", "lsb2"])])
def test_running_out_of_memory_is_one_line_and_exit_2(tmp_path, room, argv):
    # A real allocation failure (the address space capped a little above the imports), not a simulated one:
    # PyTorch's RuntimeError and NumPy's MemoryError both end in one line and exit 2, with no file written.
    src, out = tmp_path / "big.png", tmp_path / "out.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (2000, 3000, 3), dtype=np.uint8)).save(
        src, compress_level=0)
    cmd = [a.format(src=src, out=out) for a in argv]
    p = subprocess.run([sys.executable, "-c", _UNDER_A_MEMORY_LIMIT, str(room), *cmd], capture_output=True, text=True,
                       env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=120)
    assert p.returncode == 2, p.stderr
    assert p.stderr.strip() == "veil: error: out of memory (try a smaller image)"
    assert not out.exists() and list(tmp_path.iterdir()) == [src]
