"""``veil serve``: the web page and the HTTP API (veil.serve) under uvicorn."""
from __future__ import annotations

import os
import sys

from . import options

DEFAULT_MAX_PIXELS = 40_000_000


def add_parser(sub) -> None:
    p = sub.add_parser("serve", help="the web page and HTTP API (needs the veil[serve] extra)",
                       description="Serve the web page at / and the JSON API under /api (OpenAPI page at /docs). "
                                   f"Images over --max-pixels (default {DEFAULT_MAX_PIXELS:,} here) are refused "
                                   "from their header.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=options._checked(options._int, lambda v: 1 <= v <= 65535, "is not a port (1-65535)"),
                   default=8000)
    p.add_argument("--workers", type=options.positive_int, default=1,
                   help="worker processes (each loads the models once)")
    p.add_argument("--max-upload-mb", type=options.positive_float, default=20.0,
                   help="largest request body in MB (default 20)")
    p.add_argument("--concurrency", type=options.positive_int, default=2,
                   help="requests computed at once per worker (default 2)")
    p.add_argument("--queue", type=options.count, default=16,
                   help="requests waiting per worker beyond those; more get 503 (default 16)")
    p.add_argument("--timeout", type=options.positive_float, default=120.0, help="seconds per request (default 120)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..errors import InputError

    try:
        import uvicorn
        import fastapi  # noqa: F401
    except ImportError:
        raise InputError("veil serve needs the serve extra: pip install 'veil[serve]'") from None
    from ..serve.app import ENV, Settings

    settings = Settings(max_upload_mb=args.max_upload_mb, max_pixels=args.max_pixels or DEFAULT_MAX_PIXELS,
                        concurrency=args.concurrency, queue=args.queue, timeout_s=args.timeout)
    os.environ[ENV] = settings.to_env()
    print(f"veil: serving http://{args.host}:{args.port}/ (API docs at /docs)", file=sys.stderr, flush=True)
    uvicorn.run("veil.serve.app:app_from_env", factory=True, host=args.host, port=args.port, workers=args.workers,
                log_level="warning")
    return 0
