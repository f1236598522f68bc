package forensics

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/archive"
)

func getCommand() *cobra.Command {
	var sf storeFlags
	var format string
	cmd := &cobra.Command{
		Use:   "get TRACE_ID",
		Short: "Print every archived span (and log record) of a trace",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := archive.ParseTraceID(args[0])
			if err != nil {
				return fmt.Errorf("trace id %q: %w", args[0], err)
			}
			r, closeFn, err := sf.open(cmd.Context())
			if err != nil {
				return err
			}
			defer closeFn()
			tr, err := r.Get(cmd.Context(), id)
			if err != nil {
				return fmt.Errorf("get %s: %w", archive.TraceHex(id), err)
			}
			out := cmd.OutOrStdout()
			switch format {
			case "json":
				b, err := (&ptrace.JSONMarshaler{}).MarshalTraces(tr.Traces)
				if err != nil {
					return err
				}
				_, _ = out.Write(append(b, '\n'))
				if tr.Logs.LogRecordCount() > 0 {
					lb, err := (&plog.JSONMarshaler{}).MarshalLogs(tr.Logs)
					if err != nil {
						return err
					}
					_, _ = out.Write(append(lb, '\n'))
				}
			case "tree":
				printTree(out, tr)
			default:
				return fmt.Errorf("--format %q: use json or tree", format)
			}
			if tr.Truncated {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: trace has more than %d objects; output truncated\n", archive.MaxObjectsPerTrace)
			}
			return nil
		},
	}
	sf.register(cmd)
	cmd.Flags().StringVar(&format, "format", "json", "json (OTLP JSON: spans, then logs if any) or tree")
	return cmd
}

type node struct {
	span     ptrace.Span
	resource pcommon.Resource
	children []*node
}

// printTree prints spans as an indented tree by parent, siblings by start
// time, each with its offset from the trace start, duration, status and
// the attributes that say what it did.
func printTree(w io.Writer, tr *archive.Trace) {
	byID := map[pcommon.SpanID]*node{}
	var all []*node
	rss := tr.Traces.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		for j := 0; j < rs.ScopeSpans().Len(); j++ {
			spans := rs.ScopeSpans().At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				n := &node{span: spans.At(k), resource: rs.Resource()}
				byID[n.span.SpanID()] = n
				all = append(all, n)
			}
		}
	}
	var roots []*node
	var t0 pcommon.Timestamp
	for _, n := range all {
		if t0 == 0 || (n.span.StartTimestamp() != 0 && n.span.StartTimestamp() < t0) {
			t0 = n.span.StartTimestamp()
		}
		if p, ok := byID[n.span.ParentSpanID()]; ok && !n.span.ParentSpanID().IsEmpty() {
			p.children = append(p.children, n)
		} else {
			roots = append(roots, n)
		}
	}
	byStart := func(ns []*node) {
		sort.SliceStable(ns, func(a, b int) bool { return ns[a].span.StartTimestamp() < ns[b].span.StartTimestamp() })
	}
	var walk func(n *node, depth int)
	walk = func(n *node, depth int) {
		s := n.span
		off := time.Duration(s.StartTimestamp() - t0)
		dur := time.Duration(s.EndTimestamp() - s.StartTimestamp())
		if s.EndTimestamp() < s.StartTimestamp() {
			dur = 0
		}
		status := ""
		if s.Status().Code() == ptrace.StatusCodeError {
			status = " ERROR"
			if m := s.Status().Message(); m != "" {
				status += " " + quote(m)
			}
		}
		fmt.Fprintf(w, "%s%s  +%s %s%s  %s%s\n", strings.Repeat("  ", depth), quote(s.Name()),
			off.Round(time.Microsecond), dur.Round(time.Microsecond), status, s.SpanID(), attrs(s.Attributes()))
		byStart(n.children)
		for _, c := range n.children {
			walk(c, depth+1)
		}
	}
	byStart(roots)
	if len(roots) > 0 {
		fmt.Fprintf(w, "trace %s: %d spans, %d objects%s\n", roots[0].span.TraceID(), len(all), tr.Objects, attrs(roots[0].resource.Attributes()))
	}
	for _, r := range roots {
		walk(r, 1)
	}
	if n := tr.Logs.LogRecordCount(); n > 0 {
		fmt.Fprintf(w, "log records: %d\n", n)
		rls := tr.Logs.ResourceLogs()
		for i := 0; i < rls.Len(); i++ {
			for j := 0; j < rls.At(i).ScopeLogs().Len(); j++ {
				recs := rls.At(i).ScopeLogs().At(j).LogRecords()
				for k := 0; k < recs.Len(); k++ {
					rec := recs.At(k)
					fmt.Fprintf(w, "  %s %s%s\n", quote(rec.Body().AsString()), rec.SpanID(), attrs(rec.Attributes()))
				}
			}
		}
	}
}

// attrs renders up to 8 attributes, values clipped, control characters
// escaped (the archive holds raw sender data).
func attrs(m pcommon.Map) string {
	if m.Len() == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("  {")
	i := 0
	m.Range(func(k string, v pcommon.Value) bool {
		if i == 8 {
			b.WriteString(" ...")
			return false
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quote(k))
		b.WriteByte('=')
		b.WriteString(quote(v.AsString()))
		i++
		return true
	})
	b.WriteString("}")
	return b.String()
}

func quote(s string) string {
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	q := fmt.Sprintf("%q", s)
	if q[1:len(q)-1] == s && !strings.ContainsAny(s, " ,={}") {
		return s
	}
	return q
}
