package archive

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"gocloud.dev/blob"

	"github.com/sandwatch/sandwatch/internal/archive/digest"
	"github.com/sandwatch/sandwatch/internal/archive/sealed"
)

func testRing(t *testing.T, active string, ids ...string) *sealed.Ring {
	r := &sealed.Ring{Active: active}
	for _, id := range ids {
		require.NoError(t, r.Add(id, bytes.Repeat([]byte(id[len(id)-1:]), 32)))
	}
	return r
}

// TestEncryptedRoundTrip: sealed blocks and catalogs read back through
// Get, List, Stats and Compact, across a key rotation; a missing or wrong
// key is an error, never garbage.
func TestEncryptedRoundTrip(t *testing.T) {
	ctx := context.Background()
	b, _, err := Open(ctx, "file://"+t.TempDir(), S3Options{})
	require.NoError(t, err)
	defer b.Close()
	plain := Format{Encoding: EncodingProto, Compression: CompressionNone}
	w := &Writer{Bucket: b, Format: plain, Extensions: extOf, Keys: testRing(t, "k1", "k1")}
	_, err = w.WriteTraces(ctx, testTraces())
	require.NoError(t, err)
	// Rotate: k2 seals from now on, k1 stays listed for old objects.
	w.Keys = testRing(t, "k2", "k1", "k2")
	ld := plog.NewLogs()
	rec := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	rec.SetTraceID(tid(0x11))
	rec.Body().SetStr("a log line")
	_, err = w.WriteLogs(ctx, ld)
	require.NoError(t, err)

	var sealedKeys int
	it := b.List(nil)
	for {
		obj, err := it.Next(ctx)
		if err != nil {
			break
		}
		if strings.HasPrefix(obj.Key, BlocksPrefix) || strings.HasPrefix(obj.Key, IndexPrefix) {
			require.True(t, strings.HasSuffix(obj.Key, EncryptedExt), obj.Key)
			data, err := b.ReadAll(ctx, obj.Key)
			require.NoError(t, err)
			assert.NotContains(t, string(data), "root", "plaintext span name in %s", obj.Key)
			assert.NotContains(t, string(data), "ext-a", "plaintext extension in %s", obj.Key)
			sealedKeys++
		}
	}
	assert.Equal(t, 4, sealedKeys, "two blocks and two catalogs")

	r := &Reader{Bucket: b, Keys: testRing(t, "k2", "k1", "k2")}
	tr, err := r.Get(ctx, tid(0x11))
	require.NoError(t, err)
	assert.Equal(t, 4, tr.Spans)
	assert.Equal(t, 1, tr.Logs.LogRecordCount())
	list, err := r.List(ctx, ListOptions{})
	require.NoError(t, err)
	assert.Len(t, list, 2)
	st, err := r.Stats(ctx, Window{})
	require.NoError(t, err)
	assert.Equal(t, 8, st.Spans)
	_, err = r.Compact(ctx, Compaction{Fanout: 2})
	require.NoError(t, err)
	tr, err = r.Get(ctx, tid(0x22))
	require.NoError(t, err)
	assert.Equal(t, 4, tr.Spans)

	_, err = (&Reader{Bucket: b}).Get(ctx, tid(0x11))
	assert.ErrorIs(t, err, ErrEncrypted)
	_, err = (&Reader{Bucket: b}).List(ctx, ListOptions{})
	assert.ErrorIs(t, err, ErrEncrypted)
	_, err = (&Reader{Bucket: b, Keys: testRing(t, "k2", "k2")}).Get(ctx, tid(0x11))
	assert.ErrorIs(t, err, sealed.ErrNoKey, "k1 retired too early")
	wrong := &sealed.Ring{}
	require.NoError(t, wrong.Add("k1", bytes.Repeat([]byte{7}, 32)))
	require.NoError(t, wrong.Add("k2", bytes.Repeat([]byte{7}, 32)))
	_, err = (&Reader{Bucket: b, Keys: wrong}).Get(ctx, tid(0x11))
	assert.ErrorIs(t, err, sealed.ErrWrongKey)
}

// tamperArchive writes four digest intervals through a Digester on a fake
// clock and returns the bucket, the key and the digests' keys in order.
func tamperArchive(t *testing.T) (*blob.Bucket, ed25519.PrivateKey, []string) {
	ctx := context.Background()
	b, _, err := Open(ctx, "file://"+t.TempDir(), S3Options{})
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	_, priv, _ := ed25519.GenerateKey(nil)
	now := time.Now().Add(-3 * time.Hour)
	clock := func() time.Time { return now }
	d, err := StartDigester(ctx, b, DigestOptions{Writer: "host-a", Key: priv, Interval: time.Hour, Now: clock})
	require.NoError(t, err)
	w := &Writer{Bucket: b, Format: DefaultFormat, Extensions: extOf, Digester: d, Now: clock}
	for range 4 {
		for range 2 {
			_, err := w.WriteTraces(ctx, testTraces())
			require.NoError(t, err)
			now = now.Add(10 * time.Minute)
		}
		now = now.Add(30 * time.Minute)
		require.NoError(t, d.Flush(ctx))
	}
	require.NoError(t, d.Close(ctx))
	var digests []string
	it := b.List(&blob.ListOptions{Prefix: digest.Prefix})
	for {
		obj, err := it.Next(ctx)
		if err != nil {
			break
		}
		digests = append(digests, obj.Key)
	}
	require.Len(t, digests, 5, "four intervals and the one Close stores")
	return b, priv, digests
}

func verify(t *testing.T, b *blob.Bucket, pub ed25519.PublicKey) *digest.Report {
	rep, err := (&Reader{Bucket: b}).Verify(context.Background(), VerifyOptions{Keys: []ed25519.PublicKey{pub}})
	require.NoError(t, err)
	return rep
}

func namedIn(t *testing.T, b *blob.Bucket, key string) []string {
	raw, err := b.ReadAll(context.Background(), key)
	require.NoError(t, err)
	d, err := digest.Parse(key, raw)
	require.NoError(t, err)
	var out []string
	for _, o := range d.Objects {
		out = append(out, o.Key)
	}
	return out
}

func findings(rep *digest.Report) map[digest.Kind][]string {
	out := map[digest.Kind][]string{}
	for _, f := range rep.Findings {
		out[f.Kind] = append(out[f.Kind], f.Key)
	}
	return out
}

// TestTamperEvidence: an untouched archive verifies clean; each kind of
// tampering is named.
func TestTamperEvidence(t *testing.T) {
	ctx := context.Background()
	b, priv, digests := tamperArchive(t)
	pub := priv.Public().(ed25519.PublicKey)
	rep := verify(t, b, pub)
	require.Zero(t, rep.Failed(), "%+v", rep.Findings)
	assert.Equal(t, 5, rep.Digests)
	assert.Equal(t, 16, rep.Objects, "8 blocks, 8 catalogs")

	first := namedIn(t, b, digests[0]) // a block and a catalog of each of two writes
	var blocks []string
	for _, k := range first {
		if strings.HasPrefix(k, BlocksPrefix) {
			blocks = append(blocks, k)
		}
	}
	require.Len(t, blocks, 2)
	// Flip a byte in one block, delete the other.
	data, err := b.ReadAll(ctx, blocks[0])
	require.NoError(t, err)
	data[len(data)/2] ^= 0x01
	require.NoError(t, b.WriteAll(ctx, blocks[0], data, nil))
	require.NoError(t, b.Delete(ctx, blocks[1]))
	// Add a forged block.
	forged := BlocksPrefix + HourPrefix(time.Now().Add(-2*time.Hour)) + objectName(time.Now().Add(-2*time.Hour)) + ".spans.pb.zst"
	require.NoError(t, b.WriteAll(ctx, forged, []byte("forged"), nil))
	// Drop the second digest: its objects lose their vouching.
	dropped := namedIn(t, b, digests[1])
	require.NoError(t, b.Delete(ctx, digests[1]))
	// Re-sign the last digest with another key (as an attacker who
	// rewrote it must).
	raw, err := b.ReadAll(ctx, digests[4])
	require.NoError(t, err)
	d, err := digest.Parse(digests[4], raw)
	require.NoError(t, err)
	_, other, _ := ed25519.GenerateKey(nil)
	resigned, err := digest.Sign(d.Payload, other)
	require.NoError(t, err)
	require.NoError(t, b.WriteAll(ctx, digests[4], resigned, nil))

	rep = verify(t, b, pub)
	got := findings(rep)
	assert.Equal(t, []string{blocks[0]}, got[digest.Modified])
	assert.Equal(t, []string{blocks[1]}, got[digest.Deleted])
	assert.Contains(t, got[digest.Added], forged)
	for _, k := range dropped {
		assert.Contains(t, got[digest.Added], k, "named only by the dropped digest")
	}
	assert.Equal(t, []string{digests[2]}, got[digest.ChainBroken], "the digest after the dropped one")
	assert.Equal(t, []string{digests[4]}, got[digest.BadSignature])
	assert.Len(t, got[digest.Added], len(dropped)+1)
	assert.Equal(t, len(got[digest.Added])+4, rep.Failed(), "%+v", rep.Findings)
}

// TestPruneIsRecorded: a prune through a Digester is told apart from a
// deletion; one without is not.
func TestPruneIsRecorded(t *testing.T) {
	ctx := context.Background()
	b, priv, _ := tamperArchive(t)
	pub := priv.Public().(ed25519.PublicKey)
	cutoff := time.Now().Add(-90 * time.Minute)
	d, err := StartDigester(ctx, b, DigestOptions{Writer: "pruner", Key: priv})
	require.NoError(t, err)
	st, err := (&Reader{Bucket: b, Digester: d}).Prune(ctx, cutoff)
	require.NoError(t, err)
	require.Positive(t, st.Objects)
	require.NoError(t, d.Close(ctx))
	rep := verify(t, b, pub)
	assert.Zero(t, rep.Failed(), "%+v", rep.Findings)
	// Digests that ended before the cutoff went with their objects; the
	// objects of the one straddling it are reported pruned.
	assert.NotEmpty(t, findings(rep)[digest.Pruned])

	// The same without a record: the deletions are findings.
	b2, priv2, _ := tamperArchive(t)
	_, err = (&Reader{Bucket: b2}).Prune(ctx, cutoff)
	require.NoError(t, err)
	rep = verify(t, b2, priv2.Public().(ed25519.PublicKey))
	assert.NotEmpty(t, findings(rep)[digest.Deleted])
	assert.NotEmpty(t, findings(rep)[digest.ChainBroken])
}

// TestDigestChainAcrossRestart: a writer that restarts continues its
// chain from the newest digest in the store; verify stays clean.
func TestDigestChainAcrossRestart(t *testing.T) {
	ctx := context.Background()
	b, priv, digests := tamperArchive(t)
	d, err := StartDigester(ctx, b, DigestOptions{Writer: "host-a", Key: priv})
	require.NoError(t, err)
	w := &Writer{Bucket: b, Format: DefaultFormat, Extensions: extOf, Digester: d}
	_, err = w.WriteTraces(ctx, testTraces())
	require.NoError(t, err)
	require.NoError(t, d.Close(ctx))
	rep := verify(t, b, priv.Public().(ed25519.PublicKey))
	assert.Zero(t, rep.Failed(), "%+v", rep.Findings)
	assert.Equal(t, len(digests)+1, rep.Digests)
	assert.Equal(t, 18, rep.Objects)
}
