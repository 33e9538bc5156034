# Staging: wrangler.toml [env.staging] (GCP_PROJECT, RAW_BUCKET, LANDING_BUCKET) points here.
# Organisation-specific inputs (access_policy, analysts_group, ml_group, operator_members) go in
# envs/staging.local.tfvars, which is not committed (docs/deploy.md).
environment               = "staging"
project                   = "tideline-staging"
region                    = "europe-west1"
perimeter_dry_run         = true
composer_environment_size = "ENVIRONMENT_SIZE_SMALL"
pipeline_max_workers      = 2
archive_retention_days    = 7
