package forensic

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"gocloud.dev/blob"

	"github.com/sandwatch/sandwatch/cmd/sandwatchctl/forensics"
	"github.com/sandwatch/sandwatch/internal/archive"
	"github.com/sandwatch/sandwatch/internal/archive/digest"
	"github.com/sandwatch/sandwatch/internal/otlpsend"
	"github.com/sandwatch/sandwatch/internal/simulate"
	"github.com/sandwatch/sandwatch/test/testutil"
)

// fileStore is a file:// archive: nothing to start.
type fileStore struct{ dir string }

func (f fileStore) StoreURL() string { return "file://" + f.dir }
func (f fileStore) YAML() string     { return "store: file://" + f.dir }
func (fileStore) Start()             {}
func (fileStore) Stop()              {}

// ctlErr runs sandwatchctl forensics and returns its output and error.
func ctlErr(args ...string) (string, error) {
	cmd := forensics.NewCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

// sendRounds sends rounds of simulated invocations, pause apart, and
// waits until the archive holds them all.
func sendRounds(t *testing.T, s store, p ports, rounds int, pause time.Duration, r *archive.Reader) map[string]int {
	t.Helper()
	snd, err := otlpsend.New("grpc", fmt.Sprintf("127.0.0.1:%d", p.otlp))
	require.NoError(t, err)
	defer snd.Close()
	g := simulate.New(simulate.Options{Seed: 5, Extensions: 10})
	want := map[string]int{}
	for round := range rounds {
		for i := range 5 {
			td, _ := g.Invocation(round*5+i, time.Now())
			want[archive.TraceHex(td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).TraceID())] = td.SpanCount()
			body, _ := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
			_, err := snd.Send(context.Background(), otlpsend.Traces, body)
			require.NoError(t, err)
		}
		testutil.WaitAllArchived(t, testutil.NewAcked(want), r, 30*time.Second)
		time.Sleep(pause)
	}
	return want
}

// digestsOf reads the writer's digests in chain order.
func digestsOf(t *testing.T, b *blob.Bucket, writer string) []*digest.Digest {
	t.Helper()
	ctx := context.Background()
	var out []*digest.Digest
	it := b.List(&blob.ListOptions{Prefix: digest.Prefix + writer + "/"})
	for {
		obj, err := it.Next(ctx)
		if err != nil {
			break
		}
		raw, err := b.ReadAll(ctx, obj.Key)
		require.NoError(t, err)
		d, err := digest.Parse(obj.Key, raw)
		require.NoError(t, err)
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out
}

func blocksOf(d *digest.Digest) []string {
	var out []string
	for _, o := range d.Objects {
		if strings.HasPrefix(o.Key, archive.BlocksPrefix) {
			out = append(out, o.Key)
		}
	}
	return out
}

// TestTamperEvidence: the collector signs digests as it writes; an
// untouched archive verifies clean, and verify names each tampering (a
// flipped byte, a deleted block, a forged block, a dropped digest, a
// digest re-signed with another key) and exits non-zero; on file:// and
// on S3.
func TestTamperEvidence(t *testing.T) {
	for _, st := range []struct {
		name  string
		start func(*testing.T) store
	}{
		{"file", func(t *testing.T) store { return fileStore{t.TempDir()} }},
		{"s3", func(t *testing.T) store { return startS3(t) }},
	} {
		t.Run(st.name, func(t *testing.T) { tamperEvidence(t, st.start(t)) })
	}
}

func tamperEvidence(t *testing.T, s store) {
	ctx := context.Background()
	keyFile := filepath.Join(t.TempDir(), "signing.pem")
	out := ctl(t, "keygen", "--out", keyFile)
	require.Contains(t, out, "key id")
	p := newPorts(t)
	integrity := fmt.Sprintf("integrity: {signing_key_file: %s, writer_id: e2e-writer, interval: 1s}", keyFile)
	c := startCollector(t, collectorConfigWith(s, p, t.TempDir(), integrity, ""), p)
	r := reader(t, s)
	sendRounds(t, s, p, 4, 1500*time.Millisecond, r)
	c.Stop() // a graceful stop stores the last interval's digest
	// The writer stopped gracefully: nothing was in flight at its last
	// digest, so nothing unnamed is pending.
	store := []string{"--store", s.StoreURL(), "--public-key", keyFile + ".pub", "--pending-slack", "0s"}

	out, err := ctlErr(append([]string{"verify"}, store...)...)
	require.NoError(t, err, out)
	require.Contains(t, out, " 0 findings", out)
	t.Logf("clean:\n%s", out)

	ds := digestsOf(t, r.Bucket, "e2e-writer")
	var withBlocks []*digest.Digest
	for _, d := range ds {
		if len(blocksOf(d)) > 0 {
			withBlocks = append(withBlocks, d)
		}
	}
	require.GreaterOrEqual(t, len(withBlocks), 3, "digests naming blocks, of %d", len(ds))
	last := ds[len(ds)-1]
	require.NotSame(t, withBlocks[2], last, "the dropped digest is not the last")

	flipped, deleted := blocksOf(withBlocks[0])[0], blocksOf(withBlocks[1])[0]
	data, err := r.Bucket.ReadAll(ctx, flipped)
	require.NoError(t, err)
	data[len(data)/2] ^= 0x01
	require.NoError(t, r.Bucket.WriteAll(ctx, flipped, data, nil))
	require.NoError(t, r.Bucket.Delete(ctx, deleted))
	at := time.Now().Add(-time.Minute)
	forged := fmt.Sprintf("%s%s%019d-0123456789abcdef.spans.pb.zst", archive.BlocksPrefix, archive.HourPrefix(at), at.UnixNano())
	require.NoError(t, r.Bucket.WriteAll(ctx, forged, []byte("forged spans"), nil))
	dropped := withBlocks[2]
	require.NoError(t, r.Bucket.Delete(ctx, dropped.Key))
	_, other, _ := ed25519.GenerateKey(nil)
	resigned, err := digest.Sign(last.Payload, other)
	require.NoError(t, err)
	require.NoError(t, r.Bucket.WriteAll(ctx, last.Key, resigned, nil))

	out, err = ctlErr(append([]string{"verify"}, store...)...)
	require.Error(t, err, "verify must exit non-zero:\n%s", out)
	t.Logf("tampered:\n%s", out)
	line := func(kind digest.Kind, key string) {
		t.Helper()
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, " "+string(kind)+" ") && strings.Contains(l, key) {
				return
			}
		}
		t.Errorf("verify did not report %s %s", kind, key)
	}
	line(digest.Modified, flipped)
	line(digest.Deleted, deleted)
	line(digest.Added, forged)
	for _, k := range blocksOf(dropped) {
		line(digest.Added, k)
	}
	line(digest.ChainBroken, ds[indexOf(ds, dropped)+1].Key)
	line(digest.BadSignature, last.Key)
}

func indexOf(ds []*digest.Digest, d *digest.Digest) int {
	for i := range ds {
		if ds[i] == d {
			return i
		}
	}
	return -1
}

// TestEncryptedArchive: the collector seals what it writes; get, list,
// replay and forensic_query read it with the keys (after a rotation),
// and without them fail with a clear error.
func TestEncryptedArchive(t *testing.T) {
	dir := t.TempDir()
	s := fileStore{dir}
	keyDir := t.TempDir()
	k1 := filepath.Join(keyDir, "k1")
	require.NoError(t, os.WriteFile(k1, []byte(strings.Repeat("11", 32)+"\n"), 0o600))
	t.Setenv("SANDWATCH_TEST_KEK2", strings.Repeat("22", 32))
	p := newPorts(t)
	enc := func(active string) string {
		return fmt.Sprintf("encryption:\n  active_key: %s\n  keys:\n    - {id: k1, file: %s}\n    - {id: k2, env: SANDWATCH_TEST_KEK2}", active, k1)
	}
	cfg := func(active string) string { return collectorConfigWith(s, p, t.TempDir(), enc(active), enc("")) }
	c := startCollector(t, cfg("k1"), p)
	r := reader(t, s)
	ring, err := archive.Encryption{Keys: []archive.KeySource{{ID: "k1", File: k1}, {ID: "k2", Env: "SANDWATCH_TEST_KEK2"}}}.Ring()
	require.NoError(t, err)
	r.Keys = ring
	first := sendRounds(t, s, p, 1, 0, r)
	c.Stop()
	// Rotate: k2 seals new objects; k1 stays listed for the old ones.
	c = startCollector(t, cfg("k2"), p)
	want := sendRounds(t, s, p, 2, 0, r)
	for id, n := range first {
		want[id] = n
	}
	var anyID string
	for id := range first {
		anyID = id
	}
	keys := []string{"--store", s.StoreURL(), "--key", "k1=file:" + k1, "--key", "k2=env:SANDWATCH_TEST_KEK2"}
	out := ctl(t, append([]string{"get", anyID}, keys...)...)
	assert.Contains(t, out, anyID[:8])
	out = ctl(t, append([]string{"list"}, keys...)...)
	for id := range want {
		assert.Contains(t, out, id)
	}
	out = ctl(t, append([]string{"replay", "--endpoint", fmt.Sprintf("127.0.0.1:%d", p.otlp), anyID}, keys...)...)
	assert.Contains(t, out, fmt.Sprintf("replayed 1 traces, %d spans", first[anyID]))
	code, body := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/api/v2/traces/%s", p.query, anyID), "application/json")
	assert.Equal(t, 200, code, string(body))

	out, err = ctlErr("get", anyID, "--store", s.StoreURL())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "encrypted", out)
	out, err = ctlErr("get", anyID, "--store", s.StoreURL(), "--key", "k2=env:SANDWATCH_TEST_KEK2")
	require.Error(t, err, "k1 is needed for the first objects")
	assert.Contains(t, err.Error(), `"k1"`, out)
	t.Setenv("SANDWATCH_TEST_WRONG", strings.Repeat("33", 32))
	_, err = ctlErr("list", "--store", s.StoreURL(), "--key", "k1=env:SANDWATCH_TEST_WRONG", "--key", "k2=env:SANDWATCH_TEST_WRONG")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "does not open", err.Error())
	c.Stop()
}
