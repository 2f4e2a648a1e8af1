#!/usr/bin/env bash
# Make sure the engines the test suite starts are installed: redis-server (scripts/ensure-redis.sh),
# redis-sentinel and rabbitmq-server (the Sentinel and RabbitMQ tests). Installs the missing
# Debian packages with apt-get when we are root; otherwise says what is missing (those tests
# then fail with a message naming this script).
set -u
here="$(cd "$(dirname "$0")" && pwd)"
bash "$here/ensure-redis.sh"
missing=()
command -v redis-sentinel >/dev/null 2>&1 || missing+=(redis-sentinel)
if ! command -v rabbitmq-server >/dev/null 2>&1 && [ ! -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
  missing+=(rabbitmq-server)
fi
[ "${#missing[@]}" -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]} with apt-get" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null) || echo "apt-get install ${missing[*]} failed" >&2
  # Debian starts the services it installs: the tests run their own on free ports.
  for service in "${missing[@]}"; do
    if command -v service >/dev/null 2>&1; then service "$service" stop >/dev/null 2>&1 || true; fi
  done
else
  echo "missing ${missing[*]} (install them, or run this script as root): the RabbitMQ and Sentinel tests will fail" >&2
fi
exit 0
