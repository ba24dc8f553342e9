"""ASGI entry point for uvicorn: `uvicorn pingan.asgi:app`."""

import os

from pingan.app import create_app

app = create_app(background_jobs=os.environ.get("PINGAN_BACKGROUND_JOBS", "1") == "1")
