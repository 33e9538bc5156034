# Production: wrangler.toml [env.production] (GCP_PROJECT, RAW_BUCKET, LANDING_BUCKET) points here.
# Organisation-specific inputs (access_policy, analysts_group, ml_group, operator_members) go in
# envs/production.local.tfvars, which is not committed (docs/deploy.md).
environment               = "production"
project                   = "tideline-prod"
region                    = "europe-west1"
perimeter_dry_run         = false
composer_environment_size = "ENVIRONMENT_SIZE_MEDIUM"
pipeline_max_workers      = 10
archive_retention_days    = 30
