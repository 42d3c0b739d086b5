// Command bigjpeg writes to stdout a JPEG of the given size, a smooth gradient that compresses
// well, so that a request near the decoder's 50-megapixel limit still fits the 10 MiB body limit
// (deploy/image/load.sh sizes the pod's memory with it).
//
//	go run ./deploy/image/bigjpeg 7000 7000 > big.jpg
package main

import (
	"bufio"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"strconv"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: bigjpeg WIDTH HEIGHT > out.jpg")
		os.Exit(2)
	}
	w, errW := strconv.Atoi(os.Args[1])
	h, errH := strconv.Atoi(os.Args[2])
	if errW != nil || errH != nil || w < 1 || h < 1 {
		fmt.Fprintf(os.Stderr, "bigjpeg: %q %q: want two positive integers\n", os.Args[1], os.Args[2])
		os.Exit(2)
	}
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for y := range h {
		for x := range w {
			img.Y[img.YOffset(x, y)] = uint8((x + y) * 255 / (w + h))
		}
	}
	for i := range img.Cb {
		img.Cb[i], img.Cr[i] = 128, 128
	}
	out := bufio.NewWriter(os.Stdout)
	if err := jpeg.Encode(out, img, &jpeg.Options{Quality: 80}); err != nil || out.Flush() != nil {
		fmt.Fprintln(os.Stderr, "bigjpeg: write:", err)
		os.Exit(1)
	}
}
