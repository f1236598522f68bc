// Package deploy validates the Kubernetes manifests offline: every
// document decodes strictly (unknown or duplicate fields fail) into the
// typed k8s.io/api (or prometheus-operator) object of its kind, names and
// labels are valid, and the cross references a cluster would only reject
// at run time hold (selectors, Services and their ports, StatefulSet
// serviceName, RBAC, ConfigMaps, the collector config's resolver,
// ServiceMonitor selectors). The Helm chart is the source: the kustomize
// bases are its rendering (chart_test.go), checked the same way.
package deploy

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"
)

// kustomization is the part of kustomize's Kustomization these use.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Namespace  string   `json:"namespace"`
	Resources  []string `json:"resources"`
	// Pins the image: `kustomize edit set image
	// ghcr.io/sandwatch/sandwatch@sha256:...` (bin/image/digest).
	Images []struct {
		Name    string `json:"name"`
		NewName string `json:"newName,omitempty"`
		NewTag  string `json:"newTag,omitempty"`
		Digest  string `json:"digest,omitempty"`
	} `json:"images,omitempty"`
}

// objects of one kustomization, by kind.
type objects struct {
	namespaces   []*corev1.Namespace
	accounts     []*corev1.ServiceAccount
	configMaps   []*corev1.ConfigMap
	services     []*corev1.Service
	daemonSets   []*appsv1.DaemonSet
	deployments  []*appsv1.Deployment
	statefulSets []*appsv1.StatefulSet
	roles        []*rbacv1.Role
	bindings     []*rbacv1.RoleBinding
	budgets      []*policyv1.PodDisruptionBudget
	monitors     []*monitoringv1.ServiceMonitor
}

func TestManifests(t *testing.T) {
	for _, dir := range []string{"agent", "gateway"} {
		t.Run(dir, func(t *testing.T) {
			o := load(t, dir)
			o.check(t)
		})
	}
}

func load(t *testing.T, dir string) *objects {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k kustomization
	if err := yaml.UnmarshalStrict(b, &k); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" || k.Namespace == "" {
		t.Fatalf("kustomization.yaml: apiVersion/kind/namespace: %+v", k)
	}
	for _, img := range k.Images {
		if img.Digest != "" && !digestRE.MatchString(img.Digest) {
			t.Errorf("kustomization.yaml: images %s: digest %q is not sha256:<64 hex>", img.Name, img.Digest)
		}
	}
	o := &objects{}
	for _, res := range k.Resources {
		data, err := os.ReadFile(filepath.Join(dir, res))
		if err != nil {
			t.Fatalf("resource %s: %v", res, err)
		}
		o.decodeAll(t, dir+"/"+res, data, k.Namespace)
	}
	return o
}

var digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// decodeAll decodes every document of one multi-document file.
func (o *objects) decodeAll(t *testing.T, name string, data []byte, ns string) {
	t.Helper()
	for i, doc := range splitDocs(data) {
		if err := o.decode(doc, ns); err != nil {
			t.Errorf("%s document %d: %v", name, i+1, err)
		}
	}
}

func splitDocs(b []byte) [][]byte {
	var out [][]byte
	for _, d := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(b), -1) {
		if strings.TrimSpace(stripComments(d)) != "" {
			out = append(out, []byte(d))
		}
	}
	return out
}

func stripComments(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// add appends a new object to list and returns it.
func add[T any](list *[]*T) *T {
	x := new(T)
	*list = append(*list, x)
	return x
}

// decode strictly decodes doc into the typed object of its kind.
func (o *objects) decode(doc []byte, ns string) error {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return err
	}
	var obj interface {
		GetName() string
		GetNamespace() string
		GetLabels() map[string]string
	}
	key := tm.APIVersion + "/" + tm.Kind
	switch key {
	case "v1/Namespace":
		obj = add(&o.namespaces)
	case "v1/ServiceAccount":
		obj = add(&o.accounts)
	case "v1/ConfigMap":
		obj = add(&o.configMaps)
	case "v1/Service":
		obj = add(&o.services)
	case "apps/v1/DaemonSet":
		obj = add(&o.daemonSets)
	case "apps/v1/Deployment":
		obj = add(&o.deployments)
	case "apps/v1/StatefulSet":
		obj = add(&o.statefulSets)
	case "rbac.authorization.k8s.io/v1/Role":
		obj = add(&o.roles)
	case "rbac.authorization.k8s.io/v1/RoleBinding":
		obj = add(&o.bindings)
	case "policy/v1/PodDisruptionBudget":
		obj = add(&o.budgets)
	case "monitoring.coreos.com/v1/ServiceMonitor":
		obj = add(&o.monitors)
	default:
		return fmt.Errorf("kind %q is not one this check knows", key)
	}
	if err := yaml.UnmarshalStrict(doc, obj); err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	var errs []string
	for _, e := range validation.IsDNS1123Subdomain(obj.GetName()) {
		errs = append(errs, "metadata.name: "+e)
	}
	if tm.Kind != "Namespace" && obj.GetNamespace() != ns {
		errs = append(errs, fmt.Sprintf("metadata.namespace %q is not the kustomization's %q", obj.GetNamespace(), ns))
	}
	for k, v := range obj.GetLabels() {
		errs = append(errs, validation.IsQualifiedName(k)...)
		errs = append(errs, validation.IsValidLabelValue(v)...)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s %s: %s", tm.Kind, obj.GetName(), strings.Join(errs, "; "))
	}
	return nil
}

type workload struct {
	kind, name string
	selector   *metav1.LabelSelector
	pod        *corev1.PodTemplateSpec
}

func (o *objects) workloads() []workload {
	var out []workload
	for _, x := range o.daemonSets {
		out = append(out, workload{"DaemonSet", x.Name, x.Spec.Selector, &x.Spec.Template})
	}
	for _, x := range o.deployments {
		out = append(out, workload{"Deployment", x.Name, x.Spec.Selector, &x.Spec.Template})
	}
	for _, x := range o.statefulSets {
		out = append(out, workload{"StatefulSet", x.Name, x.Spec.Selector, &x.Spec.Template})
	}
	return out
}

func matches(sel map[string]string, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func (o *objects) configMap(name string) *corev1.ConfigMap {
	for _, c := range o.configMaps {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (o *objects) check(t *testing.T) {
	ws := o.workloads()
	if len(ws) == 0 {
		t.Fatal("no workload")
	}
	for _, w := range ws {
		if w.selector == nil || len(w.selector.MatchExpressions) > 0 || !matches(w.selector.MatchLabels, w.pod.Labels) {
			t.Errorf("%s %s: spec.selector does not select its pod template's labels", w.kind, w.name)
		}
		o.checkPod(t, w)
	}
	for _, s := range o.services {
		var target *workload
		for i := range ws {
			if matches(s.Spec.Selector, ws[i].pod.Labels) {
				target = &ws[i]
			}
		}
		if target == nil {
			t.Errorf("Service %s selects no workload", s.Name)
			continue
		}
		for _, p := range s.Spec.Ports {
			if p.TargetPort.StrVal != "" && !slices.ContainsFunc(target.pod.Spec.Containers, func(c corev1.Container) bool {
				return slices.ContainsFunc(c.Ports, func(cp corev1.ContainerPort) bool { return cp.Name == p.TargetPort.StrVal })
			}) {
				t.Errorf("Service %s: targetPort %q is no container port of %s", s.Name, p.TargetPort.StrVal, target.name)
			}
		}
	}
	for _, ss := range o.statefulSets {
		ok := slices.ContainsFunc(o.services, func(s *corev1.Service) bool {
			return s.Name == ss.Spec.ServiceName && s.Spec.ClusterIP == corev1.ClusterIPNone && matches(s.Spec.Selector, ss.Spec.Template.Labels)
		})
		if !ok {
			t.Errorf("StatefulSet %s: serviceName %q is not a headless Service selecting it", ss.Name, ss.Spec.ServiceName)
		}
	}
	for _, b := range o.bindings {
		if b.RoleRef.Kind != "Role" || !slices.ContainsFunc(o.roles, func(r *rbacv1.Role) bool { return r.Name == b.RoleRef.Name }) {
			t.Errorf("RoleBinding %s: roleRef %s %q is not defined", b.Name, b.RoleRef.Kind, b.RoleRef.Name)
		}
		for _, s := range b.Subjects {
			if s.Kind != "ServiceAccount" || !slices.ContainsFunc(o.accounts, func(a *corev1.ServiceAccount) bool { return a.Name == s.Name }) {
				t.Errorf("RoleBinding %s: subject %s %q is not defined", b.Name, s.Kind, s.Name)
			}
		}
	}
	for _, m := range o.monitors {
		o.checkMonitor(t, m)
	}
	for _, p := range o.budgets {
		if !slices.ContainsFunc(ws, func(w workload) bool { return matches(p.Spec.Selector.MatchLabels, w.pod.Labels) }) {
			t.Errorf("PodDisruptionBudget %s selects no workload", p.Name)
		}
	}
}

func (o *objects) checkPod(t *testing.T, w workload) {
	spec := w.pod.Spec
	if spec.ServiceAccountName != "" && !slices.ContainsFunc(o.accounts, func(a *corev1.ServiceAccount) bool { return a.Name == spec.ServiceAccountName }) {
		t.Errorf("%s %s: serviceAccountName %q is not defined", w.kind, w.name, spec.ServiceAccountName)
	}
	volumes := map[string]bool{}
	for _, v := range spec.Volumes {
		volumes[v.Name] = true
		if v.ConfigMap != nil {
			cm := o.configMap(v.ConfigMap.Name)
			if cm == nil {
				t.Errorf("%s %s: volume %s: ConfigMap %q is not defined", w.kind, w.name, v.Name, v.ConfigMap.Name)
				continue
			}
			if v.Name == "config" { // the collector's; others (identity bindings) are data it reads
				o.checkCollectorConfig(t, w, cm)
			}
		}
	}
	if w.kind == "StatefulSet" {
		for _, s := range o.statefulSets {
			for _, c := range s.Spec.VolumeClaimTemplates {
				volumes[c.Name] = true
			}
		}
	}
	for _, c := range spec.Containers {
		if c.Image == "" {
			t.Errorf("%s %s: container %s has no image", w.kind, w.name, c.Name)
		}
		for _, m := range c.VolumeMounts {
			if !volumes[m.Name] {
				t.Errorf("%s %s: volumeMount %s has no volume", w.kind, w.name, m.Name)
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil {
				ref := e.ValueFrom.ConfigMapKeyRef
				cm := o.configMap(ref.Name)
				if cm == nil || cm.Data[ref.Key] == "" {
					t.Errorf("%s %s: env %s: ConfigMap %s key %s is not defined", w.kind, w.name, e.Name, ref.Name, ref.Key)
				}
			}
			if strings.HasSuffix(e.Name, "_ENDPOINT") && strings.HasPrefix(e.Value, "127.") {
				t.Errorf("%s %s: env %s=%s listens on loopback only: nothing outside the pod reaches it", w.kind, w.name, e.Name, e.Value)
			}
		}
	}
}

// checkCollectorConfig parses the collector config a workload mounts and,
// for a load_balancing exporter, checks that its resolver finds the tier-2
// replicas in a cluster: k8s or dns on a headless Service of these objects
// and one of its ports (a static list is a loopback list for local runs).
func (o *objects) checkCollectorConfig(t *testing.T, w workload, cm *corev1.ConfigMap) {
	raw, ok := cm.Data["config.yaml"]
	if !ok {
		t.Errorf("ConfigMap %s: no config.yaml", cm.Name)
		return
	}
	var cfg struct {
		Exporters map[string]struct {
			Resolver *resolverConfig `json:"resolver"`
		} `json:"exporters"`
		Service struct {
			Pipelines map[string]any `json:"pipelines"`
		} `json:"service"`
	}
	if err := yaml.Unmarshal([]byte(raw), &cfg); err != nil {
		t.Errorf("ConfigMap %s: config.yaml: %v", cm.Name, err)
		return
	}
	if len(cfg.Service.Pipelines) == 0 {
		t.Errorf("ConfigMap %s: config.yaml has no pipelines", cm.Name)
	}
	for name, e := range cfg.Exporters {
		if e.Resolver == nil {
			continue
		}
		if err := o.checkResolver(e.Resolver); err != nil {
			t.Errorf("%s %s: exporter %s: %v", w.kind, w.name, name, err)
		}
	}
}

// resolverConfig is the part of load_balancing's resolver config checked here.
type resolverConfig struct {
	Static *struct {
		Hostnames any `json:"hostnames"`
	} `json:"static"`
	K8s *struct {
		Service string  `json:"service"`
		Ports   []int32 `json:"ports"`
	} `json:"k8s"`
	DNS *struct {
		Hostname string `json:"hostname"`
		Port     string `json:"port"`
	} `json:"dns"`
}

// headlessPort finds the headless Service svc in namespace ns and tells
// whether one of its ports is in ports.
func (o *objects) headlessPort(svc, ns string, ports []int32) bool {
	for _, s := range o.services {
		if s.Name == svc && s.Namespace == ns && s.Spec.ClusterIP == corev1.ClusterIPNone {
			for _, p := range s.Spec.Ports {
				if slices.Contains(ports, p.Port) {
					return true
				}
			}
		}
	}
	return false
}

func (o *objects) checkResolver(r *resolverConfig) error {
	switch {
	case r.Static != nil:
		return fmt.Errorf("static resolver %v: in a cluster, tier 1 needs k8s or dns on the tier-2 headless Service", r.Static.Hostnames)
	case r.K8s != nil:
		svc, ns, _ := strings.Cut(r.K8s.Service, ".")
		if !o.headlessPort(svc, ns, r.K8s.Ports) {
			return fmt.Errorf("k8s resolver %q ports %v: no such headless Service port", r.K8s.Service, r.K8s.Ports)
		}
	case r.DNS != nil:
		parts := strings.Split(r.DNS.Hostname, ".")
		port, err := strconv.ParseInt(r.DNS.Port, 10, 32)
		if err != nil || len(parts) != 5 || strings.Join(parts[2:], ".") != "svc.cluster.local" || !o.headlessPort(parts[0], parts[1], []int32{int32(port)}) {
			return fmt.Errorf("dns resolver %s port %q: not <headless Service>.<namespace>.svc.cluster.local and one of its ports", r.DNS.Hostname, r.DNS.Port)
		}
	default:
		return fmt.Errorf("resolver: none of static, k8s, dns")
	}
	return nil
}

// checkMonitor: the ServiceMonitor selects a Service of these objects and
// scrapes a named port it has.
func (o *objects) checkMonitor(t *testing.T, m *monitoringv1.ServiceMonitor) {
	var target *corev1.Service
	for _, s := range o.services {
		if s.Namespace == m.Namespace && matches(m.Spec.Selector.MatchLabels, s.Labels) {
			if target != nil {
				t.Errorf("ServiceMonitor %s selects Services %s and %s: every replica would be scraped twice", m.Name, target.Name, s.Name)
			}
			target = s
		}
	}
	if target == nil {
		t.Errorf("ServiceMonitor %s selects no Service", m.Name)
		return
	}
	for _, e := range m.Spec.Endpoints {
		if !slices.ContainsFunc(target.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == e.Port }) {
			t.Errorf("ServiceMonitor %s: port %q is no port of Service %s", m.Name, e.Port, target.Name)
		}
	}
}

// TestConfigsValidateWithTheCollector runs `sandwatch validate` on each
// collector config the bases embed (make test sets SANDWATCH_BIN; plain `go
// test` skips), with the variables the manifests leave to the cluster.
func TestConfigsValidateWithTheCollector(t *testing.T) {
	bin := os.Getenv("SANDWATCH_BIN")
	if bin == "" {
		t.Skip("SANDWATCH_BIN is not set: run through `make test`")
	}
	n := 0
	for _, dir := range []string{"agent", "gateway"} {
		for _, cm := range load(t, dir).configMaps {
			raw, ok := cm.Data["config.yaml"]
			if !ok {
				continue
			}
			n++
			cfg := filepath.Join(t.TempDir(), "config.yaml")
			if err := os.WriteFile(cfg, []byte(raw), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(bin, "validate", "--config", cfg)
			cmd.Env = append(os.Environ(), "SANDWATCH_FORENSIC_STORE=s3://archive?region=us-east-1", "SANDWATCH_SHARED_STORE=s3://shared?region=us-east-1")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("%s ConfigMap %s: sandwatch validate: %v\n%s", dir, cm.Name, err, out)
			}
		}
	}
	if n != 3 {
		t.Errorf("validated %d collector configs, want 3 (agent, tier 1, tier 2)", n)
	}
}
