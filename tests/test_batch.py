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


def test_hide_from_a_manifest_csv_jsonl_and_stdin(folder, tmp_path, capsys, monkeypatch):
    import io

    out = tmp_path / "stego"
    out.mkdir()
    plain = folder / "sub" / "plain.png"
    (tmp_path / "m.csv").write_text(f"file,text,output\n{plain},first text,\n{folder / 'sub' / 'broken.png'},x,\n"
                                    f"{plain},\"with, a comma ✓\",comma.png\n", encoding="utf-8")
    assert main(["qr", "hide", "--manifest", str(tmp_path / "m.csv"), "--out-dir", str(out), "--json"]) == 2
    docs = _lines(capsys.readouterr().out)
    assert [("error" in d) for d in docs] == [False, True, False], docs
    assert main(["qr", "reveal", str(out / "plain.png")]) == 0 and capsys.readouterr().out == "first text\n"
    assert main(["qr", "reveal", str(out / "comma.png")]) == 0 and capsys.readouterr().out == "with, a comma ✓\n"
    # JSON Lines from stdin, the spread route, bytes as hex, and a named output
    rows = [{"file": str(plain), "text": "spread text", "output": "one.png"},
            {"file": str(plain), "hex": "00ff10", "output": "two.png"}]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(json.dumps(r) for r in rows)))
    assert main(["hide", "--manifest", "-", "--out-dir", str(out)]) == 0
    capsys.readouterr()
    assert veil.reveal(Image.open(out / "one.png")) == "spread text"
    assert veil.reveal(Image.open(out / "two.png")) == bytes.fromhex("00ff10")
    # nothing is overwritten unless asked; a bad manifest or mixed arguments are one line and exit 2
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(rows[0])))
    assert main(["hide", "--manifest", "-", "--out-dir", str(out), "--json"]) == 2
    assert "exists" in _lines(capsys.readouterr().out)[0]["error"]
    (tmp_path / "bad.jsonl").write_text('{"file": "a.png"}\n')
    for argv in (["hide", "--manifest", str(tmp_path / "bad.jsonl"), "--out-dir", str(out)],
                 ["hide", "--manifest", str(tmp_path / "m.csv"), "--out-dir", str(out), "-t", "x"],
                 ["hide", str(plain), "-t", "x"],
                 ["qr", "hide", "--manifest", str(tmp_path / "m.csv"), "--out-dir", str(tmp_path / "nowhere")]):
        assert main(argv) == 2, argv
        assert len(capsys.readouterr().err.strip().splitlines()) == 1
