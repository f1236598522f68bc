package forensicqueryextension

import (
	"math"
	"strconv"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/sandwatch/sandwatch/internal/archive"
)

// The search responses in the proto3 JSON mapping of Tempo's messages
// (pkg/tempopb/tempo.proto): only fields those messages declare, since
// Grafana decodes with jsonpb and an unknown field fails the whole search;
// 64-bit integers as strings. Only fields present in Tempo 2.x's protos
// for years are sent (no inspectedSpans, no additionalMetrics): the
// extra figures travel in the X-Sandwatch-Search header.

type searchResponse struct {
	Traces  []traceSearchMetadata `json:"traces"`
	Metrics searchMetrics         `json:"metrics"`
}

type traceSearchMetadata struct {
	TraceID           string    `json:"traceID"`
	RootServiceName   string    `json:"rootServiceName,omitempty"`
	RootTraceName     string    `json:"rootTraceName,omitempty"`
	StartTimeUnixNano string    `json:"startTimeUnixNano"`
	DurationMs        uint32    `json:"durationMs"`
	SpanSet           *spanSet  `json:"spanSet,omitempty"` // deprecated, still read by older Grafana
	SpanSets          []spanSet `json:"spanSets,omitempty"`
}

type spanSet struct {
	Spans   []spanJSON `json:"spans"`
	Matched uint32     `json:"matched"`
}

type spanJSON struct {
	SpanID            string     `json:"spanID"`
	Name              string     `json:"name,omitempty"`
	StartTimeUnixNano string     `json:"startTimeUnixNano"`
	DurationNanos     string     `json:"durationNanos"`
	Attributes        []keyValue `json:"attributes,omitempty"`
}

type keyValue struct {
	Key   string   `json:"key"`
	Value anyValue `json:"value"`
}

type anyValue struct {
	StringValue *string     `json:"stringValue,omitempty"`
	BoolValue   *bool       `json:"boolValue,omitempty"`
	IntValue    *string     `json:"intValue,omitempty"`
	DoubleValue *float64    `json:"doubleValue,omitempty"`
	ArrayValue  *arrayValue `json:"arrayValue,omitempty"`
}

type arrayValue struct {
	Values []anyValue `json:"values"`
}

type searchMetrics struct {
	InspectedTraces uint32 `json:"inspectedTraces"`
	InspectedBytes  string `json:"inspectedBytes"`
	TotalBlocks     uint32 `json:"totalBlocks"`
	CompletedJobs   uint32 `json:"completedJobs"`
	TotalJobs       uint32 `json:"totalJobs"`
}

type tagsV2Response struct {
	Scopes  []tagScope      `json:"scopes"`
	Metrics metadataMetrics `json:"metrics"`
}

type tagScope struct {
	Name string   `json:"name"`
	Tags []string `json:"tags"`
}

type metadataMetrics struct {
	InspectedBytes string `json:"inspectedBytes"`
}

type tagValuesV2Response struct {
	TagValues []tagValue      `json:"tagValues"`
	Metrics   metadataMetrics `json:"metrics"`
}

type tagValue struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

type tagsV1Response struct {
	TagNames []string `json:"tagNames"`
}

type tagValuesV1Response struct {
	TagValues []string `json:"tagValues"`
}

type buildInfo struct {
	Version   string `json:"version"`
	Revision  string `json:"revision"`
	Branch    string `json:"branch"`
	BuildUser string `json:"buildUser"`
	BuildDate string `json:"buildDate"`
	GoVersion string `json:"goVersion"`
}

func u64(v uint64) string { return strconv.FormatUint(v, 10) }

func clampU32(n int) uint32 {
	if n < 0 {
		return 0
	}
	if n > 1<<32-1 {
		return 1<<32 - 1
	}
	return uint32(n)
}

func toSearchResponse(res *archive.SearchResult) searchResponse {
	out := searchResponse{Traces: make([]traceSearchMetadata, 0, len(res.Traces))}
	for _, t := range res.Traces {
		md := traceSearchMetadata{TraceID: t.TraceID, RootServiceName: t.RootServiceName, RootTraceName: t.RootName,
			StartTimeUnixNano: u64(t.Start), DurationMs: clampU32(int(t.Duration / 1e6))}
		set := spanSet{Spans: make([]spanJSON, 0, len(t.Spans)), Matched: clampU32(t.Matched)}
		for _, s := range t.Spans {
			sj := spanJSON{SpanID: s.SpanID, Name: s.Name, StartTimeUnixNano: u64(s.Start), DurationNanos: u64(s.Duration)}
			for _, a := range s.Attributes {
				sj.Attributes = append(sj.Attributes, keyValue{Key: a.Key, Value: toAnyValue(a.Value)})
			}
			set.Spans = append(set.Spans, sj)
		}
		md.SpanSet = &set
		md.SpanSets = []spanSet{set}
		out.Traces = append(out.Traces, md)
	}
	m := res.Metrics
	out.Metrics = searchMetrics{InspectedTraces: clampU32(m.InspectedTraces), InspectedBytes: u64(uint64(m.InspectedBytes)),
		TotalBlocks: clampU32(m.Catalogs), CompletedJobs: clampU32(m.CatalogsRead), TotalJobs: clampU32(m.Catalogs)}
	return out
}

// toAnyValue renders an attribute value as OTLP's AnyValue in proto JSON.
func toAnyValue(v pcommon.Value) anyValue {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		s := v.Str()
		return anyValue{StringValue: &s}
	case pcommon.ValueTypeBool:
		b := v.Bool()
		return anyValue{BoolValue: &b}
	case pcommon.ValueTypeInt:
		s := strconv.FormatInt(v.Int(), 10)
		return anyValue{IntValue: &s}
	case pcommon.ValueTypeDouble:
		d := v.Double()
		if math.IsNaN(d) || math.IsInf(d, 0) {
			break // JSON has no number for it: rendered as a string below
		}
		return anyValue{DoubleValue: &d}
	case pcommon.ValueTypeSlice:
		arr := &arrayValue{Values: []anyValue{}}
		for _, e := range v.Slice().All() {
			arr.Values = append(arr.Values, toAnyValue(e))
		}
		return anyValue{ArrayValue: arr}
	}
	s := v.AsString()
	return anyValue{StringValue: &s}
}
