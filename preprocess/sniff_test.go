package preprocess

import "testing"

func TestSniffFormat(t *testing.T) {
	tests := []struct {
		head      string
		name      string
		decodable bool
	}{
		{"\xff\xd8\xff\xe0\x00\x10JFIF", FormatJPEG, true},
		{"BM\x36\x00\x0c\x00\x00\x00\x00\x00\x36\x00", FormatBMP, true},
		{"BMW owners manual, chapter one: the engine", "text", false},
		{"\x00\x00\x00\x18ftypheic\x00\x00", "HEIC", false},
		{"\x00\x00\x00\x18ftypavif\x00\x00\x00\x00", "AVIF", false},
		{"%PDF-1.7", "PDF", false},
	}
	for _, tt := range tests {
		if name, ok := SniffFormat([]byte(tt.head)); name != tt.name || ok != tt.decodable {
			t.Errorf("SniffFormat(%q) = %q, %v; want %q, %v", tt.head, name, ok, tt.name, tt.decodable)
		}
	}
}
