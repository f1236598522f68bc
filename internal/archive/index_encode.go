package archive

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// appendIndexLine appends e as encoding/json (SetEscapeHTML(false))
// renders it, newline included, without reflection: a catalog has a line
// per trace and reflection made it a visible share of every write.
// TestAppendIndexLineMatchesJSON holds the two byte-identical.
func appendIndexLine(dst []byte, e *IndexEntry) []byte {
	dst = append(dst, '{')
	if e.TraceID != "" {
		dst = append(dst, `"trace_id":`...)
		dst = appendJSONString(dst, e.TraceID)
		dst = append(dst, ',')
	}
	dst = append(dst, `"key":`...)
	dst = appendJSONString(dst, e.Key)
	dst = append(dst, `,"kind":`...)
	dst = appendJSONString(dst, string(e.Kind))
	dst = append(dst, `,"pages":`...)
	if e.Pages == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i, p := range e.Pages {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, '[')
			dst = strconv.AppendUint(dst, p[0], 10)
			dst = append(dst, ',')
			dst = strconv.AppendUint(dst, p[1], 10)
			dst = append(dst, ']')
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"count":`...)
	dst = strconv.AppendInt(dst, int64(e.Count), 10)
	dst = append(dst, `,"bytes":`...)
	dst = strconv.AppendInt(dst, int64(e.Bytes), 10)
	if e.Start != 0 {
		dst = append(dst, `,"start":`...)
		dst = strconv.AppendUint(dst, e.Start, 10)
	}
	if e.End != 0 {
		dst = append(dst, `,"end":`...)
		dst = strconv.AppendUint(dst, e.End, 10)
	}
	if e.Extension != "" {
		dst = append(dst, `,"extension":`...)
		dst = appendJSONString(dst, e.Extension)
	}
	if e.RootName != "" {
		dst = append(dst, `,"root":`...)
		dst = appendJSONString(dst, e.RootName)
	}
	return append(dst, '}', '\n')
}

// appendJSONString quotes s; printable ASCII without '"' or '\' (ids,
// keys, almost every name) is copied, anything else goes through
// encoding/json so escapes and invalid UTF-8 come out as it writes them.
func appendJSONString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(s) // a string always encodes
			return append(dst, bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}
