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

func (p *identity) processTraces(ctx context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	r := p.resolve(ctx)
	var st stats
	var rc sandboxevent.ResourceContext
	var ev sandboxevent.Event
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		attrs := rs.Resource().Attributes()
		id, all := p.resource(r, attrs)
		if p.cfg.Mode == ModeStamp || (all == "" && id.CoversAnything()) {
			continue
		}
		host := hostName(attrs)
		p.classifier.LoadResource(attrs, &rc)
		flagged := false
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				span := spans.At(k)
				reason := all
				if reason == "" {
					p.classifier.ClassifySpan(span, &rc, &ev)
					reason = id.Covers(ev.ExtensionID, host)
				}
				if reason != "" {
					span.Attributes().PutStr(identitymark.Mismatch, reason)
					st.add(reason)
					flagged = true
				}
			}
		}
		if flagged {
			attrs.PutBool(identitymark.Flagged, true)
		}
	}
	p.tel.record(ctx, &st)
	return td, nil
}

func (p *identity) processLogs(ctx context.Context, ld plog.Logs) (plog.Logs, error) {
	r := p.resolve(ctx)
	var st stats
	var rc sandboxevent.ResourceContext
	var ev sandboxevent.Event
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		attrs := rl.Resource().Attributes()
		id, all := p.resource(r, attrs)
		if p.cfg.Mode == ModeStamp || (all == "" && id.CoversAnything()) {
			continue
		}
		host := hostName(attrs)
		p.classifier.LoadResource(attrs, &rc)
		flagged := false
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			recs := sls.At(j).LogRecords()
			for k := 0; k < recs.Len(); k++ {
				rec := recs.At(k)
				reason := all
				if reason == "" {
					p.classifier.ClassifyLog(rec, &rc, &ev)
					reason = id.Covers(ev.ExtensionID, host)
				}
				if reason != "" {
					rec.Attributes().PutStr(identitymark.Mismatch, reason)
					st.add(reason)
					flagged = true
				}
			}
		}
		if flagged {
			attrs.PutBool(identitymark.Flagged, true)
		}
	}
	p.tel.record(ctx, &st)
	return ld, nil
}
