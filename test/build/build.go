// Package build holds the object builders every test uses — unit tests
// of pkg/... and the integration tests alike (test/harness re-exports
// them): nodes, pods and namespaces with the fields the scheduler reads.
package build

import (
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// SchedulerName is our scheduler's name in the example configurations.
const SchedulerName = "kube-mesos-scheduler"

// NodeBuilder builds a Node.
type NodeBuilder struct{ n *v1.Node }

// MakeNode starts a node with 110 pod slots and the amd64 architecture.
func MakeNode(name string) *NodeBuilder {
	n := &v1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
			v1.LabelHostname: name, v1.LabelArchStable: "amd64", v1.LabelOSStable: "linux",
		}},
		Status: v1.NodeStatus{
			Capacity:    v1.ResourceList{v1.ResourcePods: resource.MustParse("110")},
			Allocatable: v1.ResourceList{v1.ResourcePods: resource.MustParse("110")},
			Conditions:  []v1.NodeCondition{{Type: v1.NodeReady, Status: v1.ConditionTrue}},
		},
	}
	return &NodeBuilder{n}
}

// Capacity sets capacity and allocatable: pairs of name and quantity.
func (b *NodeBuilder) Capacity(pairs ...string) *NodeBuilder {
	for i := 0; i+1 < len(pairs); i += 2 {
		q := resource.MustParse(pairs[i+1])
		b.n.Status.Capacity[v1.ResourceName(pairs[i])] = q
		b.n.Status.Allocatable[v1.ResourceName(pairs[i])] = q
	}
	return b
}

// Label sets a label.
func (b *NodeBuilder) Label(k, v string) *NodeBuilder { b.n.Labels[k] = v; return b }

// Annotation sets an annotation.
func (b *NodeBuilder) Annotation(k, v string) *NodeBuilder {
	if b.n.Annotations == nil {
		b.n.Annotations = map[string]string{}
	}
	b.n.Annotations[k] = v
	return b
}

// Taint adds a taint.
func (b *NodeBuilder) Taint(key, value string, effect v1.TaintEffect) *NodeBuilder {
	b.n.Spec.Taints = append(b.n.Spec.Taints, v1.Taint{Key: key, Value: value, Effect: effect})
	return b
}

// Obj returns the node.
func (b *NodeBuilder) Obj() *v1.Node { return b.n }

// PodBuilder builds a Pod.
type PodBuilder struct{ p *v1.Pod }

// MakePod starts a pod for our scheduler with one container and no
// requests. Its UID is namespace/name (an API server replaces it when the
// pod is created; unit tests key their state on it).
func MakePod(namespace, name string) *PodBuilder {
	return &PodBuilder{&v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, UID: types.UID(namespace + "/" + name)},
		Spec: v1.PodSpec{
			SchedulerName: SchedulerName,
			Containers: []v1.Container{{
				Name: "main", Image: "registry.k8s.io/pause:3.10",
				Resources: v1.ResourceRequirements{Requests: v1.ResourceList{}},
			}},
			TerminationGracePeriodSeconds: ptr.To[int64](0),
		},
	}}
}

// Req sets container requests: pairs of name and quantity.
func (b *PodBuilder) Req(pairs ...string) *PodBuilder {
	c := &b.p.Spec.Containers[0]
	for i := 0; i+1 < len(pairs); i += 2 {
		q := resource.MustParse(pairs[i+1])
		c.Resources.Requests[v1.ResourceName(pairs[i])] = q
		if !isNative(pairs[i]) {
			if c.Resources.Limits == nil {
				c.Resources.Limits = v1.ResourceList{}
			}
			c.Resources.Limits[v1.ResourceName(pairs[i])] = q // extended resources need limit = request
		}
	}
	return b
}

func isNative(name string) bool {
	switch v1.ResourceName(name) {
	case v1.ResourceCPU, v1.ResourceMemory, v1.ResourceEphemeralStorage:
		return true
	}
	return false
}

// Scheduler sets spec.schedulerName.
func (b *PodBuilder) Scheduler(name string) *PodBuilder { b.p.Spec.SchedulerName = name; return b }

// Priority sets spec.priority.
func (b *PodBuilder) Priority(p int32) *PodBuilder { b.p.Spec.Priority = &p; return b }

// Annotation sets an annotation.
func (b *PodBuilder) Annotation(k, v string) *PodBuilder {
	if b.p.Annotations == nil {
		b.p.Annotations = map[string]string{}
	}
	b.p.Annotations[k] = v
	return b
}

// Label sets a label.
func (b *PodBuilder) Label(k, v string) *PodBuilder {
	if b.p.Labels == nil {
		b.p.Labels = map[string]string{}
	}
	b.p.Labels[k] = v
	return b
}

// HostPort asks for a host port.
func (b *PodBuilder) HostPort(port int32) *PodBuilder {
	c := &b.p.Spec.Containers[0]
	c.Ports = append(c.Ports, v1.ContainerPort{ContainerPort: port, HostPort: port, Protocol: v1.ProtocolTCP})
	return b
}

// NodeSelector adds a node selector term.
func (b *PodBuilder) NodeSelector(k, v string) *PodBuilder {
	if b.p.Spec.NodeSelector == nil {
		b.p.Spec.NodeSelector = map[string]string{}
	}
	b.p.Spec.NodeSelector[k] = v
	return b
}

// Toleration tolerates a taint key (any value and effect).
func (b *PodBuilder) Toleration(key string) *PodBuilder {
	b.p.Spec.Tolerations = append(b.p.Spec.Tolerations, v1.Toleration{Key: key, Operator: v1.TolerationOpExists})
	return b
}

// AntiAffinity keeps the pod off nodes running a pod (of its namespace)
// labelled k=v (required, per hostname): a constraint only the scheduler's
// snapshot can judge, not the embedded allocator.
func (b *PodBuilder) AntiAffinity(k, v string) *PodBuilder {
	b.p.Spec.Affinity = &v1.Affinity{PodAntiAffinity: &v1.PodAntiAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: []v1.PodAffinityTerm{{
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{k: v}},
			TopologyKey:   v1.LabelHostname,
		}},
	}}
	return b
}

// Node binds the pod to a node at creation (no scheduler involved).
func (b *PodBuilder) Node(name string) *PodBuilder { b.p.Spec.NodeName = name; return b }

// UID sets the pod's UID.
func (b *PodBuilder) UID(uid string) *PodBuilder { b.p.UID = types.UID(uid); return b }

// Created sets the creation time.
func (b *PodBuilder) Created(t time.Time) *PodBuilder {
	b.p.CreationTimestamp = metav1.NewTime(t)
	return b
}

// Running binds the pod to a node and marks it running since its creation
// (the start time orders preemption victims of equal priority).
func (b *PodBuilder) Running(node string) *PodBuilder {
	b.p.Spec.NodeName = node
	b.p.Status.Phase = v1.PodRunning
	start := b.p.CreationTimestamp
	b.p.Status.StartTime = &start
	return b
}

// Obj returns the pod.
func (b *PodBuilder) Obj() *v1.Pod { return b.p }

// NamespaceBuilder builds a Namespace.
type NamespaceBuilder struct{ n *v1.Namespace }

// MakeNamespace starts a namespace.
func MakeNamespace(name string) *NamespaceBuilder {
	return &NamespaceBuilder{&v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}}
}

// Label sets a label.
func (b *NamespaceBuilder) Label(k, v string) *NamespaceBuilder {
	if b.n.Labels == nil {
		b.n.Labels = map[string]string{}
	}
	b.n.Labels[k] = v
	return b
}

// Annotation sets an annotation.
func (b *NamespaceBuilder) Annotation(k, v string) *NamespaceBuilder {
	if b.n.Annotations == nil {
		b.n.Annotations = map[string]string{}
	}
	b.n.Annotations[k] = v
	return b
}

// Obj returns the namespace.
func (b *NamespaceBuilder) Obj() *v1.Namespace { return b.n }
