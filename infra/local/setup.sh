#!/usr/bin/env bash
# What `npm install` does not install: Debian packages for browser tests, the Python virtual
# environments (pinned lock files) that the Beam pipeline, the Airflow DAGs and their tests need, and
# the Go tools of --engine beam (Prism, the BigQuery emulator). `npm start` needs none of this;
# `npm start -- --engine beam` runs the beam and go parts on first use.
#
#   infra/local/setup.sh            everything (what .ci/run calls, after npm install)
#   infra/local/setup.sh beam       the Beam pipeline's venv only (.venv/beam)
#   infra/local/setup.sh airflow    the Airflow venv only (.venv/airflow)
#   infra/local/setup.sh bqemulator the BigQuery emulator of --engine beam and the Beam end-to-end test
#                                   (bqemulator from PyPI, .venv/bqemulator)
#   infra/local/setup.sh fuzz       schemathesis, the API fuzzer of the edge's OpenAPI document (.venv/fuzz)
#   infra/local/setup.sh infra      checkov's venv (.venv/infra) and OpenTofu (.tools/bin/tofu) for the infra/ checks
#   infra/local/setup.sh apt        Debian packages only (chromium)
#   infra/local/setup.sh peer       Debian's PostgreSQL, for `npm run bench:peer` only (not in all: no test needs it)
#   infra/local/setup.sh go         the Beam Prism runner into .tools/bin (infra/tools; needs npm install first)
#   infra/local/setup.sh bigquery-emulator
#                                   goccy/bigquery-emulator 0.6.6 (clang; 20-25 min on 2 idle cores: not in `all`)
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

UV_VERSION="0.13.8"
# uv installs a lock file's wheels in parallel (pip fetches them one at a time: minutes longer on a
# fresh machine); it lives in a venv of its own, .venv/uv.
uv_bin() {
  local dir="$ROOT/.venv/uv"
  if [ ! -x "$dir/bin/uv" ] || [ "$("$dir/bin/uv" --version 2>/dev/null | cut -d' ' -f2)" != "$UV_VERSION" ]; then
    need_python
    say "installing uv $UV_VERSION into .venv/uv…"
    rm -rf "$dir"
    "$PYTHON" -m venv "$dir"
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
  fi
  echo "$dir/bin/uv"
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
  local uv started
  uv="$(uv_bin)"
  started=$SECONDS
  say "building the $name environment in .venv/$name from $2 (a few minutes the first time)…"
  rm -rf "$dir"
  "$uv" venv --quiet --python "$(command -v "$PYTHON")" "$dir"
  if ! "$uv" pip install --python "$dir/bin/python" --no-deps --require-hashes -r "$lock" >"$dir.log" 2>&1; then
    cat "$dir.log" >&2
    say "could not install $2 into .venv/$name (see above); the network or a package index may be unreachable"
    exit 1
  fi
  grep -vE '^ [+-] ' "$dir.log" >&2 || true
  rm -f "$dir.log"
  "$uv" pip check --python "$dir/bin/python" >&2 || { say "the $name environment is incomplete or has conflicting packages (see above); fix $2"; exit 1; }
  echo "$want" >"$dir/.lock-sha256"
  say "$name environment ready in $((SECONDS - started)) s"
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

# peer: the durable-write floor of `npm run bench:peer` runs on Debian's PostgreSQL server.
peer_packages() {
  if ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    say "postgresql is installed"
    return 0
  fi
  if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    say "postgresql is missing (npm run bench:peer needs it): install Debian's postgresql package as root"
    return 1
  fi
  say "installing Debian's postgresql for npm run bench:peer…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
}

# go / bigquery-emulator: pinned Go tools of infra/tools, each built once (infra/tools/build.ts skips what
# matches its pin). The BigQuery emulator's C++ (go-zetasql) compiles only with clang, so Debian's clang
# comes first; it takes 20-25 minutes on two idle cores, so `all` (CI) leaves it out.
need_go() {
  if ! command -v go >/dev/null 2>&1; then
    say "Go 1.26 is required to build $1, and 'go' was not found."
    say "Install Go 1.26 or later (https://go.dev/doc/install), then run: bash infra/local/setup.sh $2"
    exit 1
  fi
  if [ ! -x "$ROOT/node_modules/.bin/tsx" ]; then
    say "run npm install first: the Go tools are built by infra/tools/build.ts"
    exit 1
  fi
}

go_tools() {
  need_go "the Prism runner" go
  "$ROOT/node_modules/.bin/tsx" "$ROOT/infra/tools/build.ts" prism
}

bigquery_emulator() {
  need_go "the BigQuery emulator" bigquery-emulator
  if ! command -v clang++ >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
      say "installing Debian's clang (the BigQuery emulator's C++ compiles only with clang)…"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq && apt-get install -y -qq clang >/dev/null
    else
      say "clang++ is missing (the BigQuery emulator's C++ compiles only with clang): install Debian's clang package"
      exit 1
    fi
  fi
  "$ROOT/node_modules/.bin/tsx" "$ROOT/infra/tools/build.ts" bigquery-emulator
}

# bqemulator: its venv, then DuckDB's spatial extension (which the emulator loads at start and DuckDB
# would otherwise download from a site that is not a package registry) installed from its wheel into
# the venv's own DuckDB home; infra/local/bqemulator.ts starts the emulator with HOME there.
bqemulator() {
  venv bqemulator infra/local/bqemulator/requirements.lock
  local dir="$ROOT/.venv/bqemulator"
  mkdir -p "$dir/home"
  HOME="$dir/home" "$dir/bin/python" - <<'PY'
import pathlib, duckdb, duckdb_extension_spatial
ext = pathlib.Path(duckdb_extension_spatial.__file__).parent / "extensions" / f"v{duckdb.__version__}" / "spatial.duckdb_extension"
duckdb.connect().execute(f"INSTALL '{ext}'")
PY
  say "bqemulator ready (.venv/bqemulator)"
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
  bqemulator) bqemulator ;;
  fuzz) venv fuzz test/fuzz/requirements.lock ;;
  infra) infra_tools ;;
  apt) apt_packages ;;
  peer) peer_packages ;;
  go) go_tools ;;
  bigquery-emulator) bigquery_emulator ;;
  all)
    apt_packages
    venv beam pipeline/beam/requirements.lock
    venv airflow dags/requirements.lock
    bqemulator
    venv fuzz test/fuzz/requirements.lock
    go_tools
    infra_tools
    ;;
  *) say "usage: infra/local/setup.sh [all|beam|airflow|bqemulator|fuzz|infra|apt|peer|go|bigquery-emulator]"; exit 2 ;;
esac
