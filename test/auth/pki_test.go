package auth

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sandwatch/sandwatch/internal/devpki"
	"github.com/sandwatch/sandwatch/internal/otlpsend"
)

var loopbackIPs = []net.IP{net.ParseIP("127.0.0.1")}

// Tokens and names of the test's principals.
const (
	tokenB = "token-of-agent-b-0123456789"
	// tokenUnbound passes bearertokenauth but no identity names it.
	tokenUnbound = "token-nobody-bound-0123456789"
	tokenQuery   = "grafana-query-token-0123456789"
)

// kit is the suite's PKI and identity files, written to dir the way the
// gateway configs read them (SANDWATCH_TLS_DIR and friends):
//   - a CA; the server certificate (127.0.0.1, sandwatch-tier2);
//   - client certificates: agent-a (bound to ext-a), rogue (bound to
//     ext-r), tier 1's (sandwatch-tier1), one expired, one from another CA;
//   - agent-b's bearer token (bound to ext-b), Grafana's query token.
type kit struct {
	dir      string
	ca       *devpki.CA
	clients  string // dir of client certificates: <name>.crt, <name>.key
	serverCA string
}

func newKit(t *testing.T) *kit {
	t.Helper()
	k := &kit{dir: t.TempDir()}
	k.clients = filepath.Join(k.dir, "clients")
	must(t, os.MkdirAll(k.clients, 0o700))
	var err error
	k.ca, err = devpki.NewCA("sandwatch auth-suite CA")
	must(t, err)
	other, err := devpki.NewCA("some other CA")
	must(t, err)
	k.rotateServer(t)
	fwd, err := k.ca.Issue(devpki.Options{CommonName: devpki.ForwarderName, Client: true})
	must(t, err)
	must(t, devpki.WriteDir(filepath.Join(k.dir, "forwarder"), k.ca, fwd))
	issue := func(name string, ca *devpki.CA, o devpki.Options) {
		o.Client = true
		leaf, err := ca.Issue(o)
		must(t, err)
		must(t, devpki.WriteFile(filepath.Join(k.clients, name+".crt"), leaf.CertPEM))
		must(t, devpki.WriteFile(filepath.Join(k.clients, name+".key"), leaf.KeyPEM))
	}
	issue("agent-a", k.ca, devpki.Options{CommonName: "agent-a"})
	issue("rogue", k.ca, devpki.Options{CommonName: "rogue"})
	issue("expired", k.ca, devpki.Options{CommonName: "agent-a", NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	issue("other-ca", other, devpki.Options{CommonName: "agent-a"})
	k.serverCA = filepath.Join(k.dir, "server", "ca.crt")
	must(t, devpki.WriteFile(filepath.Join(k.dir, "tokens"), []byte(tokenB+"\n"+tokenUnbound+"\n")))
	must(t, devpki.WriteFile(filepath.Join(k.dir, "query-tokens"), []byte(tokenQuery+"\n")))
	k.bind(t, "ext-a")
	return k
}

// bind (re)writes the bindings: agent-a may report aExts, agent-b (by
// token) ext-b, rogue ext-r.
func (k *kit) bind(t *testing.T, aExts ...string) {
	t.Helper()
	must(t, devpki.WriteFile(filepath.Join(k.dir, "identities.yaml"), []byte(fmt.Sprintf(`identities:
  - name: agent-a
    cert_common_names: [agent-a]
    extensions: [%s]
  - name: agent-b
    tokens_sha256: [%s]
    extensions: [ext-b]
  - name: rogue
    cert_common_names: [rogue]
    extensions: [ext-r]
`, strings.Join(aExts, ", "), devpki.Digest(tokenB)))))
}

// rotateServer writes a new server certificate (same CA, new serial) and
// returns its serial.
func (k *kit) rotateServer(t *testing.T) string {
	t.Helper()
	leaf, err := k.ca.Issue(devpki.Options{CommonName: devpki.ServerName, DNSNames: []string{devpki.ServerName}, IPs: loopbackIPs, Server: true})
	must(t, err)
	must(t, devpki.WriteDir(filepath.Join(k.dir, "server"), k.ca, leaf))
	return leaf.Cert.SerialNumber.String()
}

// addClientCA makes a second CA, issues agent-a a certificate from it
// (clients/agent-a-ca2) and returns a function that appends the new CA to
// the CA file the listeners verify client certificates with.
func (k *kit) addClientCA(t *testing.T) (trust func()) {
	t.Helper()
	ca2, err := devpki.NewCA("sandwatch auth-suite CA, next generation")
	must(t, err)
	leaf, err := ca2.Issue(devpki.Options{CommonName: "agent-a", Client: true})
	must(t, err)
	must(t, devpki.WriteFile(filepath.Join(k.clients, "agent-a-ca2.crt"), leaf.CertPEM))
	must(t, devpki.WriteFile(filepath.Join(k.clients, "agent-a-ca2.key"), leaf.KeyPEM))
	return func() {
		must(t, devpki.WriteFile(k.serverCA, append(append([]byte(nil), k.ca.PEM...), ca2.PEM...)))
	}
}

func (k *kit) env() []string {
	return []string{
		"SANDWATCH_TLS_DIR=" + filepath.Join(k.dir, "server"),
		"SANDWATCH_FORWARDER_TLS_DIR=" + filepath.Join(k.dir, "forwarder"),
		"SANDWATCH_TIER2_SERVER_NAME=" + devpki.ServerName,
		"SANDWATCH_FORWARDER_NAME=" + devpki.ForwarderName,
		"SANDWATCH_TOKENS_FILE=" + filepath.Join(k.dir, "tokens"),
		"SANDWATCH_QUERY_TOKENS_FILE=" + filepath.Join(k.dir, "query-tokens"),
		"SANDWATCH_IDENTITY_BINDINGS=" + filepath.Join(k.dir, "identities.yaml"),
		"SANDWATCH_TLS_RELOAD_INTERVAL=1s",
		"SANDWATCH_IDENTITY_RELOAD_INTERVAL=1s",
	}
}

// tls returns a client TLS config trusting the suite's CA and presenting
// the named client certificate ("" for none).
func (k *kit) tls(t *testing.T, client string) *tls.Config {
	t.Helper()
	cert, key := "", ""
	if client != "" {
		cert, key = filepath.Join(k.clients, client+".crt"), filepath.Join(k.clients, client+".key")
	}
	cfg, err := otlpsend.TLSConfig(k.serverCA, cert, key)
	must(t, err)
	if len(cfg.Certificates) == 1 {
		// Present the certificate whatever CAs the server asks for (Go
		// would otherwise send none for another CA's): the server must
		// refuse it itself.
		pair := cfg.Certificates[0]
		cfg.Certificates = nil
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &pair, nil }
	}
	return cfg
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
