package forensics

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sandwatch/sandwatch/internal/archive"
)

func listCommand() *cobra.Command {
	var sf storeFlags
	var wf windowFlags
	var ext string
	var limit int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List archived traces by write time (reads only the index of the window's days)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, win, closeFn, err := openWindow(cmd.Context(), &sf, &wf)
			if err != nil {
				return err
			}
			defer closeFn()
			list, err := r.List(cmd.Context(), archive.ListOptions{Window: win, Extension: ext, Limit: limit})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				for _, s := range list {
					if err := enc.Encode(s); err != nil {
						return err
					}
				}
				return nil
			}
			tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TRACE ID\tWRITTEN\tSPANS\tLOGS\tOBJECTS\tEXTENSION\tROOT")
			for _, s := range list {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%s\n", s.TraceID,
					time.Unix(0, s.Written).UTC().Format(time.RFC3339), s.Spans, s.Logs, s.Objects,
					quote(strings.Join(s.Extensions, ",")), quote(s.RootName))
			}
			return tw.Flush()
		},
	}
	sf.register(cmd)
	wf.register(cmd)
	cmd.Flags().StringVar(&ext, "extension", "", "only traces of this extension id")
	cmd.Flags().IntVar(&limit, "limit", 0, "at most this many traces (0: all)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per line")
	return cmd
}

func statsCommand() *cobra.Command {
	var sf storeFlags
	var wf windowFlags
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Objects, spans, logs and bytes in the archive, per extension (JSON)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, win, closeFn, err := openWindow(cmd.Context(), &sf, &wf)
			if err != nil {
				return err
			}
			defer closeFn()
			st, err := r.Stats(cmd.Context(), win)
			if err != nil {
				return err
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			return enc.Encode(st)
		},
	}
	sf.register(cmd)
	wf.register(cmd)
	return cmd
}

func pruneCommand() *cobra.Command {
	var sf storeFlags
	var maxAge time.Duration
	cmd := &cobra.Command{
		Use:   "prune --max-age DURATION",
		Short: "Delete everything written longer ago than --max-age",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if maxAge < 0 {
				return fmt.Errorf("--max-age %s is negative", maxAge)
			}
			r, closeFn, err := sf.open(cmd.Context())
			if err != nil {
				return err
			}
			defer closeFn()
			st, err := r.Prune(cmd.Context(), time.Now().Add(-maxAge))
			fmt.Fprintf(cmd.OutOrStdout(), "pruned %d objects, %d index objects\n", st.Objects, st.IndexObjects)
			return err
		},
	}
	sf.register(cmd)
	cmd.Flags().DurationVar(&maxAge, "max-age", 30*24*time.Hour, "keep what was written within this duration")
	return cmd
}
