// Command goserver is the Go MCP server of test/mcp: a small notes server
// on the official MCP Go SDK (github.com/modelcontextprotocol/go-sdk),
// served over stdio, traced by a receiving middleware of ours that emits
// the MCP semantic conventions' server spans (middleware.go) and exports
// them over OTLP/HTTP (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT).
//
//	goserver <root>    serve the notes under root
//
// Tools: read_note {path} (refuses a path outside root with the words of
// server-filesystem: "Access denied - path outside allowed directories"),
// fetch_url {url} (an HTTP GET). Resources: file:///{+path} under root.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// serverName is the server's name in initialize and its service.name.
const serverName = "sandwatch-notes"

func main() {
	if len(os.Args) != 2 {
		log.Fatal("usage: goserver <root>")
	}
	root, err := filepath.Abs(os.Args[1])
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	shutdown, err := setupTracing(ctx)
	if err != nil {
		log.Fatalf("tracing: %v", err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := shutdown(sctx); err != nil {
			log.Printf("tracing shutdown: %v", err)
		}
	}()

	s := mcp.NewServer(&mcp.Implementation{Name: serverName, Version: "1.0.0"}, nil)
	s.AddReceivingMiddleware(traceMiddleware(os.Getenv("NOTES_CAPTURE_CONTENT") == "true"))
	n := notes{root: root}
	mcp.AddTool(s, &mcp.Tool{Name: "read_note", Description: "Read a note under the notes root."}, n.read)
	mcp.AddTool(s, &mcp.Tool{Name: "fetch_url", Description: "Fetch a URL with an HTTP GET."}, fetchURL)
	s.AddResourceTemplate(&mcp.ResourceTemplate{Name: "notes", URITemplate: "file:///{+path}", MIMEType: "text/plain"}, n.resource)
	if err := s.Run(ctx, &mcp.StdioTransport{}); err != nil && ctx.Err() == nil {
		log.Printf("server: %v", err)
	}
}

type notes struct{ root string }

// inside resolves p and reports whether it lies under the root.
func (n notes) inside(p string) (string, bool) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", false
	}
	return abs, abs == n.root || strings.HasPrefix(abs, n.root+string(filepath.Separator))
}

type readArgs struct {
	Path string `json:"path"`
}

func (n notes) read(_ context.Context, _ *mcp.CallToolRequest, in readArgs) (*mcp.CallToolResult, any, error) {
	abs, ok := n.inside(in.Path)
	if !ok {
		return errorResult(fmt.Sprintf("Access denied - path outside allowed directories: %s not in %s", in.Path, n.root)), nil, nil
	}
	raw, err := os.ReadFile(abs)
	if err != nil {
		return errorResult(err.Error()), nil, nil
	}
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: string(raw)}}}, nil, nil
}

type fetchArgs struct {
	URL string `json:"url"`
}

func fetchURL(ctx context.Context, _ *mcp.CallToolRequest, in fetchArgs) (*mcp.CallToolResult, any, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, in.URL, nil)
	if err != nil {
		return errorResult(err.Error()), nil, nil
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return errorResult(err.Error()), nil, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: resp.Status + "\n" + string(body)}}}, nil, nil
}

func (n notes) resource(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
	uri := req.Params.URI
	abs, ok := n.inside(strings.TrimPrefix(uri, "file://"))
	if !ok {
		return nil, mcp.ResourceNotFoundError(uri)
	}
	raw, err := os.ReadFile(abs)
	if err != nil {
		return nil, mcp.ResourceNotFoundError(uri)
	}
	return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: uri, MIMEType: "text/plain", Text: string(raw)}}}, nil
}

func errorResult(text string) *mcp.CallToolResult {
	return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: text}}}
}
