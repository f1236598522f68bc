package kaudit

import (
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"strings"
)

// untrusted decodes one of auditd's untrusted strings (name, cwd, exe,
// comm): the kernel writes the value in double quotes when every byte is
// printable and not a space or a quote, else as upper-case hex without
// quotes. So quoted means literal and unquoted means hex, whatever the
// digits: "2023" is a name, 32303233 is the hex of one. A hex value
// decodes to its bytes as they are (a newline or a non-ASCII byte stays,
// so the sensitive-path check sees the real name). "(null)" and "?" are
// no value. ausearch -i output is already decoded.
func untrusted(f field, interpreted bool) (string, bool) {
	v := f.val
	if f.quoted || interpreted {
		return v, v != "" && v != "(null)"
	}
	if v == "" || v == "(null)" || v == "?" {
		return "", false
	}
	if len(v)%2 == 0 {
		if b, err := hex.DecodeString(v); err == nil {
			return string(b), true
		}
	}
	return v, true // not hex: an older tool that wrote it bare
}

// sockaddr decodes auditd's saddr, the hex of the struct sockaddr a
// connect passed: AF_INET and AF_INET6 to an address, AF_UNIX to its path
// ("@name" for the abstract namespace). The family is in host byte order;
// a big-endian host's family reads swapped, so both are tried.
func sockaddr(s string) (addr string, unix bool, ok bool) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) < 2 {
		return "", false, false
	}
	fam := binary.LittleEndian.Uint16(b)
	if fam > 0xff {
		fam = binary.BigEndian.Uint16(b)
	}
	switch fam {
	case 2: // AF_INET: family, port, 4 address bytes
		if len(b) < 8 {
			return "", false, false
		}
		return netip.AddrFrom4([4]byte(b[4:8])).String(), false, true
	case 10: // AF_INET6: family, port, flowinfo, 16 address bytes
		if len(b) < 24 {
			return "", false, false
		}
		return netip.AddrFrom16([16]byte(b[8:24])).Unmap().String(), false, true
	case 1: // AF_UNIX: family, then a NUL-terminated path
		p := b[2:]
		if len(p) == 0 {
			return "", true, false
		}
		if p[0] == 0 { // abstract: the name runs to the length given
			return "@" + strings.TrimRight(string(p[1:]), "\x00"), true, true
		}
		if i := strings.IndexByte(string(p), 0); i >= 0 {
			p = p[:i]
		}
		return string(p), true, len(p) > 0
	}
	return "", false, false
}

// interpretedSockaddr reads the enriched or ausearch -i form
// "{ saddr_fam=inet laddr=169.254.169.254 lport=80 }".
func interpretedSockaddr(v string) (addr string, unix bool, ok bool) {
	v = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(v, "{"), "}"))
	fs := splitFields(v, nil)
	get := func(k string) string {
		for _, f := range fs {
			if f.key == k {
				return f.val
			}
		}
		return ""
	}
	switch get("saddr_fam") {
	case "inet", "inet6":
		a, err := netip.ParseAddr(get("laddr"))
		if err != nil {
			return "", false, false
		}
		return a.Unmap().String(), false, true
	case "local", "unix":
		p := get("path")
		return p, true, p != ""
	}
	return "", false, false
}
