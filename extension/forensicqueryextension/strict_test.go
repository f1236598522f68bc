package forensicqueryextension

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// A strict decoder of Tempo's search messages (pkg/tempopb/tempo.proto),
// as Grafana's jsonpb.Unmarshal reads them: an unknown field fails the
// decode. Written from the proto definitions, independently of the
// server's structs. 64-bit fields must be JSON strings here (jsonpb also
// takes numbers; strings are what proto3 JSON writes), 32-bit ones
// numbers.

// pbUint64 is a uint64 that must arrive as a decimal string.
type pbUint64 uint64

func (u *pbUint64) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("64-bit field must be a JSON string, got %s", b)
	}
	v, err := strconv.ParseUint(s, 10, 64)
	*u = pbUint64(v)
	return err
}

type pbInt64 int64

func (u *pbInt64) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("64-bit field must be a JSON string, got %s", b)
	}
	v, err := strconv.ParseInt(s, 10, 64)
	*u = pbInt64(v)
	return err
}

type pbSearchResponse struct {
	Traces  []pbTraceSearchMetadata `json:"traces"`
	Metrics *pbSearchMetrics        `json:"metrics"`
}

type pbTraceSearchMetadata struct {
	TraceID           string                    `json:"traceID"`
	RootServiceName   string                    `json:"rootServiceName"`
	RootTraceName     string                    `json:"rootTraceName"`
	StartTimeUnixNano pbUint64                  `json:"startTimeUnixNano"`
	DurationMs        uint32                    `json:"durationMs"`
	SpanSet           *pbSpanSet                `json:"spanSet"`
	SpanSets          []pbSpanSet               `json:"spanSets"`
	ServiceStats      map[string]pbServiceStats `json:"serviceStats"`
}

type pbServiceStats struct {
	SpanCount  uint32 `json:"spanCount"`
	ErrorCount uint32 `json:"errorCount"`
}

type pbSpanSet struct {
	Spans      []pbSpan     `json:"spans"`
	Matched    uint32       `json:"matched"`
	Attributes []pbKeyValue `json:"attributes"`
}

type pbSpan struct {
	SpanID            string       `json:"spanID"`
	Name              string       `json:"name"`
	StartTimeUnixNano pbUint64     `json:"startTimeUnixNano"`
	DurationNanos     pbUint64     `json:"durationNanos"`
	Attributes        []pbKeyValue `json:"attributes"`
}

type pbKeyValue struct {
	Key   string     `json:"key"`
	Value pbAnyValue `json:"value"`
}

type pbAnyValue struct {
	StringValue *string       `json:"stringValue"`
	BoolValue   *bool         `json:"boolValue"`
	IntValue    *pbInt64      `json:"intValue"`
	DoubleValue *float64      `json:"doubleValue"`
	ArrayValue  *pbArrayValue `json:"arrayValue"`
	KvlistValue *struct {
		Values []pbKeyValue `json:"values"`
	} `json:"kvlistValue"`
	BytesValue *string `json:"bytesValue"`
}

type pbArrayValue struct {
	Values []pbAnyValue `json:"values"`
}

type pbSearchMetrics struct {
	InspectedTraces uint32   `json:"inspectedTraces"`
	InspectedBytes  pbUint64 `json:"inspectedBytes"`
	TotalBlocks     uint32   `json:"totalBlocks"`
	CompletedJobs   uint32   `json:"completedJobs"`
	TotalJobs       uint32   `json:"totalJobs"`
	TotalBlockBytes pbUint64 `json:"totalBlockBytes"`
}

type pbMetadataMetrics struct {
	InspectedBytes pbUint64 `json:"inspectedBytes"`
}

type pbSearchTagsV2Response struct {
	Scopes []struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	} `json:"scopes"`
	Metrics *pbMetadataMetrics `json:"metrics"`
}

type pbSearchTagValuesV2Response struct {
	TagValues []struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	} `json:"tagValues"`
	Metrics *pbMetadataMetrics `json:"metrics"`
}

type pbSearchTagsResponse struct {
	TagNames []string           `json:"tagNames"`
	Metrics  *pbMetadataMetrics `json:"metrics"`
}

type pbSearchTagValuesResponse struct {
	TagValues []string           `json:"tagValues"`
	Metrics   *pbMetadataMetrics `json:"metrics"`
}

type pbBuildInfo struct {
	Version   string `json:"version"`
	Revision  string `json:"revision"`
	Branch    string `json:"branch"`
	BuildUser string `json:"buildUser"`
	BuildDate string `json:"buildDate"`
	GoVersion string `json:"goVersion"`
}

// strictDecode fails the test on an unknown field, a wrong type or
// trailing data.
func strictDecode(t *testing.T, body []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(v), "strict decode of %s", body)
	require.False(t, dec.More(), "trailing data after %s", body)
}

func TestStrictDecoderRejectsUnknownFieldsAndNumbers(t *testing.T) {
	var r pbSearchResponse
	dec := json.NewDecoder(bytes.NewReader([]byte(`{"traces":[],"metrics":{"inspectedSpans":"3"}}`)))
	dec.DisallowUnknownFields()
	require.Error(t, dec.Decode(&r), "inspectedSpans is not in every Tempo 2.x proto")
	require.Error(t, json.Unmarshal([]byte(`{"traces":[{"startTimeUnixNano":123}]}`), &r))
}
