package kaudit

import (
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// journaldLine rebuilds auditd's line from journald's fields for a
// record journald took from the kernel (_TRANSPORT=audit): MESSAGE is
// "TYPE fields", _AUDIT_ID the serial, _SOURCE_REALTIME_TIMESTAMP the
// event time in microseconds, _HOSTNAME the host. (journalctl -o json, or
// the journald receiver.)
func journaldLine(res, m pcommon.Map) (string, bool) {
	msg := str(m, "MESSAGE")
	typ, rest, ok := strings.Cut(msg, " ")
	if !ok || !isTypeName(typ) {
		return "", false
	}
	if t := str(m, "_AUDIT_TYPE_NAME"); t != "" {
		typ = t
	}
	id := str(m, "_AUDIT_ID")
	us, err := strconv.ParseInt(str(m, "_SOURCE_REALTIME_TIMESTAMP"), 10, 64)
	if err != nil {
		us, err = strconv.ParseInt(str(m, "__REALTIME_TIMESTAMP"), 10, 64)
	}
	if id == "" || err != nil {
		return "", false
	}
	host := str(m, "_HOSTNAME")
	if host == "" {
		host = str(res, "host.name")
	}
	var b strings.Builder
	b.Grow(len(msg) + len(host) + 64)
	if host != "" && !strings.ContainsAny(host, " =") {
		b.WriteString("node=")
		b.WriteString(host)
		b.WriteByte(' ')
	}
	b.WriteString("type=")
	b.WriteString(typ)
	b.WriteString(" msg=audit(")
	b.WriteString(strconv.FormatInt(us/1e6, 10))
	b.WriteByte('.')
	b.WriteString(strconv.FormatInt(us%1e6+1e6, 10)[1:])
	b.WriteByte(':')
	b.WriteString(id)
	b.WriteString("): ")
	b.WriteString(rest)
	return b.String(), true
}
