package forensicqueryextension

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/archive"
)

// Handler serves Tempo's trace-by-id endpoints from r:
//
//	GET /api/echo                -> "echo"
//	GET /api/traces/{id}         -> tempopb.Trace (resourceSpans = field 1)
//	GET /api/v2/traces/{id}      -> tempopb.TraceByIDResponse (trace = field 1)
//
// Protobuf when the Accept header asks for application/protobuf (what
// Grafana sends), JSON otherwise. The search endpoints use the default
// SearchConfig.
func Handler(r *archive.Reader) http.Handler {
	return newHandler(&searchAPI{r: r, cfg: defaultSearchConfig(), version: "dev", now: time.Now})
}

// newHandler adds Tempo's search endpoints (search_handler.go):
//
//	GET /api/search                          -> SearchResponse (TraceQL in q)
//	GET /api/v2/search/tags                  -> SearchTagsV2Response
//	GET /api/v2/search/tag/{tag}/values      -> SearchTagValuesV2Response
//	GET /api/search/tags, /api/search/tag/{tag}/values  (v1 fallbacks)
//	GET /api/status/buildinfo
func newHandler(a *searchAPI) http.Handler {
	r := a.r
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/search", a.search)
	mux.HandleFunc("GET /api/v2/search/tags", a.tagsV2)
	mux.HandleFunc("GET /api/v2/search/tag/{tag}/values", a.tagValues(true))
	mux.HandleFunc("GET /api/search/tags", a.tagsV1)
	mux.HandleFunc("GET /api/search/tag/{tag}/values", a.tagValues(false))
	mux.HandleFunc("GET /api/status/buildinfo", a.buildinfo)
	mux.HandleFunc("GET /api/echo", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("echo"))
	})
	mux.HandleFunc("GET /api/traces/{id}", func(w http.ResponseWriter, req *http.Request) {
		serveTrace(w, req, r, false)
	})
	mux.HandleFunc("GET /api/v2/traces/{id}", func(w http.ResponseWriter, req *http.Request) {
		serveTrace(w, req, r, true)
	})
	return mux
}

// parseID accepts Tempo's forms: up to 32 hex digits, left-padded with
// zeros (64-bit ids), in any case.
func parseID(s string) (pcommon.TraceID, error) {
	if len(s) == 0 || len(s) > 32 {
		return pcommon.TraceID{}, archive.ErrInvalidTraceID
	}
	return archive.ParseTraceID(strings.Repeat("0", 32-len(s)) + s)
}

func wantsProto(req *http.Request) bool {
	for _, a := range req.Header.Values("Accept") {
		if strings.Contains(a, "application/protobuf") || strings.Contains(a, "application/x-protobuf") {
			return true
		}
	}
	return false
}

func serveTrace(w http.ResponseWriter, req *http.Request, r *archive.Reader, v2 bool) {
	id, err := parseID(req.PathValue("id"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	tr, err := r.Get(req.Context(), id)
	if errors.Is(err, archive.ErrNotFound) {
		http.Error(w, "trace not found", http.StatusNotFound)
		return
	}
	if archive.IsKeyError(err) {
		http.Error(w, "archive read failed: encrypted, and this server's encryption.keys do not open it (missing or wrong key)", http.StatusInternalServerError)
		return
	}
	if err != nil {
		// The store's error may name buckets and paths: keep it in the
		// collector's logs' domain, answer generically.
		http.Error(w, "archive read failed", http.StatusInternalServerError)
		return
	}
	body, ctype, err := render(tr.Traces, wantsProto(req), v2)
	if err != nil {
		http.Error(w, "encoding failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ctype)
	_, _ = w.Write(body)
}

// render encodes a trace for Tempo's API. tempopb.Trace has the wire form
// of OTLP TracesData (repeated ResourceSpans as field 1), so the OTLP
// marshalers produce it; v2 wraps it as field 1 of TraceByIDResponse.
func render(td ptrace.Traces, proto, v2 bool) ([]byte, string, error) {
	if proto {
		b, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
		if err != nil {
			return nil, "", err
		}
		if v2 {
			out := make([]byte, 0, len(b)+11)
			out = append(out, 0x0a) // field 1, wire type 2 (length-delimited)
			out = binary.AppendUvarint(out, uint64(len(b)))
			b = append(out, b...)
		}
		return b, "application/protobuf", nil
	}
	b, err := (&ptrace.JSONMarshaler{}).MarshalTraces(td)
	if err != nil {
		return nil, "", err
	}
	if v2 {
		var buf bytes.Buffer
		buf.WriteString(`{"trace":`)
		buf.Write(b)
		buf.WriteString(`}`)
		return buf.Bytes(), "application/json", nil
	}
	// Tempo's v1 JSON names the list "batches".
	if rest, ok := bytes.CutPrefix(b, []byte(`{"resourceSpans":`)); ok {
		b = append([]byte(`{"batches":`), rest...)
	}
	return b, "application/json", nil
}
