// Package scorer turns one image into a liveness result: it loads the face detector and the
// anti-spoof nets the manifest lists (three by default; Options.Nets picks a subset) once,
// verified, through package models and scorer/engine; finds the face, crops it as each net was
// trained, runs them and builds a Result. A Scorer is safe for concurrent use.
//
// It is also the one home of the liveness decision: Policy (a threshold and the rule comparing
// prob_real with it, ≥ for spoofsense, > for the commercial route) gives every verdict that
// check, serve, eval and the metrics report, and ValidateThreshold and ParseThreshold are the
// one check of a threshold, with one set of messages, for flags, query parameters and Go
// callers (docs/PIPELINE.md §1.5). Result, Verdict and Status are the one result schema of every
// output; calibration profiles (one threshold per capture channel) are scorer/profile.
//
// # Using it from Go
//
// New loads the models, Score scores an image decoded by preprocess.Decode, and Result.Verdict
// is the decision; see the example. Decode and ScoreDecoded do the same for a named input and
// time the decode (check decodes once for the score and its --annotate copy), and ScoreReader
// is the convenience that does both in one call. Options' zero value is the CLI's default:
// three nets, three crops each, threshold 0.55.
//
// Where the models come from (Options.ModelsDir, then in this order when it is empty):
// $SPOOFSENSE_MODELS; the models embedded in a binary built with -tags embedmodels (the build
// needs the verified files in models/embedded/, which `make models` puts there: a fresh clone
// built with the tag and without them fails to compile); else the user cache
// (~/.cache/spoofsense/models on Linux), which `spoofsense models pull` fills. Every file is
// checked against the manifest's sha256 before it is used.
//
// Which build gives the CLI's numbers: the Makefile builds with GOEXPERIMENT=simd, which turns
// on the engine's AVX-512 kernels. A build without it (plain `go build` or `go get`) runs the
// portable Go kernels, which sum in another order, so results are close but not bit-identical:
// image_T1's prob_real is 0.999761538081087 with the SIMD kernels and 0.9997615391600574
// portable, and over the dev set's 1,825 scored photos (1,165 of them spoof) the largest
// difference was 8.2e-7 with no verdict changed. Both builds pass the same golden and dev-set
// tests.
package scorer
