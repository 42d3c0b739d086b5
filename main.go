// Command spoofsense tells a live face from a spoof (printed photo, replayed screen, mask) in one
// selfie, offline. All behaviour lives in package cmd; main only runs it and exits with its code.
package main

import (
	"os"

	"github.com/spoofsense/spoofsense/cmd"
)

func main() {
	os.Exit(cmd.Execute())
}
