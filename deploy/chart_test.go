package deploy

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

var update = flag.Bool("update", false, "rewrite the kustomize bases from the chart")

const chartDir = "helm/sandwatch"

// helm finds the helm binary `make test` installs (SANDWATCH_HELM, or the
// repository's .tools/); without it the chart tests skip.
func helm(t *testing.T) string {
	t.Helper()
	if h := os.Getenv("SANDWATCH_HELM"); h != "" {
		return h
	}
	if m, _ := filepath.Glob("../.tools/helm-v*"); len(m) > 0 {
		return m[0]
	}
	t.Skip("no helm: run through `make test` (installs helm v3.22.0 into .tools/)")
	return ""
}

// render runs `helm template` on the chart as release sandwatch in
// namespace sandwatch; stderr (helm's notes on the files/ links into
// config/) is returned only on failure.
func render(t *testing.T, set ...string) ([]byte, error) {
	t.Helper()
	args := []string{"template", "sandwatch", chartDir, "--namespace", "sandwatch"}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	cmd := exec.Command(helm(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("helm %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes(), nil
}

// bases: the kustomize base files, each the chart rendered in one mode.
var bases = map[string][]string{
	"agent/sandwatch.yaml":   {"mode=agent"},
	"gateway/sandwatch.yaml": {"mode=gateway"},
}

func baseHeader(set []string) string {
	return fmt.Sprintf("# Generated from deploy/%s by `go test . -update` in deploy/\n# (helm template sandwatch %s --namespace sandwatch --set %s); do not edit.\n", chartDir, chartDir, strings.Join(set, ","))
}

// The kustomize bases are the chart's rendering: one source of truth. After
// a change to the chart or to config/, `go test . -update` rewrites them.
func TestKustomizeBasesAreTheChart(t *testing.T) {
	for file, set := range bases {
		out, err := render(t, set...)
		if err != nil {
			t.Fatal(err)
		}
		want := append([]byte(baseHeader(set)), out...)
		if *update {
			if err := os.WriteFile(file, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not the chart rendered with --set %s: run `go test . -update` in deploy/", file, strings.Join(set, ","))
		}
	}
}

// rendered decodes and checks one rendering of the chart.
func rendered(t *testing.T, set ...string) *objects {
	t.Helper()
	out, err := render(t, set...)
	if err != nil {
		t.Fatal(err)
	}
	o := &objects{}
	o.decodeAll(t, "helm template --set "+strings.Join(set, ","), out, "sandwatch")
	o.check(t)
	return o
}

const testDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// Every combination of values the chart documents renders objects that
// decode strictly and hold together.
func TestChartValues(t *testing.T) {
	t.Run("agent pinned by digest, IRSA, no Secret, ServiceMonitor", func(t *testing.T) {
		o := rendered(t, "mode=agent", "image.digest="+testDigest, "s3.secretName=",
			`serviceAccount.annotations.eks\.amazonaws\.com/role-arn=arn:aws:iam::123456789012:role/sandwatch`, "serviceMonitor.enabled=true")
		assertImages(t, o, "ghcr.io/sandwatch/sandwatch@"+testDigest)
		if len(o.daemonSets) != 1 || len(o.statefulSets)+len(o.deployments) != 0 {
			t.Errorf("agent mode: %d DaemonSets, %d StatefulSets, %d Deployments", len(o.daemonSets), len(o.statefulSets), len(o.deployments))
		}
		if a := o.accounts[0].Annotations["eks.amazonaws.com/role-arn"]; a == "" {
			t.Error("the service account lacks the IRSA annotation")
		}
		for _, w := range o.workloads() {
			if len(w.pod.Spec.Containers[0].EnvFrom) != 0 {
				t.Errorf("%s: s3.secretName empty, yet envFrom %v", w.name, w.pod.Spec.Containers[0].EnvFrom)
			}
		}
		if len(o.monitors) != 1 || o.monitors[0].Spec.Endpoints[0].Port != "metrics" {
			t.Errorf("want one ServiceMonitor on port metrics, got %d", len(o.monitors))
		}
	})
	t.Run("gateway, dns resolver, own Secret names, S3-compatible store, ServiceMonitor", func(t *testing.T) {
		o := rendered(t, "mode=gateway", "gateway.tier1.resolver=dns", "gateway.tls.tier2SecretName=tier2-cert", "gateway.auth.secretName=tokens",
			"s3.endpoint=http://minio.storage:9000", "s3.pathStyle=true", "serviceMonitor.enabled=true", "gateway.tier2.replicas=5")
		if len(o.roles) != 0 {
			t.Error("the dns resolver needs no Role, yet one is rendered")
		}
		if *o.statefulSets[0].Spec.Replicas != 5 {
			t.Errorf("tier 2 replicas %d, want 5", *o.statefulSets[0].Spec.Replicas)
		}
		for _, w := range o.workloads() {
			env := envOf(w.pod.Spec.Containers[0])
			if !hasSecretVolume(w.pod.Spec, "tokens") {
				t.Errorf("%s: the auth Secret gateway.auth.secretName is not a volume", w.name)
			}
			if w.kind == "StatefulSet" && !hasSecretVolume(w.pod.Spec, "tier2-cert") {
				t.Errorf("tier 2: the TLS Secret gateway.tls.tier2SecretName is not a volume")
			}
			if w.kind == "StatefulSet" && (env["SANDWATCH_S3_ENDPOINT"] != "http://minio.storage:9000" || env["SANDWATCH_S3_PATH_STYLE"] != "true") {
				t.Errorf("tier 2: S3 endpoint env %v", env)
			}
		}
		if m := o.monitors; len(m) == 1 && m[0].Spec.Endpoints[0].TLSConfig != nil {
			if ca := m[0].Spec.Endpoints[0].TLSConfig.CA.Secret; ca == nil || ca.Name != "tier2-cert" {
				t.Errorf("the ServiceMonitor verifies tier 2 with CA %v, want Secret tier2-cert", ca)
			}
		}
		if len(o.monitors) != 1 || o.monitors[0].Name != "sandwatch-tier2" {
			t.Errorf("want the tier-2 ServiceMonitor, got %d", len(o.monitors))
		}
	})
	t.Run("gateway, k8s resolver (default)", func(t *testing.T) {
		o := rendered(t, "mode=gateway")
		if len(o.roles) != 1 || len(o.bindings) != 1 || len(o.budgets) != 2 {
			t.Errorf("k8s resolver: %d Roles, %d RoleBindings, %d PodDisruptionBudgets; want 1, 1, 2", len(o.roles), len(o.bindings), len(o.budgets))
		}
		for _, d := range o.deployments {
			if m := d.Spec.Template.Spec.AutomountServiceAccountToken; m == nil || !*m {
				t.Error("tier 1 with the k8s resolver needs its service account token (the in-cluster client)")
			}
		}
		assertImages(t, o, "ghcr.io/sandwatch/sandwatch:0.1.0")
	})
}

// The digest `make image` wrote pins every workload of both modes (make
// test sets SANDWATCH_IMAGE; test/image runs that very image).
func TestChartPinsTheBuiltImage(t *testing.T) {
	dir := os.Getenv("SANDWATCH_IMAGE")
	if dir == "" {
		t.Skip("SANDWATCH_IMAGE is not set: run through `make test` (make image)")
	}
	b, err := os.ReadFile(filepath.Join(dir, "digest"))
	if err != nil {
		t.Fatal(err)
	}
	digest := strings.TrimSpace(string(b))
	for _, mode := range []string{"agent", "gateway"} {
		o := rendered(t, "mode="+mode, "image.repository=registry.example/sandwatch", "image.digest="+digest)
		assertImages(t, o, "registry.example/sandwatch@"+digest)
	}
}

// Bad values fail the render with a message that names the value.
func TestChartRefusesBadValues(t *testing.T) {
	cases := []struct {
		set  []string
		want string
	}{
		{[]string{"mode=both"}, "/mode"},
		{[]string{"image.digest=sha256:abc"}, "/image/digest"},
		{[]string{"mode=gateway", "gateway.tier1.resolver=static"}, "/gateway/tier1/resolver"},
		{[]string{"mode=gateway", "gateway.tier2.replicas=0"}, "/gateway/tier2/replicas"},
		{[]string{"store.archive=/var/archive"}, "/store/archive"},
		{[]string{"mode=gateway", "tls.enabled=false"}, "values tls: removed"},
		{[]string{"mode=gateway", "gateway.identity.bindings=null"}, "gateway.identity.bindings: empty"},
		{[]string{"mode=gateway", "gateway.tls.insecure=true"}, "/gateway/tls"},
		{[]string{"mode=gateway", "gateway.identity.reloadInterval=soon"}, "/gateway/identity/reloadInterval"},
		{[]string{"mode=gateway", "gateway.tier2.queryPort=4317"}, "/gateway/tier2/queryPort"},
		{[]string{"agent.kernelAudit.enabled=true", "agent.kernelAudit.supplementalGroups={0}"}, "/agent/kernelAudit/supplementalGroups/0"},
		{[]string{"agent.kernelAudit.enabled=true", "agent.kernelAudit.hostPathType=File"}, "/agent/kernelAudit/hostPathType"},
		{[]string{"agent.kernelAudit.enabled=true", "agent.kernelAudit.sources.auditd.enabled=false"}, "agent.kernelAudit.enabled: no source enabled"},
		{[]string{"agent.kernelAudit.sources.auditd.file=audit.{log}"}, "/agent/kernelAudit/sources/auditd/file"},
	}
	for _, c := range cases {
		_, err := render(t, c.set...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("--set %v: error %v, want one naming %q", c.set, err, c.want)
		}
	}
}

func assertImages(t *testing.T, o *objects, want string) {
	t.Helper()
	for _, w := range o.workloads() {
		for _, c := range w.pod.Spec.Containers {
			if c.Image != want {
				t.Errorf("%s %s: image %s, want %s", w.kind, w.name, c.Image, want)
			}
		}
	}
}

func envOf(c corev1.Container) map[string]string {
	m := map[string]string{}
	for _, e := range c.Env {
		m[e.Name] = e.Value
	}
	return m
}

func hasSecretVolume(spec corev1.PodSpec, secret string) bool {
	for _, v := range spec.Volumes {
		if v.Secret != nil && v.Secret.SecretName == secret {
			return true
		}
	}
	return false
}
