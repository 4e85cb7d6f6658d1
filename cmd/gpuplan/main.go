// Command gpuplan sizes, places, prices, deploys and verifies LLM inference
// on GPUs. This package only parses flags and prints; every decision lives
// in the library packages (see docs/architecture.md).
package main

import (
	"context"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := Run(ctx, os.Args[1:], DefaultOptions())
	stop()
	os.Exit(code)
}
