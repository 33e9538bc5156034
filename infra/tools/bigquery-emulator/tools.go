//go:build tools

// Pins the BigQuery emulator for infra/tools/build.ts, which builds it with `go build -o`.
package tools

import _ "github.com/goccy/bigquery-emulator/cmd/bigquery-emulator"
