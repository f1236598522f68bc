package sandboxevent

import "strings"

// finishAgent fills the sandbox fields of an agent event from its tool,
// class and captured arguments: Operation, Kind, Target, URL, Query. set
// names the tool set the class table is looked up in (the server, or the
// agent for its built-in tools).
func finishAgent(ev *Event, set string, args *argFacts) {
	ag := &ev.Agent
	ev.Operation = ag.Tool
	if ev.Operation == "" {
		ev.Operation = ag.Method
	}
	path, url := args.path, args.url
	var table string
	if args.uri != "" {
		switch {
		case hasPrefixFold(args.uri, "file://"):
			if path == "" {
				path = filePathFromURI(args.uri)
			}
		case hasPrefixFold(args.uri, "http://"), hasPrefixFold(args.uri, "https://"):
			if url == "" {
				url = args.uri
			}
		case strings.Contains(args.uri, "://") && looksLikeDatabaseURI(args.uri):
			table = lastSegment(args.uri)
		}
	}
	switch ev.BlockType {
	case BlockTypeTool:
		ag.Class = classifyTool(set, ag.Tool)
		if ag.Class == ToolClassOther {
			switch {
			case url != "":
				ag.Class = ToolClassEgress
			case args.command != "":
				ag.Class = ToolClassExec
			case path != "":
				ag.Class = ToolClassRead
			}
		}
	case BlockTypeResource:
		ag.Class = ToolClassRead
		if url != "" {
			ag.Class = ToolClassEgress // the server fetched it
		}
	case BlockTypeDiscovery:
		ag.Class = ToolClassDiscovery
	}

	switch {
	case ag.Class == ToolClassEgress || (url != "" && ag.Class != ToolClassExec):
		ev.Kind = KindHTTP
		if url != "" {
			ev.URL = url
			ev.Target, ev.TargetType = HostFromURL(url), TargetHost
		}
	case ag.Class == ToolClassExec || (args.command != "" && path == ""):
		ev.Kind = KindExec
		if args.command != "" {
			ev.Target, ev.TargetType = executable(args.command), TargetCommand
			ev.URL = urlIn(args.command) // curl -X POST https://... : where the command goes
		}
	case table != "" || args.query != "" && isDatabaseTool(ag.Tool, args):
		ev.Kind = KindDB
		ev.Query = args.query
		if table != "" {
			ev.Target, ev.TargetType = table, TargetTable
		}
	case path != "":
		ev.Kind = KindFS
		ev.Target, ev.TargetType = path, TargetPath
	}
	if ev.Target == "" {
		ev.TargetType = TargetNone
	}
}

// filePathFromURI returns the path of a file:// URI (file:///etc/hosts,
// file://localhost/etc/hosts), percent-escapes left as written.
func filePathFromURI(uri string) string {
	rest := uri[len("file://"):]
	if i := strings.IndexByte(rest, '/'); i > 0 {
		rest = rest[i:] // an authority such as localhost
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

func looksLikeDatabaseURI(uri string) bool {
	for _, s := range [...]string{"postgres://", "postgresql://", "mysql://", "sqlite://", "sqlite:///", "mongodb://", "redis://"} {
		if hasPrefixFold(uri, s) {
			return true
		}
	}
	return false
}

// lastSegment is the last non-empty path segment of a URI, without query.
func lastSegment(uri string) string {
	if i := strings.IndexAny(uri, "?#"); i >= 0 {
		uri = uri[:i]
	}
	uri = strings.TrimRight(uri, "/")
	if i := strings.Index(uri, "://"); i >= 0 {
		rest := uri[i+3:]
		j := strings.IndexByte(rest, '/')
		if j < 0 {
			return ""
		}
		uri = rest[j:]
	}
	return uri[strings.LastIndexByte(uri, '/')+1:]
}

// isDatabaseTool: a "query" argument is SQL only for a database tool (a
// search tool's query is not); a "sql" argument always is.
func isDatabaseTool(tool string, args *argFacts) bool {
	if args.query == "" {
		return false
	}
	db := false
	forEachWord(tool, func(w string) {
		switch {
		case equalFold(w, "sql"), equalFold(w, "query"), equalFold(w, "db"), equalFold(w, "database"),
			equalFold(w, "postgres"), equalFold(w, "mysql"), equalFold(w, "sqlite"), equalFold(w, "select"):
			db = true
		}
	})
	return db
}

// agentOutcome sets Outcome and ErrorCode. A tool that refuses on policy
// ("Access denied - path outside allowed directories", a hook's or user's
// denial) is a denial; any other failure is an error with error.type (or
// tool_error when the emitter records none).
func (c *Classifier) agentOutcome(ev *Event, isErr bool, errType, statusMsg string, out *outputFacts) {
	failed := isErr || errType != "" || out.isError
	if !failed {
		if ev.Outcome == OutcomeDenied {
			return // a decision set by the log extractor
		}
		ev.Outcome = OutcomeOK
		return
	}
	msg := statusMsg
	if msg == "" {
		msg = out.text
	}
	switch {
	case isPolicyDenial(msg), isPolicyDenial(errType):
		ev.Outcome = OutcomeDenied
		if containsFold(msg, "outside allowed") {
			ev.Capability = CapabilityMCPRoots
		}
	default:
		ev.Outcome = OutcomeError
		ev.ErrorCode = errType
		if ev.ErrorCode == "" {
			ev.ErrorCode = errnoIn(msg)
		}
		if ev.ErrorCode == "" {
			ev.ErrorCode = "tool_error"
		}
	}
}

// Capability values of agent denials.
const (
	// CapabilityMCPRoots: a server refused a path outside its allowed
	// roots (server-filesystem's "Access denied - path outside allowed
	// directories").
	CapabilityMCPRoots = "mcp.roots"
	// CapabilityToolDecision: the agent's user, config or hook refused a
	// tool call (a reject/denied/abort decision).
	CapabilityToolDecision = "tool_decision"
)

// isPolicyDenial recognises the refusals of a server's or agent's policy,
// as the real servers word them (server-filesystem's "Access denied - path
// outside allowed directories", "symlink target outside allowed
// directories"), and hook/permission denial types.
func isPolicyDenial(s string) bool {
	if s == "" {
		return false
	}
	return containsFold(s, "access denied") || containsFold(s, "outside allowed") ||
		containsFold(s, "not allowed") || containsFold(s, "permission_denied") ||
		containsFold(s, "denied by") || containsFold(s, "hook_denied") || containsFold(s, "blocked by policy")
}

// urlIn returns the first http(s) URL in a command line ("" if none).
func urlIn(command string) string {
	i := strings.Index(command, "http://")
	if j := strings.Index(command, "https://"); j >= 0 && (i < 0 || j < i) {
		i = j
	}
	if i < 0 {
		return ""
	}
	rest := command[i:]
	if k := strings.IndexAny(rest, " \t\n'\"|;&)"); k >= 0 {
		rest = rest[:k]
	}
	return rest
}
