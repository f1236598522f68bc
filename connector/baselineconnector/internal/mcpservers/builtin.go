// Package mcpservers ships declared profiles for the reference MCP
// servers people install most: the tools each one exposes, with its
// class, written from the servers' own sources (cited per server). A
// fleet judges a new installation of a known server from its first call,
// and a tool its published list lacks is new_tool at once.
//
// The lists are those of the versions read; a server release that adds a
// tool makes that tool new_tool until the list here (or an operator's
// declared profile for the server, which replaces the shipped one) has it.
package mcpservers

import (
	"strings"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/profile"
)

// Server is a shipped declared profile.
type Server struct {
	// Name is the short name operators and agents use (Goose extension
	// names, Claude Code's mcp__<server>__ prefix).
	Name string
	// Aliases are the other names the server goes by: its serverInfo.name
	// (what Traceloop and initialize spans report), npm or PyPI package.
	Aliases []string
	// Source is where the tool list was read.
	Source string
	Spec   profile.DeclaredSpec
}

// Find returns the shipped profile whose name or alias is id (case
// insensitive), or nil.
func Find(id string) *Server {
	for i := range builtin {
		s := &builtin[i]
		if strings.EqualFold(s.Name, id) {
			return s
		}
		for _, a := range s.Aliases {
			if strings.EqualFold(a, id) {
				return s
			}
		}
	}
	return nil
}

// Builtin returns every shipped profile (shared: do not modify).
func Builtin() []Server { return builtin }

var builtin = []Server{
	{
		Name:    "filesystem",
		Aliases: []string{"secure-filesystem-server", "server-filesystem", "@modelcontextprotocol/server-filesystem"},
		Source:  "modelcontextprotocol/servers@76d64c8 src/filesystem/index.ts (registerTool calls; serverInfo.name secure-filesystem-server); npm @modelcontextprotocol/server-filesystem 2026.8.31",
		// Roots are the installation's allowed directories: declare them
		// per installation (profiles.<server>.roots).
		Spec: profile.DeclaredSpec{Tools: map[string]string{
			"read_file": "read", "read_text_file": "read", "read_media_file": "read", "read_multiple_files": "read",
			"write_file": "write", "edit_file": "write", "create_directory": "write", "move_file": "write",
			"list_directory": "discovery", "list_directory_with_sizes": "discovery", "directory_tree": "discovery",
			"search_files": "discovery", "get_file_info": "discovery", "list_allowed_directories": "discovery",
		}},
	},
	{
		Name:    "fetch",
		Aliases: []string{"mcp-fetch", "mcp-server-fetch"},
		Source:  "modelcontextprotocol/servers@76d64c8 src/fetch/src/mcp_server_fetch/server.py (list_tools; Server(\"mcp-fetch\"))",
		// fetch reaches any URL by design: no host list.
		Spec: profile.DeclaredSpec{Tools: map[string]string{"fetch": "egress"}},
	},
	{
		Name:    "everything",
		Aliases: []string{"mcp-servers/everything", "example-servers/everything", "server-everything", "@modelcontextprotocol/server-everything"},
		Source:  "modelcontextprotocol/servers@76d64c8 src/everything/tools/*.ts (registerTools and registerConditionalTools; serverInfo.name mcp-servers/everything); npm @modelcontextprotocol/server-everything 2026.8.31",
		// gzip-file-as-resource fetches any URL (GZIP_ALLOWED_DOMAINS is
		// empty by default, which allows every domain): no host list.
		Spec: profile.DeclaredSpec{Tools: map[string]string{
			"echo": "other", "get-annotated-message": "other", "get-env": "secrets", "get-resource-links": "other",
			"get-resource-reference": "other", "get-structured-content": "other", "get-sum": "other", "get-tiny-image": "other",
			"gzip-file-as-resource": "egress", "toggle-simulated-logging": "other", "toggle-subscriber-updates": "other",
			"trigger-long-running-operation": "other", "get-roots-list": "discovery", "trigger-elicitation-request": "other",
			"trigger-url-elicitation": "other", "trigger-sampling-request": "other", "simulate-research-query": "other",
			"trigger-sampling-request-async": "other", "trigger-elicitation-request-async": "other",
		}},
	},
	{
		Name:    "memory",
		Aliases: []string{"memory-server", "server-memory", "@modelcontextprotocol/server-memory"},
		Source:  "modelcontextprotocol/servers@76d64c8 src/memory/index.ts (registerTool calls; serverInfo.name memory-server)",
		Spec: profile.DeclaredSpec{Tools: map[string]string{
			"create_entities": "write", "create_relations": "write", "add_observations": "write", "delete_entities": "write",
			"delete_observations": "write", "delete_relations": "write", "read_graph": "read", "search_nodes": "read", "open_nodes": "read",
		}},
	},
	{
		Name:    "git",
		Aliases: []string{"mcp-git", "mcp-server-git"},
		Source:  "modelcontextprotocol/servers@76d64c8 src/git/src/mcp_server_git/server.py (class GitTools; Server(\"mcp-git\"))",
		Spec: profile.DeclaredSpec{Tools: map[string]string{
			"git_status": "read", "git_diff_unstaged": "read", "git_diff_staged": "read", "git_diff": "read", "git_log": "read",
			"git_show": "read", "git_branch": "read", "git_commit": "write", "git_add": "write", "git_reset": "write",
			"git_create_branch": "write", "git_checkout": "write",
		}},
	},
	{
		Name:    "github",
		Aliases: []string{"github-mcp-server"},
		Source:  "github/github-mcp-server@64a49f3 pkg/github/__toolsnaps__/*.snap (one file per tool; feature-flag variants _ff_* folded to their tool; serverInfo.name github-mcp-server, pkg/github/server.go)",
		// Reads of repositories, issues and alerts are reads of private
		// data; gists publish (egress); every other mutation is a write.
		Spec: profile.DeclaredSpec{
			Hosts: []string{"api.github.com", "github.com", "uploads.github.com", "*.githubusercontent.com"},
			Tools: map[string]string{
				"actions_get":                                 "read",
				"actions_list":                                "read",
				"actions_run_trigger":                         "write",
				"add_comment_to_pending_review":               "write",
				"add_issue_comment":                           "write",
				"add_issue_comment_reaction":                  "write",
				"add_issue_reaction":                          "write",
				"add_pull_request_review_comment":             "write",
				"add_pull_request_review_comment_reaction":    "write",
				"add_reply_to_pull_request_comment":           "write",
				"add_sub_issue":                               "write",
				"assign_copilot_to_issue":                     "write",
				"assign_copilot_to_issue_with_intent":         "write",
				"create_branch":                               "write",
				"create_gist":                                 "egress",
				"create_issue":                                "write",
				"create_or_update_file":                       "write",
				"create_pull_request":                         "write",
				"create_pull_request_review":                  "write",
				"create_repository":                           "write",
				"delete_file":                                 "write",
				"delete_pending_pull_request_review":          "write",
				"delete_repository":                           "write",
				"discussion_comment_write":                    "write",
				"dismiss_notification":                        "write",
				"find_duplicate":                              "read",
				"fork_repository":                             "write",
				"get_code_quality_finding":                    "read",
				"get_code_scanning_alert":                     "read",
				"get_commit":                                  "read",
				"get_dependabot_alert":                        "read",
				"get_discussion":                              "read",
				"get_discussion_comments":                     "read",
				"get_file_blame":                              "read",
				"get_file_contents":                           "read",
				"get_gist":                                    "read",
				"get_global_security_advisory":                "read",
				"get_job_logs":                                "read",
				"get_label":                                   "read",
				"get_latest_release":                          "read",
				"get_me":                                      "read",
				"get_notification_details":                    "read",
				"get_release_by_tag":                          "read",
				"get_repository_tree":                         "read",
				"get_secret_scanning_alert":                   "read",
				"get_tag":                                     "read",
				"get_team_members":                            "read",
				"get_teams":                                   "read",
				"issue_dependency_read":                       "read",
				"issue_dependency_write":                      "write",
				"issue_read":                                  "read",
				"issue_write":                                 "write",
				"label_write":                                 "write",
				"list_branches":                               "read",
				"list_code_scanning_alerts":                   "read",
				"list_commits":                                "read",
				"list_dependabot_alerts":                      "read",
				"list_discussion_categories":                  "read",
				"list_discussions":                            "read",
				"list_gists":                                  "read",
				"list_global_security_advisories":             "read",
				"list_issue_fields":                           "read",
				"list_issue_types":                            "read",
				"list_issues":                                 "read",
				"list_label":                                  "read",
				"list_notifications":                          "read",
				"list_org_repository_security_advisories":     "read",
				"list_pull_requests":                          "read",
				"list_releases":                               "read",
				"list_repository_collaborators":               "read",
				"list_repository_security_advisories":         "read",
				"list_secret_scanning_alerts":                 "read",
				"list_starred_repositories":                   "read",
				"list_tags":                                   "read",
				"manage_notification_subscription":            "write",
				"manage_repository_notification_subscription": "write",
				"mark_all_notifications_read":                 "write",
				"merge_pull_request":                          "write",
				"projects_get":                                "read",
				"projects_list":                               "read",
				"projects_write":                              "write",
				"pull_request_read":                           "read",
				"pull_request_review_write":                   "write",
				"push_files":                                  "write",
				"remove_sub_issue":                            "write",
				"reprioritize_sub_issue":                      "write",
				"request_copilot_review":                      "write",
				"request_pull_request_reviewers":              "write",
				"resolve_review_thread":                       "write",
				"search_code":                                 "read",
				"search_commits":                              "read",
				"search_issues":                               "read",
				"search_orgs":                                 "read",
				"search_pull_requests":                        "read",
				"search_repositories":                         "read",
				"search_users":                                "read",
				"set_issue_fields":                            "write",
				"star_repository":                             "write",
				"sub_issue_write":                             "write",
				"submit_pending_pull_request_review":          "write",
				"ui_get":                                      "read",
				"unresolve_review_thread":                     "write",
				"unstar_repository":                           "write",
				"update_gist":                                 "egress",
				"update_issue_assignees":                      "write",
				"update_issue_body":                           "write",
				"update_issue_labels":                         "write",
				"update_issue_milestone":                      "write",
				"update_issue_state":                          "write",
				"update_issue_title":                          "write",
				"update_issue_type":                           "write",
				"update_pull_request":                         "write",
				"update_pull_request_body":                    "write",
				"update_pull_request_branch":                  "write",
				"update_pull_request_draft_state":             "write",
				"update_pull_request_state":                   "write",
				"update_pull_request_title":                   "write",
			},
		},
	},
}
