"""Files veil writes appear whole or not at all, and never rewrite what the user gave in place."""
import os

import pytest
from PIL import Image

from veil.cli.main import main
from veil.errors import InputError
from veil.files import write_atomic
from veil.imaging import save_image


def test_force_through_a_hard_link_leaves_the_cover_alone(sample_path, tmp_path, capsys):
    cover = tmp_path / "cover.png"
    cover.write_bytes(sample_path.read_bytes())
    os.link(cover, tmp_path / "out.png")
    before = cover.read_bytes()
    assert main(["hide", str(cover), "-t", "linked", "-o", str(tmp_path / "out.png"), "--force"]) == 0
    assert cover.read_bytes() == before                       # the link was replaced, not written through
    assert (tmp_path / "out.png").read_bytes() != before


def test_a_failed_write_leaves_no_file_and_no_temporary(tmp_path):
    def boom(tmp):
        with open(tmp, "wb") as f:
            f.write(b"half a file")
        raise OSError("disk full")

    with pytest.raises(InputError, match="disk full"):
        write_atomic(tmp_path / "out.png", boom)
    assert list(tmp_path.iterdir()) == []


def test_an_interrupt_leaves_the_old_file_whole(tmp_path):
    out = tmp_path / "out.png"
    Image.new("RGB", (8, 8), (1, 2, 3)).save(out)
    before = out.read_bytes()

    def interrupted(tmp):
        Image.new("RGB", (8, 8)).save(tmp, format="PNG")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(out, interrupted, force=True)
    assert out.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]


def test_save_image_writes_a_readable_file_and_refuses_to_clobber(tmp_path):
    p = save_image(Image.new("RGB", (9, 7), (10, 20, 30)), tmp_path / "x.png")
    assert Image.open(p).size == (9, 7)
    with pytest.raises(InputError, match="exists"):
        save_image(Image.new("RGB", (9, 7)), p)


def test_qr_out_may_not_overwrite_the_stego(sample_path, tmp_path, capsys):
    stego = tmp_path / "s.png"
    assert main(["qr", "hide", str(sample_path), "-t", "x", "-o", str(stego)]) == 0
    err = capsys.readouterr().err
    assert "hid 1 character in" in err
    before = stego.read_bytes()
    assert main(["qr", "reveal", str(stego), "--qr-out", str(stego), "--force"]) == 2
    assert "would overwrite the input" in capsys.readouterr().err and stego.read_bytes() == before


def test_sigterm_while_writing_leaves_no_partial_file(tmp_path):
    """The CLI turns SIGTERM into an exception, so the temporary file of a write in progress is removed."""
    import signal
    import subprocess
    import sys

    target = tmp_path / "out.png"
    script = f"""
import sys, time
from veil.cli.main import signals_as_exceptions, Terminated
from veil.files import write_atomic

def slow(tmp):
    open(tmp, "wb").write(b"partial")
    print("ready", flush=True)
    time.sleep(60)

try:
    with signals_as_exceptions():
        write_atomic({str(target)!r}, slow)
except Terminated:
    sys.exit(143)
"""
    p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    assert len(list(tmp_path.iterdir())) == 1               # the temporary file, mid-write
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=30) == 143
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_during_a_results_write_leaves_the_previous_file_whole(tmp_path, monkeypatch):
    import errno

    from veil.files import write_json

    path = tmp_path / "r.json"
    write_json(path, {"a": 1})

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(InputError, match="No space left"):
        write_json(path, {"a": 2})
    assert path.read_text() == '{\n "a": 1\n}\n' and [p.name for p in tmp_path.iterdir()] == ["r.json"]


@pytest.mark.parametrize("argv", [
    ["hide", "{c}", "-t", "x", "-o", "{c}"], ["qr", "hide", "{c}", "-t", "x", "-o", "{c}"],
    ["attack", "{c}", "-o", "{c}", "--blur", "1"], ["image", "hide", "{c}", "{s}", "-o", "{s}"],
    ["image", "reveal", "{c}", "-o", "{c}"], ["qr", "reveal", "{c}", "--qr-out", "{c}"],
    ["disguise", "train", "--disguise", "{c}", "--secret", "{s}", "-o", "{s}"]])
def test_no_command_overwrites_its_own_input_even_with_force(sample, tmp_path, capsys, argv):
    c, s = tmp_path / "cover.png", tmp_path / "secret.png"
    sample.save(c)
    sample.rotate(90).save(s)
    before = {p: p.read_bytes() for p in (c, s)}
    assert main([a.format(c=c, s=s) for a in argv] + ["--force"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "would overwrite the input" in err[0]
    assert {p: p.read_bytes() for p in (c, s)} == before and sorted(tmp_path.iterdir()) == [c, s]
