package hardware

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	resourceapi "k8s.io/api/resource/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

const nvidia = "gpu.nvidia.com"

func isGPUDriver(d string) bool { return d == nvidia }

// slice builds a node-local ResourceSlice of devices named gpu-0...
func slice(name, node, driver string, devices ...resourceapi.Device) *resourceapi.ResourceSlice {
	s := &resourceapi.ResourceSlice{ObjectMeta: metav1.ObjectMeta{Name: name}}
	s.Spec.Driver = driver
	s.Spec.Pool = resourceapi.ResourcePool{Name: node, Generation: 1, ResourceSliceCount: 1}
	if node != "" {
		s.Spec.NodeName = ptr.To(node)
	}
	s.Spec.Devices = devices
	return s
}

func gpuDevice(name, product, mem string, attrs map[string]resourceapi.DeviceAttribute) resourceapi.Device {
	d := resourceapi.Device{Name: name, Attributes: map[resourceapi.QualifiedName]resourceapi.DeviceAttribute{}}
	if product != "" {
		d.Attributes["productName"] = resourceapi.DeviceAttribute{StringValue: ptr.To(product)}
	}
	for k, v := range attrs {
		d.Attributes[resourceapi.QualifiedName(k)] = v
	}
	if mem != "" {
		d.Capacity = map[resourceapi.QualifiedName]resourceapi.DeviceCapacity{"memory": {Value: resource.MustParse(mem)}}
	}
	return d
}

func TestSliceDevices(t *testing.T) {
	str := func(s string) resourceapi.DeviceAttribute { return resourceapi.DeviceAttribute{StringValue: ptr.To(s)} }
	for _, tc := range []struct {
		name     string
		slice    *resourceapi.ResourceSlice
		wantNode string
		want     []Device
	}{
		{
			name: "NVIDIA DRA driver devices",
			slice: slice("s", "n1", nvidia,
				gpuDevice("gpu-0", "NVIDIA H100 80GB HBM3", "80Gi", map[string]resourceapi.DeviceAttribute{
					"architecture": str("Hopper"), "type": str("gpu"),
					"cudaComputeCapability": {VersionValue: ptr.To("9.0.0")},
				}),
				gpuDevice("gpu-0-mig-1g", "NVIDIA H100 80GB HBM3", "10Gi", map[string]resourceapi.DeviceAttribute{"type": str("mig")}),
			),
			wantNode: "n1",
			want: []Device{{ID: DeviceID{nvidia, "n1", "gpu-0"}, Product: "NVIDIA H100 80GB HBM3", Family: "Hopper",
				ComputeMajor: 9, Memory: 80 << 30}},
		},
		{
			name: "qualified attribute names, model and family, integer compute capability",
			slice: slice("s", "n1", nvidia, gpuDevice("d", "", "", map[string]resourceapi.DeviceAttribute{
				nvidia + "/model": str("A100"), nvidia + "/family": str("ampere"), "cudaComputeCapability": {IntValue: ptr.To[int64](8)},
			})),
			wantNode: "n1",
			want:     []Device{{ID: DeviceID{nvidia, "n1", "d"}, Product: "A100", Family: "ampere", ComputeMajor: 8}},
		},
		{
			name:  "bad compute capability and no memory",
			slice: slice("s", "n1", nvidia, gpuDevice("d", "X", "0", map[string]resourceapi.DeviceAttribute{"cudaComputeCapability": {VersionValue: ptr.To("x.y")}})),
			want:  []Device{{ID: DeviceID{nvidia, "n1", "d"}, Product: "X"}}, wantNode: "n1",
		},
		{name: "another driver", slice: slice("s", "n1", "nic.example.com", gpuDevice("d", "X", "", nil))},
		{name: "not node-local", slice: slice("s", "", nvidia, gpuDevice("d", "X", "", nil))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			node, got := SliceDevices(tc.slice, isGPUDriver)
			if node != tc.wantNode {
				t.Errorf("node %q, want %q", node, tc.wantNode)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("devices (-want +got):\n%s", diff)
			}
		})
	}
}
