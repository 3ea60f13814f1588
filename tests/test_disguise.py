"""Image disguise (seed 004): the generator, the key file, and `veil disguise train|reveal` as a user runs them."""
import numpy as np
import pytest
import torch
from PIL import Image

from veil.cli.main import main
from veil.imaging import pil_to_tensor
from veil.metrics import ssim
from veil.models.disguise import (DisguiseCritic, DisguiseGenerator, generator_from_bytes, generator_meta,
                                  generator_to_bytes, prepare)
from veil.payloads.keyfile import is_encrypted, pack_key, pixel_digest, read_passphrase, unpack_key

SIZE, STEPS = 32, 200
SSIM_FLOOR = 0.95        # the matching pair at 32 px after 200 steps: measured 0.999; pure WGAN (--rec-weight 0) 0.68


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def blobs(seed: int, size: int = 48) -> Image.Image:
    """A smooth random RGB image: upsampled noise."""
    r = np.random.default_rng(seed)
    return Image.fromarray(r.integers(0, 256, (5, 5, 3), dtype=np.uint8)).resize((size, size), Image.BICUBIC)


def grey_at(path, size=SIZE):
    """What the key should give back for the image at ``path``: its 8-bit grey at the key's size."""
    return prepare(pil_to_tensor(Image.open(path).convert("RGB")), size, False).mul(255).round().div(255)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One plain and one encrypted key for the same pair, trained through the real entry point."""
    d = tmp_path_factory.mktemp("disguise")
    for i, name in enumerate(("disguise", "secret", "other")):
        blobs(i).save(d / f"{name}.png")
    (d / "pass.txt").write_text("correct horse battery staple\n")
    common = ["--disguise", d / "disguise.png", "--secret", d / "secret.png", "--size", SIZE, "--steps", STEPS,
              "--threads", 1, "--quiet"]
    assert main([str(a) for a in ["disguise", "train", *common, "-o", d / "key.veil"]]) == 0
    assert main([str(a) for a in ["disguise", "train", *common, "-o", d / "enc.veil",
                                  "--passphrase-file", d / "pass.txt"]]) == 0
    return d


# ----------------------------------------------------------------------------- the model

TINY = {"disguise": dict(size=16, hidden=8)}


def test_generator_and_critic_contract():
    from veil.registry import create_model

    torch.manual_seed(0)
    for color in (False, True):
        g, c = create_model("disguise", **TINY["disguise"], color=color), DisguiseCritic(16, color)
        assert isinstance(g, DisguiseGenerator)
        x = torch.rand(2, 3 if color else 1, 16, 16)
        y = g(x)["generated"]
        assert y.shape == x.shape and 0 <= y.min().item() and y.max().item() <= 1
        assert c(y).shape == (2,)
        c(y).sum().backward()
        assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in g.fc2.parameters())
    assert g.fc2.bias is None       # an output bias would give part of the secret to every input
    assert g.generate(torch.rand(1, 3, 40, 24)).shape == (1, 3, 16, 16)


def test_float16_key_weights_move_8bit_pixels_by_at_most_one_level():
    torch.manual_seed(1)
    g = DisguiseGenerator(32)
    g2 = generator_from_bytes(generator_meta(g), generator_to_bytes(g))
    x = torch.rand(4, 1, 32, 32)
    with torch.no_grad():
        diff = (g(x)["generated"] * 255).round() - (g2(x)["generated"] * 255).round()
    assert float(diff.abs().max()) <= 1 and float((diff != 0).float().mean()) < 0.1     # measured: 5% of pixels


# ----------------------------------------------------------------------------- key file and hash

def test_key_file_round_trip_plain_and_encrypted():
    meta, w = {"size": 8, "note": "é"}, bytes(range(256)) * 3
    k = unpack_key(pack_key(meta, w))
    assert (k.meta, k.weights, k.encrypted) == (meta, w, False)
    sealed = pack_key(meta, w, "pw")
    assert is_encrypted(sealed) and w not in sealed and b"note" not in sealed     # metadata sealed too
    k = unpack_key(sealed, "pw")
    assert (k.meta, k.weights, k.encrypted) == (meta, w, True)


def test_scrypt_keys_where_argon2_is_missing(monkeypatch):
    import veil.payloads.keyfile as kf

    monkeypatch.setattr(kf, "default_kdf", lambda: dict(kf.SCRYPT))    # what an OpenSSL without Argon2 gets
    sealed = pack_key({"a": 1}, b"w" * 64, "pw")
    assert unpack_key(sealed, "pw").weights == b"w" * 64
    with pytest.raises(kf.InputError, match="wrong passphrase"):
        unpack_key(sealed, "pW")


@pytest.mark.parametrize("damage", ["truncate", "flip_body", "flip_header", "garbage", "empty", "version"])
def test_damaged_keys_are_input_errors(damage):
    from veil.errors import InputError

    for pw in (None, "pw"):
        data = bytearray(pack_key({"a": 1}, b"weights" * 50, pw))
        if damage == "truncate":
            data = data[:-10]
        elif damage == "flip_body":
            data[-20] ^= 1
        elif damage == "flip_header":
            data[20] ^= 1
        elif damage == "garbage":
            data = bytearray(b"\x89PNG" + bytes(100))
        elif damage == "empty":
            data = bytearray()
        elif damage == "version":
            data[8] = 9
        with pytest.raises(InputError):
            unpack_key(bytes(data), pw)


def test_pixel_digest_follows_pixels_not_file_bytes(tmp_path):
    img = blobs(3).convert("L")
    img.save(tmp_path / "a.png", compress_level=1)
    img.save(tmp_path / "b.png", compress_level=9)
    img.convert("RGB").save(tmp_path / "c.png")
    assert (tmp_path / "a.png").read_bytes() != (tmp_path / "b.png").read_bytes()
    digests = {pixel_digest(Image.open(tmp_path / n)) for n in ("a.png", "b.png", "c.png")}
    assert len(digests) == 1
    changed = img.copy()
    changed.putpixel((0, 0), (img.getpixel((0, 0)) + 1) % 256)
    assert pixel_digest(changed) not in digests


def test_passphrase_file(tmp_path):
    from veil.errors import InputError

    (tmp_path / "p").write_text("  two words \n\n")
    assert read_passphrase(tmp_path / "p") == "  two words \n"        # only one trailing newline goes
    (tmp_path / "e").write_text("\n")
    with pytest.raises(InputError, match="empty"):
        read_passphrase(tmp_path / "e")


# ----------------------------------------------------------------------------- the commands

def test_train_writes_a_key_that_reveals_the_secret(trained, capsys):
    d = trained
    assert not is_encrypted((d / "key.veil").read_bytes()) and is_encrypted((d / "enc.veil").read_bytes())
    code, _, err = run(capsys, "disguise", "reveal", d / "disguise.png", d / "key.veil", "-o", d / "out.png")
    assert code == 0, err
    out = Image.open(d / "out.png")
    assert out.mode == "L" and out.size == (SIZE, SIZE)
    secret = grey_at(d / "secret.png")
    assert ssim(pil_to_tensor(out)[:, :1], secret) >= SSIM_FLOOR
    # the disguise image itself is not the secret: the generator did the work
    assert ssim(grey_at(d / "disguise.png"), secret) < 0.5


def test_wrong_disguise_warns_exits_1_and_writes_nothing(trained, capsys):
    d = trained
    out = d / "wrong.png"
    code, _, err = run(capsys, "disguise", "reveal", d / "other.png", d / "key.veil", "-o", out)
    assert code == 1 and not out.exists()
    assert err.startswith("veil: warning:") and len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "disguise", "reveal", d / "other.png", d / "key.veil", "-o", out, "--no-check")
    assert code == 0 and out.exists()
    # the paper's claim at this size: another image through the generator does not give the secret
    assert ssim(pil_to_tensor(Image.open(out))[:, :1], grey_at(d / "secret.png")) < 0.3


def test_a_re_encoded_disguise_png_still_matches(trained, tmp_path, capsys):
    d = trained
    Image.open(d / "disguise.png").save(tmp_path / "again.png", compress_level=0)
    code, _, err = run(capsys, "disguise", "reveal", tmp_path / "again.png", d / "key.veil", "-o", tmp_path / "o.png")
    assert code == 0, err


def test_encrypted_key_round_trip(trained, tmp_path, capsys):
    d = trained
    (tmp_path / "bad.txt").write_text("wrong horse\n")
    reveal = ["disguise", "reveal", d / "disguise.png", d / "enc.veil", "-o", tmp_path / "o.png"]
    code, _, err = run(capsys, *reveal)
    assert code == 2 and "encrypted" in err and len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, *reveal, "--passphrase-file", tmp_path / "bad.txt")
    assert code == 2 and "wrong passphrase or corrupted key file" in err and not (tmp_path / "o.png").exists()
    code, _, err = run(capsys, *reveal, "--passphrase-file", d / "pass.txt")
    assert code == 0, err
    # same seed, same pair: the sealed key holds the same generator as the plain one
    run(capsys, "disguise", "reveal", d / "disguise.png", d / "key.veil", "-o", tmp_path / "plain.png")
    assert np.array_equal(np.asarray(Image.open(tmp_path / "o.png")), np.asarray(Image.open(tmp_path / "plain.png")))


def test_python_api_round_trip(trained):
    import veil

    d = trained
    disguise = Image.open(d / "disguise.png")
    key = (d / "enc.veil").read_bytes()
    out = veil.disguise_reveal(disguise, key, passphrase="correct horse battery staple")
    assert ssim(pil_to_tensor(out)[:, :1], grey_at(d / "secret.png")) >= SSIM_FLOOR
    with pytest.raises(veil.RevealError):
        veil.disguise_reveal(Image.open(d / "other.png"), key, passphrase="correct horse battery staple")


@pytest.mark.parametrize("case", ["missing_disguise", "missing_key", "not_an_image", "corrupt_key", "truncated_key",
                                  "exists", "empty_passphrase", "key_is_image"])
def test_reveal_bad_input_exits_2_with_one_line(case, trained, tmp_path, capsys):
    d = trained
    disguise, key, out, extra = d / "disguise.png", d / "key.veil", tmp_path / "o.png", []
    if case == "missing_disguise":
        disguise = tmp_path / "nope.png"
    elif case == "missing_key":
        key = tmp_path / "nope.veil"
    elif case == "not_an_image":
        disguise = tmp_path / "t.png"
        disguise.write_text("not an image")
    elif case in ("corrupt_key", "truncated_key"):
        data = bytearray(key.read_bytes())
        if case == "corrupt_key":
            data[len(data) // 2] ^= 0xFF
        key = tmp_path / "k.veil"
        key.write_bytes(bytes(data if case == "corrupt_key" else data[: len(data) // 2]))
    elif case == "exists":
        out.write_bytes(b"precious")
    elif case == "empty_passphrase":
        (tmp_path / "p.txt").write_text("")
        extra = ["--passphrase-file", tmp_path / "p.txt"]
    elif case == "key_is_image":
        key = d / "secret.png"
    code, _, err = run(capsys, "disguise", "reveal", disguise, key, "-o", out, *extra)
    assert code == 2, err
    assert err.startswith("veil: error:") and len(err.strip().splitlines()) == 1
    assert out.read_bytes() == b"precious" if case == "exists" else not out.exists()


@pytest.mark.parametrize("case", ["exists", "missing_secret", "bad_size", "bad_steps", "same_as_input"])
def test_train_bad_input_exits_2_and_keeps_files(case, trained, tmp_path, capsys):
    d = trained
    out, secret, extra = tmp_path / "k.veil", d / "secret.png", []
    if case == "exists":
        out.write_bytes(b"precious")
    elif case == "missing_secret":
        secret = tmp_path / "nope.png"
    elif case == "bad_size":
        extra = ["--size", "4"]
    elif case == "bad_steps":
        extra = ["--steps", "0"]
    elif case == "same_as_input":
        out = tmp_path / "s.png"
        Image.open(secret).save(out)
        secret = out
    before = out.read_bytes() if out.exists() else None
    code, _, err = run(capsys, "disguise", "train", "--disguise", d / "disguise.png", "--secret", secret, "-o", out,
                       "--steps", 5, "--size", 16, "--quiet", *extra)
    assert code == 2, err
    assert err.startswith(("veil: error:", "veil disguise train: error:")) and len(err.strip().splitlines()) == 1
    assert (out.read_bytes() if out.exists() else None) == before


def test_a_recipe_sets_the_training_and_flags_override_it(trained, capsys):
    # defaults -> recipe (TOML) -> flags, as for every other family
    d = trained
    recipe = d / "recipe.toml"
    recipe.write_text(f"size = {SIZE}\nsteps = 2\nhidden = 8\nseed = 3\n")
    args = ["disguise", "train", "--disguise", d / "disguise.png", "--secret", d / "secret.png", "--threads", 1,
            "--quiet", "--config", recipe]
    assert main([str(a) for a in [*args, "-o", d / "r.veil"]]) == 0
    assert "trained 2 steps" in capsys.readouterr().err
    assert main([str(a) for a in [*args, "--steps", 3, "-o", d / "r3.veil"]]) == 0
    assert "trained 3 steps" in capsys.readouterr().err
    assert unpack_key((d / "r.veil").read_bytes()).meta["hidden"] == 8          # from the recipe
    recipe.write_text("stepz = 2\n")
    assert main([str(a) for a in [*args, "-o", d / "bad.veil"]]) == 2
    assert "unknown config keys: stepz" in capsys.readouterr().err and not (d / "bad.veil").exists()
