#!/usr/bin/env bash
# Regenerates test/fuzz/requirements.lock from test/fuzz/requirements.in (infra/local/relock.sh:
# every package pinned, with hashes, for Python 3.11 on x86-64 Linux).
set -euo pipefail
exec bash "$(cd "$(dirname "$0")/../.." && pwd)/infra/local/relock.sh" test/fuzz
