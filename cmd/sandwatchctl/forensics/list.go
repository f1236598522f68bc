package forensics

import (
	"encoding/json"
	"errors"
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
	var sign signFlags
	var maxAge time.Duration
	cmd := &cobra.Command{
		Use:   "prune --max-age DURATION",
		Short: "Delete everything written longer ago than --max-age",
		Long: "Deletes blocks, catalogs, lookup runs and digests written before the cutoff. With --signing-key " +
			"the prune is recorded in a signed digest, so `verify` reports what it deleted as pruned, not deleted.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if maxAge < 0 {
				return fmt.Errorf("--max-age %s is negative", maxAge)
			}
			r, closeFn, err := sf.open(cmd.Context())
			if err != nil {
				return err
			}
			defer closeFn()
			if r.Digester, err = sign.start(cmd.Context(), r); err != nil {
				return err
			}
			if r.Digester == nil {
				if has, _ := r.HasDigests(cmd.Context()); has {
					fmt.Fprintln(cmd.ErrOrStderr(), "note: no --signing-key: this prune is not recorded, and verify will report what it deletes")
				}
			}
			st, err := r.Prune(cmd.Context(), time.Now().Add(-maxAge))
			fmt.Fprintf(cmd.OutOrStdout(), "pruned %d objects, %d index objects\n", st.Objects, st.IndexObjects)
			if r.Digester != nil {
				err = errors.Join(err, r.Digester.Close(cmd.Context()))
			}
			return err
		},
	}
	sf.register(cmd)
	sign.register(cmd)
	cmd.Flags().DurationVar(&maxAge, "max-age", 30*24*time.Hour, "keep what was written within this duration")
	return cmd
}

func compactCommand() *cobra.Command {
	var sf storeFlags
	var fanout int
	var maxAge time.Duration
	cmd := &cobra.Command{
		Use:   "compact",
		Short: "Merge lookup runs now (the exporter does this as it writes)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if fanout < 2 || fanout > 64 {
				return fmt.Errorf("--fanout %d is outside 2..64", fanout)
			}
			r, closeFn, err := sf.open(cmd.Context())
			if err != nil {
				return err
			}
			defer closeFn()
			c := archive.Compaction{Fanout: fanout}
			if maxAge > 0 {
				c.Cutoff = time.Now().Add(-maxAge)
			}
			st, err := r.Compact(cmd.Context(), c)
			fmt.Fprintf(cmd.OutOrStdout(), "merged %d lookup runs into %d, dropped %d expired entries\n", st.Merged, st.Written, st.Dropped)
			return err
		},
	}
	sf.register(cmd)
	cmd.Flags().IntVar(&fanout, "fanout", 8, "merge a level once it holds this many runs")
	cmd.Flags().DurationVar(&maxAge, "max-age", 0, "also drop entries written longer ago than this (0 keeps all)")
	return cmd
}
