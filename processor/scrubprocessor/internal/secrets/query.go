package secrets

// findQueryParam finds the value of a sensitive query (or matrix)
// parameter, [?&;]name=value, without a regex: it runs on every URL with
// key=, token= or the like, which in some traffic is every other span.
func findQueryParam(v string, off int) (start, end, next int, ok bool) {
	for i := off; i < len(v); i++ {
		if c := v[i]; c != '?' && c != '&' && c != ';' {
			continue
		}
		j := i + 1
		for j < len(v) && v[j] != '=' && j-i <= maxParamName && paramNameByte(v[j]) {
			j++
		}
		if j >= len(v) || v[j] != '=' || !sensitiveParam(v[i+1:j]) {
			continue
		}
		k := j + 1
		for k < len(v) && !queryValueEnd(v[k]) {
			k++
		}
		if k > j+1 {
			return j + 1, k, k, true
		}
	}
	return 0, 0, len(v), false
}

const maxParamName = 24

func paramNameByte(c byte) bool {
	return wordClass.has(c) || c == '-' || c == '.'
}

func queryValueEnd(c byte) bool {
	switch c {
	case '&', '#', ' ', '\t', '\n', '\r', '\f', '\v', '"', '\'':
		return true
	}
	return false
}

// sensitiveParam: the parameter names whose values are credentials,
// ASCII case-insensitive; the lower-casing stays on the stack.
func sensitiveParam(name string) bool {
	if len(name) == 0 || len(name) > maxParamName {
		return false
	}
	var buf [maxParamName]byte
	for i := 0; i < len(name); i++ {
		buf[i] = lowerTab[name[i]]
	}
	switch string(buf[:len(name)]) {
	case "access_token", "refresh_token", "id_token", "auth_token", "token", "api_key", "apikey", "api-key",
		"key", "password", "passwd", "pwd", "secret", "client_secret", "signature", "x-amz-signature",
		"x-amz-credential", "x-goog-signature", "x-goog-credential", "credential", "auth", "code",
		"sessionid", "session_id", "jwt":
		return true
	}
	return false
}
