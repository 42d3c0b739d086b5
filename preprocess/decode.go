package preprocess

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"io"

	"github.com/spoofsense/spoofsense/preprocess/internal/jpeg"
	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"
)

// Default limits, used where a Limits field is zero.
const (
	// DefaultMaxBytes is the largest input accepted: 10 MiB, the limit the commercial API documents.
	DefaultMaxBytes = 10 << 20
	// DefaultMaxPixels is the largest width×height a header may claim: 50 megapixels.
	DefaultMaxPixels = 50_000_000
)

// Limits bounds what Decode accepts. The zero value means the defaults (DefaultMaxBytes,
// DefaultMaxPixels); a negative field means no limit.
type Limits struct {
	// MaxBytes is the largest input size in bytes.
	MaxBytes int64
	// MaxPixels is the largest width×height the image header may claim; larger images are refused
	// before any pixel is decoded.
	MaxPixels int64
}

func (l Limits) maxBytes() int64 {
	if l.MaxBytes == 0 {
		return DefaultMaxBytes
	}
	return l.MaxBytes
}

func (l Limits) maxPixels() int64 {
	if l.MaxPixels == 0 {
		return DefaultMaxPixels
	}
	return l.MaxPixels
}

// Image is a decoded, upright (EXIF orientation applied), 8-bit RGB image.
// It implements image.Image so that it can be encoded or inspected with the standard library.
type Image struct {
	// Pix holds the pixels row by row, three bytes (R, G, B) per pixel, Width*3 bytes per row.
	Pix []uint8
	// Width and Height are the size after the EXIF orientation was applied.
	Width, Height int
	// Format names the decoded format (FormatJPEG, FormatPNG …); empty for images built in memory.
	Format string
	// Orientation is the EXIF orientation (1–8) that was applied; 1 when there was none.
	Orientation int
	// Bytes is the size of the encoded input.
	Bytes int64
}

// NewImage returns a black w×h image with orientation 1.
func NewImage(w, h int) *Image {
	return &Image{Pix: make([]uint8, 3*w*h), Width: w, Height: h, Orientation: 1}
}

// Stride is the distance in bytes between two rows of Pix.
func (m *Image) Stride() int { return 3 * m.Width }

// ColorModel implements image.Image.
func (m *Image) ColorModel() color.Model { return color.RGBAModel }

// Bounds implements image.Image: the rectangle (0,0)–(Width,Height).
func (m *Image) Bounds() image.Rectangle { return image.Rect(0, 0, m.Width, m.Height) }

// At implements image.Image.
func (m *Image) At(x, y int) color.Color {
	if x < 0 || y < 0 || x >= m.Width || y >= m.Height {
		return color.RGBA{}
	}
	i := 3 * (y*m.Width + x)
	return color.RGBA{m.Pix[i], m.Pix[i+1], m.Pix[i+2], 0xFF}
}

// Decode reads one image from r and returns it upright in 8-bit RGB.
//
// The format is sniffed from the content (JPEG, PNG, GIF — first frame —, BMP, TIFF, WebP).
// Input longer than lim.MaxBytes and headers claiming more than lim.MaxPixels are refused with a
// *LimitError before any pixel is decoded; other formats get a *FormatError naming what was found;
// empty input gets ErrEmpty. The EXIF orientation tag (JPEG APP1, PNG eXIf, WebP EXIF, TIFF IFD0)
// is applied; a missing or broken EXIF block means orientation 1. Grey, CMYK, paletted and 16-bit
// images are converted to 8-bit RGB; alpha is composited on white.
func Decode(r io.Reader, lim Limits) (*Image, error) {
	var d Decoder
	return d.Decode(r, lim)
}

// Decode is the package's Decode with d's buffers.
func (d *Decoder) Decode(r io.Reader, lim Limits) (*Image, error) {
	var data []byte
	maxBytes := lim.maxBytes()
	if maxBytes > 0 {
		var err error
		data, err = io.ReadAll(io.LimitReader(r, maxBytes+1))
		if err != nil {
			return nil, fmt.Errorf("read image: %w", err)
		}
		if int64(len(data)) > maxBytes {
			return nil, &LimitError{Err: ErrTooLarge, Limit: maxBytes, Got: int64(len(data))}
		}
	} else {
		var err error
		if data, err = io.ReadAll(r); err != nil {
			return nil, fmt.Errorf("read image: %w", err)
		}
	}
	return d.DecodeBytes(data, lim)
}

// DecodeBytes is Decode on an image already in memory.
func DecodeBytes(data []byte, lim Limits) (*Image, error) {
	var d Decoder
	return d.DecodeBytes(data, lim)
}

// A Decoder is DecodeBytes with state kept from one image to the next: the JPEG decoder's tables
// and sample planes are reused, so a worker decoding many images allocates little more than each
// result. The zero value is ready; a Decoder is not safe for concurrent use. Images it returns do
// not share its buffers.
type Decoder struct {
	jpeg jpeg.Decoder
}

// DecodeBytes is the package's DecodeBytes with d's buffers.
func (d *Decoder) DecodeBytes(data []byte, lim Limits) (*Image, error) {
	if len(data) == 0 {
		return nil, ErrEmpty
	}
	if maxBytes := lim.maxBytes(); maxBytes > 0 && int64(len(data)) > maxBytes {
		return nil, &LimitError{Err: ErrTooLarge, Limit: maxBytes, Got: int64(len(data))}
	}
	format, ok := sniff(data)
	if !ok {
		return nil, &FormatError{Format: format}
	}
	codec := d.codecFor(format)
	cfg, err := codec.config(data)
	if err != nil {
		return nil, fmt.Errorf("decode %s header: %w", format, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("decode %s header: invalid size %d×%d", format, cfg.Width, cfg.Height)
	}
	if maxPixels := lim.maxPixels(); maxPixels > 0 && int64(cfg.Width)*int64(cfg.Height) > maxPixels {
		return nil, &LimitError{Err: ErrTooManyPixels, Limit: maxPixels,
			Got: int64(cfg.Width) * int64(cfg.Height), Width: cfg.Width, Height: cfg.Height}
	}
	src, err := codec.decode(data)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", format, err)
	}
	orientation := exifOrientation(format, data)
	img := toRGB(src)
	img = orient(img, orientation)
	img.Format = format
	img.Orientation = orientation
	img.Bytes = int64(len(data))
	return img, nil
}

// codec is one format's decoder, reading an image in memory.
type codec struct {
	config func([]byte) (image.Config, error)
	decode func([]byte) (image.Image, error)
}

// readerCodec adapts a standard io.Reader decoder to codec.
func readerCodec(config func(io.Reader) (image.Config, error), decode func(io.Reader) (image.Image, error)) codec {
	return codec{
		func(b []byte) (image.Config, error) { return config(bytes.NewReader(b)) },
		func(b []byte) (image.Image, error) { return decode(bytes.NewReader(b)) },
	}
}

// codecFor returns the decoder of a supported format name; JPEG uses d's decoder, whose planes
// toRGB copies out before the next image.
func (d *Decoder) codecFor(format string) codec {
	switch format {
	case FormatJPEG:
		return codec{jpeg.DecodeConfigBytes, d.jpeg.Decode}
	case FormatPNG:
		return readerCodec(png.DecodeConfig, png.Decode)
	case FormatGIF:
		return readerCodec(gif.DecodeConfig, gif.Decode)
	case FormatBMP:
		return readerCodec(bmp.DecodeConfig, bmp.Decode)
	case FormatTIFF:
		return readerCodec(tiff.DecodeConfig, tiff.Decode)
	case FormatWebP:
		return readerCodec(webp.DecodeConfig, webp.Decode)
	}
	panic("preprocess: no codec for " + format) // sniff returned supported for an unknown name
}
