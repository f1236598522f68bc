package main

import (
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/google/pprof/profile"
)

// part is a share of the collector's CPU, named after what the pipeline
// does: a frame belongs to it when the frame's function matches match and,
// if within is set, the frame or one of its callers matches within.
type part struct {
	name   string
	match  *regexp.Regexp
	within *regexp.Regexp
}

const (
	zstd     = `klauspost/compress/zstd\.|sandwatch/internal/archive\.(compress|encoder)$`
	archive  = `sandwatch/internal/archive\.`
	forensic = `sandwatch/exporter/forensicexporter\.`
	otlppage = `sandwatch/internal/archive/otlppage\.`
)

// parts maps function names to the parts of issue 26. A sample's flat
// share goes to the part of its innermost frame that a part claims (a
// frame two parts claim goes to the first in this table): GC inside scrub
// is GC, classification inside baseline is classification, but baseline's
// own callback that the classifier calls is baseline again, and zstd
// inside the cutter's pagination is zstd. Its cumulative share goes to
// every part that claims a frame of its stack (so the receiver's includes
// the whole synchronous pipeline it calls). The patterns name packages
// and the archive's functions of 2026-12; when those are renamed, the
// samples fall to the enclosing part ("cutter: other", "forensic (other)")
// or to "other", and the table shows it.
var parts = []part{
	{name: "GC", match: regexp.MustCompile(`^runtime\.(gcBgMarkWorker|gcAssistAlloc|gcDrain|bgsweep|bgscavenge|markroot|gcStart|\(\*sweepLocked\)\.sweep|sweepone)`)},
	{name: "classification (internal/sandboxevent)", match: regexp.MustCompile(`sandwatch/internal/sandboxevent\.`)},
	{name: "cutter: zstd of pages", match: regexp.MustCompile(zstd), within: regexp.MustCompile(archive + `(encodeBlock|buildPages|\(\*blockBuilder\))|` + otlppage)},
	{name: "cutter: zstd of catalogs", match: regexp.MustCompile(zstd), within: regexp.MustCompile(archive + `encodeIndex`)},
	{name: "cutter: pagination", match: regexp.MustCompile(otlppage + `|` + archive + `(encodeBlock|buildPages|\(\*blockBuilder\)|\(\*traceAcc\)|tracesPageJSON|logsPageJSON)`)},
	{name: "cutter: catalogs and lookup runs", match: regexp.MustCompile(archive + `(encodeIndex|appendIndexLine|appendJSONString)|sandwatch/internal/archive/lookuprun\.`)},
	{name: "cutter: store writes", match: regexp.MustCompile(archive + `(putObject|\(\*Writer\)\.put)|gocloud\.dev/blob`)},
	{name: "cutter: other", match: regexp.MustCompile(forensic + `\(\*cutter\)|` + archive + `\(\*Writer\)`)},
	{name: "WAL", match: regexp.MustCompile(`sandwatch/internal/wal\.`)},
	{name: "forensic arrival (marshal)", match: regexp.MustCompile(archive + `Encode(Traces|Logs)|` + forensic + `\(\*archiver\)\.(tracesRequest|logsRequest)`)},
	{name: "forensic (other)", match: regexp.MustCompile(forensic)},
	{name: "scrub", match: regexp.MustCompile(`sandwatch/processor/scrubprocessor`)},
	{name: "sandbox_metrics", match: regexp.MustCompile(`sandwatch/connector/sandboxmetricsconnector`)},
	{name: "baseline", match: regexp.MustCompile(`sandwatch/connector/baselineconnector`)},
	{name: "contrib redaction (stock)", match: regexp.MustCompile(`processor/redactionprocessor\.`)},
	{name: "contrib spanmetrics (stock)", match: regexp.MustCompile(`connector/spanmetricsconnector\.`)},
	// Decoding is pdata's unmarshal under the receiver; the cutter's own
	// unmarshal (pagination) is not under it.
	{name: "OTLP/gRPC receive and decode", match: regexp.MustCompile(`pdata/internal\..*[Uu]nmarshal|ptraceotlp|plogotlp|receiver/otlpreceiver|google\.golang\.org/grpc|golang\.org/x/net/http2`),
		within: regexp.MustCompile(`receiver/otlpreceiver|google\.golang\.org/grpc`)},
}

const otherPart = "other"

// partShare is one part's CPU in a profile.
type partShare struct {
	Name      string
	Flat, Cum int64 // CPU nanoseconds
}

// breakdown is a profile's CPU split into parts (the last one "other").
type breakdown struct {
	Total int64 // CPU nanoseconds sampled
	Parts []partShare
}

// readProfile reads a pprof CPU profile (gzipped or not).
func readProfile(path string) (*profile.Profile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// splitParts attributes every sample of a CPU profile to the parts.
func splitParts(p *profile.Profile) (breakdown, error) {
	vi := -1
	for i, st := range p.SampleType {
		if st.Type == "cpu" && st.Unit == "nanoseconds" {
			vi = i
		}
	}
	if vi < 0 {
		return breakdown{}, fmt.Errorf("not a CPU profile: no cpu/nanoseconds sample type")
	}
	b := breakdown{Parts: make([]partShare, len(parts)+1)}
	for i, pt := range parts {
		b.Parts[i].Name = pt.name
	}
	b.Parts[len(parts)].Name = otherPart
	var frames []string
	for _, s := range p.Sample {
		v := s.Value[vi]
		b.Total += v
		// Leaf first, as pprof stores them; inlined frames included.
		frames = frames[:0]
		for _, loc := range s.Location {
			for _, l := range loc.Line {
				if l.Function != nil {
					frames = append(frames, l.Function.Name)
				}
			}
		}
		flat := len(parts)
		for i := range frames {
			if flat = claimant(frames, i); flat < len(parts) {
				break
			}
		}
		b.Parts[flat].Flat += v
		for i, pt := range parts {
			if pt.claimsAny(frames) {
				b.Parts[i].Cum += v
			}
		}
	}
	b.Parts[len(parts)].Cum = b.Parts[len(parts)].Flat
	return b, nil
}

// claimant is the first part that claims frames[i] (len(parts): none);
// frames are leaf first.
func claimant(frames []string, i int) int {
	for k, pt := range parts {
		if pt.claims(frames, i) {
			return k
		}
	}
	return len(parts)
}

func (pt part) claims(frames []string, i int) bool {
	if !pt.match.MatchString(frames[i]) {
		return false
	}
	if pt.within == nil {
		return true
	}
	for _, caller := range frames[i:] {
		if pt.within.MatchString(caller) {
			return true
		}
	}
	return false
}

func (pt part) claimsAny(frames []string) bool {
	for i := range frames {
		if pt.claims(frames, i) {
			return true
		}
	}
	return false
}

// renderParts writes a breakdown as a table. With records and cpuSeconds
// (the harness's /proc figure of the same window) it gives µs per record
// too: the part's share of the profile times the measured CPU per record.
func renderParts(title string, b breakdown, records int64, cpuSeconds float64, unit string) string {
	var w strings.Builder
	fmt.Fprintf(&w, "%s: %.1f CPU-s sampled", title, float64(b.Total)/1e9)
	perRecord := records > 0 && cpuSeconds > 0 && b.Total > 0
	if perRecord {
		fmt.Fprintf(&w, ", %.2f µs of collector CPU per %s measured", cpuSeconds*1e6/float64(records), strings.TrimSuffix(unit, "s"))
	}
	w.WriteString("\n\n")
	if perRecord {
		fmt.Fprintf(&w, "| part | flat %% | flat µs/%s | cum %% | cum µs/%s |\n|---|---:|---:|---:|---:|\n", strings.TrimSuffix(unit, "s"), strings.TrimSuffix(unit, "s"))
	} else {
		w.WriteString("| part | flat % | cum % |\n|---|---:|---:|\n")
	}
	for _, p := range b.Parts {
		if p.Cum == 0 {
			continue
		}
		flat, cum := share(p.Flat, b.Total), share(p.Cum, b.Total)
		if perRecord {
			us := cpuSeconds * 1e6 / float64(records)
			fmt.Fprintf(&w, "| %s | %.1f | %.3f | %.1f | %.3f |\n", p.Name, 100*flat, us*flat, 100*cum, us*cum)
		} else {
			fmt.Fprintf(&w, "| %s | %.1f | %.1f |\n", p.Name, 100*flat, 100*cum)
		}
	}
	return w.String()
}

func share(v, total int64) float64 {
	if total == 0 {
		return 0
	}
	return float64(v) / float64(total)
}
