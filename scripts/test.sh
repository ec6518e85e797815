#!/usr/bin/env bash
# THE test command: installs what the tests need (Debian 12, as root), builds .venv,
# then runs lint, types, import contracts and pytest. Extra args go to pytest:
#   bash scripts/test.sh                              # everything
#   bash scripts/test.sh tests/e2e/test_harness.py    # one file
# Set DIEMCAU_SKIP_APT=1 to skip the apt step (e.g. not root, packages installed by hand).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO="$(pwd)"
START=$SECONDS

step() { printf '\n==> [%4ds] %s\n' "$((SECONDS - START))" "$*"; }

APT_PKGS=(python3-venv chromium chromium-driver redis-server ffmpeg iproute2 nftables iptables)

step "system packages: ${APT_PKGS[*]}"
missing=()
for p in "${APT_PKGS[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
    echo "all installed"
elif [ "${DIEMCAU_SKIP_APT:-0}" = 1 ]; then
    echo "missing ${missing[*]} but DIEMCAU_SKIP_APT=1: not installing"
else
    if [ "$(id -u)" -ne 0 ]; then
        echo "missing ${missing[*]}; run as root or install them yourself" >&2
        exit 1
    fi
    echo "installing: ${missing[*]}"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${APT_PKGS[@]}"
fi

step "python venv (.venv) and pip install -e '.[test]'"
PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
    echo "need Python >= 3.11, $PY is $("$PY" --version 2>&1)" >&2
    exit 1
fi
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
    rm -rf .venv
    "$PY" -m venv .venv
fi
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1   # we drive Debian's /usr/bin/chromium
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
export PATH="$REPO/.venv/bin:$PATH"
export PYTHONDONTWRITEBYTECODE=1

step "ruff check ."
ruff check .

step "mypy bridge signaling bench/load"
mypy bridge signaling bench/load

step "lint-imports"
lint-imports

step "pytest -q $*"
rc=0
pytest -q "$@" || rc=$?
if [ "$rc" -eq 5 ]; then
    echo "pytest collected no tests: counted as a failure" >&2
    exit 5
fi
if [ "$rc" -ne 0 ]; then
    exit "$rc"
fi

step "all checks passed"
