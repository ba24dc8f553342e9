"""Fail loudly when the PostgreSQL test database cannot be reached (never a silent skip)."""

import sys

from sqlalchemy import create_engine, text

url = sys.argv[1]
try:
    engine = create_engine(url)
    with engine.connect() as conn:
        version = conn.execute(text("select version()")).scalar()
    print(f"connected: {version}")
except Exception as exc:  # noqa: BLE001 - report whatever went wrong
    print(f"ERROR: cannot connect to PINGAN_TEST_DATABASE_URL={url}: {exc}", file=sys.stderr)
    sys.exit(1)
