#!/usr/bin/env sh
# Regenerate requirements.lock: the runtime dependencies of pyproject.toml (no dev extras) and
# the build backend, every one pinned with the hashes of all its published files, resolved for
# CPython 3.11 (the image's Python). The image installs exactly this file with
# `pip install --require-hashes --only-binary=:all:`, so two builds of one commit are the same.
# Run it (`sh deploy/lock.sh`) after changing [project.dependencies]; a test fails until you do.
set -eu
cd "$(dirname "$0")/.."
# The default package index only: no machine-local mirrors or wheel directories.
export PIP_CONFIG_FILE=/dev/null
unset PIP_FIND_LINKS PIP_EXTRA_INDEX_URL PIP_INDEX_URL || true
CUSTOM_COMPILE_COMMAND="sh deploy/lock.sh" exec "${PYTHON:-.venv/bin/python}" -m piptools compile --quiet --generate-hashes \
  --strip-extras --allow-unsafe --all-build-deps --no-emit-index-url --no-emit-find-links \
  --output-file requirements.lock pyproject.toml
