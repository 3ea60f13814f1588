"""veil over HTTP: a web page and a JSON API (``veil serve``; install the ``veil[serve]`` extra).

    from veil.serve import Settings, create_app
    app = create_app(Settings(max_upload_mb=20, max_pixels=40_000_000))   # a FastAPI app; run it with uvicorn
"""
from .app import Settings, create_app

__all__ = ["Settings", "create_app"]
