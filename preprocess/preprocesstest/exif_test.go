package preprocesstest

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func TestWithJPEGOrientation(t *testing.T) {
	jpg := []byte{0xFF, 0xD8, 0xFF, 0xD9} // SOI, EOI
	got := WithJPEGOrientation(jpg, 6)
	if !bytes.HasPrefix(got, []byte{0xFF, 0xD8, 0xFF, 0xE1}) || !bytes.HasSuffix(got, []byte{0xFF, 0xD9}) {
		t.Fatalf("segment not after SOI: % x", got)
	}
	if n := binary.BigEndian.Uint16(got[4:]); int(n) != len(got)-4-2 {
		t.Errorf("APP1 length %d, want %d", n, len(got)-6)
	}
	exif := got[6 : len(got)-2]
	if !bytes.HasPrefix(exif, []byte("Exif\x00\x00MM\x00*")) {
		t.Errorf("payload % x", exif)
	}
	tiff := exif[6:]
	if tag, v := binary.BigEndian.Uint16(tiff[10:]), binary.BigEndian.Uint16(tiff[18:]); tag != 0x0112 || v != 6 {
		t.Errorf("tag %#x value %d, want 0x112 and 6", tag, v)
	}
	if le := EXIF(3, binary.LittleEndian); string(le[:4]) != "II*\x00" || binary.LittleEndian.Uint16(le[18:]) != 3 {
		t.Errorf("little-endian block % x", le)
	}
}
