"""Which platform the DAGs drive: `production` (Composer: Google provider operators) or `local`
(the local platform of `npm start`). Chosen by TIDELINE_ENV when the DAG files are parsed; Composer
environments leave it unset."""

from __future__ import annotations

import os

PROFILES = ("production", "local")


def current_profile() -> str:
    profile = os.environ.get("TIDELINE_ENV", "production").strip() or "production"
    if profile not in PROFILES:
        raise ValueError(f"TIDELINE_ENV={profile!r} is not a profile; use one of {', '.join(PROFILES)} (unset means production)")
    return profile
