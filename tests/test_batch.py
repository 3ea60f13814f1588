"""Batch commands over a folder with a corrupt file in it: one result per input (JSON Lines), the bad file reported on
its own line without stopping the others, the exit code saying that one failed; single-file behaviour unchanged."""
import json

import pytest
from PIL import Image

import veil
from veil.cli.main import main

pytestmark = pytest.mark.pretrained


@pytest.fixture
def folder(tmp_path, sample):
    root = tmp_path / "in"
    (root / "sub").mkdir(parents=True)
    cover = sample.convert("RGB").resize((256, 256), Image.LANCZOS)
    veil.hide_qr(cover, "first").save(root / "a.png")
    veil.hide_qr(cover.rotate(180), "second ✓").save(root / "sub" / "b.png")
    cover.save(root / "sub" / "plain.png")
    (root / "sub" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    (root / "notes.txt").write_text("not an image, and not picked up from a folder")
    return root


def _lines(out: str) -> list[dict]:
    return [json.loads(x) for x in out.strip().splitlines()]


def test_qr_reveal_over_a_folder(folder, capsys):
    assert main(["qr", "reveal", str(folder), "--json"]) == 2           # one failed
    out, err = capsys.readouterr()
    docs = {d["file"].replace(str(folder) + "/", ""): d for d in _lines(out)}
    assert set(docs) == {"a.png", "sub/b.png", "sub/plain.png", "sub/broken.png"}
    assert docs["a.png"] == {"file": str(folder / "a.png"), "found": True, "text": "first"}
    assert docs["sub/b.png"]["text"] == "second ✓"
    assert docs["sub/plain.png"]["found"] is False
    assert set(docs["sub/broken.png"]) == {"file", "error"} and "\n" not in docs["sub/broken.png"]["error"]
    assert "4 files: 2 found, 1 with nothing found, 1 failed" in err
    # without the broken file: nothing failed, but one has nothing hidden -> 1; files given one by one work too
    assert main(["qr", "reveal", str(folder / "a.png"), str(folder / "sub" / "plain.png")]) == 1
    out, _ = capsys.readouterr()
    assert out.splitlines() == [f"{folder / 'a.png'}\tfirst", f"{folder / 'sub' / 'plain.png'}\t(no QR code read)"]
    # one file keeps the single-file behaviour: the text alone
    assert main(["qr", "reveal", str(folder / "a.png")]) == 0
    assert capsys.readouterr().out == "first\n"


def test_reveal_and_analyze_over_a_folder(folder, tmp_path, sample, capsys):
    spread = tmp_path / "spread"
    spread.mkdir()
    veil.hide(sample.convert("RGB").resize((256, 256)), "spread one").save(spread / "s.png")
    (spread / "bad.jpg").write_bytes(b"\xff\xd8 truncated")
    assert main(["reveal", str(spread), "--json"]) == 2
    docs = {d["file"].rsplit("/", 1)[1]: d for d in _lines(capsys.readouterr().out)}
    assert docs["s.png"]["text"] == "spread one" and docs["s.png"]["found"] is True
    assert "error" in docs["bad.jpg"]
    assert main(["analyze", str(folder), "--json"]) == 2
    docs = _lines(capsys.readouterr().out)
    assert len(docs) == 4 and sum("error" in d for d in docs) == 1
    assert all("fused" in d for d in docs if "error" not in d)


def test_image_reveal_batch_writes_under_out_dir(folder, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    assert main(["image", "reveal", str(folder), "--model", "lsb3", "--out-dir", str(out), "--json"]) == 2
    docs = _lines(capsys.readouterr().out)
    written = sorted(d["output"] for d in docs if "output" in d)
    assert written == sorted(str(out / p) for p in ("a.png", "sub/b.png", "sub/plain.png"))
    assert all(Image.open(p).size == (256, 256) for p in written)
    # nothing is overwritten unless asked: a second run reports every file as an error, a --force run does not
    assert main(["image", "reveal", str(folder), "--model", "lsb3", "--out-dir", str(out), "--json"]) == 2
    assert sum("exists" in d.get("error", "") for d in _lines(capsys.readouterr().out)) == 3
    assert main(["image", "reveal", str(folder / "a.png"), str(folder / "sub" / "b.png"), "--model", "lsb3",
                 "--out-dir", str(out), "--force"]) == 0
    capsys.readouterr()
    # a batch needs --out-dir; one file still needs -o
    assert main(["image", "reveal", str(folder), "-o", str(tmp_path / "x.png")]) == 2
    assert main(["image", "reveal", str(folder / "a.png"), "--out-dir", str(out)]) == 2
    assert main(["qr", "reveal", str(tmp_path / "out" / "sub"), str(tmp_path / "empty_none")]) == 2
