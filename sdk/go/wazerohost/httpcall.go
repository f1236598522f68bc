package wazerohost

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"

	"github.com/tetratelabs/wazero/api"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// HostModule is the import module of the host functions: a guest declares
//
//	//go:wasmimport env http_call
//	func httpCall(methodPtr, methodLen, urlPtr, urlLen, bodyPtr, bodyLen, respPtr, respCap, respLenPtr uint32) int32
const HostModule = "env"

// Results of http_call other than an HTTP status code (100-599).
const (
	// CallDenied: the allowlist refused the URL (or a redirect target).
	CallDenied int32 = -1
	// CallFailed: the request was sent but failed (refused, reset, timed out, DNS...).
	CallFailed int32 = -2
	// CallInvalid: bad arguments (memory out of range, bad method, body too large).
	CallInvalid int32 = -3
)

func (h *Host) instantiateHostModule(ctx context.Context) error {
	_, err := h.rt.NewHostModuleBuilder(HostModule).
		NewFunctionBuilder().
		WithFunc(h.httpCall).
		WithParameterNames("method_ptr", "method_len", "url_ptr", "url_len", "body_ptr", "body_len", "resp_ptr", "resp_cap", "resp_len_ptr").
		WithResultNames("status").
		Export("http_call").
		Instantiate(ctx)
	return err
}

// httpCall is the http_call host function. It reads method, URL and body
// from guest memory, decides on the allowlist, performs the call on the
// plugin's behalf, copies up to resp_cap bytes of the response body to
// resp_ptr and their count to resp_len_ptr, and returns the status code
// (or CallDenied, CallFailed, CallInvalid). Every call is a span.
func (h *Host) httpCall(ctx context.Context, m api.Module, methodPtr, methodLen, urlPtr, urlLen, bodyPtr, bodyLen, respPtr, respCap, respLenPtr uint32) int32 {
	pluginID := ""
	if st, ok := ctx.Value(runKey{}).(*runState); ok {
		pluginID = st.pluginID
	}
	mem := m.Memory()
	method, okM := readString(mem, methodPtr, methodLen)
	rawURL, okU := readString(mem, urlPtr, urlLen)
	if method == "" {
		method = http.MethodGet
	}
	ctx, span := h.tracer.Start(ctx, SpanHTTPCall, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String(AttrPluginID, pluginID),
		attribute.String(AttrMethod, method),
		attribute.String(AttrURL, rawURL)))
	defer span.End()
	fail := func(code, msg string, result int32) int32 {
		span.SetAttributes(attribute.String(AttrPluginError, code))
		span.SetStatus(codes.Error, msg)
		return result
	}
	if !okM || !okU || !validMethod(method) {
		return fail("invalid_request", "method or URL out of guest memory, or not a method", CallInvalid)
	}

	allowed, rule, reason := h.allow.Decide(rawURL)
	if !allowed {
		span.SetAttributes(attribute.String(AttrDecision, DecisionDenied))
		span.SetStatus(codes.Error, reason)
		return CallDenied
	}
	span.SetAttributes(attribute.String(AttrDecision, DecisionAllowed), attribute.String(AttrRule, rule))
	if bodyLen > h.cfg.MaxRequestBytes {
		return fail("invalid_request", fmt.Sprintf("request body of %d bytes exceeds %d", bodyLen, h.cfg.MaxRequestBytes), CallInvalid)
	}
	var body io.Reader
	if bodyLen > 0 {
		b, ok := mem.Read(bodyPtr, bodyLen)
		if !ok {
			return fail("invalid_request", "body out of guest memory", CallInvalid)
		}
		body = bytes.NewReader(append([]byte(nil), b...))
	}
	callCtx, cancel := context.WithTimeout(ctx, h.cfg.CallTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(callCtx, method, rawURL, body)
	if err != nil {
		return fail("invalid_url", err.Error(), CallInvalid)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		var rd *redirectDenied
		if errors.As(err, &rd) {
			span.SetAttributes(attribute.String(AttrDecision, DecisionDenied), attribute.String("http_call.redirect.url", rd.url))
			span.SetStatus(codes.Error, "redirect: "+rd.reason)
			return CallDenied
		}
		return fail(transportErrorCode(err), err.Error(), CallFailed)
	}
	defer resp.Body.Close()
	span.SetAttributes(attribute.Int(AttrStatusCode, resp.StatusCode))
	if resp.StatusCode >= 400 {
		span.SetStatus(codes.Error, resp.Status)
	}
	n, err := copyToGuest(mem, resp.Body, respPtr, respCap)
	if err != nil {
		return fail(transportErrorCode(err), "reading the response: "+err.Error(), CallFailed)
	}
	span.SetAttributes(attribute.Int(AttrResponseBytes, int(n)))
	if respLenPtr != 0 && !mem.WriteUint32Le(respLenPtr, n) {
		return fail("invalid_request", "resp_len_ptr out of guest memory", CallInvalid)
	}
	return int32(resp.StatusCode)
}

func readString(mem api.Memory, ptr, n uint32) (string, bool) {
	if n == 0 {
		return "", true
	}
	b, ok := mem.Read(ptr, n)
	return string(b), ok
}

// copyToGuest copies up to max bytes of r into guest memory at ptr.
func copyToGuest(mem api.Memory, r io.Reader, ptr, max uint32) (uint32, error) {
	if max == 0 {
		return 0, nil
	}
	dst, ok := mem.Read(ptr, max) // a view of guest memory
	if !ok {
		return 0, errors.New("resp_ptr/resp_cap out of guest memory")
	}
	n, err := io.ReadFull(r, dst)
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		err = nil // a short body
	}
	return uint32(n), err
}

func validMethod(m string) bool {
	if len(m) > 16 {
		return false
	}
	for _, c := range []byte(m) {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// redirectDenied is the error a guarded client returns when a response
// redirects to a host the allowlist refuses.
type redirectDenied struct{ url, reason string }

func (r *redirectDenied) Error() string { return "redirect to " + r.url + " denied: " + r.reason }

// guardedClient copies base (or a default client) and checks every
// redirect against the allowlist, so an allowed host cannot bounce the
// plugin to a refused one.
func (h *Host) guardedClient(base *http.Client) *http.Client {
	c := &http.Client{Timeout: h.cfg.CallTimeout}
	if base != nil {
		cp := *base
		c = &cp
	}
	next := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if ok, _, reason := h.allow.Decide(req.URL.String()); !ok {
			return &redirectDenied{url: req.URL.String(), reason: reason}
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return c
}

// transportErrorCode names a failed call with the errno vocabulary the
// event model knows (ECONNREFUSED, ETIMEDOUT...) where one applies.
func transportErrorCode(err error) string {
	var dns *net.DNSError
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "ECONNREFUSED"
	case errors.Is(err, syscall.ECONNRESET):
		return "ECONNRESET"
	case errors.Is(err, syscall.EHOSTUNREACH):
		return "EHOSTUNREACH"
	case errors.Is(err, syscall.ENETUNREACH):
		return "ENETUNREACH"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "ETIMEDOUT"
	case errors.As(err, &dns):
		return "ENOTFOUND"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return "transport_error"
}
