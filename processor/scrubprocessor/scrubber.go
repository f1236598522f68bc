package scrubprocessor

import (
	"fmt"
	"unsafe"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/sandwatch/sandwatch/processor/scrubprocessor/internal/pii"
	"github.com/sandwatch/sandwatch/processor/scrubprocessor/internal/secrets"
)

// scrubber rewrites string values in place, and only those that change:
// a value without a secret (or pii treatment) is read, never written.
type scrubber struct {
	sc       *secrets.Scanner // nil when secrets.enabled is false
	keys     *secrets.KeyPolicy
	pii      *pii.Policy // nil when no pii treatment is on
	maxValue int
	maxDepth int
	nRules   int
	markers  [numExtra]string
	tel      *telemetry
}

func newScrubber(cfg *Config, set component.TelemetrySettings) (*scrubber, error) {
	s := &scrubber{maxValue: cfg.Secrets.MaxValueBytes, maxDepth: cfg.Secrets.MaxDepth}
	var err error
	var names []string
	if cfg.Secrets.Enabled {
		if s.sc, err = cfg.scanner(); err != nil {
			return nil, fmt.Errorf("scrub: secrets: %w", err)
		}
		names = s.sc.RuleNames()
		s.nRules = len(names)
	}
	if s.keys, err = cfg.keyPolicy(); err != nil {
		return nil, fmt.Errorf("scrub: secrets: %w", err)
	}
	if s.pii, err = cfg.piiPolicy(); err != nil {
		return nil, fmt.Errorf("scrub: pii: %w", err)
	}
	for i, n := range extraNames {
		s.markers[i] = "[REDACTED:" + n + "]"
	}
	if s.tel, err = newTelemetry(set, names); err != nil {
		return nil, err
	}
	return s, nil
}

// wholeMarker is the marker replacing a whole value for reason i.
func (s *scrubber) wholeMarker(i int, v string) string {
	if s.sc != nil && i == extraSensitiveKey && s.sc.Fingerprints() {
		return s.sc.Marker(extraNames[i], v) // fingerprinted when configured
	}
	return s.markers[i]
}

// str scrubs one string found under attribute key ("" for span names,
// bodies, messages).
func (s *scrubber) str(key, v string, st *stats) (string, bool) {
	out, changed := v, false
	if s.sc != nil {
		st.scanned++
		if len(v) > s.maxValue {
			st.counts[s.nRules+extraOversize]++
			return s.markers[extraOversize], true
		}
		out, changed = s.sc.Scan(v, st.counts[:s.nRules])
	}
	if s.pii != nil && key != "" {
		if t := s.pii.For(key); t != pii.None {
			if o, c := s.pii.Apply(t, out); c {
				st.pii[t]++
				out, changed = o, true
			}
		}
	}
	return out, changed
}

func (s *scrubber) strField(v string, set func(string), st *stats) {
	if out, changed := s.str("", v, st); changed {
		set(out)
	}
}

// attrs scrubs a map; sensitive is inherited from an enclosing sensitive
// key, so {"credentials": {"user": .., "pass": ..}} is redacted whole.
func (s *scrubber) attrs(m pcommon.Map, depth int, sensitive bool, st *stats) {
	m.Range(func(k string, v pcommon.Value) bool {
		allowed, sens := s.keys.Classify(k)
		if allowed {
			return true
		}
		s.value(k, v, sensitive || (s.sc != nil && sens), depth, st)
		return true
	})
}

func (s *scrubber) value(key string, v pcommon.Value, sensitive bool, depth int, st *stats) {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		str := v.Str()
		if sensitive {
			if str != "" {
				st.counts[s.nRules+extraSensitiveKey]++
				v.SetStr(s.wholeMarker(extraSensitiveKey, str))
			}
			return
		}
		if out, changed := s.str(key, str, st); changed {
			v.SetStr(out)
		}
	case pcommon.ValueTypeMap:
		if depth >= s.maxDepth {
			st.counts[s.nRules+extraDepth]++
			v.SetStr(s.markers[extraDepth])
			return
		}
		s.attrs(v.Map(), depth+1, sensitive, st)
	case pcommon.ValueTypeSlice:
		if depth >= s.maxDepth {
			st.counts[s.nRules+extraDepth]++
			v.SetStr(s.markers[extraDepth])
			return
		}
		sl := v.Slice()
		for i := 0; i < sl.Len(); i++ {
			s.value(key, sl.At(i), sensitive, depth+1, st)
		}
	case pcommon.ValueTypeBytes:
		raw := v.Bytes().AsRaw()
		if len(raw) == 0 {
			return
		}
		if sensitive {
			st.counts[s.nRules+extraSensitiveKey]++
			v.SetStr(s.wholeMarker(extraSensitiveKey, ""))
			return
		}
		// Read the bytes as a string without copying; a changed value
		// is a new string, so pdata's buffer is never written through it.
		if out, changed := s.str("", unsafe.String(&raw[0], len(raw)), st); changed {
			v.Bytes().FromRaw([]byte(out))
		}
	}
}
