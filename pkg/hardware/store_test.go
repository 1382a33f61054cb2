package hardware

import (
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	resourceapi "k8s.io/api/resource/v1"
)

func TestStore(t *testing.T) {
	s := NewStore(gpuResources, []string{nvidia})
	check := func(step, node, product string, dra int64) {
		t.Helper()
		m, ok := s.Get(node)
		if !ok {
			t.Fatalf("%s: no model for %s", step, node)
		}
		if m.Product != product || m.DRADevices != dra {
			t.Errorf("%s: %s has product %q and %d DRA devices, want %q and %d", step, node, m.Product, m.DRADevices, product, dra)
		}
	}
	v := s.Version()
	// A slice before its node: kept, used when the node arrives.
	s.SetSlice(slice("s1", "n1", nvidia, gpuDevice("gpu-0", "NVIDIA H100", "80Gi", nil), gpuDevice("gpu-1", "NVIDIA H100", "80Gi", nil)))
	if _, ok := s.Get("n1"); ok {
		t.Fatalf("model without a node object")
	}
	s.SetNode(kubeNode("n1", gfd("NVIDIA-A100", "40960", "ampere", "amd64")))
	check("node after slice", "n1", "NVIDIA H100", 2)
	if s.Version() == v || !s.HasDRA() {
		t.Errorf("version %d unchanged or no DRA after changes", s.Version())
	}
	// The slice shrinks, then moves to another node.
	s.SetSlice(slice("s1", "n1", nvidia, gpuDevice("gpu-0", "NVIDIA H100", "80Gi", nil)))
	check("slice shrinks", "n1", "NVIDIA H100", 1)
	s.SetNode(kubeNode("n2", nil))
	s.SetSlice(slice("s1", "n2", nvidia, gpuDevice("gpu-0", "NVIDIA H100", "80Gi", nil)))
	check("slice moved away", "n1", "NVIDIA-A100", 0)
	check("slice moved here", "n2", "NVIDIA H100", 1)
	// Partitions only: the slice holds no accelerator any more.
	mig := gpuDevice("gpu-0-mig", "NVIDIA H100", "10Gi", map[string]resourceapi.DeviceAttribute{"type": {StringValue: ptrTo("mig")}})
	s.SetSlice(slice("s1", "n2", nvidia, mig))
	check("partitions only", "n2", "", 0)
	s.SetSlice(slice("s2", "n2", nvidia, gpuDevice("gpu-7", "NVIDIA L4", "24Gi", nil)))
	counts := s.CountByNode([]DeviceID{{nvidia, "n2", "gpu-7"}, {nvidia, "n2", "gpu-unknown"}, {"other", "n2", "gpu-7"}})
	if diff := cmp.Diff(map[string]int64{"n2": 1}, counts); diff != "" {
		t.Errorf("CountByNode (-want +got):\n%s", diff)
	}
	s.DeleteSlice("s2")
	check("slice deleted", "n2", "", 0)
	if s.HasDRA() {
		t.Errorf("HasDRA after every slice is gone")
	}
	s.DeleteNode("n1")
	if _, ok := s.Get("n1"); ok {
		t.Errorf("model of a deleted node")
	}
	if got := len(s.Nodes()); got != 1 {
		t.Errorf("%d nodes, want 1", got)
	}
	// Non-accelerator slices are ignored.
	before := s.Version()
	s.SetSlice(slice("nic", "n2", "nic.example.com", gpuDevice("eth0", "", "", nil)))
	if s.Version() != before {
		t.Errorf("a slice without accelerators changed the store")
	}
}

func TestModelOfUsesStoredDevices(t *testing.T) {
	s := NewStore(gpuResources, []string{nvidia})
	s.SetSlice(slice("s1", "n1", nvidia, gpuDevice("gpu-0", "NVIDIA H100", "80Gi", nil)))
	if m := s.ModelOf(kubeNode("n1", nil)); m.DRADevices != 1 || m.Product != "NVIDIA H100" {
		t.Errorf("ModelOf = %+v, want the stored DRA device", m)
	}
	if _, ok := s.Get("n1"); ok {
		t.Errorf("ModelOf recorded the node")
	}
}

// TestStoreConcurrent runs writers and readers together (go test -race).
func TestStoreConcurrent(t *testing.T) {
	s := NewStore(gpuResources, []string{nvidia})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				name := fmt.Sprintf("n%d", i%10)
				s.SetNode(kubeNode(name, gfd("NVIDIA-H100", "81559", "hopper", "amd64"), "nvidia.com/gpu", "8"))
				s.SetSlice(slice("s-"+name, name, nvidia, gpuDevice("gpu-0", "NVIDIA H100", "80Gi", nil)))
				if i%7 == 0 {
					s.DeleteSlice("s-" + name)
				}
			}
		}()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if m, ok := s.Get(fmt.Sprintf("n%d", i%10)); ok && m.Extended != 8 {
					t.Errorf("torn model %+v", m)
				}
				_ = s.Nodes()
				_ = s.HasDRA()
			}
		}()
	}
	wg.Wait()
}

func ptrTo(s string) *string { return &s }
