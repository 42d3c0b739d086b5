package check

import (
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spoofsense/spoofsense/preprocess"
)

// hasImageExt reports whether name ends in an image extension (case-insensitive). Formats the
// scorer cannot decode (HEIC, AVIF …) are included on purpose: their rows then say why.
func hasImageExt(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff",
		".heic", ".heif", ".avif":
		return true
	}
	return false
}

// sniffImage reports whether the file starts like an image, for files without an image
// extension. Files that cannot be opened are not images as far as the walk is concerned.
func sniffImage(name string) bool {
	f, err := os.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	var head [64]byte
	n, _ := io.ReadFull(f, head[:])
	return looksLikeImage(head[:n])
}

// looksLikeImage reports whether head, a file's first bytes, is an image: one the scorer
// decodes, or a HEIF-family photo (HEIC, HEIF, AVIF) whose row then says it is unsupported.
func looksLikeImage(head []byte) bool {
	name, decodable := preprocess.SniffFormat(head)
	switch {
	case decodable:
		return true
	case name == "HEIC", name == "HEIF", name == "AVIF":
		return true
	}
	return false
}
