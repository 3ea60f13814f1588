"""The HTTP service (veil.serve) in-process through FastAPI's test client: real round trips through every route, every
input limit, a bad image, a wrong passphrase, concurrent requests (no mixed-up answers, 503 with Retry-After when
the queue is full), and the page and API documentation served with no outside asset."""
import asyncio
import io
import re
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

fastapi = pytest.importorskip("fastapi", reason="the serve extra (fastapi) is not installed")
httpx = pytest.importorskip("httpx", reason="httpx (FastAPI's test client) is not installed")

from fastapi.testclient import TestClient  # noqa: E402

from veil.serve import Settings, create_app  # noqa: E402
from veil.serve.forms import BadForm, parse_multipart  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from bench_serve import bomb_png  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(autouse=True, scope="module")
def _pillow_limit():
    """create_app sets Pillow's process-wide bomb limit to the service's: give the other test modules theirs back."""
    before = Image.MAX_IMAGE_PIXELS
    yield
    Image.MAX_IMAGE_PIXELS = before


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(Settings(max_upload_mb=2, max_pixels=4_000_000))) as c:
        yield c


@pytest.fixture(scope="module")
def cover(sample):
    return png_bytes(sample.convert("RGB").resize((256, 256), Image.LANCZOS))


def _img(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def test_text_round_trip_with_and_without_passphrase(client, cover):
    r = client.post("/api/hide", files={"image": ("c.png", cover, "image/png")},
                    data={"text": "noon ✓", "passphrase": "pw", "ssim": "1"})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert float(r.headers["X-Veil-PSNR"]) > 30 and 0.9 < float(r.headers["X-Veil-SSIM"]) <= 1
    assert r.headers["X-Veil-Model"].startswith("spread")
    stego = r.content
    assert _img(stego).shape == (256, 256, 3)
    got = client.post("/api/reveal", files={"image": ("s.png", stego, "image/png")}, data={"passphrase": "pw"}).json()
    assert got["found"] and got["message"] == "noon ✓" and got["model"] == r.headers["X-Veil-Model"]
    assert 0 <= got["confidence"] <= 1
    wrong = client.post("/api/reveal", files={"image": ("s.png", stego, "image/png")}, data={"passphrase": "no"})
    assert wrong.status_code == 200 and wrong.json()["found"] is False and wrong.json()["message"] is None
    clean = client.post("/api/reveal", files={"image": ("c.png", cover, "image/png")}).json()
    assert clean["found"] is False


def test_stealth_text_and_codec_image_round_trips(client, cover, sample):
    r = client.post("/api/hide", files={"image": ("c.png", cover, "image/png")},
                    data={"text": "quiet", "model": "stealth"})
    assert r.status_code == 200 and r.headers["X-Veil-Model"] == "stealth" and float(r.headers["X-Veil-PSNR"]) > 60
    got = client.post("/api/reveal", files={"image": ("s.png", r.content, "image/png")}).json()
    assert got == {**got, "found": True, "message": "quiet", "model": "stealth"}

    secret = png_bytes(sample.convert("RGB").resize((96, 64)))
    r = client.post("/api/image/hide", files={"image": ("c.png", cover, "image/png"),
                                              "secret": ("s.png", secret, "image/png")},
                    data={"model": "codec", "passphrase": "k"})
    assert r.status_code == 200 and r.headers["X-Veil-Model"] == "codec"
    assert float(r.headers["X-Veil-PSNR"]) > 48 and float(r.headers["X-Veil-Secret-PSNR"]) > 30
    back = client.post("/api/image/reveal", files={"image": ("s.png", r.content, "image/png")},
                       data={"model": "codec", "passphrase": "k"})
    assert back.status_code == 200 and _img(back.content).shape == (64, 96, 3)
    none = client.post("/api/image/reveal", files={"image": ("c.png", cover, "image/png")}, data={"model": "codec"})
    assert none.status_code == 404 and "no codec payload" in none.json()["detail"]


def test_neural_image_route_and_analyze(client, cover, sample):
    secret = png_bytes(sample.convert("RGB").rotate(90).resize((256, 256)))
    r = client.post("/api/image/hide", files={"image": ("c.png", cover, "image/png"),
                                              "secret": ("s.png", secret, "image/png")}, data={"model": "lsb3"})
    assert r.status_code == 200 and r.headers["X-Veil-Model"] == "lsb3.default"
    back = client.post("/api/image/reveal", files={"image": ("s.png", r.content, "image/png")}, data={"model": "lsb3"})
    err = np.abs(_img(back.content).astype(int) - _img(secret).astype(int))
    assert err.max() <= 16                      # 3 bits kept: at most half a 32-level step off
    lsb = _img(cover).copy()                   # every LSB replaced by a random bit: what the detectors are for
    lsb = (lsb & 254) | np.random.default_rng(0).integers(0, 2, lsb.shape, dtype=np.uint8)
    a = client.post("/api/analyze", files={"image": ("s.png", png_bytes(Image.fromarray(lsb)), "image/png")}).json()
    assert a["verdict"] == "stego" and set(a["scores"]) == {"primary_sets", "chi_square", "sample_pairs", "rs", "fused"}
    assert client.post("/api/analyze", files={"image": ("c.png", cover, "image/png")}).json()["verdict"] == "clean"


def test_limits(client, cover):
    big = b"\0" * 2_100_000                      # over the 2 MB limit, sent streamed (no Content-Length)
    r = client.post("/api/analyze", content=iter([big[i:i + 65536] for i in range(0, len(big), 65536)]),
                    headers={"content-type": "multipart/form-data; boundary=x"})
    assert r.status_code == 413 and "limit" in r.json()["detail"]
    r = client.post("/api/analyze", files={"image": ("b.png", big, "image/png")})     # declared length
    assert r.status_code == 413
    r = client.post("/api/analyze", files={"image": ("bomb.png", bomb_png(), "image/png")})
    assert r.status_code == 413 and "900000000 pixels" in r.json()["detail"]
    bomb = bomb_png(2500)                          # 6.25 Mpx: under Pillow's own refusal, over the service's limit
    r = client.post("/api/analyze", files={"image": ("bomb.png", bomb, "image/png")})
    assert r.status_code == 413 and "2500x2500" in r.json()["detail"]
    gif = io.BytesIO()
    Image.new("RGB", (64, 64)).save(gif, "ICO")
    r = client.post("/api/analyze", files={"image": ("x.ico", gif.getvalue(), "image/x-icon")})
    assert r.status_code == 415 and "ICO" in r.json()["detail"]
    assert client.post("/api/analyze", files={"image": ("x.png", b"not an image", "image/png")}).status_code == 415
    truncated = cover[:len(cover) // 2]
    r = client.post("/api/analyze", files={"image": ("t.png", truncated, "image/png")})
    assert r.status_code == 400 and "cannot read" in r.json()["detail"]
    r = client.post("/api/hide", files={"image": ("c.png", cover, "image/png")}, data={"text": "x" * 500})
    assert r.status_code == 422 and "carries at most" in r.json()["detail"]
    r = client.post("/api/hide", files={"image": ("c.png", cover, "image/png")})
    assert r.status_code == 422 and "'text'" in r.json()["detail"]
    r = client.post("/api/hide", files={"text": (None, "hi")})          # multipart, but no image
    assert r.status_code == 422 and "'image'" in r.json()["detail"]
    r = client.post("/api/hide", content=b"text=hi", headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400 and "multipart" in r.json()["detail"]
    r = client.post("/api/image/hide", files={"image": ("c.png", cover, "image/png"),
                                              "secret": ("s.png", cover, "image/png")}, data={"model": "nope"})
    assert r.status_code == 400


def test_concurrent_requests_get_their_own_answers_and_overflow_gets_503(cover):
    app = create_app(Settings(concurrency=1, queue=3, preload=False))
    texts = [f"msg {i:02d}" for i in range(10)]

    async def go():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            async def one(t):
                r = await c.post("/api/hide", files={"image": ("c.png", cover, "image/png")}, data={"text": t})
                if r.status_code != 200:
                    return t, r.status_code, r.headers.get("retry-after"), None
                got = await c.post("/api/reveal", files={"image": ("s.png", r.content, "image/png")})
                return t, 200, None, got.json()["message"]
            async with app.router.lifespan_context(app):
                return await asyncio.gather(*(one(t) for t in texts))

    out = asyncio.run(go())
    ok = [o for o in out if o[1] == 200]
    busy = [o for o in out if o[1] == 503]
    assert len(ok) + len(busy) == len(texts) and ok and busy        # 1 computing + 3 waiting: the rest refused
    assert all(o[2] for o in busy)                                  # with Retry-After
    assert all(t == message for t, _, _, message in ok)             # nothing lost or mixed up


def test_page_docs_and_models_use_no_outside_asset(client):
    page = client.get("/")
    assert page.status_code == 200 and "Hide text" in page.text and "Analyze" in page.text
    for tab in ("Hide text", "Reveal text", "Hide image", "Reveal image", "Analyze"):
        assert f">{tab}</button>" in page.text
    docs = client.get("/docs")
    assert docs.status_code == 200
    for html in (page.text, docs.text):
        urls = re.findall(r'(?:src|href)="([^"]+)"', html) + re.findall(r"url: *'([^']+)'", html)
        assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls), urls
        for u in urls:
            assert client.get(u).status_code == 200, u
    spec = client.get("/openapi.json").json()
    assert {"/api/hide", "/api/reveal", "/api/image/hide", "/api/image/reveal", "/api/analyze", "/api/models",
            "/healthz"} <= set(spec["paths"])
    body = spec["paths"]["/api/hide"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert body["required"] == ["image", "text"]
    names = {m["name"] for m in client.get("/api/models").json()}
    assert {"codec", "stealth", "stegnet.default"} <= names
    assert client.get("/healthz").json()["status"] == "ok"


def test_multipart_parser_is_strict():
    req = httpx.Request("POST", "http://x/", files={"image": ("a.png", b"\r\n--x\r\n\r\nbody", "image/png")},
                        data={"text": "a\r\nb"})
    form = parse_multipart(req.read(), req.headers["content-type"])
    assert form["image"].data == b"\r\n--x\r\n\r\nbody" and form["image"].filename == "a.png"
    assert form["text"].data == b"a\r\nb" and form["text"].filename is None
    with pytest.raises(BadForm):
        parse_multipart(b"--b\r\nno end", "multipart/form-data; boundary=b")
    with pytest.raises(BadForm):
        parse_multipart(b"", "application/json")


def test_a_slow_request_gets_504_and_its_slot_back(cover):
    with TestClient(create_app(Settings(timeout_s=0.05, concurrency=1, queue=0, preload=False))) as c:
        r = c.post("/api/hide", files={"image": ("c.png", cover, "image/png")}, data={"text": "slow"})
        assert r.status_code == 504 and "longer than" in r.json()["detail"]
        gate = c.app.state.gate
        deadline = time.time() + 60
        while gate.admitted and time.time() < deadline:     # the work finishes in its thread, then frees the slot
            time.sleep(0.05)
        assert gate.admitted == 0
        assert c.get("/healthz").json()["in_progress"] == 0


def test_serve_cli_refuses_bad_options(capsys):
    from veil.cli.main import main

    for argv in (["serve", "--port", "70000"], ["serve", "--max-upload-mb", "0"], ["serve", "--queue", "-1"]):
        assert main(argv) == 2
        assert len(capsys.readouterr().err.strip().splitlines()) == 1
