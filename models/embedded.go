//go:build embedmodels

package models

import (
	"embed"
	"io/fs"
)

// embeddedFS holds the verified model files `make models` pulled into models/embedded/; this
// file is compiled only with -tags embedmodels. Open verifies the bytes again before use.
//
//go:embed embedded/*.onnx
var embeddedFS embed.FS

// embeddedFiles returns the model files carried by this binary, named by file name.
func embeddedFiles() fs.FS {
	sub, err := fs.Sub(embeddedFS, "embedded")
	if err != nil {
		return nil
	}
	return sub
}
