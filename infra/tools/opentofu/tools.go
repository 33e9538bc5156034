//go:build tools

// Pins OpenTofu for `tofu fmt -check` and `tofu validate` of infra/terraform; built with `go build -o`
// inside this module (infra/terraform/tofu.ts), like the other Go tools.
package tools

import _ "github.com/opentofu/opentofu/cmd/tofu"
