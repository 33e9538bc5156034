#!/usr/bin/env bash
# What `npm install` does not install: Debian packages for browser tests and the Python virtual
# environments (pinned lock files) that the Beam pipeline, the Airflow DAGs and their tests need.
# `npm start` needs none of this; `npm start -- --engine beam` runs the beam part on first use.
#
#   infra/local/setup.sh            everything (what .ci/run calls, after npm install)
#   infra/local/setup.sh beam       the Beam pipeline's venv only (.venv/beam)
#   infra/local/setup.sh airflow    the Airflow venv only (.venv/airflow)
#   infra/local/setup.sh infra      checkov's venv (.venv/infra) and OpenTofu (.tools/bin/tofu) for the infra/ checks
#   infra/local/setup.sh apt        Debian packages only (chromium)
#
# Each venv is rebuilt only when its lock file changed since it was built (a stamp inside the venv).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PYTHON="${TIDELINE_PYTHON:-python3}"

say() { printf '[setup] %s\n' "$*" >&2; }

need_python() {
  if ! command -v "$PYTHON" >/dev/null 2>&1; then
    say "Python 3.11 is required for the Beam pipeline and the DAGs, and '$PYTHON' was not found."
    say "Install Python 3.11 (Debian/Ubuntu: apt-get install python3 python3-venv), or set TIDELINE_PYTHON to its path."
    exit 1
  fi
  local v
  v="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  if [ "$v" != "3.11" ]; then
    say "Python $v found; the lock files are made for Python 3.11 (Dataflow's and Composer's). Set TIDELINE_PYTHON to a Python 3.11."
    exit 1
  fi
}

# venv <name> <lock file>: .venv/<name> with exactly the lock file's packages.
venv() {
  local name="$1" lock="$ROOT/$2" dir="$ROOT/.venv/$1"
  if [ ! -f "$lock" ]; then
    say "no lock file $2 in this checkout: skipping the $name environment"
    return 0
  fi
  local want
  want="$(sha256sum "$lock" | cut -d' ' -f1)"
  if [ -f "$dir/.lock-sha256" ] && [ "$(cat "$dir/.lock-sha256")" = "$want" ]; then
    say "$name environment is up to date (.venv/$name)"
    return 0
  fi
  need_python
  say "building the $name environment in .venv/$name from $2 (a few minutes the first time)…"
  rm -rf "$dir"
  "$PYTHON" -m venv "$dir"
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade "pip==25.3"
  "$dir/bin/python" -m pip install --disable-pip-version-check --progress-bar off --no-deps --require-hashes -r "$lock" \
    | grep -E '^(Successfully installed|ERROR)' | cut -c1-200 >&2 || true
  "$dir/bin/python" -m pip check >&2 || { say "the $name environment has conflicting packages (see above); fix $2"; exit 1; }
  echo "$want" >"$dir/.lock-sha256"
  say "$name environment ready"
}

apt_packages() {
  if command -v chromium >/dev/null 2>&1; then
    say "chromium is installed"
    return 0
  fi
  if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    say "chromium is missing (browser tests need it): install Debian's chromium package"
    return 0
  fi
  say "installing Debian's chromium for the browser tests…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
}

# infra: checkov's venv and OpenTofu (.tools/bin/tofu, built from infra/tools/opentofu by infra/terraform/tofu.ts).
infra_tools() {
  venv infra infra/requirements.lock
  if [ ! -x "$ROOT/node_modules/.bin/tsx" ]; then
    say "run npm install first: OpenTofu is built by infra/terraform/tofu.ts"
    exit 1
  fi
  (cd "$ROOT" && "$ROOT/node_modules/.bin/tsx" infra/terraform/tofu.ts build)
}

what="${1:-all}"
case "$what" in
  beam) venv beam pipeline/beam/requirements.lock ;;
  airflow) venv airflow dags/requirements.lock ;;
  infra) infra_tools ;;
  apt) apt_packages ;;
  all)
    apt_packages
    venv beam pipeline/beam/requirements.lock
    venv airflow dags/requirements.lock
    infra_tools
    ;;
  *) say "usage: infra/local/setup.sh [all|beam|airflow|infra|apt]"; exit 2 ;;
esac
