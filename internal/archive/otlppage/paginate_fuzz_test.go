package otlppage

import (
	"bytes"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"google.golang.org/protobuf/encoding/protowire"
)

// FuzzPaginate: arbitrary bytes never panic the pager, and whatever it
// accepts it cuts so that
//   - every item of the input (field 2 of a scope of a resource) is on
//     exactly one page, in input order, byte for byte, and the returned
//     item pages say which;
//   - every page is a TracesData (LogsData) pdata reads when the input
//     is one, with as many spans (records) in all as the input;
//   - no page is cut early: a page and the first item of the next would
//     have passed target; every page holds an item;
//   - a Pager reused across calls cuts the same bytes as a fresh one.
func FuzzPaginate(f *testing.F) {
	raw, _ := (&ptrace.ProtoMarshaler{}).MarshalTraces(twoResources())
	f.Add(raw, 100)
	f.Add([]byte{0x0a, 0x02, 0x12, 0x00}, 10)
	f.Add(unknownFields(), 200)
	f.Add(emptyParts(), 50)
	logs, _ := (&plog.ProtoMarshaler{}).MarshalLogs(someLogs())
	f.Add(logs, 700)
	sc, _ := (&ptrace.ProtoMarshaler{}).MarshalTraces(scopesAndSchemas())
	f.Add(sc, 600)
	var reused Pager
	f.Fuzz(func(t *testing.T, data []byte, target int) {
		target = max(target, 1)
		pages, pos, err := collectPages(data, target)
		if err != nil {
			return
		}
		// A reused pager (dirty from the last input) cuts the same.
		var again [][]byte
		pos2, err := reused.Paginate(data, target, func(p []byte) error {
			again = append(again, bytes.Clone(p))
			return nil
		})
		if err != nil || len(again) != len(pages) || !equalInts(pos, pos2) {
			t.Fatalf("a reused pager cut differently: %v", err)
		}
		for i := range pages {
			if !bytes.Equal(pages[i], again[i]) {
				t.Fatalf("page %d differs with a reused pager", i)
			}
		}

		want := wireItems(t, data)
		if len(pos) != len(want) {
			t.Fatalf("%d item pages for %d items", len(pos), len(want))
		}
		var got [][]byte
		for i, p := range pages {
			items := wireItems(t, p)
			if len(items) == 0 {
				t.Fatalf("page %d holds no item", i)
			}
			for range items {
				if n := len(got); pos[n] != int32(i) {
					t.Fatalf("item %d is on page %d, Paginate said %d", n, i, pos[n])
				}
				got = append(got, nil)
			}
			got = append(got[:len(got)-len(items)], items...)
			if i+1 < len(pages) {
				if next := wireItems(t, pages[i+1])[0]; pageSize(t, p)+len(next) <= target {
					t.Fatalf("page %d (%d bytes as counted) cut before an item of %d, target %d", i, pageSize(t, p), len(next), target)
				}
			}
		}
		if len(got) != len(want) {
			t.Fatalf("pages hold %d items, input %d", len(got), len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("item %d differs from the input's", i)
			}
		}

		if td, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(data); err == nil {
			n := 0
			for i, p := range pages {
				pt, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(p)
				if err != nil {
					t.Fatalf("page %d does not decode as TracesData: %v", i, err)
				}
				n += pt.SpanCount()
			}
			if n != td.SpanCount() {
				t.Fatalf("pages hold %d spans, input %d", n, td.SpanCount())
			}
		}
		if ld, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(data); err == nil {
			n := 0
			for i, p := range pages {
				pl, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(p)
				if err != nil {
					t.Fatalf("page %d does not decode as LogsData: %v", i, err)
				}
				n += pl.LogRecordCount()
			}
			if n != ld.LogRecordCount() {
				t.Fatalf("pages hold %d records, input %d", n, ld.LogRecordCount())
			}
		}
	})
}

// wireItems lists the items of a TracesData/LogsData as whole fields, in
// wire order, the way the message's shape (not the pager) defines them.
func wireItems(t *testing.T, data []byte) [][]byte {
	var items [][]byte
	for _, res := range fields(t, data, 1) {
		for _, scope := range fields(t, fieldValue(res), 2) {
			items = append(items, fields(t, fieldValue(scope), 2)...)
		}
	}
	return items
}

// fields returns msg's length-delimited fields numbered num, whole.
func fields(t *testing.T, msg []byte, num protowire.Number) [][]byte {
	var out [][]byte
	for len(msg) > 0 {
		n2, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			t.Fatal("malformed field accepted")
		}
		m := protowire.ConsumeFieldValue(n2, typ, msg[n:])
		if m < 0 {
			t.Fatal("malformed field accepted")
		}
		if n2 == num && typ == protowire.BytesType {
			out = append(out, msg[:n+m])
		}
		msg = msg[n+m:]
	}
	return out
}

// pageSize is a page's size as the pager counts it against target: its
// items, and each resource and scope header with 8 bytes of framing.
func pageSize(t *testing.T, page []byte) int {
	n := 0
	for _, res := range fields(t, page, 1) {
		rv := fieldValue(res)
		n += headerLen(t, rv) + 8
		for _, scope := range fields(t, rv, 2) {
			sv := fieldValue(scope)
			n += headerLen(t, sv) + 8
			for _, it := range fields(t, sv, 2) {
				n += len(it)
			}
		}
	}
	return n
}

// headerLen is the length of msg's fields other than field 2.
func headerLen(t *testing.T, msg []byte) int {
	n := len(msg)
	for _, c := range fields(t, msg, 2) {
		n -= len(c)
	}
	return n
}

func equalInts(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
