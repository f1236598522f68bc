package archive

import (
	"context"
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
)

// Anomaly index objects are digested like catalogs: an untouched archive
// verifies clean, a deleted anomaly index is named.
func TestAnomalyIndexVerified(t *testing.T) {
	ctx := context.Background()
	b, _, err := Open(ctx, "file://"+t.TempDir(), S3Options{})
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	_, priv, _ := ed25519.GenerateKey(nil)
	now := time.Now().Add(-2 * time.Hour)
	clock := func() time.Time { return now }
	d, err := StartDigester(ctx, b, DigestOptions{Writer: "host-a", Key: priv, Interval: time.Hour, Now: clock})
	require.NoError(t, err)
	w := &Writer{Bucket: b, Format: DefaultFormat, Digester: d, Now: clock,
		Anomalies: AnomalyFinder{EventName: "sandbox.anomaly", TypeKey: "anomaly.type"}.Find}
	ld := plog.NewLogs()
	r := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	r.SetEventName("sandbox.anomaly")
	r.SetTraceID(tid(0x42))
	r.Attributes().PutStr("anomaly.type", "recon")
	_, err = w.WriteLogs(ctx, ld)
	require.NoError(t, err)
	require.NoError(t, d.Close(ctx))

	pub := priv.Public().(ed25519.PublicKey)
	rep := verify(t, b, pub)
	require.Zero(t, rep.Failed(), "%+v", rep.Findings)
	require.Equal(t, 3, rep.Objects, "block, catalog, anomaly index")

	keys, err := (&Reader{Bucket: b}).keysIn(ctx, IndexPrefix, Window{}, isAnomalyKey)
	require.NoError(t, err)
	require.Len(t, keys, 1)
	require.True(t, strings.HasSuffix(keys[0], ".anom.json.zst"), keys[0])
	require.NoError(t, b.Delete(ctx, keys[0]))
	rep = verify(t, b, pub)
	require.NotZero(t, rep.Failed())
	require.Contains(t, findings(rep)["deleted"], keys[0])
}
