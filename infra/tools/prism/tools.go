//go:build tools

// Pins the Beam Prism runner for infra/tools/build.ts, which builds it with `go build -o`.
package tools

import _ "github.com/apache/beam/sdks/v2/go/cmd/prism"
