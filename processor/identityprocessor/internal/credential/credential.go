// Package credential reads what a request proved about its sender from
// the context the receiver passed down: the bearer token and basic-auth
// user from client.Info, the verified client certificate from the gRPC
// peer.
package credential

import (
	"context"
	"crypto/x509"
	"strings"

	"go.opentelemetry.io/collector/client"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"

	"github.com/sandwatch/sandwatch/processor/identityprocessor/internal/binding"
)

// FromContext returns the credentials of the request that ctx belongs to.
//   - The token is the value of metadata key tokenKey (the receiver needs
//     `include_metadata: true`; the collector lower-cases keys), without a
//     "Bearer " scheme. The receiver's authenticator has already checked it.
//   - The user name is what a basic-auth authenticator verified.
//   - The certificate is the gRPC peer's, only when its chain was verified
//     (the receiver's tls.client_ca_file). confighttp does not put the TLS
//     state in the context, so on OTLP/HTTP only the token and user count.
func FromContext(ctx context.Context, tokenKey string) binding.Credentials {
	var c binding.Credentials
	info := client.FromContext(ctx)
	if vals := info.Metadata.Get(tokenKey); len(vals) > 0 {
		c.Token = stripScheme(vals[0])
	}
	if info.Auth != nil {
		if u, ok := info.Auth.GetAttribute("username").(string); ok {
			c.Username = u
		}
	}
	if p, ok := peer.FromContext(ctx); ok {
		if ti, ok := p.AuthInfo.(credentials.TLSInfo); ok && len(ti.State.VerifiedChains) > 0 && len(ti.State.PeerCertificates) > 0 {
			fromCertificate(ti.State.PeerCertificates[0], &c)
		}
	}
	return c
}

func fromCertificate(cert *x509.Certificate, c *binding.Credentials) {
	c.CertCommonName = cert.Subject.CommonName
	c.CertSANs = append(c.CertSANs, cert.DNSNames...)
	for _, u := range cert.URIs {
		c.CertSANs = append(c.CertSANs, u.String())
	}
	c.CertSANs = append(c.CertSANs, cert.EmailAddresses...)
	for _, ip := range cert.IPAddresses {
		c.CertSANs = append(c.CertSANs, ip.String())
	}
}

// stripScheme removes a leading "Bearer " (any case) from an
// Authorization value.
func stripScheme(v string) string {
	const scheme = "bearer "
	if len(v) > len(scheme) && strings.EqualFold(v[:len(scheme)], scheme) {
		return strings.TrimSpace(v[len(scheme):])
	}
	return v
}
