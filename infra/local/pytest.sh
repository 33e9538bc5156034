#!/usr/bin/env bash
# `npm run test:python`: the Python suites (Beam pipeline, DAGs) with their own venvs, plus ruff.
# A suite whose lock file exists needs its venv: infra/local/setup.sh builds it.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
status=0
run() {
  local name="$1" dir="$2" lock="$3"
  [ -f "$lock" ] || return 0
  if [ ! -x ".venv/$name/bin/pytest" ]; then
    echo "test:python: the $name environment (.venv/$name) is missing: run infra/local/setup.sh $name" >&2
    status=1
    return 0
  fi
  if [ "$(sha256sum "$lock" | cut -d' ' -f1)" != "$(cat ".venv/$name/.lock-sha256" 2>/dev/null)" ]; then
    echo "test:python: .venv/$name is older than $lock: run infra/local/setup.sh $name" >&2
    status=1
    return 0
  fi
  echo "test:python: $dir"
  ".venv/$name/bin/ruff" check "$dir" || status=1
  ".venv/$name/bin/pytest" -q "$dir" || status=1
}
run beam pipeline/beam pipeline/beam/requirements.lock
run airflow dags dags/requirements.lock
exit $status
