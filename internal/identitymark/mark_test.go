package identitymark

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

func TestCheckNeedsTheResourceFlag(t *testing.T) {
	rec := pcommon.NewMap()
	rec.PutStr(Mismatch, ReasonForgedStamp)
	res := pcommon.NewMap()
	if _, ok := Check(res, rec); ok {
		t.Fatal("a record attribute alone flagged the record")
	}
	res.PutStr(Flagged, "true") // not a bool: not the processor's
	if _, ok := Check(res, rec); ok {
		t.Fatal("a string flag on the resource counted")
	}
	res.PutBool(Flagged, true)
	if r, ok := Check(res, rec); !ok || r != ReasonForgedStamp {
		t.Fatalf("Check = %q, %v", r, ok)
	}
	if _, ok := Check(res, pcommon.NewMap()); ok {
		t.Fatal("an unflagged record under a flagged resource counted")
	}
}
