package credential

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net/url"
	"testing"

	"go.opentelemetry.io/collector/client"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
)

type basicAuth struct{ user string }

func (b basicAuth) GetAttribute(name string) any {
	if name == "username" {
		return b.user
	}
	return nil
}
func (basicAuth) GetAttributeNames() []string { return []string{"username"} }

func TestFromContext(t *testing.T) {
	cert := &x509.Certificate{Subject: pkix.Name{CommonName: "node-7"}, DNSNames: []string{"node-7.sandbox"},
		URIs: []*url.URL{{Scheme: "spiffe", Host: "cluster", Path: "/sa/node-7"}}}
	ctx := client.NewContext(context.Background(), client.Info{
		Metadata: client.NewMetadata(map[string][]string{"Authorization": {"Bearer s3cret"}}),
		Auth:     basicAuth{user: "mcp-runner"},
	})
	verified := tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}, VerifiedChains: [][]*x509.Certificate{{cert}}}
	ctx = peer.NewContext(ctx, &peer.Peer{AuthInfo: credentials.TLSInfo{State: verified}})
	c := FromContext(ctx, "authorization")
	if c.Token != "s3cret" || c.Username != "mcp-runner" || c.CertCommonName != "node-7" {
		t.Fatalf("got %+v", c)
	}
	if len(c.CertSANs) != 2 || c.CertSANs[0] != "node-7.sandbox" || c.CertSANs[1] != "spiffe://cluster/sa/node-7" {
		t.Fatalf("SANs %v", c.CertSANs)
	}
}

func TestUnverifiedCertificateIgnored(t *testing.T) {
	cert := &x509.Certificate{Subject: pkix.Name{CommonName: "sandwatch-tier1"}}
	unverified := tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}}
	ctx := peer.NewContext(context.Background(), &peer.Peer{AuthInfo: credentials.TLSInfo{State: unverified}})
	if c := FromContext(ctx, "authorization"); c.CertCommonName != "" {
		t.Fatalf("an unverified certificate was believed: %+v", c)
	}
}

func TestStripScheme(t *testing.T) {
	for in, want := range map[string]string{"Bearer abc": "abc", "bearer  abc": "abc", "abc": "abc", "Basic abc": "Basic abc", "Bearer ": "Bearer "} {
		if got := stripScheme(in); got != want {
			t.Errorf("stripScheme(%q) = %q, want %q", in, got, want)
		}
	}
}
