package identityprocessor

import (
	"context"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"

	"github.com/sandwatch/sandwatch/internal/identitymark"
	"github.com/sandwatch/sandwatch/internal/sandboxevent"
	"github.com/sandwatch/sandwatch/processor/identityprocessor/internal/binding"
	"github.com/sandwatch/sandwatch/processor/identityprocessor/internal/credential"
)

// hostNameKey is the resource attribute a host-bound identity must match.
const hostNameKey = "host.name"

type identity struct {
	cfg        *Config
	logger     *zap.Logger
	classifier *sandboxevent.Classifier
	bindings   atomic.Pointer[binding.Set]
	tel        *telemetry
	stop       context.CancelFunc
	wg         sync.WaitGroup
}

func newIdentity(cfg *Config, set component.TelemetrySettings) (*identity, error) {
	cl, err := sandboxevent.New(cfg.EventModel)
	if err != nil {
		return nil, err
	}
	tel, err := newTelemetry(set)
	if err != nil {
		return nil, err
	}
	p := &identity{cfg: cfg, logger: set.Logger, classifier: cl, tel: tel}
	if len(cfg.Bindings) > 0 {
		s, err := binding.Compile("bindings", cfg.Bindings, cfg.TrustedForwarders)
		if err != nil {
			return nil, err
		}
		p.bindings.Store(s)
	}
	return p, nil
}

// requestIdentity is what one request says about its sender.
type requestIdentity struct {
	set       *binding.Set
	own       *binding.Identity // from the request's own credential
	forwarder bool              // the peer is a trusted forwarder (check mode)
}

func (p *identity) resolve(ctx context.Context) requestIdentity {
	set := p.bindings.Load()
	cred := credential.FromContext(ctx, p.cfg.TokenMetadataKey)
	r := requestIdentity{set: set, own: set.Resolve(cred)}
	r.forwarder = p.cfg.Mode == ModeCheck && set.IsForwarder(cred)
	return r
}

// resource settles one resource's identity and rewrites its stamp. It
// returns the identity its records are judged against (nil: none) and
// the reason all of them are flagged regardless of their claims ("" when
// each is judged on its own).
func (p *identity) resource(r requestIdentity, attrs pcommon.Map) (*binding.Identity, string) {
	attrs.Remove(identitymark.Flagged) // only this processor flags
	stamp, stamped := "", false
	if v, ok := attrs.Get(identitymark.Identity); ok {
		stamp, stamped = v.AsString(), true
	}
	if r.forwarder {
		// Tier 1's certificate: its stamp names the sender.
		if !stamped {
			return nil, identitymark.ReasonUnidentified
		}
		id := r.set.ByName(stamp)
		if id == nil {
			return nil, identitymark.ReasonUnidentified
		}
		return id, ""
	}
	forged := stamped && (r.own == nil || stamp != r.own.Name)
	if r.own != nil {
		attrs.PutStr(identitymark.Identity, r.own.Name)
	} else if stamped {
		attrs.Remove(identitymark.Identity)
	}
	if forged {
		p.tel.stampReplaced()
		if p.cfg.Mode == ModeCheck {
			return r.own, identitymark.ReasonForgedStamp
		}
	}
	if r.own == nil {
		return nil, identitymark.ReasonUnidentified
	}
	return r.own, ""
}

func hostName(attrs pcommon.Map) string {
	if v, ok := attrs.Get(hostNameKey); ok {
		return v.AsString()
	}
	return ""
}

// resourceJudge judges the records under one resource against the
// identity their sender proved: the loop both signals share.
type resourceJudge struct {
	p       *identity
	id      *binding.Identity
	all     string // the reason every record is flagged, or "" to judge each
	host    string
	rc      sandboxevent.ResourceContext
	ev      sandboxevent.Event
	st      *stats
	flagged bool
}

// begin settles the resource's identity; false when its records need no
// judging (tier 1 only stamps; a sender bound to everything covers all).
func (j *resourceJudge) begin(r requestIdentity, attrs pcommon.Map) bool {
	j.id, j.all = j.p.resource(r, attrs)
	if j.p.cfg.Mode == ModeStamp || (j.all == "" && j.id.CoversAnything()) {
		return false
	}
	j.host = hostName(attrs)
	j.p.classifier.LoadResource(attrs, &j.rc)
	j.flagged = false
	return true
}

// judge flags one record whose claim the identity does not cover;
// extension classifies the record (into j.rc and j.ev) and runs only when
// the record's claim decides.
func (j *resourceJudge) judge(recAttrs pcommon.Map, extension func() string) {
	reason := j.all
	if reason == "" {
		reason = j.id.Covers(extension(), j.host)
	}
	if reason != "" {
		recAttrs.PutStr(identitymark.Mismatch, reason)
		j.st.add(reason)
		j.flagged = true
	}
}

// end marks the resource when any of its records was flagged.
func (j *resourceJudge) end(attrs pcommon.Map) {
	if j.flagged {
		attrs.PutBool(identitymark.Flagged, true)
	}
}

func (p *identity) processTraces(ctx context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	r := p.resolve(ctx)
	var st stats
	j := resourceJudge{p: p, st: &st}
	sessionsLearned := false
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		attrs := rs.Resource().Attributes()
		if !j.begin(r, attrs) {
			continue
		}
		if !sessionsLearned {
			// As the consumers do: a Traceloop tool span names no server,
			// its session's initialize span does, wherever it sits in the
			// batch. Without this a sender puts tool spans first and they
			// pass here unclaimed, to be attributed downstream. Only when
			// a record is judged: stamp mode and "*" senders skip it.
			p.classifier.LearnSessions(td)
			sessionsLearned = true
		}
		sss := rs.ScopeSpans()
		for k := 0; k < sss.Len(); k++ {
			spans := sss.At(k).Spans()
			for n := 0; n < spans.Len(); n++ {
				span := spans.At(n)
				j.judge(span.Attributes(), func() string {
					p.classifier.ClassifySpan(span, &j.rc, &j.ev)
					return j.ev.ExtensionID
				})
			}
		}
		j.end(attrs)
	}
	p.tel.record(ctx, &st)
	return td, nil
}

func (p *identity) processLogs(ctx context.Context, ld plog.Logs) (plog.Logs, error) {
	r := p.resolve(ctx)
	var st stats
	j := resourceJudge{p: p, st: &st}
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		attrs := rl.Resource().Attributes()
		if !j.begin(r, attrs) {
			continue
		}
		sls := rl.ScopeLogs()
		for k := 0; k < sls.Len(); k++ {
			recs := sls.At(k).LogRecords()
			for n := 0; n < recs.Len(); n++ {
				rec := recs.At(n)
				j.judge(rec.Attributes(), func() string {
					p.classifier.ClassifyLog(rec, &j.rc, &j.ev)
					return j.ev.ExtensionID
				})
			}
		}
		j.end(attrs)
	}
	p.tel.record(ctx, &st)
	return ld, nil
}
