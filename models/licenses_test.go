package models

import (
	"strings"
	"testing"
)

// Every licence file the manifest names is embedded and non-trivial.
func TestLicenseTextsEmbedded(t *testing.T) {
	for _, m := range Manifest() {
		if len(m.LicenseFiles) == 0 {
			t.Errorf("%s names no licence file", m.Name)
		}
		for _, f := range m.LicenseFiles {
			text, err := LicenseText(f)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(strings.ToLower(text), "license") || len(text) < 500 {
				t.Errorf("%s: %d bytes does not look like a licence", f, len(text))
			}
		}
	}
	if _, err := LicenseText("LICENSE-none.txt"); err == nil {
		t.Error("unknown licence file gave no error")
	}
}
