//go:build !embedmodels

package models

import "io/fs"

// embeddedFiles returns nil: this binary was built without -tags embedmodels and carries no
// models, so they come from the model directory or the user cache.
func embeddedFiles() fs.FS { return nil }
