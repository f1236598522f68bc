package forensics

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/sandwatch/sandwatch/internal/archive"
	"github.com/sandwatch/sandwatch/internal/otlpsend"
)

func replayCommand() *cobra.Command {
	var sf storeFlags
	var wf windowFlags
	var endpoint, protocol, ext string
	var withLogs bool
	cmd := &cobra.Command{
		Use:   "replay [TRACE_ID...]",
		Short: "Send archived traces back through an OTLP endpoint (e.g. to re-run detection after a rule change)",
		Long: "Replays the given traces, or every trace of the window (--since/--from/--to, --extension) " +
			"when no id is given, one OTLP export request per trace.",
		RunE: func(cmd *cobra.Command, args []string) error {
			r, closeFn, err := sf.open(cmd.Context())
			if err != nil {
				return err
			}
			defer closeFn()
			ids := args
			if len(ids) == 0 {
				win, err := wf.window(time.Now())
				if err != nil {
					return err
				}
				list, err := r.List(cmd.Context(), archive.ListOptions{Window: win, Extension: ext})
				if err != nil {
					return err
				}
				for _, s := range list {
					ids = append(ids, s.TraceID)
				}
			}
			sender, err := otlpsend.New(protocol, endpoint)
			if err != nil {
				return err
			}
			defer sender.Close()
			var traces, spans, logs int
			for _, s := range ids {
				id, err := archive.ParseTraceID(s)
				if err != nil {
					return fmt.Errorf("trace id %q: %w", s, err)
				}
				tr, err := r.Get(cmd.Context(), id)
				if err != nil {
					return fmt.Errorf("get %s: %w", s, err)
				}
				body, err := ptraceotlp.NewExportRequestFromTraces(tr.Traces).MarshalProto()
				if err != nil {
					return err
				}
				if _, err := sender.Send(cmd.Context(), otlpsend.Traces, body); err != nil {
					return fmt.Errorf("replay %s to %s: %w", s, endpoint, err)
				}
				if withLogs && tr.Logs.LogRecordCount() > 0 {
					lb, err := plogotlp.NewExportRequestFromLogs(tr.Logs).MarshalProto()
					if err != nil {
						return err
					}
					if _, err := sender.Send(cmd.Context(), otlpsend.Logs, lb); err != nil {
						return fmt.Errorf("replay logs of %s: %w", s, err)
					}
					logs += tr.Logs.LogRecordCount()
				}
				traces++
				spans += tr.Spans
			}
			fmt.Fprintf(cmd.OutOrStdout(), "replayed %d traces, %d spans, %d log records to %s\n", traces, spans, logs, endpoint)
			return nil
		},
	}
	sf.register(cmd)
	wf.register(cmd)
	cmd.Flags().StringVar(&endpoint, "endpoint", "127.0.0.1:4317", "OTLP endpoint")
	cmd.Flags().StringVar(&protocol, "protocol", "grpc", "grpc, unix (socket path) or http")
	cmd.Flags().StringVar(&ext, "extension", "", "with no ids: only traces of this extension id")
	cmd.Flags().BoolVar(&withLogs, "logs", true, "also replay the trace's archived log records")
	return cmd
}
