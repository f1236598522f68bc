package main

import (
	"testing"

	"github.com/google/pprof/profile"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A real CPU profile of bin/sandwatch on config/default.yaml under the
// agent mix (the harness's --profile, 5 s, 2026-12-02): every sample is
// counted once in flat, cum never below flat, and every part of the
// pipeline issue 26 names is found, with little left over as "other".
func TestSplitPartsRealProfile(t *testing.T) {
	p, err := readProfile("testdata/sandwatch-agent.pprof")
	require.NoError(t, err)
	b, err := splitParts(p)
	require.NoError(t, err)

	var total int64
	for _, s := range p.Sample {
		total += s.Value[1]
	}
	require.Equal(t, "cpu", p.SampleType[1].Type)
	assert.Equal(t, total, b.Total)
	var flat int64
	by := map[string]partShare{}
	for _, s := range b.Parts {
		flat += s.Flat
		assert.GreaterOrEqual(t, s.Cum, s.Flat, s.Name)
		by[s.Name] = s
	}
	assert.Equal(t, total, flat, "flat shares add up to the profile")
	for _, name := range []string{"GC", "classification (internal/sandboxevent)", "cutter: zstd of pages", "cutter: zstd of catalogs",
		"cutter: pagination", "cutter: store writes", "WAL", "forensic arrival (marshal)", "scrub", "sandbox_metrics", "baseline",
		"OTLP/gRPC receive and decode"} {
		assert.Positive(t, by[name].Flat, name)
	}
	assert.Zero(t, by["contrib redaction (stock)"].Cum, "no contrib redaction in default.yaml")
	assert.Less(t, share(by[otherPart].Flat, total), 0.05, "functions no part claims")
	// The receiver calls the pipeline synchronously: its cumulative share
	// holds scrub's and the connectors'.
	assert.Greater(t, by["OTLP/gRPC receive and decode"].Cum, by["scrub"].Cum+by["baseline"].Flat)
}

// Which part a stack goes to, on stacks whose owner is known.
func TestSplitPartsAttribution(t *testing.T) {
	const (
		grpc     = "google.golang.org/grpc.(*Server).handleStream"
		recv     = "go.opentelemetry.io/collector/receiver/otlpreceiver/internal/trace.(*Receiver).Export"
		unmarsh  = "go.opentelemetry.io/collector/pdata/internal.(*Span).UnmarshalProto"
		classify = "github.com/sandwatch/sandwatch/internal/sandboxevent.(*Classifier).EachSpan"
		baseline = "github.com/sandwatch/sandwatch/connector/baselineconnector.(*connector).ConsumeTraces"
		callback = "github.com/sandwatch/sandwatch/connector/baselineconnector.(*connector).ConsumeTraces.func1"
		zstdEnc  = "github.com/klauspost/compress/zstd.(*Encoder).EncodeAll"
		pages    = "github.com/sandwatch/sandwatch/internal/archive.buildPages"
		paginate = "github.com/sandwatch/sandwatch/internal/archive/otlppage.Paginate"
		catalog  = "github.com/sandwatch/sandwatch/internal/archive.encodeIndex"
		write    = "github.com/sandwatch/sandwatch/internal/archive.(*Writer).write"
		cutter   = "github.com/sandwatch/sandwatch/exporter/forensicexporter.(*cutter).run"
		scrub    = "github.com/sandwatch/sandwatch/processor/scrubprocessor.(*processor).processTraces"
		assist   = "runtime.gcAssistAlloc"
		malloc   = "runtime.mallocgc"
	)
	stacks := []struct {
		leafFirst []string
		flat      string
	}{
		{[]string{"runtime.memmove", unmarsh, recv, grpc}, "OTLP/gRPC receive and decode"},
		{[]string{"runtime.mapaccess", classify, baseline, recv, grpc}, "classification (internal/sandboxevent)"},
		{[]string{"runtime.mapaccess", callback, classify, baseline, recv, grpc}, "baseline"},
		{[]string{"runtime.scanobject", "runtime.gcDrainN", assist, malloc, scrub, recv, grpc}, "GC"},
		{[]string{zstdEnc, pages, write, cutter}, "cutter: zstd of pages"},
		{[]string{zstdEnc, catalog, write, cutter}, "cutter: zstd of catalogs"},
		{[]string{unmarsh, paginate, pages, write, cutter}, "cutter: pagination"},
		{[]string{"runtime.futex", "runtime.schedule"}, otherPart},
	}
	p := &profile.Profile{SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}}}
	fns := map[string]*profile.Function{}
	for i, s := range stacks {
		var locs []*profile.Location
		for _, name := range s.leafFirst {
			if fns[name] == nil {
				fns[name] = &profile.Function{ID: uint64(len(fns) + 1), Name: name}
			}
			locs = append(locs, &profile.Location{Line: []profile.Line{{Function: fns[name]}}})
		}
		// Stack i weighs 2^i ms, so each part's sum names its stacks.
		p.Sample = append(p.Sample, &profile.Sample{Location: locs, Value: []int64{1, int64(1<<i) * 1e6}})
	}
	b, err := splitParts(p)
	require.NoError(t, err)
	want := map[string]int64{}
	for i, s := range stacks {
		want[s.flat] += int64(1<<i) * 1e6
	}
	for _, s := range b.Parts {
		assert.Equal(t, want[s.Name], s.Flat, s.Name)
	}
	cum := map[string]int64{}
	for _, s := range b.Parts {
		cum[s.Name] = s.Cum
	}
	assert.Equal(t, int64(2+4)*1e6, cum["classification (internal/sandboxevent)"], "the classifier's own and its callback's")
	assert.Equal(t, int64(1+2+4+8)*1e6, cum["OTLP/gRPC receive and decode"], "everything under the receiver")
	assert.Equal(t, int64(16+32+64)*1e6, cum["cutter: other"], "everything under the cutter")
}

// The table: shares, and µs per record from the measured CPU.
func TestRenderParts(t *testing.T) {
	b := breakdown{Total: 4e9, Parts: []partShare{{Name: "scrub", Flat: 1e9, Cum: 2e9}, {Name: "baseline"}, {Name: otherPart, Flat: 3e9, Cum: 3e9}}}
	out := renderParts("x", b, 1_000_000, 8, "records")
	assert.Contains(t, out, "x: 4.0 CPU-s sampled, 8.00 µs of collector CPU per record measured")
	assert.Contains(t, out, "| scrub | 25.0 | 2.000 | 50.0 | 4.000 |")
	assert.Contains(t, out, "| other | 75.0 | 6.000 | 75.0 | 6.000 |")
	assert.NotContains(t, out, "baseline", "parts without samples are left out")
	assert.Contains(t, renderParts("y", b, 0, 0, ""), "| scrub | 25.0 | 50.0 |")
}
