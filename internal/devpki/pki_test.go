package devpki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestIssueAndVerify(t *testing.T) {
	ca, err := NewCA("ca")
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewCA("other")
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	opts := x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	good, _ := ca.Issue(Options{CommonName: "agent-a", Client: true})
	if _, err := good.Cert.Verify(opts); err != nil {
		t.Fatalf("a client certificate of the CA does not verify: %v", err)
	}
	expired, _ := ca.Issue(Options{CommonName: "old", Client: true, NotBefore: time.Now().Add(-2 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})
	var inv x509.CertificateInvalidError
	if _, err := expired.Cert.Verify(opts); !errors.As(err, &inv) || inv.Reason != x509.Expired {
		t.Fatalf("expired: %v", err)
	}
	foreign, _ := other.Issue(Options{CommonName: "agent-a", Client: true})
	if _, err := foreign.Cert.Verify(opts); !errors.As(err, new(x509.UnknownAuthorityError)) {
		t.Fatalf("other CA: %v", err)
	}
	if _, err := tls.X509KeyPair(good.CertPEM, good.KeyPEM); err != nil {
		t.Fatalf("key pair: %v", err)
	}
}

func TestGatewayKit(t *testing.T) {
	g, err := NewGateway(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"server/tls.crt", "server/tls.key", "server/ca.crt", "forwarder/tls.crt", "sender/tls.key", "tokens", "query-tokens", "identities.yaml"} {
		if _, err := os.Stat(filepath.Join(g.Dir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	b, _ := os.ReadFile(filepath.Join(g.Dir, "identities.yaml"))
	if !strings.Contains(string(b), Digest(g.Token)) || strings.Contains(string(b), g.Token) {
		t.Errorf("bindings must name the token by digest only:\n%s", b)
	}
}
