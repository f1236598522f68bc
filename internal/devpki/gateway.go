package devpki

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Names the gateway kit's certificates carry.
const (
	// ServerName is tier 2's DNS SAN, which tier 1 verifies
	// (SANDWATCH_TIER2_SERVER_NAME).
	ServerName = "sandwatch-tier2"
	// ForwarderName is tier 1's client certificate (SANDWATCH_FORWARDER_NAME).
	ForwarderName = "sandwatch-tier1"
	// SenderName is the sender's client certificate and its identity.
	SenderName = "simulator"
)

// Gateway is everything config/gateway-tier1.yaml and gateway-tier2.yaml
// read, for one test or benchmark run: a CA, a server certificate for
// loopback and ServerName, tier 1's client certificate, a sender's client
// certificate and token, a query token, and a bindings file that binds
// the sender to its extensions.
type Gateway struct {
	Dir        string
	CA         *CA
	Token      string
	QueryToken string
}

// NewGateway writes the kit under dir. The sender is bound to the given
// extension ids (none: to "*", every extension).
func NewGateway(dir string, extensions ...string) (*Gateway, error) {
	ca, err := NewCA("sandwatch test CA")
	if err != nil {
		return nil, err
	}
	g := &Gateway{Dir: dir, CA: ca, Token: randomToken(), QueryToken: randomToken()}
	server, err := ca.Issue(Options{CommonName: ServerName, DNSNames: []string{ServerName, "localhost"},
		IPs: []net.IP{net.ParseIP("127.0.0.1")}, Server: true})
	if err != nil {
		return nil, err
	}
	fwd, err := ca.Issue(Options{CommonName: ForwarderName, Client: true})
	if err != nil {
		return nil, err
	}
	sender, err := ca.Issue(Options{CommonName: SenderName, Client: true})
	if err != nil {
		return nil, err
	}
	for sub, leaf := range map[string]*Leaf{"server": server, "forwarder": fwd, "sender": sender} {
		if err := WriteDir(filepath.Join(dir, sub), ca, leaf); err != nil {
			return nil, err
		}
	}
	files := map[string]string{
		"tokens":       g.Token + "\n",
		"query-tokens": g.QueryToken + "\n",
		"identities.yaml": fmt.Sprintf("identities:\n  - name: %s\n    cert_common_names: [%s]\n    tokens_sha256: [%s]\n    extensions: [%s]\n",
			SenderName, SenderName, Digest(g.Token), quoted(extensions)),
	}
	for name, data := range files {
		if err := WriteFile(filepath.Join(dir, name), []byte(data)); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// CollectorEnv is the environment both tiers read the kit from.
func (g *Gateway) CollectorEnv() []string {
	return []string{
		"SANDWATCH_TLS_DIR=" + filepath.Join(g.Dir, "server"),
		"SANDWATCH_FORWARDER_TLS_DIR=" + filepath.Join(g.Dir, "forwarder"),
		"SANDWATCH_TIER2_SERVER_NAME=" + ServerName,
		"SANDWATCH_FORWARDER_NAME=" + ForwarderName,
		"SANDWATCH_TOKENS_FILE=" + filepath.Join(g.Dir, "tokens"),
		"SANDWATCH_QUERY_TOKENS_FILE=" + filepath.Join(g.Dir, "query-tokens"),
		"SANDWATCH_IDENTITY_BINDINGS=" + filepath.Join(g.Dir, "identities.yaml"),
	}
}

// SenderEnv is the standard OTLP exporter environment (which
// internal/otlpsend, and so `sandwatchctl simulate`, reads) for the
// sender's certificate and token.
func (g *Gateway) SenderEnv() []string {
	return []string{
		"OTEL_EXPORTER_OTLP_CERTIFICATE=" + filepath.Join(g.Dir, "sender", "ca.crt"),
		"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE=" + filepath.Join(g.Dir, "sender", "tls.crt"),
		"OTEL_EXPORTER_OTLP_CLIENT_KEY=" + filepath.Join(g.Dir, "sender", "tls.key"),
		"OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer%20" + g.Token,
	}
}

// Setenv applies SenderEnv to this process (tests call t.Setenv instead).
func Setenv(env []string) error {
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if err := os.Setenv(k, v); err != nil {
			return err
		}
	}
	return nil
}

// Digest is the hex SHA-256 a bindings file names a token by.
func Digest(token string) string {
	d := sha256.Sum256([]byte(token))
	return hex.EncodeToString(d[:])
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// quoted is a YAML flow list of ids, "*" when there are none.
func quoted(ids []string) string {
	if len(ids) == 0 {
		return `"*"`
	}
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = strconv.Quote(id)
	}
	return strings.Join(q, ", ")
}
