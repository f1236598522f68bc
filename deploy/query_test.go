package deploy

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// checkQueryReachable: tier 2's forensic_query (Grafana's Tempo data
// source) listens on the pod's interfaces, keeps TLS and its bearer-token
// authenticator, and a port of the tier-2 Service reaches it, so the
// README's https://sandwatch-tier2.sandwatch.svc:<port> is a real address.
func (o *objects) checkQueryReachable(t *testing.T) {
	n := 0
	for _, w := range o.workloads() {
		if w.kind != "StatefulSet" {
			continue
		}
		n++
		cfg := o.resolvedConfig(t, w)
		q, _ := dig(cfg, "extensions", "forensic_query").(map[string]any)
		if exts, _ := dig(cfg, "service", "extensions").([]any); q == nil || !slices.Contains(exts, any("forensic_query")) {
			t.Fatalf("%s: forensic_query is not configured and started", w.name)
		}
		if dig(q, "tls", "cert_file") == nil || dig(q, "tls", "key_file") == nil {
			t.Errorf("%s: forensic_query has no TLS: %v", w.name, q)
		}
		if a, _ := dig(q, "auth", "authenticator").(string); a == "" || dig(cfg, "extensions", a, "filename") == nil {
			t.Errorf("%s: forensic_query authenticator %q is no token-file authenticator", w.name, a)
		}
		endpoint, _ := q["endpoint"].(string)
		host, portStr, err := net.SplitHostPort(endpoint)
		port, _ := strconv.Atoi(portStr)
		if ip := net.ParseIP(host); err != nil || host == "localhost" || (ip != nil && ip.IsLoopback()) {
			t.Errorf("%s: forensic_query endpoint %q: only the pod itself reaches it", w.name, endpoint)
		}
		ctr := w.pod.Spec.Containers[0]
		i := slices.IndexFunc(ctr.Ports, func(p corev1.ContainerPort) bool { return int(p.ContainerPort) == port })
		if i < 0 {
			t.Errorf("%s: forensic_query port %d is no container port", w.name, port)
			continue
		}
		if err := o.servicePortTo(w, ctr.Ports[i], fmt.Sprintf("%s.%s", w.name, "sandwatch")); err != nil {
			t.Errorf("%s: forensic_query: %v", w.name, err)
		}
	}
	if n != 1 {
		t.Errorf("%d tier-2 StatefulSets, want 1", n)
	}
}

// servicePortTo checks the Service named like the StatefulSet (its
// governing Service: the README's data-source host) has a port whose
// target is cp, by name or number, with the same number.
func (o *objects) servicePortTo(w workload, cp corev1.ContainerPort, host string) error {
	for _, s := range o.services {
		if s.Name != w.name || !matches(s.Spec.Selector, w.pod.Labels) {
			continue
		}
		for _, p := range s.Spec.Ports {
			if (p.TargetPort.StrVal == cp.Name || p.TargetPort.IntVal == cp.ContainerPort) && p.Port == cp.ContainerPort {
				return nil
			}
		}
		return fmt.Errorf("Service %s has no port %d targeting container port %s: https://%s.svc:%d does not answer", s.Name, cp.ContainerPort, cp.Name, host, cp.ContainerPort)
	}
	return fmt.Errorf("no Service %s selects the pods", w.name)
}
