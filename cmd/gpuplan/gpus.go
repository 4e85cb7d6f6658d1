package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// PLACEHOLDER: replaced by the real command.
func newGPUsCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "gpus", Short: "not built yet", RunE: func(*cobra.Command, []string) error { return errors.New("gpus: not built yet") }}
}
