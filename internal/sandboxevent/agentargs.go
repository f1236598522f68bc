package sandboxevent

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// argFacts is what captured tool arguments name: the first path, URL,
// command, query and resource URI, and the server or tool they declare
// (Claude's tool_parameters carries mcp_server_name/mcp_tool_name).
// Strings point into the attribute value unless they had JSON escapes.
type argFacts struct {
	path, url, command, query, uri string
	server, tool                   string
	captured                       bool
}

// readValue reads arguments recorded as a JSON string (the usual form on
// spans and log events) or as a structured map (gen_ai.tool.call.arguments
// has type any).
func (f *argFacts) readValue(v pcommon.Value) {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		if s := v.Str(); s != "" {
			f.captured = true
			walkJSON(s, f.take)
		}
	case pcommon.ValueTypeMap:
		f.captured = true
		walkMap(v.Map(), "", 0, f.take)
	}
}

// walkMap visits a structured value the way walkJSON visits JSON text.
func walkMap(m pcommon.Map, parent string, depth int, visit jsonVisit) bool {
	if depth > maxJSONDepth {
		return false
	}
	for k, v := range m.All() {
		if !walkAny(v, parent, k, depth, visit) {
			return false
		}
	}
	return true
}

func walkAny(v pcommon.Value, parent, key string, depth int, visit jsonVisit) bool {
	switch v.Type() {
	case pcommon.ValueTypeMap:
		return walkMap(v.Map(), key, depth+1, visit)
	case pcommon.ValueTypeSlice:
		s := v.Slice()
		for i := 0; i < s.Len(); i++ {
			if !walkAny(s.At(i), parent, key, depth+1, visit) {
				return false
			}
		}
		return true
	case pcommon.ValueTypeStr:
		return visit(parent, key, v.Str(), true)
	default:
		return visit(parent, key, v.AsString(), false)
	}
}

// take records the first value of each kind of target. Keys are the
// argument names of the known servers' and agents' tools and their usual
// variants.
func (f *argFacts) take(_, key, str string, isStr bool) bool {
	if !isStr || str == "" {
		return true
	}
	switch key {
	case "path", "paths", "file_path", "filePath", "filepath", "file", "filename", "source", "destination",
		"directory", "dir", "notebook_path", "absolute_path", "target_file":
		if f.path == "" {
			f.path = str
		}
	case "url", "href", "endpoint", "link":
		if f.url == "" && strings.Contains(str, "://") {
			f.url = str
		}
	case "uri", "resource_uri":
		if f.uri == "" {
			f.uri = str
		}
	case "full_command":
		f.command = str // Claude's whole command line beats bash_command (its first word)
	case "command", "cmd", "bash_command", "commandLine", "command_line":
		if f.command == "" {
			f.command = str
		}
	case "sql", "query", "statement":
		if f.query == "" {
			f.query = str
		}
	case "mcp_server_name", "mcp_server", "server_name", "serverName":
		if f.server == "" {
			f.server = str
		}
	case "mcp_tool_name":
		if f.tool == "" {
			f.tool = str
		}
	case "content", "text", "body", "data_text", "message", "description":
		// free text: a URL inside it is data, not a destination
	default:
		// Any other argument that is an absolute http(s) URL is where the
		// tool goes (server-everything's gzip-file-as-resource takes it as
		// "data").
		if f.url == "" && (hasPrefixFold(str, "http://") || hasPrefixFold(str, "https://")) {
			f.url = str
		}
	}
	return true
}

// outputFacts is what a recorded result says: whether the tool reported
// an error (Traceloop's is_error, MCP's isError), the first text of an
// error result, and, for a tools/list result, the tools listed.
type outputFacts struct {
	isError  bool
	text     string
	listed   []byte // comma-joined tool names
	hashes   []uint64
	listHash uint64
}

func (o *outputFacts) read(s string, wantList bool) {
	// One listed tool is a name and a description in either order (JS
	// keeps insertion order, other encoders sort keys): a key seen twice
	// starts the next tool.
	var name, desc string
	var hasName, hasDesc bool
	flush := func() {
		if hasName {
			if len(o.listed) > 0 {
				o.listed = append(o.listed, ',')
			}
			o.listed = append(o.listed, name...)
			o.hashes = append(o.hashes, fnvString(fnvString(fnvOffset, name)^0xff, desc))
		}
		name, desc, hasName, hasDesc = "", "", false, false
	}
	walkJSON(s, func(parent, key, str string, isStr bool) bool {
		switch {
		case (key == "is_error" || key == "isError") && !isStr:
			o.isError = str == "true"
		case key == "result" && isStr && o.text == "":
			o.text = str
		case key == "text" && isStr && o.text == "":
			o.text = str
		case wantList && parent == "tools" && key == "name" && isStr:
			if hasName {
				flush()
			}
			name, hasName = str, true
		case wantList && parent == "tools" && key == "description" && isStr:
			if hasDesc {
				flush()
			}
			desc, hasDesc = str, true
		}
		return true
	})
	flush()
	for _, h := range o.hashes {
		o.listHash = fnvUint64(o.listHash, h)
	}
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

func fnvUint64(h, v uint64) uint64 {
	if h == 0 {
		h = fnvOffset
	}
	for i := 0; i < 8; i++ {
		h ^= v & 0xff
		h *= fnvPrime
		v >>= 8
	}
	return h
}

// DescriptionHash returns the hash the event model records for a tool
// description (AgentInfo.DescriptionHash), for tests and simulators that
// must predict it.
func DescriptionHash(description string) uint64 {
	if description == "" {
		return 0
	}
	return fnvString(fnvOffset, description)
}
