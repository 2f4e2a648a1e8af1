"""Real RabbitMQ and Redis Sentinel servers for the tests, on free ports, in a tmp directory.

- :class:`RabbitMQ`: one ``rabbitmq-server`` node of its own (unique node name, its own
  Erlang port mapper and distribution ports, data and logs under ``base``, no plugins), which
  tests share and split with a vhost each. ``restart()`` stops and starts it on the same data
  directory (the quorum queues' logs survive it).
- :class:`SentinelGroup`: a Redis primary, one replica and one Sentinel watching them
  (quorum 1), so that SIGKILLing the primary makes the Sentinel promote the replica.

Both need the Debian packages (``scripts/ensure-engines.sh`` installs them; ``make test`` runs
it). Nothing is mocked; every process is stopped by ``stop()``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import redis

from service.embedded_redis import EmbeddedRedis, free_port
from tests.support.processes import wait_for

RABBITMQ_SBIN = Path("/usr/lib/rabbitmq/bin")


def rabbitmq_available() -> bool:
    return (RABBITMQ_SBIN / "rabbitmq-server").exists() or shutil.which(
        "rabbitmq-server"
    ) is not None


def _rabbit_tool(name: str) -> str:
    # The /usr/sbin wrappers switch to the rabbitmq user; the real scripts run as we are.
    direct = RABBITMQ_SBIN / name
    return str(direct) if direct.exists() else (shutil.which(name) or name)


class RabbitMQ:
    """One RabbitMQ node on 127.0.0.1:``port``, guest/guest, a vhost per test."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = free_port()
        self.node = f"nwtest{uuid.uuid4().hex[:8]}@localhost"
        self.env = {
            **os.environ,
            "HOME": str(base),  # the Erlang cookie lives here, for the server and rabbitmqctl
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(free_port()),
            "ERL_EPMD_PORT": str(free_port()),
            "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(base / "log"),
            "RABBITMQ_PID_FILE": str(base / "rabbit.pid"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(base / "advanced.config"),
            "RABBITMQ_CONF_ENV_FILE": str(base / "rabbitmq-env.conf"),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, vhost: str = "/") -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/{vhost.lstrip('/')}"

    def ctl(self, *args: str, timeout: float = 60) -> str:
        done = subprocess.run(
            [_rabbit_tool("rabbitmqctl"), "-q", *args],
            env=self.env,
            capture_output=True,
            timeout=timeout,
            check=True,
        )
        return done.stdout.decode()

    def start(self) -> RabbitMQ:
        self.base.mkdir(parents=True, exist_ok=True)
        (self.base / "enabled_plugins").write_text("[].\n")  # no management plugin
        (self.base / "rabbitmq-env.conf").touch()
        with (self.base / "server.log").open("ab") as log:
            self.process = subprocess.Popen(
                [_rabbit_tool("rabbitmq-server")],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.ctl("wait", str(self.base / "rabbit.pid"), "--timeout", "120", timeout=130)
        self.ctl("await_startup", "--timeout", "120", timeout=130)
        return self

    def add_vhost(self) -> str:
        vhost = f"t{uuid.uuid4().hex[:10]}"
        self.ctl("add_vhost", vhost)
        self.ctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        return vhost

    def messages(self, vhost: str) -> int:
        """Messages in every queue of ``vhost``: ready, unacknowledged, delayed retries."""
        out = self.ctl("list_queues", "-p", vhost, "--no-table-headers", "name", "messages")
        return sum(int(line.split()[-1]) for line in out.splitlines() if line.strip())

    def stop(self, *, kill: bool = False) -> None:
        proc, self.process = self.process, None
        if proc is None:
            return
        if proc.poll() is None:
            if kill:
                os.killpg(proc.pid, 9)
            else:
                with contextlib.suppress(subprocess.SubprocessError):
                    self.ctl("stop", timeout=60)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=30)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, 9)  # beam's children (erl_child_setup, inet_gethost)
            proc.wait(timeout=10)
        self._stop_epmd()

    def _stop_epmd(self) -> None:
        epmd = shutil.which("epmd") or next(Path("/usr/lib/erlang").glob("erts-*/bin/epmd"), None)
        if epmd is not None:
            subprocess.run([str(epmd), "-kill"], env=self.env, capture_output=True, check=False)

    def restart(self, *, kill: bool = False) -> None:
        self.stop(kill=kill)
        self.start()


class SentinelGroup:
    """A primary, a replica of it and one Sentinel (quorum 1, 1 s down-after)."""

    SERVICE = "nwprimary"

    def __init__(self, base: Path) -> None:
        self.base = base
        self.primary = EmbeddedRedis(base / "a", appendonly=True)
        self.replica = EmbeddedRedis(base / "b", appendonly=True)
        self.sentinel_port = free_port()
        self.sentinel: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis+sentinel://127.0.0.1:{self.sentinel_port}/{self.SERVICE}/0"

    def start(self) -> SentinelGroup:
        self.primary.start()
        self.replica.start()
        replica = redis.Redis(port=self.replica.port)
        replica.replicaof("127.0.0.1", self.primary.port)
        wait_for(
            lambda: replica.info("replication").get("master_link_status") == "up",
            timeout=20,
            message="the replica in sync",
        )
        replica.close()
        conf = self.base / "sentinel.conf"
        conf.write_text(
            f"port {self.sentinel_port}\nbind 127.0.0.1\ndir {self.base}\n"
            f"sentinel monitor {self.SERVICE} 127.0.0.1 {self.primary.port} 1\n"
            f"sentinel down-after-milliseconds {self.SERVICE} 1000\n"
            f"sentinel failover-timeout {self.SERVICE} 5000\n"
            f"sentinel parallel-syncs {self.SERVICE} 1\n"
        )
        with (self.base / "sentinel.log").open("ab") as log:
            self.sentinel = subprocess.Popen(
                [shutil.which("redis-sentinel") or "redis-sentinel", str(conf)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        wait_for(
            lambda: self.primary_port() == self.primary.port,
            timeout=20,
            message="the Sentinel watching the primary",
        )
        return self

    def primary_port(self) -> int | None:
        client = redis.Redis(port=self.sentinel_port, socket_timeout=1)
        try:
            found = client.sentinel_get_master_addr_by_name(self.SERVICE)
        except redis.RedisError:
            return None
        finally:
            client.close()
        return int(found[1]) if found else None

    def kill_primary(self) -> float:
        """SIGKILL the primary; returns when the Sentinel has promoted the replica (s)."""
        started = time.monotonic()
        self.primary.stop(kill=True)
        wait_for(
            lambda: self.primary_port() == self.replica.port,
            timeout=60,
            message="the Sentinel promoting the replica",
        )
        return time.monotonic() - started

    def stop(self) -> None:
        if self.sentinel is not None and self.sentinel.poll() is None:
            self.sentinel.terminate()
            self.sentinel.wait(timeout=10)
        self.sentinel = None
        self.replica.stop()
        self.primary.stop()
