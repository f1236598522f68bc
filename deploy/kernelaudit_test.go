package deploy

import (
	"slices"
	"testing"

	"github.com/bmatcuk/doublestar/v4"
	corev1 "k8s.io/api/core/v1"
)

// A host file the agent should read, and one it should not.
type hostFile struct{ hostPath, file string }

// The agent's file_log/kernel_audit (config/default.yaml) reads the host's
// kernel record only through the chart: its include glob, resolved as in
// the pod and matched as file_log matches it (doublestar, the library
// file_log uses), must reach each enabled source's file through a
// read-only hostPath mount of that source's directory, and nothing else;
// host.name is the node's name; the container stays uid 10001.
func TestAgentReadsTheKernelAudit(t *testing.T) {
	all := []hostFile{{"/var/log/audit", "audit.log"}, {"/var/log/falco", "events.json"}, {"/var/run/cilium/tetragon", "tetragon.log"}}
	cases := []struct {
		name   string
		set    []string
		want   []hostFile
		groups []int64
		typ    corev1.HostPathType
	}{
		{"auditd (the default source)", []string{"agent.kernelAudit.enabled=true", "agent.kernelAudit.supplementalGroups={988}"},
			all[:1], []int64{988}, corev1.HostPathDirectory},
		{"auditd, Falco, Tetragon", []string{"agent.kernelAudit.enabled=true", "agent.kernelAudit.sources.falco.enabled=true", "agent.kernelAudit.sources.tetragon.enabled=true"},
			all, nil, corev1.HostPathDirectory},
		{"Tetragon only, DirectoryOrCreate, another path", []string{"agent.kernelAudit.enabled=true", "agent.kernelAudit.sources.auditd.enabled=false",
			"agent.kernelAudit.sources.tetragon.enabled=true", "agent.kernelAudit.sources.tetragon.hostPath=/var/log/tetragon", "agent.kernelAudit.hostPathType=DirectoryOrCreate"},
			[]hostFile{{"/var/log/tetragon", "tetragon.log"}}, nil, corev1.HostPathDirectoryOrCreate},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := rendered(t, append([]string{"mode=agent"}, c.set...)...)
			w := o.workloads()[0]
			glob := kernelAuditGlob(t, o, w)
			ctr := w.pod.Spec.Containers[0]
			var read []hostFile
			for _, m := range ctr.VolumeMounts {
				v := volumeNamed(w.pod.Spec, m.Name)
				if v.HostPath == nil {
					continue
				}
				for _, f := range []string{"audit.log", "events.json", "tetragon.log", "other.log"} {
					if ok, err := doublestar.Match(glob, m.MountPath+"/"+f); err != nil {
						t.Fatalf("include %q: %v", glob, err)
					} else if !ok {
						continue
					}
					read = append(read, hostFile{v.HostPath.Path, f})
					if !m.ReadOnly {
						t.Errorf("%s: the host's %s is mounted writable", m.MountPath, v.HostPath.Path)
					}
					if v.HostPath.Type == nil || *v.HostPath.Type != c.typ {
						t.Errorf("hostPath %s: type %v, want %s", v.HostPath.Path, v.HostPath.Type, c.typ)
					}
				}
			}
			if !slices.Equal(read, c.want) {
				t.Errorf("include %q reads the host files %v, want %v", glob, read, c.want)
			}
			sc := w.pod.Spec.SecurityContext
			if sc.RunAsUser == nil || *sc.RunAsUser != 10001 || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || !slices.Equal(sc.SupplementalGroups, c.groups) {
				t.Errorf("pod security context %+v: want uid 10001, non-root, supplementalGroups %v", sc, c.groups)
			}
			if cs := ctr.SecurityContext; cs == nil || cs.Privileged != nil || cs.Capabilities == nil || len(cs.Capabilities.Add) != 0 {
				t.Errorf("container security context %+v: privileges added to read the logs", cs)
			}
		})
	}
	t.Run("off by default", func(t *testing.T) {
		o := load(t, "agent")
		w := o.workloads()[0]
		if g := kernelAuditGlob(t, o, w); g != "./data/kernel-audit/*" {
			t.Errorf("the base's include is %q, want the config's default (nothing of the host)", g)
		}
		for _, v := range w.pod.Spec.Volumes {
			if v.HostPath != nil && !slices.Contains([]string{"/var/lib/sandwatch", "/var/run/sandwatch"}, v.HostPath.Path) {
				t.Errorf("the base mounts the host's %s", v.HostPath.Path)
			}
		}
	})
}

// kernelAuditGlob checks file_log/kernel_audit's host.name comes from the
// node's name and returns its one include pattern, resolved as in the pod.
func kernelAuditGlob(t *testing.T, o *objects, w workload) string {
	t.Helper()
	cfg := o.resolvedConfig(t, w)
	if h := dig(cfg, "receivers", "file_log/kernel_audit", "resource", "host.name"); h != "from-SANDWATCH_HOST_NAME" {
		t.Errorf("file_log/kernel_audit host.name resolves to %v, not SANDWATCH_HOST_NAME", h)
	}
	for _, e := range w.pod.Spec.Containers[0].Env {
		if e.Name == "SANDWATCH_HOST_NAME" && (e.ValueFrom == nil || e.ValueFrom.FieldRef == nil || e.ValueFrom.FieldRef.FieldPath != "spec.nodeName") {
			t.Errorf("SANDWATCH_HOST_NAME is %+v, want the downward API's spec.nodeName", e)
		}
	}
	include, _ := dig(cfg, "receivers", "file_log/kernel_audit", "include").([]any)
	if len(include) != 1 {
		t.Fatalf("file_log/kernel_audit include %v: want one pattern", include)
	}
	return include[0].(string)
}

func volumeNamed(spec corev1.PodSpec, name string) corev1.Volume {
	for _, v := range spec.Volumes {
		if v.Name == name {
			return v
		}
	}
	return corev1.Volume{}
}
