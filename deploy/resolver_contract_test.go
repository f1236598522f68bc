package deploy

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// No Kubernetes API server runs on these machines (no kube-apiserver or
// etcd from the registries this project uses), so the k8s resolver is
// checked on its contract, with the EndpointSlices the control plane
// would derive from the chart's objects. load_balancing's k8s resolver
// (contrib v0.161.0, resolver_k8s.go and resolver_k8s_handler.go):
//   - lists and watches EndpointSlices labelled
//     kubernetes.io/service-name=<service> in <namespace> (resolver.k8s.service
//     is "<service>.<namespace>"), with the pod's service-account token;
//   - keeps each endpoint whose conditions.ready is not false, and dials each
//     of its addresses on every port of resolver.k8s.ports: the pod's own
//     port, since it bypasses the Service.

// endpointSlice builds the slice the EndpointSlice controller keeps for a
// Service selecting the pods of a workload: one endpoint per pod, the
// Service's ports resolved to the container ports they target.
func endpointSlice(t *testing.T, svc *corev1.Service, w workload, replicas int) *discoveryv1.EndpointSlice {
	t.Helper()
	es := &discoveryv1.EndpointSlice{
		TypeMeta: metav1.TypeMeta{APIVersion: "discovery.k8s.io/v1", Kind: "EndpointSlice"},
		ObjectMeta: metav1.ObjectMeta{Name: svc.Name + "-abcde", Namespace: svc.Namespace, Labels: map[string]string{
			discoveryv1.LabelServiceName: svc.Name,
			discoveryv1.LabelManagedBy:   "endpointslice-controller.k8s.io",
		}},
		AddressType: discoveryv1.AddressTypeIPv4,
	}
	for _, p := range svc.Spec.Ports {
		port := p.TargetPort.IntVal
		for _, c := range w.pod.Spec.Containers {
			for _, cp := range c.Ports {
				if cp.Name == p.TargetPort.StrVal {
					port = cp.ContainerPort
				}
			}
		}
		name, proto := p.Name, p.Protocol
		es.Ports = append(es.Ports, discoveryv1.EndpointPort{Name: &name, Port: &port, Protocol: &proto})
	}
	for i := range replicas {
		ready := true
		host := fmt.Sprintf("%s-%d", w.name, i)
		es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{
			Addresses:  []string{fmt.Sprintf("10.0.0.%d", i+10)},
			Conditions: discoveryv1.EndpointConditions{Ready: &ready},
			Hostname:   &host,
			TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: svc.Namespace, Name: host},
		})
	}
	// What the API server would store: it decodes strictly as its type.
	b, err := yaml.Marshal(es)
	if err != nil {
		t.Fatal(err)
	}
	var back discoveryv1.EndpointSlice
	if err := yaml.UnmarshalStrict(b, &back); err != nil {
		t.Fatal(err)
	}
	return &back
}

func TestK8sResolverContract(t *testing.T) {
	o := rendered(t, "mode=gateway", "gateway.tier1.resolver=k8s", "gateway.tier2.replicas=3")
	var tier1 *workload
	for _, w := range o.workloads() {
		if w.kind == "Deployment" {
			tier1 = &w
		}
	}
	if tier1 == nil {
		t.Fatal("no tier-1 Deployment")
	}
	var r *resolverConfig
	for _, v := range tier1.pod.Spec.Volumes {
		if v.ConfigMap == nil || v.Name != "config" { // the collector's; not the identity bindings
			continue
		}
		var cfg struct {
			Exporters map[string]struct {
				Resolver *resolverConfig `json:"resolver"`
			} `json:"exporters"`
		}
		if err := yaml.Unmarshal([]byte(o.configMap(v.ConfigMap.Name).Data["config.yaml"]), &cfg); err != nil {
			t.Fatal(err)
		}
		r = cfg.Exporters["load_balancing"].Resolver
	}
	if r == nil || r.K8s == nil {
		t.Fatal("tier 1 has no k8s resolver")
	}
	svcName, ns, _ := strings.Cut(r.K8s.Service, ".")

	// The slices the control plane keeps for the Service the resolver names.
	var svc *corev1.Service
	for _, s := range o.services {
		if s.Name == svcName && s.Namespace == ns {
			svc = s
		}
	}
	if svc == nil {
		t.Fatalf("resolver.k8s.service %q: no such Service", r.K8s.Service)
	}
	if svc.Spec.PublishNotReadyAddresses {
		t.Error("publishNotReadyAddresses: a replica would be routed to before it is ready")
	}
	var tier2 *workload
	for _, w := range o.workloads() {
		if matches(svc.Spec.Selector, w.pod.Labels) {
			tier2 = &w
		}
	}
	if tier2 == nil {
		t.Fatalf("Service %s selects no workload", svc.Name)
	}
	es := endpointSlice(t, svc, *tier2, 3)

	// 1. The resolver's list/watch selects the slice.
	if es.Labels[discoveryv1.LabelServiceName] != svcName || es.Namespace != ns {
		t.Errorf("the resolver selects kubernetes.io/service-name=%s in %s; the slice is %v in %s", svcName, ns, es.Labels, es.Namespace)
	}
	// 2. Every ready endpoint is dialled on the configured ports: the pods
	// must listen there (the resolver bypasses the Service's port mapping).
	podPorts := map[int32]bool{}
	for _, p := range es.Ports {
		podPorts[*p.Port] = true
	}
	var backends []string
	for _, e := range es.Endpoints {
		if e.Conditions.Ready != nil && !*e.Conditions.Ready {
			continue
		}
		for _, a := range e.Addresses {
			for _, p := range r.K8s.Ports {
				if !podPorts[p] {
					t.Errorf("resolver.k8s.ports %d: the tier-2 pods do not listen there (slice ports %v)", p, podPorts)
				}
				backends = append(backends, fmt.Sprintf("%s:%d", a, p))
			}
		}
	}
	if len(backends) != 3 {
		t.Errorf("backends %v, want one per replica", backends)
	}
	// 3. The service account tier 1 runs as may get, list and watch
	// EndpointSlices in that namespace, and the pod mounts its token.
	sa := tier1.pod.Spec.ServiceAccountName
	if m := tier1.pod.Spec.AutomountServiceAccountToken; m != nil && !*m {
		t.Error("tier 1 does not mount its service-account token: the in-cluster client cannot authenticate")
	}
	allowed := map[string]bool{}
	for _, b := range o.bindings {
		if b.Namespace != ns || !slices.ContainsFunc(b.Subjects, func(s rbacv1.Subject) bool { return s.Kind == "ServiceAccount" && s.Name == sa }) {
			continue
		}
		for _, role := range o.roles {
			if role.Name != b.RoleRef.Name {
				continue
			}
			for _, rule := range role.Rules {
				if slices.Contains(rule.APIGroups, "discovery.k8s.io") && slices.Contains(rule.Resources, "endpointslices") {
					for _, v := range rule.Verbs {
						allowed[v] = true
					}
				}
			}
		}
	}
	for _, v := range []string{"get", "list", "watch"} {
		if !allowed[v] {
			t.Errorf("service account %s may not %s endpointslices in %s", sa, v, ns)
		}
	}
	t.Logf("resolver %s ports %v: backends %v", r.K8s.Service, r.K8s.Ports, backends)
}
