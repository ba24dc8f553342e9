"""ASGI entry point for uvicorn: `uvicorn pingan.asgi:app` (each web worker imports it).

A web worker reads statistics from the statistics process only (``PINGAN_STATS_SERVICE``
defaults to ``required`` here): it never opens the DuckDB file nor loads DuckDB, and answers
503 while that process is unreachable.
"""

import os

os.environ.setdefault("PINGAN_STATS_SERVICE", "required")

from pingan.app import create_app  # noqa: E402  (after the setting above)

app = create_app(background_jobs=os.environ.get("PINGAN_BACKGROUND_JOBS", "1") == "1")
