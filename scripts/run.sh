#!/usr/bin/env bash
# README's first command: install, then serve and print a join link.
#   bash scripts/run.sh                      # diemcau serve (127.0.0.1:8080)
#   bash scripts/run.sh --host 0.0.0.0 --port 9000
# Extra args go to `diemcau serve`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! dpkg -s python3-venv >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ]; then
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-venv
    else
        echo "note: python3-venv not installed (need root to apt-get install it); trying anyway" >&2
    fi
fi

PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
    echo "need Python >= 3.11, $PY is $("$PY" --version 2>&1)" >&2
    exit 1
fi
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
    rm -rf .venv
    "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e .

exec .venv/bin/diemcau serve "$@"
