package check

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
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
	var head [16]byte
	n, _ := io.ReadFull(f, head[:])
	return looksLikeImage(head[:n])
}

// looksLikeImage reports whether head, a file's first bytes, starts with an image signature.
func looksLikeImage(head []byte) bool {
	for _, magic := range [][]byte{
		{0xFF, 0xD8, 0xFF}, // JPEG
		{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}, // PNG
		[]byte("GIF87a"), []byte("GIF89a"),
		{'I', 'I', 42, 0}, {'M', 'M', 0, 42}, // TIFF
	} {
		if bytes.HasPrefix(head, magic) {
			return true
		}
	}
	// BMP: "BM", the file size, then two reserved words that are zero.
	if len(head) >= 10 && bytes.HasPrefix(head, []byte("BM")) && bytes.Equal(head[6:10], []byte{0, 0, 0, 0}) {
		return true
	}
	if len(head) >= 12 && bytes.Equal(head[:4], []byte("RIFF")) && bytes.Equal(head[8:12], []byte("WEBP")) {
		return true
	}
	// ISO base media (HEIC, HEIF, AVIF): a box of type "ftyp" with an image brand.
	if len(head) >= 12 && bytes.Equal(head[4:8], []byte("ftyp")) {
		switch string(head[8:12]) {
		case "heic", "heix", "hevc", "heim", "heis", "mif1", "msf1", "avif", "avis":
			return true
		}
	}
	return false
}
