package sandboxevent

// What a tool does (AgentInfo.Class): first from the declared tool set of
// a server or agent this package knows, then from the words of the tool's
// name, then from what its captured arguments name. The tables list the
// tools as the servers' own code registers them (versions in the README's
// event-model section).

// knownToolSets maps a tool set to its tools' classes. A set is chosen by
// toolSetFor from the server or agent name.
var knownToolSets = map[string]map[string]ToolClass{
	// @modelcontextprotocol/server-filesystem 2026.8.31 (dist/index.js);
	// serverInfo.name "secure-filesystem-server".
	"filesystem": {
		"read_file": ToolClassRead, "read_text_file": ToolClassRead, "read_media_file": ToolClassRead,
		"read_multiple_files": ToolClassRead,
		"write_file":          ToolClassWrite, "edit_file": ToolClassWrite, "create_directory": ToolClassWrite, "move_file": ToolClassWrite,
		"list_directory": ToolClassDiscovery, "list_directory_with_sizes": ToolClassDiscovery, "directory_tree": ToolClassDiscovery,
		"search_files": ToolClassDiscovery, "get_file_info": ToolClassDiscovery, "list_allowed_directories": ToolClassDiscovery,
	},
	// @modelcontextprotocol/server-everything 2026.8.31 (dist/tools/*.js);
	// serverInfo.name "mcp-servers/everything". get-env returns the whole
	// environment; gzip-file-as-resource fetches any URL it is given.
	"everything": {
		"get-env": ToolClassSecrets, "gzip-file-as-resource": ToolClassEgress,
		"echo": ToolClassOther, "get-sum": ToolClassOther, "get-tiny-image": ToolClassOther,
		"get-annotated-message": ToolClassOther, "get-structured-content": ToolClassOther,
		"get-resource-links": ToolClassDiscovery, "get-resource-reference": ToolClassRead,
		"get-roots-list": ToolClassDiscovery, "trigger-long-running-operation": ToolClassOther,
		"trigger-sampling-request": ToolClassOther, "trigger-sampling-request-async": ToolClassOther,
		"trigger-elicitation-request": ToolClassOther, "trigger-elicitation-request-async": ToolClassOther,
		"trigger-url-elicitation": ToolClassOther, "toggle-simulated-logging": ToolClassOther,
		"toggle-subscriber-updates": ToolClassOther, "simulate-research-query": ToolClassOther,
	},
	// mcp-server-fetch (modelcontextprotocol/servers, src/fetch).
	"fetch": {"fetch": ToolClassEgress},
	// Goose's built-in developer extension (<ext>__<tool> names).
	"developer": {
		"shell": ToolClassExec, "text_editor": ToolClassWrite, "list_windows": ToolClassDiscovery,
		"screen_capture": ToolClassRead, "image_processor": ToolClassRead,
	},
	// Claude Code's built-in tools (tool_name of claude_code.tool_result).
	"claude-code": {
		"Bash": ToolClassExec, "BashOutput": ToolClassExec, "KillShell": ToolClassExec,
		"Read": ToolClassRead, "NotebookRead": ToolClassRead,
		"Write": ToolClassWrite, "Edit": ToolClassWrite, "MultiEdit": ToolClassWrite, "NotebookEdit": ToolClassWrite,
		"Glob": ToolClassDiscovery, "Grep": ToolClassDiscovery, "LS": ToolClassDiscovery,
		"WebFetch": ToolClassEgress, "WebSearch": ToolClassEgress,
		"Task": ToolClassOther, "TodoWrite": ToolClassOther,
	},
	// Codex's built-in tools (codex.tool_result tool_name).
	"codex": {
		"shell": ToolClassExec, "local_shell": ToolClassExec, "exec_command": ToolClassExec,
		"container.exec": ToolClassExec, "unified_exec": ToolClassExec, "write_stdin": ToolClassExec,
		"apply_patch": ToolClassWrite, "read_file": ToolClassRead, "view_image": ToolClassRead,
		"list_dir": ToolClassDiscovery, "grep_files": ToolClassDiscovery, "web_search": ToolClassEgress,
		"update_plan": ToolClassOther,
	},
	// Gemini CLI's built-in tools (gemini_cli.tool_call function_name).
	"gemini-cli": {
		"read_file": ToolClassRead, "read_many_files": ToolClassRead,
		"write_file": ToolClassWrite, "replace": ToolClassWrite, "save_memory": ToolClassWrite,
		"run_shell_command": ToolClassExec,
		"web_fetch":         ToolClassEgress, "google_web_search": ToolClassEgress,
		"list_directory": ToolClassDiscovery, "glob": ToolClassDiscovery, "search_file_content": ToolClassDiscovery,
	},
}

// toolSetFor picks the known tool set a server or agent name refers to:
// the name a server reports (serverInfo.name, service.name) or the one an
// operator gave it in the agent's config (Goose's extension, Claude's
// mcp__<server>).
func toolSetFor(name string) map[string]ToolClass {
	switch {
	case name == "":
		return nil
	case containsFold(name, "filesystem"):
		return knownToolSets["filesystem"]
	case containsFold(name, "everything"):
		return knownToolSets["everything"]
	case containsFold(name, "fetch"):
		return knownToolSets["fetch"]
	case equalFold(name, "developer"):
		return knownToolSets["developer"]
	case hasPrefixFold(name, "claude"):
		return knownToolSets["claude-code"]
	case hasPrefixFold(name, "codex"):
		return knownToolSets["codex"]
	case hasPrefixFold(name, "gemini"):
		return knownToolSets["gemini-cli"]
	}
	return nil
}

// ToolClassOf is the class the event model gives tool on the server (or
// agent) named server: its declared table when the server is known
// (server-filesystem, server-everything, fetch, Goose's developer, Claude
// Code, Codex and Gemini CLI built-ins), else the words of the tool name.
func ToolClassOf(server, tool string) ToolClass { return classifyTool(server, tool) }

// classifyTool returns the class of tool on the server (or agent) named
// set: the declared table first, then the words of the name.
func classifyTool(set, tool string) ToolClass {
	if t := toolSetFor(set); t != nil {
		if c, ok := t[tool]; ok {
			return c
		}
	}
	return classFromName(tool)
}

// nameWords are the words of a tool name that say what it does, strongest
// class first: a tool named read_secret is about secrets before reading.
var nameWords = [...]struct {
	class ToolClass
	words []string
}{
	{ToolClassSecrets, []string{"env", "environ", "environment", "secret", "secrets", "credential", "credentials", "password", "passwd", "token", "tokens", "apikey", "keychain", "getenv"}},
	{ToolClassExec, []string{"shell", "exec", "execute", "bash", "sh", "terminal", "spawn", "run", "command", "cmd", "subprocess", "eval"}},
	{ToolClassEgress, []string{"fetch", "http", "https", "curl", "wget", "download", "upload", "request", "web", "browse", "browser", "url", "post", "webhook", "send", "email", "mail", "slack", "publish"}},
	{ToolClassWrite, []string{"write", "edit", "create", "delete", "remove", "move", "rename", "update", "patch", "replace", "save", "insert", "put", "mkdir", "append", "set", "modify", "drop"}},
	{ToolClassDiscovery, []string{"list", "ls", "search", "find", "glob", "grep", "tree", "info", "stat", "describe", "directory", "dir", "roots", "schema", "tables"}},
	{ToolClassRead, []string{"read", "get", "view", "cat", "open", "load", "query", "select", "show", "file", "files", "resource"}},
}

// classFromName classifies by the words of a tool name (split on
// non-letters and lower-to-upper case changes), allocation-free.
func classFromName(name string) ToolClass {
	best := ToolClassOther
	bestRank := len(nameWords)
	forEachWord(name, func(w string) {
		for rank := 0; rank < bestRank; rank++ {
			for _, word := range nameWords[rank].words {
				if equalFold(w, word) {
					best, bestRank = nameWords[rank].class, rank
					return
				}
			}
		}
	})
	return best
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func forEachWord(s string, fn func(string)) {
	start := -1
	for i := 0; i <= len(s); i++ {
		var c byte
		if i < len(s) {
			c = s[i]
		}
		boundary := i == len(s) || !isLetter(c) ||
			(start >= 0 && 'A' <= c && c <= 'Z' && i > 0 && 'a' <= s[i-1] && s[i-1] <= 'z')
		if boundary && start >= 0 {
			fn(s[start:i])
			start = -1
		}
		if i < len(s) && isLetter(c) && start < 0 {
			start = i
		}
	}
}
