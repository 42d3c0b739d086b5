package preprocess

import (
	"bytes"
	"encoding/binary"
	"errors"
	"sync"

	exif "github.com/dsoprea/go-exif/v3"
	exifcommon "github.com/dsoprea/go-exif/v3/common"
)

// tagOrientation is the EXIF/TIFF Orientation tag in IFD0.
const tagOrientation = 0x0112

// errStopScan ends an EXIF scan once the orientation was found.
var errStopScan = errors.New("orientation found")

// exifTables returns go-exif's standard IFD mapping and tag index (nil when they cannot be built).
// Building them parses the library's YAML tag table — milliseconds and ~11,000 allocations — so
// they are built once and then only read: parsing looks tags up without modifying either, and the
// tag index guards its lookups with its own mutex.
var exifTables = sync.OnceValues(func() (*exifcommon.IfdMapping, *exif.TagIndex) {
	ifdMapping, err := exifcommon.NewIfdMappingWithStandard()
	if err != nil {
		return nil, nil
	}
	tagIndex := exif.NewTagIndex()
	// The index loads the standard tags on first lookup; do it here, once.
	if _, err := tagIndex.Get(exifcommon.IfdStandardIfdIdentity, tagOrientation); err != nil {
		return nil, nil
	}
	return ifdMapping, tagIndex
})

// exifOrientation returns the EXIF orientation (1–8) stored in data of the given format, or 1
// when there is none or the EXIF block cannot be read.
func exifOrientation(format string, data []byte) int {
	var tiffData []byte
	switch format {
	case FormatJPEG:
		tiffData = jpegExif(data)
	case FormatPNG:
		tiffData = pngExif(data)
	case FormatWebP:
		tiffData = webpExif(data)
	case FormatTIFF:
		tiffData = data
	}
	if tiffData == nil {
		return 1
	}
	return orientationFromTIFF(tiffData)
}

// orientationFromTIFF reads tag 0x0112 of IFD0 from a TIFF-structured EXIF block with go-exif.
func orientationFromTIFF(tiffData []byte) (orientation int) {
	orientation = 1
	defer func() {
		// go-exif recovers its own panics; this guards against any it misses on hostile input.
		if recover() != nil {
			orientation = 1
		}
	}()
	ifdMapping, tagIndex := exifTables()
	if ifdMapping == nil {
		return 1
	}
	found := 0
	visitor := func(ite *exif.IfdTagEntry) error {
		if ite.TagId() != tagOrientation || !ite.IfdIdentity().Equals(exifcommon.IfdStandardIfdIdentity) {
			return nil
		}
		v, err := ite.Value()
		if err != nil {
			return nil
		}
		switch v := v.(type) {
		case []uint16:
			if len(v) > 0 {
				found = int(v[0])
			}
		case []uint32:
			if len(v) > 0 && v[0] <= 8 {
				found = int(v[0])
			}
		}
		return errStopScan
	}
	// The scan's error is either errStopScan or a broken block; in both cases found says it all.
	_, _, _ = exif.Visit(exifcommon.IfdStandardIfdIdentity, ifdMapping, tagIndex, tiffData, visitor, nil)
	if found < 1 || found > 8 {
		return 1
	}
	return found
}

// jpegExif returns the TIFF data of the first APP1 "Exif" segment of a JPEG stream, or nil.
func jpegExif(data []byte) []byte {
	i := 2 // after SOI
	for i+4 <= len(data) {
		if data[i] != 0xFF {
			return nil
		}
		marker := data[i+1]
		switch {
		case marker == 0xFF: // fill byte
			i++
			continue
		case marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7):
			i += 2
			continue
		case marker == 0xDA || marker == 0xD9: // start of scan, end of image: no EXIF before pixels
			return nil
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return nil
		}
		seg := data[i+4 : i+2+n]
		if marker == 0xE1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return seg[6:]
		}
		i += 2 + n
	}
	return nil
}

// pngExif returns the payload of a PNG eXIf chunk, or nil.
func pngExif(data []byte) []byte {
	i := 8
	for i+8 <= len(data) {
		n := int(binary.BigEndian.Uint32(data[i:]))
		typ := string(data[i+4 : i+8])
		if n < 0 || n > len(data)-i-12 {
			return nil
		}
		if typ == "eXIf" {
			return data[i+8 : i+8+n]
		}
		if typ == "IEND" {
			return nil
		}
		i += 12 + n
	}
	return nil
}

// webpExif returns the payload of a WebP EXIF chunk (without an "Exif\0\0" prefix), or nil.
func webpExif(data []byte) []byte {
	i := 12
	for i+8 <= len(data) {
		n := int(binary.LittleEndian.Uint32(data[i+4:]))
		if n < 0 || n > len(data)-i-8 {
			return nil
		}
		if string(data[i:i+4]) == "EXIF" {
			return bytes.TrimPrefix(data[i+8:i+8+n], []byte("Exif\x00\x00"))
		}
		i += 8 + n + n&1
	}
	return nil
}

// orient returns src transformed for display according to EXIF orientation o (1–8):
// 2 mirrors left–right, 3 rotates 180°, 4 mirrors top–bottom, 5 transposes, 6 rotates 90°
// clockwise, 7 transverses (transpose then rotate 180°), 8 rotates 90° counter-clockwise.
// Orientation 1 (or any other value) returns src itself.
func orient(src *Image, o int) *Image {
	if o < 2 || o > 8 {
		return src
	}
	w, h := src.Width, src.Height
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := NewImage(dw, dh)
	// Display pixel (x, y) reads source pixel (sx0 + x·dxx + y·dyx, sy0 + x·dxy + y·dyy).
	var sx0, sy0, dxx, dxy, dyx, dyy int
	switch o {
	case 2:
		sx0, sy0, dxx, dxy, dyx, dyy = w-1, 0, -1, 0, 0, 1
	case 3:
		sx0, sy0, dxx, dxy, dyx, dyy = w-1, h-1, -1, 0, 0, -1
	case 4:
		sx0, sy0, dxx, dxy, dyx, dyy = 0, h-1, 1, 0, 0, -1
	case 5:
		sx0, sy0, dxx, dxy, dyx, dyy = 0, 0, 0, 1, 1, 0
	case 6:
		sx0, sy0, dxx, dxy, dyx, dyy = 0, h-1, 0, -1, 1, 0
	case 7:
		sx0, sy0, dxx, dxy, dyx, dyy = w-1, h-1, 0, -1, -1, 0
	case 8:
		sx0, sy0, dxx, dxy, dyx, dyy = w-1, 0, 0, 1, -1, 0
	}
	step := 3 * (dxx + dxy*w) // source offset change per display x
	sp := src.Pix
	dp := dst.Pix
	for y := range dh {
		s := 3 * ((sy0+y*dyy)*w + sx0 + y*dyx)
		row := dp[3*y*dw : 3*(y+1)*dw]
		for d := 0; d < len(row); d += 3 {
			row[d], row[d+1], row[d+2] = sp[s], sp[s+1], sp[s+2]
			s += step
		}
	}
	return dst
}
