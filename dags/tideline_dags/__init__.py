"""tideline's Composer DAGs: builders over one schedule spec (schedule.json), with a production
profile (Google provider operators) and a local profile (the local platform)."""
