package kaudit

import (
	"strconv"
	"strings"
	"time"
)

// record is one auditd record (one line) split into its parts. Values
// are slices of the line: nothing is copied until an event is emitted.
type record struct {
	node string
	typ  string
	time int64 // unix ns; 0 when the carrier gave none
	// serial joins the records of one event; noSerial marks a line whose
	// carrier dropped the header (journald's short syslog form).
	serial   uint64
	noSerial bool
	// interpreted: `ausearch -i` output, whose values are already
	// decoded (names are not hex, syscall= is a name).
	interpreted bool
	fields      []field // the raw part
	enriched    []field // after the 0x1D separator (audit >= 3.0 "enriched")
}

// field is one key=value pair; quoted records whether the value stood in
// double quotes (for auditd's untrusted strings, quoted means literal and
// unquoted means hex).
type field struct {
	key, val string
	quoted   bool
}

func (r *record) get(key string) (field, bool) {
	for _, f := range r.fields {
		if f.key == key {
			return f, true
		}
	}
	return field{}, false
}

func (r *record) str(key string) string {
	f, _ := r.get(key)
	return f.val
}

func (r *record) enrichedStr(key string) string {
	for _, f := range r.enriched {
		if f.key == key {
			return f.val
		}
	}
	return ""
}

// lineKind says what a line of text is.
type lineKind int

const (
	lineNone      lineKind = iota // not an audit record
	lineRecord                    // an audit record
	lineSeparator                 // ausearch's "----" between events
	lineBroken                    // looks like audit (type=...) but has no usable header
)

// kernelTypes names the numeric types the kernel's own printk lines carry
// ("audit: type=1300 audit(...)") when no auditd is running.
var kernelTypes = map[string]string{
	"1300": "SYSCALL", "1302": "PATH", "1304": "SOCKETCALL", "1306": "SOCKADDR", "1307": "CWD",
	"1309": "EXECVE", "1320": "EOE", "1327": "PROCTITLE", "1336": "URINGOP", "1400": "AVC",
}

// parseLine reads one line: auditd's log format, raw or enriched, with an
// optional node= prefix; the same behind a syslog prefix ("audispd:",
// "audisp-syslog:", the kernel's "audit: type=1300 audit(...)"); ausearch
// output, raw or -i; and journald's short form ("audit[412]: SYSCALL
// arch=..."), which has no header. fields is reused as the backing array.
func parseLine(line string, rec *record, fields []field) lineKind {
	line = strings.TrimRight(line, "\r\n")
	*rec = record{fields: fields[:0]}
	if strings.HasPrefix(line, "----") {
		return lineSeparator
	}
	start := findType(line)
	if start < 0 {
		return parseJournalShort(line, rec)
	}
	// A node= immediately before type= belongs to the record.
	if n := strings.LastIndex(line[:start], "node="); n >= 0 && (n == 0 || line[n-1] == ' ') {
		if sp := strings.IndexByte(line[n:], ' '); sp >= 0 && n+sp+1 == start {
			rec.node = line[n+len("node=") : n+sp]
		}
	}
	s := line[start+len("type="):]
	sp := strings.IndexByte(s, ' ')
	if sp < 0 {
		return lineBroken
	}
	rec.typ, s = s[:sp], strings.TrimLeft(s[sp:], " ")
	if !isTypeName(rec.typ) {
		return lineNone
	}
	if name, ok := kernelTypes[rec.typ]; ok {
		rec.typ = name
	}
	s = strings.TrimPrefix(s, "msg=")
	if !strings.HasPrefix(s, "audit(") {
		return lineBroken
	}
	end := strings.IndexByte(s, ')')
	if end < 0 {
		return lineBroken
	}
	var ok bool
	rec.time, rec.serial, rec.interpreted, ok = parseHeader(s[len("audit("):end])
	if !ok {
		return lineBroken
	}
	s = strings.TrimLeft(s[end+1:], " ")
	s = strings.TrimLeft(strings.TrimPrefix(s, ":"), " ")
	raw, enr, _ := strings.Cut(s, "\x1d")
	rec.fields = splitFields(raw, rec.fields)
	if enr != "" {
		rec.enriched = splitFields(enr, nil)
	}
	return lineRecord
}

// findType returns the index of the "type=" that starts a record: at the
// start of the line or after a space.
func findType(line string) int {
	from := 0
	for {
		i := strings.Index(line[from:], "type=")
		if i < 0 {
			return -1
		}
		i += from
		if i == 0 || line[i-1] == ' ' {
			return i
		}
		from = i + 1
	}
}

// parseJournalShort reads journald's short form of an audit record,
// "... audit[412]: SYSCALL arch=c000003e ..." or "... audit: PATH ...":
// the type name then the fields, with no time and no serial (journald
// keeps them in _SOURCE_REALTIME_TIMESTAMP and _AUDIT_ID, which only its
// JSON export carries).
func parseJournalShort(line string, rec *record) lineKind {
	i := strings.Index(line, " audit")
	if i < 0 {
		if !strings.HasPrefix(line, "audit") {
			return lineNone
		}
	} else {
		line = line[i+1:]
	}
	s := strings.TrimPrefix(line, "audit")
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return lineNone
		}
		s = s[end+1:]
	}
	if !strings.HasPrefix(s, ": ") {
		return lineNone
	}
	s = s[2:]
	sp := strings.IndexByte(s, ' ')
	if sp <= 0 || !knownType(s[:sp]) || strings.IndexByte(s[sp:], '=') < 0 {
		return lineNone
	}
	rec.typ, rec.noSerial = s[:sp], true
	raw, enr, _ := strings.Cut(s[sp+1:], "\x1d")
	rec.fields = splitFields(raw, rec.fields)
	if enr != "" {
		rec.enriched = splitFields(enr, nil)
	}
	return lineRecord
}

// knownType: the record types journald's short form is trusted with (a
// line with no header is otherwise any text that says "audit: WORD").
func knownType(t string) bool {
	switch t {
	case "SYSCALL", "PATH", "CWD", "SOCKADDR", "PROCTITLE", "EXECVE", "EOE", "URINGOP", "SOCKETCALL", "AVC", "SECCOMP",
		"BPF", "NETFILTER_CFG", "CONFIG_CHANGE", "SERVICE_START", "SERVICE_STOP", "TTY", "LOGIN", "BPRM_FCAPS", "KERN_MODULE":
		return true
	}
	for _, p := range []string{"USER_", "CRED_", "DAEMON_", "ANOM_", "MAC_", "CRYPTO_", "SYSTEM_", "ADD_", "DEL_", "GRP_"} {
		if strings.HasPrefix(t, p) && isTypeName(t) {
			return true
		}
	}
	return false
}

// isTypeName: auditd record types are upper-case words (SYSCALL,
// USER_LOGIN, UNKNOWN[1329]).
func isTypeName(t string) bool {
	if len(t) < 2 {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' && c != '[' && c != ']' {
			return false
		}
	}
	return true
}

// parseHeader reads the inside of "audit(...)": "1795000000.120:4711", or
// ausearch -i's local "12/07/2016 10:45:02.123:479" (read in the
// collector's time zone, as ausearch wrote it in its own).
func parseHeader(h string) (int64, uint64, bool, bool) {
	c := strings.LastIndexByte(h, ':')
	if c < 0 {
		return 0, 0, false, false
	}
	serial, err := strconv.ParseUint(h[c+1:], 10, 64)
	if err != nil {
		return 0, 0, false, false
	}
	ts := h[:c]
	if strings.IndexByte(ts, '/') >= 0 {
		t, err := time.ParseInLocation("01/02/2006 15:04:05.000", ts, time.Local)
		if err != nil {
			t, err = time.ParseInLocation("01/02/2006 15:04:05", ts, time.Local)
		}
		if err != nil {
			return 0, 0, false, false
		}
		return t.UnixNano(), serial, true, true
	}
	sec, frac, _ := strings.Cut(ts, ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || s < 0 || s > 1<<34 {
		return 0, 0, false, false
	}
	var ns int64
	if frac != "" && len(frac) <= 9 {
		f, err := strconv.ParseInt((frac + "000000000")[:9], 10, 64)
		if err != nil {
			return 0, 0, false, false
		}
		ns = f
	}
	return s*int64(time.Second) + ns, serial, false, true
}

// splitFields splits "k=v k2="quoted v" k3={ a=b } msg='...'" into pairs.
// Double quotes, single quotes and braces hold spaces; nothing is an
// escape (auditd writes a value that needs escaping as hex instead), so
// a value ending in a backslash is just that. A word without '=' (the
// prose of old DAEMON_* records) is skipped.
func splitFields(s string, out []field) []field {
	i := 0
	for i < len(s) {
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if i >= len(s) {
			break
		}
		k := i
		for i < len(s) && s[i] != '=' && s[i] != ' ' {
			i++
		}
		if i >= len(s) || s[i] == ' ' {
			continue // a bare word
		}
		key := s[k:i]
		i++ // '='
		if i >= len(s) {
			out = append(out, field{key: key})
			break
		}
		var val string
		quoted := false
		switch s[i] {
		case '"', '\'':
			q := s[i]
			end := strings.IndexByte(s[i+1:], q)
			if end < 0 {
				val, i = s[i+1:], len(s)
			} else {
				val, i = s[i+1:i+1+end], i+1+end+1
			}
			quoted = q == '"'
		case '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				val, i = s[i:], len(s)
			} else {
				val, i = s[i:i+end+1], i+end+1
			}
		default:
			end := strings.IndexByte(s[i:], ' ')
			if end < 0 {
				val, i = s[i:], len(s)
			} else {
				val, i = s[i:i+end], i+end
			}
		}
		out = append(out, field{key: key, val: val, quoted: quoted})
	}
	return out
}
