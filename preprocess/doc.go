// Package preprocess turns image bytes into the tensors the nets read: it sniffs and decodes the
// format within byte and pixel limits, applies the EXIF orientation, converts to 8-bit RGB, and
// resizes exactly as OpenCV's INTER_LINEAR does (REFERENCE §1.1–1.4). It also holds the face-box
// geometry (raw and mapped boxes, crop windows) and the image-quality measures of §1.6.
package preprocess
