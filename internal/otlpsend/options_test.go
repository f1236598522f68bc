package otlpsend

import "testing"

func TestOptionsFromEnvHeaders(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20abc, x-tenant=t1")
	t.Setenv("OTEL_EXPORTER_OTLP_CERTIFICATE", "")
	o, err := OptionsFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if o.Headers["authorization"] != "Bearer abc" || o.Headers["x-tenant"] != "t1" || o.TLS != nil {
		t.Fatalf("got %+v", o)
	}
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "novalue")
	if _, err := OptionsFromEnv(); err == nil {
		t.Fatal("a header without = accepted")
	}
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "")
	t.Setenv("OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent/ca.crt")
	if _, err := OptionsFromEnv(); err == nil {
		t.Fatal("a missing CA file accepted")
	}
}
