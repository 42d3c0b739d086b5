package preprocess

import (
	"bytes"
	"unicode/utf8"
)

// Format names returned in Image.Format and FormatError.Format.
const (
	FormatJPEG = "jpeg"
	FormatPNG  = "png"
	FormatGIF  = "gif"
	FormatBMP  = "bmp"
	FormatTIFF = "tiff"
	FormatWebP = "webp"
)

// SniffFormat names the format of a file from its first bytes (64 are enough). decodable is
// true for the formats Decode reads (name is then one of the Format constants); otherwise
// name describes what was found ("HEIC", "AVIF", "PDF", "text", "unknown format" …), as
// Decode's FormatError says it.
func SniffFormat(head []byte) (name string, decodable bool) {
	return sniff(head)
}

// sniff is SniffFormat.
func sniff(b []byte) (name string, supported bool) {
	switch {
	case bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}):
		return FormatJPEG, true
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return FormatPNG, true
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return FormatGIF, true
	case bytes.HasPrefix(b, []byte("BM")) && len(b) >= 10 && bytes.Equal(b[6:10], []byte{0, 0, 0, 0}):
		// "BM", the file size, then two reserved words that must be zero: text starting
		// with "BM" is not taken for a bitmap.
		return FormatBMP, true
	case bytes.HasPrefix(b, []byte("II*\x00")), bytes.HasPrefix(b, []byte("MM\x00*")):
		return FormatTIFF, true
	case len(b) >= 12 && bytes.HasPrefix(b, []byte("RIFF")) && string(b[8:12]) == "WEBP":
		return FormatWebP, true
	}
	if name := sniffISOBMFF(b); name != "" {
		return name, false
	}
	for _, m := range []struct {
		prefix, name string
	}{
		{"%PDF", "PDF"},
		{"\xFF\x0A", "JPEG XL"},
		{"\x00\x00\x00\x0CJXL \r\n\x87\n", "JPEG XL"},
		{"\x00\x00\x00\x0CjP  \r\n\x87\n", "JPEG 2000"},
		{"\xFF\x4F\xFF\x51", "JPEG 2000"},
		{"8BPS", "PSD"},
		{"\x00\x00\x01\x00", "ICO"},
		{"PK\x03\x04", "ZIP"},
		{"\x1F\x8B", "gzip"},
		{"<svg", "SVG"},
	} {
		if bytes.HasPrefix(b, []byte(m.prefix)) {
			return m.name, false
		}
	}
	if looksLikeText(b) {
		if bytes.Contains(b[:min(len(b), 1024)], []byte("<svg")) {
			return "SVG", false
		}
		return "text", false
	}
	return "unknown format", false
}

// sniffISOBMFF names HEIF-family files (HEIC, AVIF) from their ftyp box brands, or returns "".
func sniffISOBMFF(b []byte) string {
	if len(b) < 12 || string(b[4:8]) != "ftyp" { // size, "ftyp", major brand
		return ""
	}
	size := int(b[0])<<24 | int(b[1])<<16 | int(b[2])<<8 | int(b[3])
	if size < 16 || size > len(b) {
		size = min(len(b), 64)
	}
	// Major brand at 8..12, minor version at 12..16, compatible brands after.
	brands := [][]byte{b[8:12]}
	for i := 16; i+4 <= size; i += 4 {
		brands = append(brands, b[i:i+4])
	}
	has := func(names ...string) bool {
		for _, br := range brands {
			for _, n := range names {
				if string(br) == n {
					return true
				}
			}
		}
		return false
	}
	switch major := string(b[8:12]); {
	case major == "avif" || major == "avis":
		return "AVIF"
	case major == "heic" || major == "heix" || major == "hevc" || major == "hevx" || major == "heim" || major == "heis":
		return "HEIC"
	case has("heic", "heix", "hevc", "hevx"):
		return "HEIC"
	case has("avif", "avis"):
		return "AVIF"
	case has("mif1", "msf1"):
		return "HEIF"
	case major == "qt  ":
		return "QuickTime video"
	case has("isom", "mp41", "mp42", "M4V ", "avc1"):
		return "MP4 video"
	}
	return "ISO media (ftyp " + string(b[8:12]) + ")"
}

// looksLikeText reports whether the start of b is valid UTF-8 without control characters other
// than tab, newline, carriage return and form feed.
func looksLikeText(b []byte) bool {
	b = b[:min(len(b), 512)]
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			// A multi-byte rune cut by the 512-byte window is fine; other invalid bytes are not.
			return len(b) < utf8.UTFMax && !utf8.FullRune(b)
		}
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' && r != '\f' || r == 0x7F {
			return false
		}
		b = b[n:]
	}
	return true
}
