// Package preprocess turns image bytes into the tensors the nets read: it sniffs and decodes the
// format within byte and pixel limits, applies the EXIF orientation, converts to 8-bit RGB, and
// resizes exactly as OpenCV does — INTER_LINEAR for the detector input and the MiniFASNets'
// shifted-window crops (PIPELINE §1.1–1.4), INTER_AREA and INTER_LANCZOS4 for
// MiniFASNetV2SE-128's reflect-padded square crop (§1.8). It also holds the face-box geometry
// (raw and mapped boxes, crop windows) and the image-quality measures of §1.6.
package preprocess
