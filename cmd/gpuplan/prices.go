package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// PLACEHOLDER: replaced by the real command.
func newPricesCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "prices", Short: "not built yet", RunE: func(*cobra.Command, []string) error { return errors.New("prices: not built yet") }}
}
