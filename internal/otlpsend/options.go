package otlpsend

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/url"
	"os"
	"strings"

	"google.golang.org/grpc/metadata"
)

// Options of a sender: TLS (nil: plaintext) and headers sent with every
// request (gRPC metadata, or HTTP headers).
type Options struct {
	TLS     *tls.Config
	Headers map[string]string
}

func (o Options) metadata() metadata.MD {
	if len(o.Headers) == 0 {
		return nil
	}
	md := metadata.MD{}
	for k, v := range o.Headers {
		md.Set(k, v)
	}
	return md
}

// OptionsFromEnv reads the OTLP exporter environment variables of the
// OpenTelemetry specification that a load generator needs:
// OTEL_EXPORTER_OTLP_CERTIFICATE (the CA to verify the collector with;
// setting it turns TLS on), OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and
// OTEL_EXPORTER_OTLP_CLIENT_KEY (mTLS), and OTEL_EXPORTER_OTLP_HEADERS
// (k=v pairs, comma-separated, values URL-encoded).
func OptionsFromEnv() (Options, error) {
	var o Options
	if h := os.Getenv("OTEL_EXPORTER_OTLP_HEADERS"); h != "" {
		o.Headers = map[string]string{}
		for _, kv := range strings.Split(h, ",") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || strings.TrimSpace(k) == "" {
				return o, fmt.Errorf("OTEL_EXPORTER_OTLP_HEADERS: %q is not key=value", kv)
			}
			dv, err := url.PathUnescape(strings.TrimSpace(v))
			if err != nil {
				return o, fmt.Errorf("OTEL_EXPORTER_OTLP_HEADERS: %s: %w", k, err)
			}
			o.Headers[strings.TrimSpace(k)] = dv
		}
	}
	ca := os.Getenv("OTEL_EXPORTER_OTLP_CERTIFICATE")
	if ca == "" {
		return o, nil
	}
	cfg, err := TLSConfig(ca, os.Getenv("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE"), os.Getenv("OTEL_EXPORTER_OTLP_CLIENT_KEY"))
	if err != nil {
		return o, err
	}
	o.TLS = cfg
	return o, nil
}

// TLSConfig trusts the CA in caFile and, when certFile is set, presents
// that client certificate.
func TLSConfig(caFile, certFile, keyFile string) (*tls.Config, error) {
	pemData, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("CA certificate: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemData) {
		return nil, fmt.Errorf("CA certificate %s: no PEM certificate in it", caFile)
	}
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if certFile != "" {
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}
