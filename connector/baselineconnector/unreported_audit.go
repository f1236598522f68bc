package baselineconnector

import (
	"encoding/hex"
	"sort"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/zap"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/detect"
	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/kaudit"
)

// Attributes of an unreported_access anomaly beyond the common ones.
const (
	// AttrCandidates: the trace ids (hex) of every invocation that may
	// have made the access, when several of the process overlapped it.
	AttrCandidates = "anomaly.candidate_trace_ids"
	// AttrAttribution: how the kernel's record was tied to the
	// invocation (process, thread, concurrent, container, host_time).
	AttrAttribution = "anomaly.attribution"
)

// newAuditParser is the reader of the kernel's record, bounded by the
// unreported_access config.
func newAuditParser(cfg *Config) *kaudit.Parser {
	u := cfg.Detectors.UnreportedAccess
	return kaudit.New(kaudit.Config{Wait: u.EventWait, MaxOpen: u.MaxOpenEvents})
}

// auditState is what the connector remembers of the audit reader between
// batches: what it has already warned about.
type auditState struct {
	warnedKeyValue bool
}

// flushAuditLocked closes the auditd events that waited long enough,
// judges the due records, and logs, once each, the Falco rules whose
// pid-less alerts matched no sandbox process and a key_value_parser left
// in front of the reader (b.mu held).
func (b *baseline) flushAuditLocked(now time.Time) {
	ts := now.UnixNano()
	b.audit.Flush(ts, func(a detect.Access) { b.eng.ObserveAccess(a, ts) })
	b.eng.JudgeAudit(ts)
	for _, rule := range b.eng.DrainUncorrelatedRules() {
		b.set.Logger.Warn("baseline: unreported_access: alerts of this rule carry no proc.pid and matched no sandbox process by container.id or host and time; add proc.pid with Falco's append_output (see the baseline README); further ones are counted in sandbox.baseline.dropped{reason=\"audit_uncorrelated\"}",
			zap.String("rule", rule))
	}
	if b.audit.KeyValueParsed > 0 && !b.auditState.warnedKeyValue {
		b.auditState.warnedKeyValue = true
		b.set.Logger.Warn("baseline: unreported_access: auditd records arrive split by a key_value_parser and are not read; remove the operators of that file_log receiver so the raw line reaches the connector (see the baseline README)")
	}
}

// observeRecordProcess tells the cross-check the container of a span's or
// log record's process (resource container.id) and the thread it ran on
// (its thread.id attribute).
func (b *baseline) observeRecordProcess(pr detect.Process, res pcommon.Map, trace pcommon.TraceID, attrs pcommon.Map) {
	if c, ok := res.Get("container.id"); ok {
		b.eng.ObserveContainer(pr, c.AsString())
	}
	if th, ok := attrs.Get("thread.id"); ok && th.Type() == pcommon.ValueTypeInt {
		b.eng.ObserveThread(pr, trace, th.Int())
	}
}

// putAttribution adds the candidates and the attribution of an
// unreported_access anomaly to its record.
func putAttribution(at pcommon.Map, a *detect.Anomaly) {
	if a.Attribution != "" {
		at.PutStr(AttrAttribution, a.Attribution)
	}
	if len(a.Candidates) > 0 {
		s := at.PutEmptySlice(AttrCandidates)
		s.EnsureCapacity(len(a.Candidates))
		for _, c := range a.Candidates {
			s.AppendEmpty().SetStr(hex.EncodeToString(c[:]))
		}
	}
}

// auditDropped are the dropped-state reasons of the cross-check.
func (b *baseline) auditDropped() map[string]uint64 {
	st := b.eng.AuditStats()
	rs := b.audit.Reader().Stats
	return map[string]uint64{
		"audit_record_dropped": st.Dropped,
		// pid-less records (stock Falco rules) no sandbox process matched
		"audit_uncorrelated": st.Uncorrelated,
		// auditd records split by a key_value_parser: not readable
		"audit_key_value_parsed": b.audit.KeyValueParsed,
		// events closed without their SYSCALL record (a lost line)
		"audit_orphan_event": rs.Orphans,
	}
}

// appendAuditMetrics adds sandbox.baseline.audit.ignored: the kernel
// audit records that yielded no open, exec or connect, by record type
// (they reach neither the event model nor the sandbox metrics).
func (b *baseline) appendAuditMetrics(ms pmetric.MetricSlice, start, ts pcommon.Timestamp) {
	ign := b.audit.Reader().Stats.Ignored
	if len(ign) == 0 && b.audit.StructuredIgnored == 0 {
		return
	}
	sum := cumulativeSum(ms, "sandbox.baseline.audit.ignored",
		"Kernel audit records that were no open, exec or connect, by record type (auditd type; falco_or_tetragon for those events).", "{record}")
	types := make([]string, 0, len(ign)+1)
	for t := range ign {
		types = append(types, t)
	}
	sort.Strings(types)
	add := func(t string, n uint64) {
		dp := point(sum, start, ts)
		dp.SetIntValue(int64(n))
		dp.Attributes().PutStr("type", t)
	}
	for _, t := range types {
		add(t, ign[t])
	}
	if b.audit.StructuredIgnored > 0 {
		add("falco_or_tetragon", b.audit.StructuredIgnored)
	}
}
