package baselineconnector

import (
	"encoding/hex"
	"fmt"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/detect"
)

// Attribute keys of the agent detectors and of folded repeats.
const (
	AttrAgent          = "anomaly.agent"
	AttrSession        = "anomaly.session"
	AttrRelatedTrace   = "anomaly.related_trace_id"
	AttrFoldedTraces   = "anomaly.folded_trace_ids"
	AttrFoldedUnlisted = "anomaly.folded_unlisted"
)

// putAgentAndFolded adds the acting agent, its session, the other trace a
// chain names, and the traces of the repeats a dedup summary folded (so
// every attack trace is reachable from the records, and searchable both
// by attribute and in the body's text).
func putAgentAndFolded(at pcommon.Map, a *detect.Anomaly) {
	if a.Agent != "" {
		at.PutStr(AttrAgent, a.Agent)
	}
	if a.Session != "" {
		at.PutStr(AttrSession, a.Session)
	}
	if a.Related.TraceID != ([16]byte{}) {
		at.PutStr(AttrRelatedTrace, hex.EncodeToString(a.Related.TraceID[:]))
	}
	if len(a.Folded) > 0 {
		s := at.PutEmptySlice(AttrFoldedTraces)
		s.EnsureCapacity(len(a.Folded))
		for _, f := range a.Folded {
			s.AppendEmpty().SetStr(hex.EncodeToString(f.TraceID[:]))
		}
	}
	if a.FoldedUnlisted > 0 {
		at.PutInt(AttrFoldedUnlisted, int64(a.FoldedUnlisted))
	}
}

// foldedSuffix is the body's note of the folded traces ("" when none).
func foldedSuffix(a *detect.Anomaly) string {
	if len(a.Folded) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "; %d repeats folded, in traces ", a.Count)
	for i, f := range a.Folded {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(hex.EncodeToString(f.TraceID[:]))
	}
	if a.FoldedUnlisted > 0 {
		fmt.Fprintf(&b, " and %d more", a.FoldedUnlisted)
	}
	return b.String()
}
