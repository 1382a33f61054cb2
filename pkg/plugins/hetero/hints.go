package hetero

import (
	"errors"
	"fmt"

	v1 "k8s.io/api/core/v1"
	resourceapi "k8s.io/api/resource/v1"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/hardware"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

// nodeHint requeues a pod when a node added or changed now admits it and
// did not before. A pod with a bad annotation waits for its own update.
func (pl *Hetero) nodeHint(logger klog.Logger, pod *v1.Pod, oldObj, newObj any) (fwk.QueueingHint, error) {
	node, ok := newObj.(*v1.Node)
	if !ok {
		return fwk.Queue, fmt.Errorf("unexpected object %T in a node event", newObj)
	}
	need, err := pl.needsOf(pod)
	if err != nil {
		var bad *hardware.AnnotationError
		if errors.As(err, &bad) {
			return fwk.QueueSkip, nil
		}
		return fwk.Queue, nil
	}
	if hardware.Admit(&need, pl.store.ModelOf(node)) != hardware.Admitted {
		return fwk.QueueSkip, nil
	}
	if old, ok := oldObj.(*v1.Node); ok && hardware.Admit(&need, pl.store.ModelOf(old)) == hardware.Admitted {
		return fwk.QueueSkip, nil // it admitted the pod before: not what turned the pod away
	}
	logger.V(5).Info("Node now suits the pod's hardware needs", "pod", klog.KObj(pod), "node", klog.KObj(node))
	return fwk.Queue, nil
}

// sliceHint requeues a pod when a node publishes accelerator devices.
func (pl *Hetero) sliceHint(logger klog.Logger, pod *v1.Pod, _, newObj any) (fwk.QueueingHint, error) {
	s, ok := newObj.(*resourceapi.ResourceSlice)
	if !ok {
		return fwk.Queue, fmt.Errorf("unexpected object %T in a ResourceSlice event", newObj)
	}
	if node, devs := hardware.SliceDevices(s, pl.store.IsAcceleratorDriver); node != "" && len(devs) > 0 {
		logger.V(5).Info("Accelerator devices published", "pod", klog.KObj(pod), "node", node)
		return fwk.Queue, nil
	}
	return fwk.QueueSkip, nil
}

// podHint requeues a pod when its hardware annotations or requests changed.
func (pl *Hetero) podHint(logger klog.Logger, pod *v1.Pod, oldObj, newObj any) (fwk.QueueingHint, error) {
	oldPod, okOld := oldObj.(*v1.Pod)
	newPod, okNew := newObj.(*v1.Pod)
	if !okOld || !okNew {
		return fwk.Queue, fmt.Errorf("unexpected objects %T, %T in a pod event", oldObj, newObj)
	}
	for _, a := range []string{AnnotationGPUModels, AnnotationGPUMinMemory, AnnotationArchitectures, AnnotationHardwarePolicy} {
		if oldPod.Annotations[a] != newPod.Annotations[a] {
			logger.V(5).Info("Hardware annotation changed", "pod", klog.KObj(pod), "annotation", a)
			return fwk.Queue, nil
		}
	}
	if !resources.PodRequests(oldPod).Equal(resources.PodRequests(newPod)) {
		return fwk.Queue, nil
	}
	return fwk.QueueSkip, nil
}
