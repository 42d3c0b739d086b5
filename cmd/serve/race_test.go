//go:build race

package serve

// raceEnabled is true under -race, where inference runs many times slower; the tests that score
// with the real models then send fewer requests (the benchmarks are never run under -race).
const raceEnabled = true
