"""The HTTP service and web page (``veil serve``): a FastAPI app over veil's public API.

- **Admission:** at most ``concurrency`` requests compute at once (in a thread pool, off the event loop); up to
  ``queue`` more wait for a slot, and any beyond those get 503 with Retry-After at once instead of piling up. A
  request that waits or computes longer than ``timeout_s`` gets 504; its slot frees only when its work has ended, so
  the machine is never oversubscribed.
- **Limits before decoding:** the body is read as it streams and refused past ``max_upload_mb`` (413); each image's
  format and pixel count are read from its header, before any pixel is decoded, so a decompression bomb is refused
  (415 for a format outside ``formats``, 413 over ``max_pixels``; Pillow's own bomb limit is set to the same).
  Everything stays in memory: no upload touches the disk.
- **Errors** are JSON ``{"detail": "one line"}``: 400 bad input, 404 nothing hidden (image routes), 413, 415, 422
  missing fields or a text over the cover's capacity, 503 busy, 504 too slow. Never a stack trace.
"""

import asyncio
import base64
import contextvars
import io
import json
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from importlib import resources

from PIL import Image, UnidentifiedImageError

from .. import __version__
from ..errors import CapacityError, InputError, RevealError
from .forms import BadForm, BodyTooLarge, Part, parse_multipart, read_limited

ENV = "VEIL_SERVE_SETTINGS"    # the settings as JSON, for uvicorn's worker processes
ANALYZE_THRESHOLD = 0.2        # the fused rate above which /api/analyze says "stego" (as `veil analyze`)


@dataclass
class Settings:
    max_upload_mb: float = 20.0
    max_pixels: int = 40_000_000
    concurrency: int = 2            # requests computed at once (each with cpu_count / concurrency torch threads)
    queue: int = 16                 # requests waiting for a slot; more are refused with 503
    timeout_s: float = 120.0        # per request, waiting and computing
    formats: list[str] = field(default_factory=lambda: ["PNG", "JPEG", "WEBP", "BMP", "TIFF", "GIF"])
    preload: bool = True            # load the default models when the worker starts

    @classmethod
    def from_env(cls) -> "Settings":
        return cls(**json.loads(os.environ.get(ENV, "{}")))

    def to_env(self) -> str:
        return json.dumps(asdict(self))


class Refused(Exception):
    """A request the service turns down: an HTTP status and a one-line reason."""

    def __init__(self, status: int, detail: str, headers: dict | None = None):
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers or {}


class Gate:
    """Bounded admission and a thread pool: ``run(fn)`` computes ``fn()`` in a worker thread (with the caller's
    context variables), at most ``concurrency`` at once, ``queue`` more waiting; Refused(503) beyond those."""

    def __init__(self, concurrency: int, queue: int, timeout_s: float):
        self.concurrency, self.limit, self.timeout_s = concurrency, concurrency + queue, timeout_s
        self.admitted = 0
        self.pool = ThreadPoolExecutor(concurrency, thread_name_prefix="veil")
        self.slots: asyncio.Semaphore | None = None

    def check(self) -> None:
        """Refused(503) when every slot and queue place is taken: called before a body is read, so that a burst of
        large uploads is turned away before it fills memory."""
        if self.admitted >= self.limit:
            raise Refused(503, f"busy: {self.admitted} requests in progress or waiting; try again shortly",
                          {"Retry-After": "2"})

    async def run(self, fn):
        if self.slots is None:
            self.slots = asyncio.Semaphore(self.concurrency)
        self.check()
        self.admitted += 1
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_s
        try:
            await asyncio.wait_for(self.slots.acquire(), self.timeout_s)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            self.admitted -= 1
            raise Refused(503, "busy: no free slot in time; try again shortly", {"Retry-After": "5"}) from None
        ctx = contextvars.copy_context()
        fut = loop.run_in_executor(self.pool, ctx.run, fn)

        def done(f):                       # the slot frees when the work ends, even after a timeout
            self.slots.release()
            self.admitted -= 1
            if not f.cancelled():
                f.exception()              # retrieved: no "never retrieved" warning after a timeout

        fut.add_done_callback(done)
        try:
            return await asyncio.wait_for(asyncio.shield(fut), max(0.0, deadline - loop.time()))
        except asyncio.TimeoutError:
            raise Refused(504, f"the request took longer than {self.timeout_s:g} s") from None


# ----------------------------------------------------------------------------- inputs

def _field(form: dict[str, Part], name: str, required: bool = False) -> str | None:
    part = form.get(name)
    if part is None or (part.filename is None and part.data == b"" and not required):
        if required:
            raise Refused(422, f"the field {name!r} is missing")
        return None
    if part.filename is not None:
        raise Refused(422, f"the field {name!r} takes text, not a file")
    try:
        return part.data.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, f"the field {name!r} is not UTF-8 text") from None


def _opened(form: dict[str, Part], name: str, settings: Settings) -> Image.Image:
    """The uploaded image ``name``, opened (header read, nothing decoded) and checked: its format (415) and its pixel
    count (413). Cheap: runs on the event loop, so a bomb is refused before it queues."""
    part = form.get(name)
    if part is None or not part.data:
        raise Refused(422, f"the field {name!r} (an image file) is missing")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)   # the limit is checked just below
            im = Image.open(io.BytesIO(part.data))
    except UnidentifiedImageError:
        raise Refused(415, f"{name}: not an image file veil reads ({', '.join(settings.formats)})") from None
    except Image.DecompressionBombError as e:      # over twice Pillow's limit (= max_pixels): refused by Pillow
        raise Refused(413, f"{name}: over the limit of {settings.max_pixels / 1e6:g} Mpx ({e})") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise Refused(400, f"{name}: cannot read the image: {e}") from None
    if im.format not in settings.formats:
        raise Refused(415, f"{name}: {im.format} images are not accepted ({', '.join(settings.formats)})")
    w, h = im.size
    if w * h > settings.max_pixels:
        raise Refused(413, f"{name}: {w}x{h} = {w * h / 1e6:.1f} Mpx is over the limit of "
                           f"{settings.max_pixels / 1e6:g} Mpx")
    return im


def _decoded(im: Image.Image, name: str) -> Image.Image:
    from ..imaging import decode

    return decode(im, name)


def _png(img: Image.Image) -> bytes:
    from ..imaging import PNG_FAST_ABOVE

    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1 if img.width * img.height > PNG_FAST_ABOVE else 6)
    return buf.getvalue()


def _measure(cover: Image.Image, stego: Image.Image, with_ssim: bool) -> dict[str, str]:
    """X-Veil-PSNR (and X-Veil-SSIM) of the stego against the cover, both as 8-bit RGB (veil.metrics)."""
    from ..imaging import pil_to_tensor
    from ..metrics import psnr, ssim

    a, b = pil_to_tensor(cover.convert("RGB")), pil_to_tensor(stego.convert("RGB"))
    out = {"X-Veil-PSNR": f"{psnr(b, a):.2f}"}
    if with_ssim:
        out["X-Veil-SSIM"] = f"{ssim(a, b):.4f}"
    return out


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


# ----------------------------------------------------------------------------- the work (in worker threads)

def do_hide(cover: Image.Image, text: str, passphrase: str | None, model: str | None, with_ssim: bool):
    from ..api import hide_report
    from ..registry import get_model

    cover = _decoded(cover, "image")
    stealth = model == "stealth"
    stego, _ = hide_report(cover, text, passphrase=passphrase, model=None if stealth else model, stealth=stealth)
    name = "stealth" if stealth else get_model(model, "message").card["name"]
    return _png(stego), {**_measure(cover, stego, with_ssim), "X-Veil-Model": name}


def do_reveal(image: Image.Image, passphrase: str | None, model: str | None) -> dict:
    from ..api import reveal_report
    from ..registry import get_model

    image = _decoded(image, "image")
    tries = [("stealth", True)] if model == "stealth" else [(model, False)] + ([("stealth", True)] if model is None
                                                                                 else [])
    labels = []
    for name, stealth in tries:
        got = reveal_report(image, passphrase=passphrase, model=None if stealth else name, stealth=stealth).decoded
        label = "stealth" if stealth else get_model(name, "message").card["name"]
        labels.append(label)
        if got is not None:
            text = got.message if isinstance(got.message, str) else None
            raw = base64.b64encode(got.message).decode("ascii") if isinstance(got.message, bytes) else None
            return {"found": True, "message": text, "bytes_base64": raw, "kind": got.kind,
                    "confidence": round(float(got.confidence), 4), "model": label}
    return {"found": False, "message": None, "bytes_base64": None, "kind": None, "confidence": None,
            "model": labels[0]}      # nothing found: the route looked first


def do_hide_image(cover: Image.Image, secret: Image.Image, model: str | None, passphrase: str | None,
                  with_ssim: bool):
    from ..api import IMAGE_DEFAULT, WEIGHTLESS, hide_image_report
    from ..registry import get_model

    cover, secret = _decoded(cover, "image"), _decoded(secret, "secret")
    model = model or IMAGE_DEFAULT
    stego, info = hide_image_report(cover, secret, model=model, passphrase=passphrase)
    name = model if model in WEIGHTLESS else get_model(model, "image").card["name"]
    headers = {**_measure(cover, stego, with_ssim), "X-Veil-Model": name}
    if info and info.get("secret_psnr") is not None:
        headers["X-Veil-Secret-PSNR"] = f"{info['secret_psnr']:.2f}"
    return _png(stego), headers


def do_reveal_image(stego: Image.Image, model: str | None, passphrase: str | None) -> bytes:
    from ..api import reveal_image

    return _png(reveal_image(_decoded(stego, "image"), model=model, passphrase=passphrase))


def do_analyze(image: Image.Image) -> dict:
    from ..api import analyze_image

    scores = analyze_image(_decoded(image, "image"))
    return {"scores": {k: round(float(v), 6) for k, v in scores.items()},
            "verdict": "stego" if scores["fused"] > ANALYZE_THRESHOLD else "clean", "threshold": ANALYZE_THRESHOLD}


def model_list() -> list[dict]:
    from ..registry import list_cards

    out = [{"name": c["name"], "task": c.get("task"), "summary": c.get("summary", "")} for c in list_cards()
           if c.get("task") in ("message", "image")]
    out.append({"name": "stealth", "task": "message", "summary": "a few +-1 changes where the cover is busiest: "
                "undetectable, but a lossless channel only (no weights)"})
    out.append({"name": "codec", "task": "image", "summary": "compress the secret, embed its bytes where the cover "
                "is busiest: the cover keeps its look; a lossless channel only (no weights)"})
    return out


# ----------------------------------------------------------------------------- the app

def _form_schema(fields: dict[str, tuple[str, str, bool]]) -> dict:
    """openapi_extra for a multipart route: {name: (type "file"|"string", description, required)}."""
    props = {n: ({"type": "string", "format": "binary"} if t == "file" else {"type": "string"}) | {"description": d}
             for n, (t, d, _) in fields.items()}
    need = [n for n, (_, _, r) in fields.items() if r]
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {
        "schema": {"type": "object", "properties": props, "required": need}}}}}


PNG_RESPONSE = {200: {"content": {"image/png": {}}, "description": "the image, PNG"}}


def create_app(settings: Settings | None = None):
    """The FastAPI application (run it with uvicorn; ``veil serve`` does)."""
    import contextlib

    from fastapi import FastAPI, Request
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import FileResponse, JSONResponse, Response
    from fastapi.staticfiles import StaticFiles

    settings = settings or Settings()
    Image.MAX_IMAGE_PIXELS = settings.max_pixels       # Pillow's own bomb limit, at the service's
    gate = Gate(settings.concurrency, settings.queue, settings.timeout_s)
    limit = int(settings.max_upload_mb * 1e6)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        import torch

        torch.set_num_threads(max(1, (os.cpu_count() or 1) // settings.concurrency))
        if settings.preload:            # models are loaded once per worker, before the first request
            from ..registry import get_model

            await asyncio.get_running_loop().run_in_executor(
                gate.pool, lambda: (get_model(None, "message"), get_model("stegnet", "image")))
        yield
        gate.pool.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title="veil", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Hide a text or an image in a photo, get it back, and check photos for hidden data. "
                              "Every field is multipart/form-data; errors are JSON {\"detail\": ...}.")
    app.openapi_version = "3.0.3"       # the bundled Swagger UI reads OpenAPI 3.0
    static = resources.files("veil") / "serve" / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    try:
        import swagger_ui_bundle

        app.mount("/docs-assets", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="swagger")
    except ImportError:                 # the page still works; /docs falls back to the raw schema
        swagger_ui_bundle = None

    @app.exception_handler(Refused)
    async def refused(request: Request, e: Refused):
        return JSONResponse({"detail": e.detail}, status_code=e.status, headers=e.headers)

    async def form_of(request: Request) -> dict[str, Part]:
        gate.check()
        try:
            body = await read_limited(request.stream(), limit, request.headers.get("content-length"))
            return parse_multipart(body, request.headers.get("content-type"))
        except BodyTooLarge as e:
            raise Refused(413, str(e)) from None
        except BadForm as e:
            raise Refused(400, str(e)) from None

    async def compute(fn, *args):
        from ..imaging import pixel_limit

        def work():
            with pixel_limit(settings.max_pixels):
                return fn(*args)

        try:
            return await gate.run(work)
        except CapacityError as e:
            raise Refused(422, str(e)) from None
        except RevealError as e:
            raise Refused(404, str(e)) from None
        except InputError as e:
            raise Refused(400, str(e)) from None

    @app.get("/", include_in_schema=False)
    async def page():
        return FileResponse(str(static / "index.html"), media_type="text/html")

    @app.get("/docs", include_in_schema=False)
    async def docs():
        if swagger_ui_bundle is None:
            return JSONResponse(app.openapi())
        return get_swagger_ui_html(openapi_url="/openapi.json", title="veil API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/static/favicon.svg")

    @app.get("/healthz", summary="Liveness, version, and requests in progress or waiting")
    async def healthz():
        return {"status": "ok", "version": __version__, "in_progress": gate.admitted,
                "capacity": gate.limit}

    @app.get("/api/models", summary="The models each route takes")
    async def models():
        return model_list()

    @app.post("/api/hide", summary="Hide a text in a photo", response_class=Response, responses=PNG_RESPONSE,
              openapi_extra=_form_schema({
                  "image": ("file", "the cover photo", True), "text": ("string", "the text to hide", True),
                  "passphrase": ("string", "keys the message: without it, it neither reads nor verifies", False),
                  "model": ("string", "a message model (default: veil's default), or 'stealth'", False),
                  "ssim": ("string", "'1': also measure SSIM (X-Veil-SSIM; slower)", False)}))
    async def hide(request: Request):
        form = await form_of(request)
        cover = _opened(form, "image", settings)
        text = _field(form, "text", required=True)
        data, headers = await compute(do_hide, cover, text, _field(form, "passphrase"), _field(form, "model"),
                                      _flag(_field(form, "ssim")))
        return Response(data, media_type="image/png", headers=headers)

    @app.post("/api/reveal", summary="Read the text hidden in a photo",
              openapi_extra=_form_schema({
                  "image": ("file", "the photo", True), "passphrase": ("string", "the passphrase it was hidden with",
                                                                        False),
                  "model": ("string", "read only this model's messages ('stealth' for stealth ones)", False)}))
    async def reveal(request: Request):
        form = await form_of(request)
        image = _opened(form, "image", settings)
        return await compute(do_reveal, image, _field(form, "passphrase"), _field(form, "model"))

    @app.post("/api/image/hide", summary="Hide an image in a photo", response_class=Response,
              responses=PNG_RESPONSE, openapi_extra=_form_schema({
                  "image": ("file", "the cover photo", True), "secret": ("file", "the image to hide", True),
                  "model": ("string", "codec (default), stegnet.quiet, pixinpix.quiet, stegnet, pixinpix or lsb1..lsb4",
                            False),
                  "passphrase": ("string", "codec only: encrypts and keys the hidden image", False),
                  "ssim": ("string", "'1': also measure SSIM (X-Veil-SSIM; slower)", False)}))
    async def hide_image(request: Request):
        form = await form_of(request)
        cover, secret = _opened(form, "image", settings), _opened(form, "secret", settings)
        data, headers = await compute(do_hide_image, cover, secret, _field(form, "model"), _field(form, "passphrase"),
                                      _flag(_field(form, "ssim")))
        return Response(data, media_type="image/png", headers=headers)

    @app.post("/api/image/reveal", summary="Get back an image hidden in a photo", response_class=Response,
              responses=PNG_RESPONSE, openapi_extra=_form_schema({
                  "image": ("file", "the stego photo", True),
                  "model": ("string", "the model it was hidden with (default codec)", False),
                  "passphrase": ("string", "codec only", False)}))
    async def reveal_image(request: Request):
        form = await form_of(request)
        image = _opened(form, "image", settings)
        data = await compute(do_reveal_image, image, _field(form, "model"), _field(form, "passphrase"))
        return Response(data, media_type="image/png")

    @app.post("/api/analyze", summary="Estimate how much of a photo's LSBs carry hidden data",
              openapi_extra=_form_schema({"image": ("file", "the photo", True)}))
    async def analyze(request: Request):
        form = await form_of(request)
        return await compute(do_analyze, _opened(form, "image", settings))

    app.state.settings, app.state.gate = settings, gate
    return app


def app_from_env():
    """The app with the settings ``veil serve`` put in the environment (uvicorn's factory in each worker)."""
    return create_app(Settings.from_env())
