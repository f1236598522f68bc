// Command sandwatchctl is the operator's tool for sandwatch: simulate
// sandbox telemetry, read the forensic archive, inspect baselines.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/sandwatch/sandwatch/cmd/sandwatchctl/baseline"
	"github.com/sandwatch/sandwatch/cmd/sandwatchctl/forensics"
	"github.com/sandwatch/sandwatch/cmd/sandwatchctl/simulatecmd"
)

func main() {
	root := &cobra.Command{
		Use:           "sandwatchctl",
		Short:         "Operate sandwatch: simulate sandbox telemetry, read the forensic archive, inspect baselines",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(simulatecmd.NewCommand(), forensics.NewCommand(), baseline.NewCommand())
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "sandwatchctl:", err)
		os.Exit(1)
	}
}
