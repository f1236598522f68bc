package gateway

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/sandwatch/sandwatch/cmd/sandwatchctl/simulatecmd"
	"github.com/sandwatch/sandwatch/internal/archive"
	"github.com/sandwatch/sandwatch/internal/devpki"
	"github.com/sandwatch/sandwatch/internal/simulate"
	"github.com/sandwatch/sandwatch/test/testutil"
)

// The name the chart's dns resolver resolves (release sandwatch in
// namespace sandwatch): the tier-2 headless Service.
const tier2Name = "sandwatch-tier2.sandwatch.svc.cluster.local"

// TestDNSResolver runs tier 1 on the chart's own tier-1 config with
// `gateway.tier1.resolver=dns` (helm template), in a mount namespace of
// its own (unshare) where /etc/hosts is a file of the test: the headless
// Service's name resolves to the replicas the file lists, as cluster DNS
// would answer. Three replicas listen on 127.0.0.2-4, port 4317 (the
// resolver's port is one for all, like a Service's). While load runs the
// test swaps one address for another, as a rollout would: the extensions
// of the replica that left move, nothing acknowledged is lost, and attacks
// on the moved extensions are detected by their new owners, with the
// profiles they loaded from the shared store.
func TestDNSResolver(t *testing.T) {
	helm := os.Getenv("SANDWATCH_HELM")
	if helm == "" {
		t.Skip("SANDWATCH_HELM is not set: run through `make test` (the chart's tier-1 config is rendered by helm)")
	}
	if os.Geteuid() != 0 {
		t.Skip("unshare --mount and the bind mount of /etc/hosts need root (CI runs as root)")
	}
	testutil.Binary(t, "SANDWATCH_BIN")
	hosts := []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"}
	for _, h := range hosts {
		ln, err := net.Listen("tcp", h+":4317")
		require.NoError(t, err, "the replicas listen on %s:4317, the chart's port", h)
		ln.Close()
	}

	c := &cluster{t: t, store: "file://" + t.TempDir(), sink: testutil.NewAnomalySink(t), t1dir: t.TempDir()}
	c.makePKI()
	c.t1.otlp, c.t1.http, c.t1.health, c.t1.telemetry = testutil.FreePort(t), testutil.FreePort(t), testutil.FreePort(t), testutil.FreePort(t)
	addr := map[*replica]string{}
	for i, h := range hosts {
		r := &replica{name: fmt.Sprintf("r%d", i), dir: t.TempDir()}
		r.http, r.health, r.telemetry, r.prom, r.query = testutil.FreePort(t), testutil.FreePort(t), testutil.FreePort(t), testutil.FreePort(t), testutil.FreePort(t)
		c.replicas = append(c.replicas, r)
		addr[r] = h
	}
	var wg sync.WaitGroup
	for _, r := range c.replicas {
		wg.Add(1)
		go func() { defer wg.Done(); c.startReplicaAt(r, addr[r]+":4317") }()
	}
	wg.Wait()

	hostsFile := filepath.Join(t.TempDir(), "hosts")
	setHosts := func(rs ...*replica) {
		var b strings.Builder
		b.WriteString("127.0.0.1 localhost\n")
		for _, r := range rs {
			fmt.Fprintf(&b, "%s %s\n", addr[r], tier2Name)
		}
		// In place, never by rename: the bind mount holds this inode.
		require.NoError(t, os.WriteFile(hostsFile, []byte(b.String()), 0o644))
	}
	r0, r1, r2 := c.replicas[0], c.replicas[1], c.replicas[2]
	setHosts(r0, r1)
	config, chartEnv := chartTier1(t, helm, c.pki)
	c.startTier1InNamespace(config, chartEnv, hostsFile)

	// 1. Learn, then every attack scenario: r0 and r1 own the fleet.
	truth := filepath.Join(t.TempDir(), "truth.jsonl")
	runSimulate(t, c.tier1Endpoint(), "--seed", "1", "--extensions", "40", "--learn", "100", "--duration", "6s", "--rate", "40",
		"--scenario", "all", "--attack-after", "1s", "--truth", truth)
	var injected []simulatecmd.TruthRecord
	for _, in := range readTruth(t, truth) {
		if in.Anomaly != "" {
			injected = append(injected, in)
		}
	}
	waitDetected(t, c.sink, injected, nil)
	own := single(t, owners(c.spansByReplica(), nil))
	var leaving []string
	for ext, r := range own {
		require.NotEqual(t, r2.name, r, "%s reached r2, which is not in DNS", ext)
		if r == r1.name {
			leaving = append(leaving, ext)
		}
	}
	require.NotEmpty(t, leaving, "r1 owns no extension")
	t.Logf("DNS answers r0, r1: %d extensions, %d on r1", len(own), len(leaving))

	// 2. Under load, the name's addresses change: r1 out, r2 in (r1 keeps
	// running, as a pod that is no longer ready would).
	stop := make(chan struct{})
	acked := testutil.Load(t, c.tier1Endpoint(), stop, fleet)
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
	}()
	time.Sleep(2 * time.Second)
	setHosts(r0, r2)
	changed := time.Now()
	testutil.Eventually(t, 30*time.Second, func() bool {
		return len(c.spansByReplica()[r2.name]) > 0
	}, "r2 never received spans after it entered DNS")
	t.Logf("r2 received spans %.1fs after the change (resolver interval 5s, Go's /etc/hosts cache 5s)", time.Since(changed).Seconds())
	time.Sleep(2 * time.Second) // every router connection has moved

	g := simulate.New(fleet)
	after := inject(t, g, c.tier1Endpoint(), leaving)
	waitDetected(t, c.sink, after, func(a anomaly) string {
		if a.Source == r1.name {
			return "reported by r1, which left DNS"
		}
		if a.Learning != "detecting" {
			return "the moved extension restarted learning"
		}
		return ""
	})
	close(stop)
	b, _, err := archive.Open(t.Context(), c.store, archive.S3Options{})
	require.NoError(t, err)
	defer b.Close()
	testutil.WaitAllArchived(t, acked, &archive.Reader{Bucket: b}, 60*time.Second)
	moved := 0
	by := owners(c.spansByReplica(), nil)
	for _, ext := range leaving {
		if by[ext][r0.name] || by[ext][r2.name] {
			moved++
		}
	}
	require.Equal(t, len(leaving), moved, "every extension of r1 moved to r0 or r2")
	t.Logf("%d extensions moved off r1; %d attacks on them detected by their new owners in the detecting state", moved, len(after))
}

// startReplicaAt starts a replica with its OTLP/gRPC listener at endpoint.
func (c *cluster) startReplicaAt(r *replica, endpoint string) {
	ov := filepath.Join(r.dir, "overlay.yaml")
	require.NoError(c.t, os.WriteFile(ov, []byte(fmt.Sprintf(overlay, c.sink.URL, r.name, r.dir)), 0o600))
	r.c = testutil.StartCollectorConfigs(c.t, r.dir, []string{filepath.Join(testutil.RepoRoot(c.t), "config", "gateway-tier2.yaml"), ov}, append(c.pki.CollectorEnv(),
		"SANDWATCH_OTLP_GRPC_ENDPOINT="+endpoint,
		fmt.Sprintf("SANDWATCH_OTLP_HTTP_ENDPOINT=127.0.0.1:%d", r.http),
		fmt.Sprintf("SANDWATCH_HEALTH_ENDPOINT=127.0.0.1:%d", r.health),
		fmt.Sprintf("SANDWATCH_TELEMETRY_PORT=%d", r.telemetry),
		fmt.Sprintf("SANDWATCH_PROMETHEUS_ENDPOINT=127.0.0.1:%d", r.prom),
		fmt.Sprintf("SANDWATCH_QUERY_ENDPOINT=127.0.0.1:%d", r.query),
		"SANDWATCH_DATA_DIR="+r.dir,
		"SANDWATCH_SHARED_STORE="+c.store,
		"SANDWATCH_SAVE_INTERVAL=1s",
		"SANDWATCH_REPLICA="+r.name,
		"SANDWATCH_MEMORY_LIMIT_MIB=512")...)
	r.c.WaitHealthy(fmt.Sprintf("http://127.0.0.1:%d/", r.health), 60*time.Second)
}

// startTier1InNamespace starts tier 1 on config and the chart's env
// inside a mount namespace whose /etc/hosts is hostsFile. The wrapper
// execs all the way down, so the collector keeps the PID the test signals.
func (c *cluster) startTier1InNamespace(config string, chartEnv []string, hostsFile string) {
	dir := c.t.TempDir()
	cfg := filepath.Join(dir, "tier1.yaml")
	require.NoError(c.t, os.WriteFile(cfg, []byte(config), 0o600))
	wrapper := filepath.Join(dir, "sandwatch-in-namespace")
	script := fmt.Sprintf("#!/bin/sh\nexec unshare --mount --propagation private /bin/sh -c 'mount --bind \"$SANDWATCH_TEST_HOSTS\" /etc/hosts && exec \"$0\" \"$@\"' %q \"$@\"\n", os.Getenv("SANDWATCH_BIN"))
	require.NoError(c.t, os.WriteFile(wrapper, []byte(script), 0o755))
	real := os.Getenv("SANDWATCH_BIN")
	require.NoError(c.t, os.Setenv("SANDWATCH_BIN", wrapper))
	defer os.Setenv("SANDWATCH_BIN", real)
	c.tier1 = testutil.StartCollectorConfigs(c.t, c.t1dir, []string{cfg}, append(chartEnv,
		fmt.Sprintf("SANDWATCH_OTLP_GRPC_ENDPOINT=127.0.0.1:%d", c.t1.otlp),
		fmt.Sprintf("SANDWATCH_OTLP_HTTP_ENDPOINT=127.0.0.1:%d", c.t1.http),
		fmt.Sprintf("SANDWATCH_HEALTH_ENDPOINT=127.0.0.1:%d", c.t1.health),
		fmt.Sprintf("SANDWATCH_TELEMETRY_PORT=%d", c.t1.telemetry),
		"SANDWATCH_DATA_DIR="+c.t1dir,
		"SANDWATCH_TIER1_RETRY_INITIAL=200ms",
		"SANDWATCH_TEST_HOSTS="+hostsFile)...)
	c.tier1.WaitHealthy(fmt.Sprintf("http://127.0.0.1:%d/", c.t1.health), 60*time.Second)
}

// chartTier1 renders the chart's tier 1 with the dns resolver and returns
// its ConfigMap's config.yaml and its container's env, where every path
// under one of the pod's Secret or ConfigMap mounts (certificates, tokens,
// bindings) is moved to the same file of the test's kit: the config runs
// with the variables and file layout the chart gives it.
func chartTier1(t *testing.T, helm string, kit *devpki.Gateway) (string, []string) {
	t.Helper()
	cmd := exec.Command(helm, "template", "sandwatch", filepath.Join(testutil.RepoRoot(t), "deploy", "helm", "sandwatch"),
		"--namespace", "sandwatch", "--show-only", "templates/tier1.yaml", "--set", "mode=gateway", "--set", "gateway.tier1.resolver=dns")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, stderr.String())
	// Where the kit keeps what each of the pod's volumes holds.
	kitDir := map[string]string{
		"tls":           filepath.Join(kit.Dir, "server"),
		"forwarder-tls": filepath.Join(kit.Dir, "forwarder"),
		"auth":          kit.Dir, // tokens
		"identities":    kit.Dir, // identities.yaml
	}
	var config string
	var env []string
	dec := yaml.NewDecoder(bytes.NewReader(out))
	for {
		var doc struct {
			Kind string            `yaml:"kind"`
			Data map[string]string `yaml:"data"`
			Spec struct {
				Template struct {
					Spec struct {
						Containers []struct {
							Env          []struct{ Name, Value string }
							VolumeMounts []struct {
								Name      string `yaml:"name"`
								MountPath string `yaml:"mountPath"`
							} `yaml:"volumeMounts"`
						}
					}
				}
			}
		}
		if err := dec.Decode(&doc); err != nil {
			break
		}
		switch {
		case doc.Kind == "ConfigMap" && doc.Data["config.yaml"] != "":
			config = doc.Data["config.yaml"]
		case doc.Kind == "Deployment":
			ctr := doc.Spec.Template.Spec.Containers[0]
			for _, e := range ctr.Env {
				v := e.Value
				for _, m := range ctr.VolumeMounts {
					if dir, ok := kitDir[m.Name]; ok && (v == m.MountPath || strings.HasPrefix(v, m.MountPath+"/")) {
						v = filepath.Join(dir, strings.TrimPrefix(v, m.MountPath))
					}
				}
				env = append(env, e.Name+"="+v)
			}
		}
	}
	require.Contains(t, config, "hostname: "+tier2Name, "no tier-1 ConfigMap with the dns resolver in the chart's rendering")
	require.Contains(t, env, "SANDWATCH_TLS_DIR="+kitDir["tls"], "the chart's tier 1 sets no SANDWATCH_TLS_DIR under its tls mount")
	return config, env
}
