package hetero

import (
	"fmt"

	v1 "k8s.io/api/core/v1"
	resourceapi "k8s.io/api/resource/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/hardware"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

// needsOf computes what a pod needs: its hardware annotations, the
// accelerators it requests (extended resources and ResourceClaims), the
// cluster's architecture preference if it lists none, and what the
// accelerator node policy means for a pod that requests no accelerator.
func (pl *Hetero) needsOf(pod *v1.Pod) (hardware.Needs, error) {
	need, err := hardware.ParseAnnotations(pod.Annotations)
	if err != nil {
		return hardware.Needs{}, err
	}
	req := resources.PodRequests(pod)
	for _, r := range pl.args.AcceleratorResources {
		need.GPUs += req[r]
	}
	claimed, err := pl.claimedAccelerators(pod)
	if err != nil {
		return hardware.Needs{}, err
	}
	need.GPUs += claimed
	if !need.ArchRequired {
		need.Archs = pl.args.ArchitecturePreference
	}
	if need.GPUs == 0 {
		policy := pl.args.AcceleratorNodePolicy
		need.ScoreIdle = policy != config.AcceleratorNodeNone
		// DaemonSet pods run on every node they target, accelerator
		// nodes included (device plugins, monitoring agents).
		need.AvoidAccelerators = policy == config.AcceleratorNodeStrict && !isDaemonSetPod(pod)
	}
	return need, nil
}

// claimedAccelerators counts the accelerators a pod's ResourceClaims ask
// for: requests of an accelerator device class (see acceleratorsIn).
func (pl *Hetero) claimedAccelerators(pod *v1.Pod) (int64, error) {
	if len(pod.Spec.ResourceClaims) == 0 || len(pl.classes) == 0 {
		return 0, nil
	}
	dm := pl.handle.SharedDRAManager()
	if dm == nil {
		return 0, nil
	}
	var n int64
	for i := range pod.Spec.ResourceClaims {
		name, needed, err := claimName(pod, &pod.Spec.ResourceClaims[i])
		if err != nil {
			return 0, err
		}
		if !needed {
			continue
		}
		claim, err := dm.ResourceClaims().Get(pod.Namespace, name)
		if err != nil {
			return 0, fmt.Errorf("reading ResourceClaim %s/%s of the pod: %w", pod.Namespace, name, err)
		}
		n += pl.acceleratorsIn(claim)
	}
	return n, nil
}

// claimName returns the name of the ResourceClaim behind a pod's claim
// entry, or needed=false when the entry needs no claim. A claim from a
// template that is not created yet is an error (the DRA plugin holds such
// pods back, so this is a short race; the pod is retried after a backoff).
func claimName(pod *v1.Pod, pc *v1.PodResourceClaim) (string, bool, error) {
	if pc.ResourceClaimName != nil {
		return *pc.ResourceClaimName, true, nil
	}
	if pc.ResourceClaimTemplateName == nil {
		return "", false, nil
	}
	for _, st := range pod.Status.ResourceClaimStatuses {
		if st.Name == pc.Name {
			if st.ResourceClaimName == nil {
				return "", false, nil
			}
			return *st.ResourceClaimName, true, nil
		}
	}
	return "", false, fmt.Errorf("the ResourceClaim for the pod's claim %q is not created yet", pc.Name)
}

// acceleratorsIn counts the accelerator devices a claim asks for: requests
// of an accelerator class, count devices each (allocation mode All counts
// as 1: at least one); of a request with alternatives, the first
// (preferred) alternative.
func (pl *Hetero) acceleratorsIn(claim *resourceapi.ResourceClaim) int64 {
	var n int64
	for _, r := range claim.Spec.Devices.Requests {
		class, mode, count := "", resourceapi.DeviceAllocationMode(""), int64(0)
		switch {
		case r.Exactly != nil:
			class, mode, count = r.Exactly.DeviceClassName, r.Exactly.AllocationMode, r.Exactly.Count
		case len(r.FirstAvailable) > 0:
			sub := r.FirstAvailable[0]
			class, mode, count = sub.DeviceClassName, sub.AllocationMode, sub.Count
		}
		if !pl.classes[class] {
			continue
		}
		if mode == resourceapi.DeviceAllocationModeAll || count < 1 {
			count = 1
		}
		n += count
	}
	return n
}

func isDaemonSetPod(pod *v1.Pod) bool {
	ref := metav1.GetControllerOf(pod)
	return ref != nil && ref.Kind == "DaemonSet"
}
