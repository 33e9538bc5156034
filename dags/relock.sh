#!/usr/bin/env bash
# Regenerates dags/requirements.lock from dags/requirements.in (infra/local/relock.sh: every package
# pinned, with hashes, for Python 3.11 on x86-64 Linux, Composer's and CI's). Other packages are
# resolved as of the Composer image's release day.
set -euo pipefail
IMAGE_RELEASED="2025-07-23T00:00:00Z"
exec bash "$(cd "$(dirname "$0")/.." && pwd)/infra/local/relock.sh" dags --exclude-newer "$IMAGE_RELEASED"
