// Package preprocesstest builds image files for tests: EXIF blocks and the JPEG segments that
// carry them, so that tests of preprocess, scorer and the commands can make EXIF-rotated
// copies of images they generate, without a hand-written copy in each package.
package preprocesstest

import "encoding/binary"

// tagOrientation is the TIFF/EXIF Orientation tag.
const tagOrientation = 0x0112

// EXIF returns a minimal EXIF (TIFF) block, in the given byte order, whose IFD0 holds only the
// Orientation tag with the given value (valid values are 1–8; others make invalid files).
func EXIF(orientation uint16, order binary.ByteOrder) []byte {
	b := make([]byte, 26)
	if order == binary.LittleEndian {
		copy(b, "II*\x00")
	} else {
		copy(b, "MM\x00*")
	}
	order.PutUint32(b[4:], 8)               // IFD0 offset
	order.PutUint16(b[8:], 1)               // one entry
	order.PutUint16(b[10:], tagOrientation) // tag
	order.PutUint16(b[12:], 3)              // type SHORT
	order.PutUint32(b[14:], 1)              // count
	order.PutUint16(b[18:], orientation)    // value, left-justified in the 4-byte field
	order.PutUint32(b[22:], 0)              // no next IFD
	return b
}

// WithJPEGApp1 returns a copy of the JPEG jpg with an APP1 segment holding payload inserted
// right after its SOI marker.
func WithJPEGApp1(jpg, payload []byte) []byte {
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(2+len(payload)))
	seg = append(seg, payload...)
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

// WithJPEGOrientation returns a copy of the JPEG jpg tagged with the EXIF orientation: an
// "Exif" APP1 segment holding EXIF(orientation, big-endian).
func WithJPEGOrientation(jpg []byte, orientation uint16) []byte {
	return WithJPEGApp1(jpg, append([]byte("Exif\x00\x00"), EXIF(orientation, binary.BigEndian)...))
}

//go:generate go run ./internal/writeinputs ../../testdata/inputs
