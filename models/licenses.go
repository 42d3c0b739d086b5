package models

import (
	"embed"
	"fmt"
)

// licenseFS holds the licence texts of the shipped models. They are embedded in every build,
// so a binary that embeds the models carries them too (`spoofsense models licenses`).
//
//go:embed licenses/*.txt
var licenseFS embed.FS

// LicenseText returns the text of one of a model's LicenseFiles.
func LicenseText(file string) (string, error) {
	b, err := licenseFS.ReadFile("licenses/" + file)
	if err != nil {
		return "", fmt.Errorf("licence text %s: %w", file, err)
	}
	return string(b), nil
}
