//go:build race

package main

// raceEnabled reports whether the test binary was built with -race, which
// makes every request ~10× slower; long-running tests scale down with it.
const raceEnabled = true
