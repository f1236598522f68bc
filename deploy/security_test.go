package deploy

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// The files the secure gateway configs open, by the key that names them.
var fileKeys = []string{"cert_file", "key_file", "ca_file", "client_ca_file", "filename", "bindings_file"}

// What the README tells the operator to create: each Secret and its keys.
var gatewaySecrets = map[string][]string{
	"sandwatch-tier1-tls":           {"ca.crt", "tls.crt", "tls.key"},
	"sandwatch-tier1-forwarder-tls": {"ca.crt", "tls.crt", "tls.key"},
	"sandwatch-tier2-tls":           {"ca.crt", "tls.crt", "tls.key"},
	"sandwatch-gateway-auth":        {"query-tokens", "tokens"},
}

// The gateway configs are secure by default (config/gateway-tier1.yaml,
// gateway-tier2.yaml): every ${env:...} they read is set by the chart or
// has a default, and every certificate, token or bindings file they open,
// once the variables are resolved as in the pod, lies in a Secret or
// ConfigMap the pod mounts, under a key that Secret is documented to have
// (or the ConfigMap has). The base kubectl applies and the dns rendering
// are checked.
func TestGatewayConfigsFindWhatTheyRead(t *testing.T) {
	for name, o := range map[string]*objects{
		"gateway/sandwatch.yaml":             load(t, "gateway"),
		"--set gateway.tier1.resolver=dns":   rendered(t, "mode=gateway", "gateway.tier1.resolver=dns"),
		"--set serviceMonitor.enabled=true":  rendered(t, "mode=gateway", "serviceMonitor.enabled=true"),
		"--set gateway.tier2.queryPort=3300": rendered(t, "mode=gateway", "gateway.tier2.queryPort=3300"),
	} {
		t.Run(name, func(t *testing.T) {
			need := map[string]map[string]bool{}
			for _, w := range o.workloads() {
				o.checkSecureConfig(t, w, need)
			}
			got := map[string][]string{}
			for s, keys := range need {
				got[s] = slices.Sorted(maps.Keys(keys))
			}
			if !maps.EqualFunc(got, gatewaySecrets, slices.Equal) {
				t.Errorf("the configs read the Secrets\n%v\nthe README documents\n%v", got, gatewaySecrets)
			}
			o.checkBindings(t)
			o.checkQueryReachable(t)
			for _, m := range o.monitors {
				e := m.Spec.Endpoints[0]
				if e.Scheme == nil || strings.ToLower(string(*e.Scheme)) != "https" || e.TLSConfig == nil || e.TLSConfig.ServerName == nil ||
					*e.TLSConfig.ServerName != "sandwatch-tier2" || e.TLSConfig.CA.Secret == nil || e.TLSConfig.CA.Secret.Name != "sandwatch-tier2-tls" {
					t.Errorf("ServiceMonitor %s: tier 2 serves metrics over TLS only, want https verified as sandwatch-tier2 with sandwatch-tier2-tls ca.crt: %+v", m.Name, e)
				}
			}
		})
	}
}

var envRef = regexp.MustCompile(`\$\{env:([A-Za-z0-9_]+)(:-([^}]*))?\}`)

// checkSecureConfig resolves the collector config of w as the pod would
// and records, per Secret, the keys it opens.
func (o *objects) checkSecureConfig(t *testing.T, w workload, need map[string]map[string]bool) {
	c := w.pod.Spec.Containers[0]
	volumes := map[string]corev1.Volume{}
	for _, v := range w.pod.Spec.Volumes {
		volumes[v.Name] = v
	}
	cfg := o.resolvedConfig(t, w)
	files := 0
	walk(cfg, "", func(path, key string, v any) {
		if key == "insecure" && v == true {
			t.Errorf("%s: %s: insecure: true in the shipped config", w.name, path)
		}
		s, ok := v.(string)
		if !ok || !slices.Contains(fileKeys, key) {
			return
		}
		files++
		m, rel := mountOf(c, s)
		if m == nil || m.Name == "config" {
			t.Errorf("%s: %s = %s: no Secret or ConfigMap is mounted there", w.name, path, s)
			return
		}
		switch v := volumes[m.Name]; {
		case v.Secret != nil:
			if need[v.Secret.SecretName] == nil {
				need[v.Secret.SecretName] = map[string]bool{}
			}
			need[v.Secret.SecretName][rel] = true
		case v.ConfigMap != nil:
			if cm := o.configMap(v.ConfigMap.Name); cm == nil || cm.Data[rel] == "" {
				t.Errorf("%s: %s = %s: ConfigMap %s has no key %s", w.name, path, s, v.ConfigMap.Name, rel)
			}
		default:
			t.Errorf("%s: %s = %s: volume %s is neither a Secret nor a ConfigMap", w.name, path, s, m.Name)
		}
	})
	if files == 0 {
		t.Errorf("%s: the config opens no certificate, token or bindings file: not the secure config", w.name)
	}
	protocols, _ := dig(cfg, "receivers", "otlp", "protocols").(map[string]any)
	for p, pc := range protocols {
		if m, _ := pc.(map[string]any); m["tls"] == nil {
			t.Errorf("%s: receivers.otlp.protocols.%s has no tls", w.name, p)
		}
	}
}

// resolvedConfig is the collector config w mounts with its ${env:...}
// resolved as in the pod: the container's env (a valueFrom as
// "from-<NAME>"), else the default.
func (o *objects) resolvedConfig(t *testing.T, w workload) map[string]any {
	t.Helper()
	env := map[string]string{}
	for _, e := range w.pod.Spec.Containers[0].Env {
		env[e.Name] = e.Value
		if e.ValueFrom != nil {
			env[e.Name] = "from-" + e.Name
		}
	}
	var raw string
	for _, v := range w.pod.Spec.Volumes {
		if v.Name == "config" && v.ConfigMap != nil {
			raw = o.configMap(v.ConfigMap.Name).Data["config.yaml"]
		}
	}
	resolved := envRef.ReplaceAllStringFunc(stripComments(raw), func(ref string) string {
		m := envRef.FindStringSubmatch(ref)
		if v, ok := env[m[1]]; ok {
			return v
		}
		if m[2] == "" {
			t.Errorf("%s: the config reads ${env:%s}, which has no default and the pod does not set", w.name, m[1])
		}
		return m[3]
	})
	var cfg map[string]any
	if err := yaml.Unmarshal([]byte(resolved), &cfg); err != nil {
		t.Fatalf("%s: the resolved config: %v", w.name, err)
	}
	return cfg
}

// mountOf finds the volume mount holding path (the deepest one) and the
// path inside it.
func mountOf(c corev1.Container, path string) (*corev1.VolumeMount, string) {
	var best *corev1.VolumeMount
	for i, m := range c.VolumeMounts {
		if strings.HasPrefix(path, m.MountPath+"/") && (best == nil || len(m.MountPath) > len(best.MountPath)) {
			best = &c.VolumeMounts[i]
		}
	}
	if best == nil {
		return nil, ""
	}
	return best, strings.TrimPrefix(path, best.MountPath+"/")
}

// walk calls fn on every key of a decoded YAML tree.
func walk(v any, path string, fn func(path, key string, v any)) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			fn(path+"."+k, k, c)
			walk(c, path+"."+k, fn)
		}
	case []any:
		for i, c := range x {
			walk(c, fmt.Sprintf("%s[%d]", path, i), fn)
		}
	}
}

func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	return v
}

// bindingsFile is processor/identityprocessor's bindings file (its
// internal/binding Entry), decoded strictly: an unknown key fails here as
// it would fail the processor's start.
type bindingsFile struct {
	Identities []struct {
		Name            string   `json:"name"`
		TokensSHA256    []string `json:"tokens_sha256,omitempty"`
		Usernames       []string `json:"usernames,omitempty"`
		CertCommonNames []string `json:"cert_common_names,omitempty"`
		CertSANs        []string `json:"cert_sans,omitempty"`
		Extensions      []string `json:"extensions,omitempty"`
		Hosts           []string `json:"hosts,omitempty"`
	} `json:"identities"`
}

// checkBindings: the identities ConfigMap both tiers mount is a bindings
// file the processor accepts (at least one named identity).
func (o *objects) checkBindings(t *testing.T) {
	cm := o.configMap("sandwatch-identities")
	if cm == nil {
		t.Fatal("no ConfigMap sandwatch-identities")
	}
	var f bindingsFile
	if err := yaml.UnmarshalStrict([]byte(cm.Data["identities.yaml"]), &f); err != nil {
		t.Fatalf("ConfigMap %s: identities.yaml: %v", cm.Name, err)
	}
	if len(f.Identities) == 0 {
		t.Errorf("ConfigMap %s: no identities: the processor refuses to start", cm.Name)
	}
	for i, id := range f.Identities {
		if id.Name == "" {
			t.Errorf("ConfigMap %s: identities[%d] has no name", cm.Name, i)
		}
	}
}
