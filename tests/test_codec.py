"""The codec way to hide an image: syndrome-trellis codes, HILL costs, the sealed frame, and the route end to end
through real PNG files."""
import io
import json
import math

import numpy as np
import pytest
from PIL import Image

import veil
import veil.api
from veil import codec
from veil.imaging import sample_path
from veil.cli.main import main
from veil.errors import CapacityError, InputError, RevealError
from veil.payloads import sealed, stc
from veil.payloads.costs import hill


def _h(p):
    return -p * math.log2(p) - (1 - p) * math.log2(1 - p)


@pytest.mark.parametrize("n, m, h, segments", [(3000, 300, 7, 1), (20000, 10000, 7, 8), (50001, 7777, 6, 16),
                                                (4096, 32, 7, 1)])
def test_stc_carries_any_message_exactly(n, m, h, segments):
    rng = np.random.default_rng(n)
    x = rng.integers(0, 2, n, dtype=np.uint8)
    msg = rng.integers(0, 2, m, dtype=np.uint8)
    y, cost = stc.embed(x, rng.random(n) + 0.01, msg, h=h, segments=segments)
    assert (stc.extract(y, m, h=h, segments=segments) == msg).all()
    assert y.dtype == np.uint8 and set(np.unique(y)) <= {0, 1} and cost >= 0


def test_stc_is_near_the_bound_and_leaves_wet_samples_alone():
    rng = np.random.default_rng(0)
    n, m = 60000, 30000                         # half a bit per sample
    x = rng.integers(0, 2, n, dtype=np.uint8)
    msg = rng.integers(0, 2, m, dtype=np.uint8)
    y, _ = stc.embed(x, np.ones(n), msg, segments=16)
    rate = (y != x).mean()
    lo, hi = 0.0, 0.5                            # the bound: H^-1(0.5) = 0.110 changes per sample
    for _ in range(50):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _h(mid) < 0.5 else (lo, mid)
    assert lo < rate < 1.2 * lo < 0.25          # within 20% of the bound; plain LSB replacement changes 0.25
    costs = np.ones(n)
    costs[::3] = np.inf                          # a third of the samples may not change
    y, _ = stc.embed(x, costs, msg[:12000], segments=16)
    assert (y[::3] == x[::3]).all() and (stc.extract(y, 12000, segments=16) == msg[:12000]).all()
    with pytest.raises(ValueError, match="cannot be embedded"):
        stc.embed(x, np.full(n, np.inf), msg[:100], segments=1)


@pytest.mark.parametrize("seed", range(40))
def test_quality_search_finds_the_highest_quality_that_fits(seed):
    """The secant search returns what a scan of all 100 qualities would, on monotone size curves with the plateaus
    a codec's quantiser makes, for budgets below, inside and above the curve; and the real codecs' bytes."""
    rng = np.random.default_rng(seed)
    steps = rng.integers(0, 3, 100) * rng.random(100) * 0.12           # some steps 0: plateaus
    sizes = np.round(rng.uniform(200, 5000) * np.exp(np.cumsum(steps))).astype(int)
    calls = []

    def encode(q):
        calls.append(q)
        return bytes(int(sizes[q - 1]))

    for budget in (int(sizes[0]) - 1, int(rng.uniform(sizes[0], sizes[-1])), int(sizes[-1]) + 5):
        calls.clear()
        got = codec._best_quality(encode, budget)
        fits = [q for q in range(1, 101) if sizes[q - 1] <= budget]
        assert (got is None) if not fits else (len(got) == sizes[max(fits) - 1])
        assert len(calls) <= 12
    if seed == 0:
        img = Image.open(sample_path()).convert("RGB").resize((96, 96))
        for c in codec.codec_available():
            data = codec._best_quality(lambda q: codec._encode(img, c, q), 1500)
            scan = [q for q in range(1, 101) if len(codec._encode(img, c, q)) <= 1500]
            assert data == codec._encode(img, c, max(scan))


def test_hill_costs_are_conseals():
    from conseal.hill._costmap import _compute_cost

    a = np.asarray(Image.open(sample_path()).convert("L"))[:120, :200]
    ours, ref = hill(a), _compute_cost(a)
    assert np.allclose(ours, ref, rtol=1e-5)
    assert ours[a.shape[0] // 2].min() > 0                 # every change costs something
    flat = np.full((40, 40), 128, np.uint8)
    busy = np.random.default_rng(0).integers(0, 256, (40, 40), dtype=np.uint8)
    assert hill(flat).mean() > 100 * hill(busy).mean()     # flat areas are dear, texture is cheap


def test_a_sealed_frame_opens_only_with_its_passphrase_and_intact():
    f = sealed.pack(b"secret bytes", 1, 640, 480, passphrase="pw")
    assert sealed.unpack(f, "pw") == (b"secret bytes", 1, 640, 480)
    assert sealed.unpack(sealed.pack(b"plain", 1, 3, 4)) == (b"plain", 1, 3, 4)
    for bad, pw in ((f, "other"), (f, None), (f[:-1] + bytes([f[-1] ^ 1]), "pw"), (b"nothing here at all!", None),
                    (f[:30], "pw")):
        with pytest.raises(sealed.FrameError):
            sealed.unpack(bad, pw)


@pytest.fixture(scope="module")
def pair(sample):
    return sample.resize((160, 128)), sample.rotate(90).resize((120, 90))


@pytest.mark.parametrize("passphrase", [None, "correct horse"])
def test_codec_round_trip_through_a_png_file(pair, passphrase):
    cover, secret = pair
    stego, info = veil.api.hide_image_report(cover, secret, model="codec", passphrase=passphrase)
    buf = io.BytesIO()
    stego.save(buf, format="PNG")
    back = veil.reveal_image(Image.open(buf), model="codec", passphrase=passphrase)
    assert back.size == secret.size and info["stored_size"] == list(secret.size)
    c, s = np.asarray(cover, float), np.asarray(stego, float)
    assert 10 * np.log10(255 ** 2 / ((c - s) ** 2).mean()) > 50          # +-1 changes on few samples
    assert np.abs(c - s).max() == 1
    err = ((np.asarray(back, float) - np.asarray(secret, float)) ** 2).mean()
    assert 10 * np.log10(255 ** 2 / err) == pytest.approx(info["secret_psnr"], abs=1e-6)   # the bytes came back
    assert info["secret_psnr"] > 28 and 0.3 < info["bits_per_sample"] <= codec.MAX_RATE


def test_codec_refuses_what_it_cannot_do(pair, sample):
    cover, secret = pair
    stego = veil.hide_image(cover, secret, model="codec", passphrase="pw")
    with pytest.raises(RevealError):
        veil.reveal_image(stego, model="codec", passphrase="not it")
    with pytest.raises(RevealError):
        veil.reveal_image(cover, model="codec")                         # nothing hidden
    buf = io.BytesIO()
    stego.save(buf, format="JPEG", quality=95)
    with pytest.raises(RevealError):                                   # a JPEG re-save destroys it, never a wrong image
        veil.reveal_image(Image.open(buf), model="codec", passphrase="pw")
    with pytest.raises(CapacityError):
        veil.hide_image(sample.resize((32, 32)), secret, model="codec")   # 3,072 samples: no room at all
    small = veil.api.hide_image_report(sample.resize((80, 80)), sample, model="codec")[1]
    assert small["stored_size"][0] < 512                                # too big a secret is downscaled to fit
    with pytest.raises(InputError, match="only the codec"):
        veil.hide_image(cover, secret, model="lsb3", passphrase="pw")
    with pytest.raises(InputError, match="each side must be 1..8192"):     # checked as for every model
        veil.reveal_image(stego, model="codec", passphrase="pw", size=(0, 10))


def test_codec_through_the_cli(pair, tmp_path, capsys):
    cover, secret = pair
    c, s, out, back = tmp_path / "c.png", tmp_path / "s.png", tmp_path / "o.png", tmp_path / "b.png"
    cover.save(c)
    secret.save(s)
    assert main(["image", "hide", str(c), str(s), "-o", str(out), "--model", "codec", "--passphrase", "pw"]) == 0
    assert "secret PSNR" in capsys.readouterr().err
    assert main(["image", "reveal", str(out), "-o", str(back), "--model", "codec", "--passphrase", "pw"]) == 0
    assert Image.open(back).size == secret.size
    capsys.readouterr()
    assert main(["image", "reveal", str(out), "-o", str(tmp_path / "x.png"), "--model", "codec"]) == 1
    assert capsys.readouterr().err.strip().startswith("veil: error: no codec payload found")


def test_codec_is_the_default_image_method(pair, tmp_path, capsys):
    """No model named: hide_image and reveal_image (and veil image hide|reveal) use codec, so the cover keeps its
    look; a photo with nothing hidden is "nothing found" (exit 1), with a hint for images a network hid."""
    cover, secret = pair
    stego = veil.hide_image(cover, secret)
    c, s = np.asarray(cover, float), np.asarray(stego, float)
    assert np.abs(c - s).max() == 1                                      # +-1 changes: codec, not a network
    assert veil.reveal_image(stego).size == secret.size
    with pytest.raises(RevealError, match="revealed with its model's name"):
        veil.reveal_image(cover)
    folder = tmp_path / "in"
    folder.mkdir()
    stego.save(folder / "a.png")
    cover.save(folder / "b.png")
    secret.save(tmp_path / "s.png")
    assert main(["image", "hide", str(folder / "b.png"), str(tmp_path / "s.png"), "-o", str(tmp_path / "c.png")]) == 0
    assert "secret PSNR" in capsys.readouterr().err                     # the codec's report
    (tmp_path / "out").mkdir()
    assert main(["image", "reveal", str(folder), "--out-dir", str(tmp_path / "out"), "--json"]) == 1
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert lines[0]["output"].endswith("a.png") and lines[0]["size"] == list(secret.size)
    assert lines[1]["found"] is False and "no codec payload" in lines[1]["reason"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png"]


# ----------------------------------------------------------------------------- stealth text

@pytest.mark.parametrize("message, passphrase", [("meet me at noon!", None), ("ÄÖÜ ✓ 25°C", "pw"),
                                                 (bytes(range(40)), "pw")])
def test_stealth_messages_come_back_exactly_and_change_few_samples(sample, message, passphrase):
    cover = sample.resize((256, 256))
    stego = veil.hide(cover, message, passphrase=passphrase, stealth=True)
    buf = io.BytesIO()
    stego.save(buf, format="PNG")
    png = Image.open(buf)
    assert veil.reveal(png, passphrase=passphrase) == message                  # found without being told the kind
    assert veil.reveal(png, passphrase=passphrase, stealth=True) == message
    with pytest.raises(RevealError):
        veil.reveal(png, passphrase=passphrase, stealth=False)                 # the spread route alone finds none
    d = np.abs(np.asarray(stego, int) - np.asarray(cover, int))
    assert d.max() == 1 and 0 < (d > 0).sum() < 200                            # ~55 +-1 changes of 196,608 samples


def test_stealth_refusals(sample, tmp_path, capsys):
    cover = sample.resize((256, 256))
    stego = veil.hide(cover, "secret", passphrase="pw", stealth=True)
    for bad in ("other", None):
        with pytest.raises(RevealError):
            veil.reveal(stego, passphrase=bad)
    buf = io.BytesIO()
    stego.save(buf, format="JPEG", quality=95)
    with pytest.raises(RevealError):
        veil.reveal(Image.open(buf), passphrase="pw")
    with pytest.raises(InputError, match="no model, strength or verify"):
        veil.hide(cover, "x", stealth=True, strength=2)
    with pytest.raises(CapacityError):
        veil.hide(sample.resize((64, 64)), "x" * 2000, stealth=True)
    c, out = tmp_path / "c.png", tmp_path / "o.png"
    cover.save(c)
    assert main(["hide", str(c), "-t", "hi there", "-o", str(out), "--stealth"]) == 0
    assert "stealth" in capsys.readouterr().err
    assert main(["reveal", str(out)]) == 0 and capsys.readouterr().out == "hi there\n"
