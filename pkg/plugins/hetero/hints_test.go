package hetero

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	resourceapi "k8s.io/api/resource/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2/ktesting"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/utils/ptr"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config"
)

func TestNodeHint(t *testing.T) {
	logger, _ := ktesting.NewTestContext(t)
	pl, _ := newPlugin(t, defaultArgs(t, func(a *config.HeteroArgs) { a.AcceleratorNodePolicy = config.AcceleratorNodeStrict }))
	h100 := gpuNode("n", "NVIDIA-H100-80GB-HBM3", "81559")
	a100 := gpuNode("n", "NVIDIA-A100-SXM4-40GB", "40960")
	cpu := node("c", "amd64", nil, "")
	wantsH100 := pod("p", "1", map[string]string{AnnotationGPUModels: "H100"})
	for _, tc := range []struct {
		name     string
		pod      *v1.Pod
		old, new *v1.Node
		want     fwk.QueueingHint
	}{
		{"new node with the model", wantsH100, nil, h100, fwk.Queue},
		{"new node without it", wantsH100, nil, a100, fwk.QueueSkip},
		{"relabelled to the model", wantsH100, a100, h100, fwk.Queue},
		{"admitted before already", wantsH100, h100, h100, fwk.QueueSkip},
		{"new CPU node for a strict CPU pod", pod("c", "", nil), nil, cpu, fwk.Queue},
		{"new GPU node for a strict CPU pod", pod("c", "", nil), nil, h100, fwk.QueueSkip},
		{"bad annotation waits for the pod's update", pod("b", "1", map[string]string{AnnotationGPUModels: ","}), nil, h100, fwk.QueueSkip},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var old any
			if tc.old != nil {
				old = tc.old
			}
			got, err := pl.nodeHint(logger, tc.pod, old, tc.new)
			if err != nil || got != tc.want {
				t.Errorf("hint %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestPodHint(t *testing.T) {
	logger, _ := ktesting.NewTestContext(t)
	pl, _ := newPlugin(t, defaultArgs(t))
	bad := pod("p", "1", map[string]string{AnnotationGPUMinMemory: "lots"})
	fixed := bad.DeepCopy()
	fixed.Annotations[AnnotationGPUMinMemory] = "40Gi"
	relabelled := bad.DeepCopy()
	relabelled.Labels = map[string]string{"x": "y"}
	more := bad.DeepCopy()
	more.Spec.Containers[0].Resources.Requests["nvidia.com/gpu"] = resource.MustParse("2")
	for _, tc := range []struct {
		name     string
		old, new *v1.Pod
		want     fwk.QueueingHint
	}{
		{"annotation fixed", bad, fixed, fwk.Queue},
		{"label changed", bad, relabelled, fwk.QueueSkip},
		{"requests changed", bad, more, fwk.Queue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := pl.podHint(logger, tc.new, tc.old, tc.new)
			if err != nil || got != tc.want {
				t.Errorf("hint %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestSliceHint(t *testing.T) {
	logger, _ := ktesting.NewTestContext(t)
	pl, _ := newPlugin(t, defaultArgs(t))
	gpu := &resourceapi.ResourceSlice{Spec: resourceapi.ResourceSliceSpec{Driver: "gpu.nvidia.com", NodeName: ptr.To("n"),
		Devices: []resourceapi.Device{{Name: "gpu-0"}}}}
	nic := gpu.DeepCopy()
	nic.Spec.Driver = "nic.example.com"
	for _, tc := range []struct {
		name  string
		slice *resourceapi.ResourceSlice
		want  fwk.QueueingHint
	}{{"accelerators", gpu, fwk.Queue}, {"other devices", nic, fwk.QueueSkip}} {
		got, err := pl.sliceHint(logger, pod("p", "", nil), nil, tc.slice)
		if err != nil || got != tc.want {
			t.Errorf("%s: hint %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
}

func TestAcceleratorsInClaim(t *testing.T) {
	pl, _ := newPlugin(t, defaultArgs(t))
	exact := func(class string, mode resourceapi.DeviceAllocationMode, n int64) resourceapi.DeviceRequest {
		return resourceapi.DeviceRequest{Name: "r", Exactly: &resourceapi.ExactDeviceRequest{DeviceClassName: class, AllocationMode: mode, Count: n}}
	}
	claim := &resourceapi.ResourceClaim{Spec: resourceapi.ResourceClaimSpec{Devices: resourceapi.DeviceClaim{Requests: []resourceapi.DeviceRequest{
		exact("gpu.nvidia.com", resourceapi.DeviceAllocationModeExactCount, 2),
		exact("gpu.amd.com", resourceapi.DeviceAllocationModeAll, 0),
		exact("gpu.nvidia.com", "", 0),
		exact("nic.example.com", resourceapi.DeviceAllocationModeExactCount, 4),
		{Name: "alt", FirstAvailable: []resourceapi.DeviceSubRequest{
			{Name: "big", DeviceClassName: "gpu.intel.com", AllocationMode: resourceapi.DeviceAllocationModeExactCount, Count: 3},
			{Name: "small", DeviceClassName: "gpu.intel.com", AllocationMode: resourceapi.DeviceAllocationModeExactCount, Count: 1},
		}},
	}}}}
	// 2 + 1 (All: at least one) + 1 (count unset) + 0 (not an accelerator) + 3 (first alternative)
	if got := pl.acceleratorsIn(claim); got != 7 {
		t.Errorf("acceleratorsIn = %d, want 7", got)
	}
}

func TestClaimName(t *testing.T) {
	p := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p"},
		Spec: v1.PodSpec{ResourceClaims: []v1.PodResourceClaim{
			{Name: "direct", ResourceClaimName: ptr.To("shared-gpu")},
			{Name: "templ", ResourceClaimTemplateName: ptr.To("t")},
			{Name: "notneeded", ResourceClaimTemplateName: ptr.To("t")},
			{Name: "pending", ResourceClaimTemplateName: ptr.To("t")},
			{Name: "empty"},
		}},
		Status: v1.PodStatus{ResourceClaimStatuses: []v1.PodResourceClaimStatus{
			{Name: "templ", ResourceClaimName: ptr.To("p-templ-x7")}, {Name: "notneeded"},
		}},
	}
	type result struct {
		Name   string
		Needed bool
		Err    bool
	}
	var got []result
	for i := range p.Spec.ResourceClaims {
		n, needed, err := claimName(p, &p.Spec.ResourceClaims[i])
		got = append(got, result{n, needed, err != nil})
	}
	want := []result{{"shared-gpu", true, false}, {"p-templ-x7", true, false}, {"", false, false}, {"", false, true}, {"", false, false}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("claim names (-want +got):\n%s", diff)
	}
}
