// Copyright 2009 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package jpeg

import (
	"encoding/binary"
	"io"
)

// maxCodeLength is the maximum (inclusive) number of bits in a Huffman code.
const maxCodeLength = 16

// maxNCodes is the maximum (inclusive) number of codes in a Huffman tree.
const maxNCodes = 256

// lutSize is the log-2 size of the Huffman decoder's look-up table.
const lutSize = 8

// huffman is a Huffman decoder, specified in section C.
type huffman struct {
	// length is the number of codes in the tree.
	nCodes int32
	// lut is the look-up table for the next lutSize bits in the bit-stream.
	// The high 8 bits of the uint16 are the encoded value. The low 8 bits
	// are 1 plus the code length, or 0 if the value is too large to fit in
	// lutSize bits.
	lut [1 << lutSize]uint16
	// vals are the decoded values, sorted by their encoding.
	vals [maxNCodes]uint8
	// minCodes[i] is the minimum code of length i, or -1 if there are no
	// codes of that length.
	minCodes [maxCodeLength]int32
	// maxCodes[i] is the maximum code of length i, or -1 if there are no
	// codes of that length.
	maxCodes [maxCodeLength]int32
	// valsIndices[i] is the index into vals of minCodes[i].
	valsIndices [maxCodeLength]int32
	// fastAC decodes, for an AC table, a whole coefficient from the next
	// fastBits bits: value<<16 | run<<8 | bits used (code and extra bits), or
	// 0 where the code is longer, has no extra bits (EOB, ZRL), or its extra
	// bits do not fit. It is derived from lut and the code lengths exactly as
	// decodeHuffman decodes, so it is a shortcut, never a different answer.
	fastAC [1 << fastBits]int32
}

// fastBits is the log-2 size of huffman.fastAC.
const fastBits = 10

// buildFastAC fills h.fastAC from h's look-up table and code lengths.
func (h *huffman) buildFastAC() {
	for p := range uint32(1 << fastBits) {
		h.fastAC[p] = 0
		var l uint32
		var sym uint8
		if v := h.lut[p>>(fastBits-lutSize)]; v != 0 {
			l, sym = uint32(v&0xff)-1, uint8(v>>8)
		} else {
			// decodeHuffmanSlow on the bits of p.
			code := int32(0)
			for i := range uint32(fastBits) {
				code = code<<1 | int32(p>>(fastBits-1-i)&1)
				if code <= h.maxCodes[i] {
					l, sym = i+1, h.vals[h.valsIndices[i]+code-h.minCodes[i]]
					break
				}
			}
		}
		run, t := int32(sym>>4), uint32(sym&0x0f)
		if l == 0 || t == 0 || l+t > fastBits {
			continue
		}
		x := extend(int32(p>>(fastBits-l-t)&(1<<t-1)), uint8(t))
		h.fastAC[p] = x<<16 | run<<8 | int32(l+t)
	}
}

// errShortHuffmanData means that an unexpected EOF occurred while decoding
// Huffman data.
var errShortHuffmanData = FormatError("short Huffman data")

// fillBits tops the bit buffer up to at least 57 bits, or to the end of the
// scan data (a marker or the end of the input), which sets d.bits.end. Eight
// bytes without an 0xff are taken at once; stuffed 0xff 0x00 pairs one by one.
func (d *decoder) fillBits() {
	if d.bits.end != nil {
		return
	}
	acc, n, pos, data := d.bits.acc, d.bits.n, d.pos, d.data
	for n <= 56 {
		if pos+8 <= len(data) {
			w := binary.BigEndian.Uint64(data[pos:])
			// v has a zero byte where w has 0xff.
			if v := ^w; (v-0x0101010101010101)&^v&0x8080808080808080 == 0 {
				k := (64 - n) >> 3 // whole bytes that fit: 1..8
				acc |= w >> (64 - 8*k) << (64 - n - 8*k)
				pos += int(k)
				n += 8 * k
				continue
			}
		}
		if pos >= len(data) {
			d.bits.end = d.eofError()
			break
		}
		c := data[pos]
		if c == 0xff {
			if pos+1 >= len(data) {
				d.bits.end = d.eofError()
				break
			}
			if data[pos+1] != 0x00 {
				d.bits.end = errMissingFF00
				break
			}
			pos++
		}
		pos++
		acc |= uint64(c) << (56 - n)
		n += 8
	}
	d.bits.acc, d.bits.n, d.pos = acc, n, pos
}

// eofError is the error reading Huffman data past the end of the input gives.
func (d *decoder) eofError() error {
	if d.readErr == io.ErrUnexpectedEOF {
		return errShortHuffmanData
	}
	return d.readErr
}

// receiveExtend is the composition of RECEIVE and EXTEND, specified in section
// F.2.2.1.
func (d *decoder) receiveExtend(t uint8) (int32, error) {
	v, err := d.decodeBits(int32(t))
	if err != nil {
		return 0, err
	}
	return extend(int32(v), t), nil
}

// processDHT processes a Define Huffman Table marker, and initializes a huffman
// struct from its contents. Specified in section B.2.4.2.
func (d *decoder) processDHT(n int) error {
	for n > 0 {
		if n < 17 {
			return FormatError("DHT has wrong length")
		}
		if err := d.readFull(d.tmp[:17]); err != nil {
			return err
		}
		tc := d.tmp[0] >> 4
		if tc > maxTc {
			return FormatError("bad Tc value")
		}
		th := d.tmp[0] & 0x0f
		// The baseline th <= 1 restriction is specified in table B.5.
		if th > maxTh || (d.baseline && th > 1) {
			return FormatError("bad Th value")
		}
		h := &d.huff[tc][th]

		// Read nCodes and h.vals (and derive h.nCodes).
		// nCodes[i] is the number of codes with code length i.
		// h.nCodes is the total number of codes.
		h.nCodes = 0
		var nCodes [maxCodeLength]int32
		for i := range nCodes {
			nCodes[i] = int32(d.tmp[i+1])
			h.nCodes += nCodes[i]
		}
		if h.nCodes == 0 {
			return FormatError("Huffman table has zero length")
		}
		if h.nCodes > maxNCodes {
			return FormatError("Huffman table has excessive length")
		}
		n -= int(h.nCodes) + 17
		if n < 0 {
			return FormatError("DHT has wrong length")
		}
		if err := d.readFull(h.vals[:h.nCodes]); err != nil {
			return err
		}

		// Derive the look-up table.
		clear(h.lut[:])
		var x, code uint32
		for i := uint32(0); i < lutSize; i++ {
			code <<= 1
			for j := int32(0); j < nCodes[i]; j++ {
				// The codeLength is 1+i, so shift code by 8-(1+i) to
				// calculate the high bits for every 8-bit sequence
				// whose codeLength's high bits matches code.
				// The high 8 bits of lutValue are the encoded value.
				// The low 8 bits are 1 plus the codeLength.
				base := uint8(code << (7 - i))
				lutValue := uint16(h.vals[x])<<8 | uint16(2+i)
				for k := uint8(0); k < 1<<(7-i); k++ {
					h.lut[base|k] = lutValue
				}
				code++
				x++
			}
		}

		// Derive minCodes, maxCodes, and valsIndices.
		var c, index int32
		for i, n := range nCodes {
			if n == 0 {
				h.minCodes[i] = -1
				h.maxCodes[i] = -1
				h.valsIndices[i] = -1
			} else {
				h.minCodes[i] = c
				h.maxCodes[i] = c + n - 1
				h.valsIndices[i] = index
				c += n
				index += n
			}
			c <<= 1
		}
		if tc == acTable {
			h.buildFastAC()
		}
	}
	return nil
}

// decodeHuffman returns the next Huffman-coded value from the bit-stream,
// decoded according to h. As in image/jpeg, the look-up table decodes codes of
// up to lutSize bits when at least lutSize bits are left; otherwise the code is
// read bit by bit.
func (d *decoder) decodeHuffman(h *huffman) (uint8, error) {
	if h.nCodes == 0 {
		return 0, FormatError("uninitialized Huffman table")
	}
	if d.bits.n < 16 {
		d.fillBits()
	}
	if d.bits.n >= lutSize {
		if v := h.lut[d.bits.acc>>(64-lutSize)]; v != 0 {
			n := uint32(v&0xff) - 1
			d.bits.acc <<= n
			d.bits.n -= n
			return uint8(v >> 8), nil
		}
	} else if e := d.bits.end; e != errMissingFF00 && e != errShortHuffmanData {
		return 0, e
	}
	return d.decodeHuffmanSlow(h)
}

// decodeHuffmanSlow reads a code of h bit by bit.
func (d *decoder) decodeHuffmanSlow(h *huffman) (uint8, error) {
	code := int32(0)
	for i := range maxCodeLength {
		if d.bits.n == 0 {
			if d.fillBits(); d.bits.n == 0 {
				return 0, d.bits.end
			}
		}
		code = code<<1 | int32(d.bits.acc>>63)
		d.bits.acc <<= 1
		d.bits.n--
		if code <= h.maxCodes[i] {
			return h.vals[h.valsIndices[i]+code-h.minCodes[i]], nil
		}
	}
	return 0, FormatError("bad Huffman code")
}

func (d *decoder) decodeBit() (bool, error) {
	if d.bits.n == 0 {
		if d.fillBits(); d.bits.n == 0 {
			return false, d.bits.end
		}
	}
	ret := d.bits.acc>>63 != 0
	d.bits.acc <<= 1
	d.bits.n--
	return ret, nil
}

func (d *decoder) decodeBits(n int32) (uint32, error) {
	if d.bits.n < uint32(n) {
		if d.fillBits(); d.bits.n < uint32(n) {
			return 0, d.bits.end
		}
	}
	ret := uint32(d.bits.acc >> (64 - n))
	d.bits.acc <<= n
	d.bits.n -= uint32(n)
	return ret, nil
}

// decodeBlockFast decodes a sequential block's DC and AC coefficients into b
// (zeroed on entry; dc is the component's DC predictor) with the bit buffer
// held in registers. It decodes exactly as decodeHuffman and receiveExtend do
// but only while the buffer holds at least 32 bits, enough for any code and its
// extra bits; past that (near a marker or the end of the data), or while an
// end-of-band run is pending, it returns done == false and the coefficient zig
// the caller's general loop goes on from. acNZ reports whether an AC
// coefficient was set.
func (d *decoder) decodeBlockFast(b *block, dcH, acH *huffman, dc *int32) (zig int32, done, acNZ bool, err error) {
	if dcH.nCodes == 0 || acH.nCodes == 0 || d.eobRun > 0 {
		return 0, false, false, nil
	}
	if d.bits.n < 32 {
		if d.fillBits(); d.bits.n < 32 {
			return 0, false, false, nil
		}
	}
	acc, n := d.bits.acc, d.bits.n
	v := dcH.lut[acc>>(64-lutSize)]
	if v == 0 {
		return 0, false, false, nil
	}
	l := uint32(v&0xff) - 1
	acc <<= l
	n -= l
	t := uint8(v >> 8)
	if t > 16 {
		return 0, false, false, UnsupportedError("excessive DC component")
	}
	*dc += extend(int32(acc>>(64-t)), t)
	acc <<= t
	n -= uint32(t)
	b[0] = *dc
	for zig = 1; zig < blockSize; zig++ {
		if n < 32 {
			d.bits.acc, d.bits.n = acc, n
			if d.fillBits(); d.bits.n < 32 {
				return zig, false, acNZ, nil
			}
			acc, n = d.bits.acc, d.bits.n
		}
		if e := acH.fastAC[acc>>(64-fastBits)]; e != 0 && zig+(e>>8)&0xff < blockSize {
			// A whole coefficient in one look-up.
			zig += (e >> 8) & 0xff
			b[unzig8[zig]] = e >> 16
			l := uint32(e & 0xff)
			acc <<= l
			n -= l
			acNZ = true
			continue
		}
		var sym uint8
		if v := acH.lut[acc>>(64-lutSize)]; v != 0 {
			l := uint32(v&0xff) - 1
			acc <<= l
			n -= l
			sym = uint8(v >> 8)
		} else {
			d.bits.acc, d.bits.n = acc, n
			if sym, err = d.decodeHuffmanSlow(acH); err != nil {
				return zig, false, acNZ, err
			}
			acc, n = d.bits.acc, d.bits.n
		}
		r, s := sym>>4, sym&0x0f
		if s != 0 {
			zig += int32(r)
			if zig >= blockSize {
				break
			}
			b[unzig8[zig]] = extend(int32(acc>>(64-s)), s)
			acc <<= s
			n -= uint32(s)
			acNZ = true
			continue
		}
		if r != 0x0f {
			// End of band: a run of 2**r + the next r bits blocks, this one included.
			run := uint16(1) << r
			run |= uint16(acc >> (64 - r))
			acc <<= r
			n -= uint32(r)
			d.eobRun = run - 1
			break
		}
		zig += 0x0f
	}
	d.bits.acc, d.bits.n = acc, n
	return zig, true, acNZ, nil
}

// extend is EXTEND (section F.2.2.1) of the t-bit value x, without a branch
// as libjpeg's HUFF_EXTEND: the sign of x − 2**(t−1) selects the offset.
func extend(x int32, t uint8) int32 {
	return x + ((x-int32(1)<<t>>1)>>31)&(((-1)<<t)+1)
}

// unzig8 is unzig in bytes, for the fast path's smaller table; read-only.
var unzig8 = func() (z [blockSize]uint8) {
	for i, v := range unzig {
		z[i] = uint8(v)
	}
	return z
}()
