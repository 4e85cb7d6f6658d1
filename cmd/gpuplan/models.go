package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// PLACEHOLDER: replaced by the real command.
func newModelsCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "models", Short: "not built yet", RunE: func(*cobra.Command, []string) error { return errors.New("models: not built yet") }}
}
