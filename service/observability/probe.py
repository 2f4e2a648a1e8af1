"""``python -m service.observability.probe [readyz|livez]``: the container health check.

Asks this container's own endpoint (``127.0.0.1:$NEWSWIRE_METRICS_PORT``) and exits 0 on a
200 answer, 1 otherwise; used by the image's HEALTHCHECK and docker-compose.yml (the slim
image has no curl). Kubernetes probes call the same paths with ``httpGet``.
"""

from __future__ import annotations

import http.client
import os
import sys

PATHS = ("readyz", "livez")


def probe(port: int, path: str, *, host: str = "127.0.0.1", timeout: float = 4.0) -> int:
    """The HTTP status of ``GET /path``, or 0 when nothing answers."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", f"/{path}")
        response = conn.getresponse()
        body = response.read(2000).decode("utf-8", "replace")
        print(f"{response.status} {body}")
        return response.status
    except OSError as exc:
        print(f"no answer from {host}:{port}: {exc}", file=sys.stderr)
        return 0
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = args[0] if args else "readyz"
    port = os.environ.get("NEWSWIRE_METRICS_PORT", "")
    if path not in PATHS or not port.isdigit():
        print(
            f"usage: NEWSWIRE_METRICS_PORT=N python -m {__spec__.name if __spec__ else 'probe'}"
            f" [{'|'.join(PATHS)}]",
            file=sys.stderr,
        )
        return 2
    return 0 if probe(int(port), path) == 200 else 1


if __name__ == "__main__":
    raise SystemExit(main())
