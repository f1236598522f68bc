package forensics

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sandwatch/sandwatch/internal/archive"
	"github.com/sandwatch/sandwatch/internal/traceql"
)

// searchLine is one result of `forensics search --json`.
type searchLine struct {
	TraceID         string    `json:"trace_id"`
	Start           time.Time `json:"start"`
	DurationMs      float64   `json:"duration_ms"`
	RootServiceName string    `json:"root_service"`
	RootName        string    `json:"root_name,omitempty"`
	Matched         int       `json:"matched_spans"`
}

func searchCommand() *cobra.Command {
	var sf storeFlags
	var since time.Duration
	var from, to string
	var limit, spss int
	var maxBytes int64
	var timeout time.Duration
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "search 'TRACEQL'",
		Short: "Search the archive with TraceQL, as Grafana's Tempo data source does (the same engine as /api/search)",
		Long: `Runs the TraceQL subset that forensic_query serves (see its README) over the
traces of a time range, newest first. The virtual attributes
span.sandwatch.extension and span.sandwatch.anomaly are answered from the
archive's indexes. The search's figures (what it read and skipped) go to
stderr.`,
		Example: `  sandwatchctl forensics search '{ span.sandwatch.extension = "weather-001" }' --since 6h
  sandwatchctl forensics search '{ span.sandwatch.anomaly = "exfiltration" }' --since 168h --json
  sandwatchctl forensics search '{ span.server.address = "paste.evil.example" }' --from 2026-12-01T00:00:00Z --to 2026-12-01T06:00:00Z`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q, err := traceql.Parse(args[0])
			if err != nil {
				return err
			}
			if limit < 1 || spss < 1 {
				return fmt.Errorf("--limit and --spss must be at least 1")
			}
			now := time.Now()
			wf := windowFlags{since: since, from: from, to: to}
			win, err := wf.window(now)
			if err != nil {
				return err
			}
			if win.To.IsZero() {
				win.To = now
			}
			if win.From.IsZero() {
				return fmt.Errorf("give a time range: --since DURATION or --from (and --to)")
			}
			if !win.To.After(win.From) {
				return fmt.Errorf("the range ends (%s) before it starts (%s)", win.To.Format(time.RFC3339), win.From.Format(time.RFC3339))
			}
			r, closeFn, err := sf.open(cmd.Context())
			if err != nil {
				return err
			}
			defer closeFn()
			res, err := r.Search(cmd.Context(), archive.SearchRequest{Query: q, Start: win.From, End: win.To, Limit: limit,
				SpansPerSet: spss, MaxBytes: maxBytes, Deadline: now.Add(timeout)})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			lines := make([]searchLine, len(res.Traces))
			for i, t := range res.Traces {
				lines[i] = searchLine{TraceID: t.TraceID, Start: time.Unix(0, int64(t.Start)).UTC(), DurationMs: float64(t.Duration) / 1e6,
					RootServiceName: t.RootServiceName, RootName: t.RootName, Matched: t.Matched}
			}
			if asJSON {
				enc := json.NewEncoder(out)
				for _, l := range lines {
					if err := enc.Encode(l); err != nil {
						return err
					}
				}
			} else {
				tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "TRACE ID\tSTART\tDURATION\tMATCHED\tROOT SERVICE\tROOT")
				for _, l := range lines {
					fmt.Fprintf(tw, "%s\t%s\t%.1fms\t%d\t%s\t%s\n", l.TraceID, l.Start.Format(time.RFC3339Nano), l.DurationMs,
						l.Matched, quote(l.RootServiceName), quote(l.RootName))
				}
				if err := tw.Flush(); err != nil {
					return err
				}
			}
			m := res.Metrics
			fmt.Fprintf(cmd.ErrOrStderr(), "%d traces; inspected %d traces, %d spans, %d bytes; catalogs %d/%d, anomaly objects %d; pages read %d, decoded %d, skipped %d, not read %d%s\n",
				len(lines), m.InspectedTraces, m.InspectedSpans, m.InspectedBytes, m.CatalogsRead, m.Catalogs, m.AnomalyObjects,
				m.PagesRead, m.PagesDecoded, m.PagesSkipped, m.PagesNotRead, partialNote(res.Partial))
			return nil
		},
	}
	sf.register(cmd)
	fl := cmd.Flags()
	fl.DurationVar(&since, "since", 0, "traces of this last duration, e.g. 6h")
	fl.StringVar(&from, "from", "", "range start, RFC 3339")
	fl.StringVar(&to, "to", "", "range end, RFC 3339 (default now)")
	fl.IntVar(&limit, "limit", 20, "at most this many traces, newest first")
	fl.IntVar(&spss, "spss", 3, "matched spans kept per trace")
	fl.Int64Var(&maxBytes, "max-bytes", 1<<30, "stop after reading this many bytes (0: no bound)")
	fl.DurationVar(&timeout, "timeout", time.Minute, "stop after this long")
	fl.BoolVar(&asJSON, "json", false, "one JSON object per line")
	return cmd
}

func partialNote(reason string) string {
	if reason == "" {
		return ""
	}
	return "; partial: " + reason
}
