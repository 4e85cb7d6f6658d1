package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// PLACEHOLDER: replaced by the real command.
func newSizeCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "size", Short: "not built yet", RunE: func(*cobra.Command, []string) error { return errors.New("size: not built yet") }}
}
