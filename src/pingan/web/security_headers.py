"""Security headers on every response (issue 12): one pure ASGI middleware that appends headers
worked out once, at start-up — the intake hot path pays for a list copy, nothing more.

- ``Content-Security-Policy``: scripts only from this origin (``script-src 'self'``: pages carry
  no inline script or handler; a page's data travels in ``data-`` attributes or in
  ``<script type="application/json">`` blocks, which are never executed); images from this
  origin, ``data:`` URIs (Leaflet's and Swagger UI's icons) and the configured tile server
  (``PINGAN_TILE_URL``); no plug-ins, no framing, ``<base>`` and form targets only here.
  ``style-src`` allows ``'unsafe-inline'`` for styles only: Leaflet and ECharts position and colour
  their elements with inline styles (ECharts' tooltip markup carries ``style`` attributes), htmx
  adds its indicator ``<style>``, and a few templates set a colour swatch. Inline styles cannot run
  script; inline scripts stay forbidden.
- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin``, ``X-Frame-Options: DENY``
  (for browsers that predate ``frame-ancestors``).
- ``Cache-Control: no-store`` on everything but the static files: pages and API answers are
  either signed in or carry personal data (unmasked on a purpose-given read), and a shared or
  back-button cache must keep neither. A handler's own ``Cache-Control`` is replaced by it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

STATIC_PREFIX = "/static/"


def tile_source(tile_url: str) -> str | None:
    """The CSP source of a Leaflet tile URL template: scheme, host and port, a ``{s}``-style
    placeholder in the host becoming a ``*.`` wildcard (CSP allows one, leftmost). None for a blank
    or same-origin (relative) URL, which ``'self'`` covers."""
    tile_url = tile_url.strip()
    if not tile_url or tile_url.startswith("/") and not tile_url.startswith("//"):
        return None
    parts = urlsplit(tile_url if "://" in tile_url or tile_url.startswith("//") else "https://" + tile_url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    host, _, port = netloc.partition(":") if netloc.count(":") == 1 else (netloc, "", "")
    labels = host.split(".")
    templated = [i for i, label in enumerate(labels) if "{" in label or "}" in label]
    if templated:
        labels = ["*"] + labels[templated[-1] + 1:]
    if not labels or not all(label == "*" or label.replace("-", "").isalnum() for label in labels):
        return None
    source = ".".join(labels) + (f":{port}" if port.isdigit() else "")
    return f"{parts.scheme}://{source}" if parts.scheme in ("http", "https") else source


def content_security_policy(tile_url: str = "") -> str:
    images = "'self' data:"
    tiles = tile_source(tile_url)
    if tiles:
        images += f" {tiles}"
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        # Styles only: Leaflet, ECharts and htmx set inline styles; inline scripts stay forbidden.
        "style-src 'self' 'unsafe-inline'",
        f"img-src {images}",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


class SecurityHeadersMiddleware:
    """Pure ASGI middleware (not ``BaseHTTPMiddleware``, which costs a task and a stream per
    request): the response's headers plus the precomputed ones."""

    def __init__(self, app, *, tile_url: str = "") -> None:
        self.app = app
        common = [
            (b"content-security-policy", content_security_policy(tile_url).encode("latin-1")),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
            (b"x-frame-options", b"DENY"),
        ]
        self._static = common
        self._dynamic = common + [(b"cache-control", b"no-store")]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        static = scope["path"].startswith(STATIC_PREFIX)
        extra = self._static if static else self._dynamic

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = message.get("headers") or ()
                if static:
                    message["headers"] = [*headers, *extra]
                else:
                    message["headers"] = [*(h for h in headers if h[0].lower() != b"cache-control"), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
