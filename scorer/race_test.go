//go:build race

package scorer

// raceEnabled is true under -race, where inference runs many times slower; tests that score the
// whole dev set then score an evenly spread sample of it (the non-race run scores all of it).
const raceEnabled = true
