package forensicqueryextension

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"time"

	"github.com/sandwatch/sandwatch/internal/archive"
	"github.com/sandwatch/sandwatch/internal/traceql"
)

// searchAPI serves Tempo's search endpoints from the archive.
type searchAPI struct {
	r       *archive.Reader
	cfg     SearchConfig
	version string
	tel     *telemetry
	now     func() time.Time
}

// badRequest is a client error answered with 400 and its text.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func badf(format string, args ...any) error { return &badRequest{msg: fmt.Sprintf(format, args...)} }

// timeRange reads start/end (unix seconds); without them the recent
// window ending now.
func (a *searchAPI) timeRange(q url.Values) (time.Time, time.Time, error) {
	parse := func(name string) (time.Time, bool, error) {
		s := q.Get(name)
		if s == "" {
			return time.Time{}, false, nil
		}
		v, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return time.Time{}, false, badf("invalid %s: %q is not unix seconds", name, s)
		}
		return time.Unix(int64(v), 0), true, nil
	}
	start, hasStart, err := parse("start")
	if err != nil {
		return start, start, err
	}
	end, hasEnd, err := parse("end")
	if err != nil {
		return start, end, err
	}
	if !hasEnd {
		end = a.now()
	}
	if !hasStart {
		start = end.Add(-a.cfg.RecentWindow)
	}
	if !end.After(start) {
		return start, end, badf("invalid start and end: end (%d) must be after start (%d)", end.Unix(), start.Unix())
	}
	return start, end, nil
}

func positiveInt(q url.Values, name string, def, maxV int) (int, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil || v <= 0 {
		return 0, badf("invalid %s: %q must be a positive integer", name, s)
	}
	return min(v, maxV), nil
}

// search serves GET /api/search.
func (a *searchAPI) search(w http.ResponseWriter, req *http.Request) {
	a.serve(w, req, "search", func(ctx context.Context, q url.Values) (any, error) {
		if q.Get("tags") != "" {
			if q.Get("q") != "" {
				return nil, badf("invalid request: tags and q cannot be combined")
			}
			return nil, badf("the tag-based search (tags=) is not supported: send a TraceQL query in q")
		}
		text := q.Get("q")
		if text == "" {
			text = "{}"
		}
		query, err := traceql.Parse(text)
		if err != nil {
			return nil, &badRequest{msg: err.Error()}
		}
		limit, err := positiveInt(q, "limit", 20, a.cfg.MaxLimit)
		if err != nil {
			return nil, err
		}
		spss, err := positiveInt(q, "spss", 3, a.cfg.MaxSpansPerSpanSet)
		if err != nil {
			return nil, err
		}
		start, end, err := a.timeRange(q)
		if err != nil {
			return nil, err
		}
		res, err := a.r.Search(ctx, archive.SearchRequest{Query: query, Start: start, End: end, Limit: limit, SpansPerSet: spss,
			MaxBytes: a.cfg.MaxBytes, Deadline: a.now().Add(a.cfg.Timeout)})
		if err != nil {
			return nil, err
		}
		m := res.Metrics
		w.Header().Set("X-Sandwatch-Search", fmt.Sprintf("inspectedSpans=%d; candidates=%d; prunedByIndex=%d; pagesRead=%d; pagesDecoded=%d; pagesSkipped=%d; pagesNotRead=%d; anomalyObjects=%d; partial=%q",
			m.InspectedSpans, m.Candidates, m.PrunedByIndex, m.PagesRead, m.PagesDecoded, m.PagesSkipped, m.PagesNotRead, m.AnomalyObjects, res.Partial))
		a.tel.inspected(ctx, m.InspectedBytes, m.InspectedSpans, res.Partial != "")
		return toSearchResponse(res), nil
	})
}

// tagRequest reads what the tag endpoints share: q (ignored when it does
// not parse, as Tempo does for the partial queries of an editor), start,
// end, limit.
func (a *searchAPI) tagRequest(q url.Values) (archive.TagRequest, error) {
	var tr archive.TagRequest
	if s := q.Get("q"); s != "" {
		if query, err := traceql.Parse(s); err == nil {
			tr.Query = query
		}
	}
	var err error
	if tr.Start, tr.End, err = a.timeRange(q); err != nil {
		return tr, err
	}
	if tr.Limit, err = positiveInt(q, "limit", 1000, 10000); err != nil {
		return tr, err
	}
	tr.MaxBytes = a.cfg.TagMaxBytes
	tr.Deadline = a.now().Add(a.cfg.Timeout)
	return tr, nil
}

var tagScopes = map[string]bool{"": true, "resource": true, "span": true, "intrinsic": true, "event": true, "link": true, "instrumentation": true}

// tagsV2 serves GET /api/v2/search/tags.
func (a *searchAPI) tagsV2(w http.ResponseWriter, req *http.Request) {
	a.serve(w, req, "tags", func(ctx context.Context, q url.Values) (any, error) {
		scope := q.Get("scope")
		if !tagScopes[scope] {
			return nil, badf("invalid scope %q: one of resource, span, intrinsic, event, link, instrumentation", scope)
		}
		tr, err := a.tagRequest(q)
		if err != nil {
			return nil, err
		}
		scopes, m, err := a.r.SearchTags(ctx, tr)
		if err != nil {
			return nil, err
		}
		out := tagsV2Response{Scopes: []tagScope{}, Metrics: metadataMetrics{InspectedBytes: u64(uint64(m.InspectedBytes))}}
		for _, s := range scopes {
			if scope == "" || scope == s.Name {
				out.Scopes = append(out.Scopes, tagScope{Name: s.Name, Tags: s.Tags})
			}
		}
		return out, nil
	})
}

// tagsV1 serves GET /api/search/tags: every name, unscoped.
func (a *searchAPI) tagsV1(w http.ResponseWriter, req *http.Request) {
	a.serve(w, req, "tags", func(ctx context.Context, q url.Values) (any, error) {
		tr, err := a.tagRequest(q)
		if err != nil {
			return nil, err
		}
		scopes, _, err := a.r.SearchTags(ctx, tr)
		if err != nil {
			return nil, err
		}
		out := tagsV1Response{TagNames: []string{}}
		seen := map[string]bool{}
		for _, s := range scopes {
			if s.Name == "intrinsic" {
				continue
			}
			for _, t := range s.Tags {
				if !seen[t] {
					seen[t] = true
					out.TagNames = append(out.TagNames, t)
				}
			}
		}
		return out, nil
	})
}

// tagValues serves both versions of GET /api/.../search/tag/{tag}/values.
func (a *searchAPI) tagValues(v2 bool) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		a.serve(w, req, "tag_values", func(ctx context.Context, q url.Values) (any, error) {
			name := req.PathValue("tag")
			if !v2 {
				name = "." + name // v1 tags are unscoped names
			}
			field, err := traceql.ParseField(name)
			if err != nil {
				return nil, badf("invalid tag %q: %v", req.PathValue("tag"), err)
			}
			tr, err := a.tagRequest(q)
			if err != nil {
				return nil, err
			}
			vals, m, err := a.r.SearchTagValues(ctx, tr, field)
			if err != nil {
				return nil, err
			}
			if !v2 {
				out := tagValuesV1Response{TagValues: make([]string, 0, len(vals))}
				for _, v := range vals {
					out.TagValues = append(out.TagValues, v.Value)
				}
				return out, nil
			}
			out := tagValuesV2Response{TagValues: make([]tagValue, 0, len(vals)), Metrics: metadataMetrics{InspectedBytes: u64(uint64(m.InspectedBytes))}}
			for _, v := range vals {
				out.TagValues = append(out.TagValues, tagValue{Type: v.Type, Value: v.Value})
			}
			return out, nil
		})
	}
}

// buildinfo serves GET /api/status/buildinfo. Version 2.1.0 keeps core
// Grafana 10.x from attempting streaming (gRPC), which sandwatch does not
// serve.
func (a *searchAPI) buildinfo(w http.ResponseWriter, req *http.Request) {
	a.serve(w, req, "buildinfo", func(context.Context, url.Values) (any, error) {
		return buildInfo{Version: "2.1.0", Revision: "sandwatch-" + a.version, Branch: "sandwatch", GoVersion: runtime.Version()}, nil
	})
}

// serve answers with fn's value as JSON, a 400 with the text of a
// badRequest, or a generic 500 (store errors may name buckets and paths).
func (a *searchAPI) serve(w http.ResponseWriter, req *http.Request, endpoint string, fn func(context.Context, url.Values) (any, error)) {
	began := a.now()
	v, err := fn(req.Context(), req.URL.Query())
	var br *badRequest
	var pe *traceql.Error
	switch {
	case errors.As(err, &br) || errors.As(err, &pe):
		a.tel.request(req.Context(), endpoint, "bad_request", a.now().Sub(began))
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	case archive.IsKeyError(err):
		a.tel.request(req.Context(), endpoint, "error", a.now().Sub(began))
		http.Error(w, "archive read failed: encrypted, and this server's encryption.keys do not open it (missing or wrong key)", http.StatusInternalServerError)
		return
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		a.tel.request(req.Context(), endpoint, "canceled", a.now().Sub(began))
		http.Error(w, "search canceled", http.StatusServiceUnavailable)
		return
	case err != nil:
		a.tel.request(req.Context(), endpoint, "error", a.now().Sub(began))
		http.Error(w, "archive read failed", http.StatusInternalServerError)
		return
	}
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding failed", http.StatusInternalServerError)
		return
	}
	a.tel.request(req.Context(), endpoint, "ok", a.now().Sub(began))
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}
