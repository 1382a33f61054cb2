package resources

import (
	v1 "k8s.io/api/core/v1"
	resourcehelper "k8s.io/component-helpers/resource"
	fwk "k8s.io/kube-scheduler/framework"
)

// PodRequests returns what a pod asks for: the effective requests of its
// containers, init containers and pod-level resources plus overhead (as the
// kube-scheduler's NodeResourcesFit computes them), and one "pods" slot.
func PodRequests(pod *v1.Pod) Vector {
	v := FromList(resourcehelper.PodRequests(pod, resourcehelper.PodResourcesOptions{}))
	v[v1.ResourcePods] = 1
	return v
}

// NodeAllocatable returns the allocatable resources of a node.
func NodeAllocatable(node *v1.Node) Vector {
	return FromList(node.Status.Allocatable)
}

// HostPorts returns the host ports a pod's containers ask for.
func HostPorts(pod *v1.Pod) []int32 {
	var out []int32
	add := func(cs []v1.Container) {
		for i := range cs {
			for _, p := range cs[i].Ports {
				if p.HostPort > 0 {
					out = append(out, p.HostPort)
				}
			}
		}
	}
	add(pod.Spec.InitContainers)
	add(pod.Spec.Containers)
	return out
}

// IsTerminal reports whether a pod has finished and holds no resources.
func IsTerminal(pod *v1.Pod) bool {
	return pod.Status.Phase == v1.PodSucceeded || pod.Status.Phase == v1.PodFailed
}

// FromFramework converts a scheduler framework Resource (a NodeInfo's
// allocatable or requested) into a Vector; a pod-count limit becomes the
// "pods" resource.
func FromFramework(r fwk.Resource) Vector {
	v := Vector{}
	if n := r.GetMilliCPU(); n != 0 {
		v[v1.ResourceCPU] = n
	}
	if n := r.GetMemory(); n != 0 {
		v[v1.ResourceMemory] = n
	}
	if n := r.GetEphemeralStorage(); n != 0 {
		v[v1.ResourceEphemeralStorage] = n
	}
	if n := r.GetAllowedPodNumber(); n != 0 {
		v[v1.ResourcePods] = int64(n)
	}
	for name, n := range r.GetScalarResources() {
		if n != 0 {
			v[name] = n
		}
	}
	return v
}
