package cluster

import (
	"strings"
	"testing"
)

// FuzzNamespaceRole: any label or annotation value on a namespace either
// gives a valid role or an error naming the namespace and the field; pods
// of the namespace wait (no role) and nothing panics.
func FuzzNamespaceRole(f *testing.F) {
	f.Add("eng.ml", "", "2")
	f.Add("", "eng/ml", "0.5")
	f.Add("-x", "", "-1")
	f.Add("", "a b", "NaN")
	f.Add("a..b", "", "")
	f.Fuzz(func(t *testing.T, label, annotation, weight string) {
		s := New(sched, RoleConfig{})
		labels, annotations := map[string]string{}, map[string]string{}
		if label != "" {
			labels["kube-mesos.io/role"] = label
		}
		if annotation != "" {
			annotations["kube-mesos.io/role"] = annotation
		}
		if weight != "" {
			annotations["kube-mesos.io/weight"] = weight
		}
		s.UpsertNamespace(ns("fz", labels, annotations))
		s.UpsertNode(node("n1", "cpu", "4"))
		p := pod("fz", "p", "cpu", "1")
		s.UpsertPod(p)
		role, err := s.RoleOf("fz")
		sp, _ := s.Pod(p.UID)
		if err != nil {
			if !strings.Contains(err.Error(), `namespace "fz"`) || !strings.Contains(err.Error(), "kube-mesos.io/role") {
				t.Errorf("role error %q does not name the namespace and the field", err)
			}
			if sp.Role != "" || sp.RoleErr == nil {
				t.Errorf("pod of a bad namespace has role %q", sp.Role)
			}
			return
		}
		if sp.Role != role {
			t.Errorf("pod role %q, namespace role %q", sp.Role, role)
		}
		if werr := s.NamespaceError("fz"); werr != nil && !strings.Contains(werr.Error(), "kube-mesos.io/weight") {
			t.Errorf("weight error %q does not name the annotation", werr)
		}
		if w := s.Role(role).Weight; w <= 0 {
			t.Errorf("weight %v", w)
		}
		s.Assume(p, "n1")
		s.Forget(p)
		if a := s.Role(role).Allocation; !a.IsZero() {
			t.Errorf("assume+forget left %v", a)
		}
	})
}
