package hardware

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var gpuResources = []v1.ResourceName{"nvidia.com/gpu", "amd.com/gpu"}

// kubeNode builds a node object with labels and allocatable pairs.
func kubeNode(name string, labels map[string]string, alloc ...string) *v1.Node {
	n := &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	n.Status.Allocatable = v1.ResourceList{}
	for i := 0; i+1 < len(alloc); i += 2 {
		n.Status.Allocatable[v1.ResourceName(alloc[i])] = resource.MustParse(alloc[i+1])
	}
	return n
}

func gfd(product, memMiB, family, arch string) map[string]string {
	return map[string]string{
		LabelGPUProduct: product, LabelGPUMemory: memMiB, LabelGPUFamily: family,
		LabelGPUCount: "8", LabelGPUComputeMajor: "9", v1.LabelArchStable: arch,
	}
}

// model builds the model of a GPU node with GFD labels and 8 allocatable GPUs.
func model(name, product, memMiB, family string) *Node {
	return Build(Sources{Node: kubeNode(name, gfd(product, memMiB, family, "amd64"), "nvidia.com/gpu", "8"), Accelerators: gpuResources})
}

func TestBuild(t *testing.T) {
	h100 := "NVIDIA-H100-80GB-HBM3"
	for _, tc := range []struct {
		name string
		src  Sources
		want Node
	}{
		{
			name: "GPU Feature Discovery labels and allocatable",
			src:  Sources{Node: kubeNode("n", gfd(h100, "81559", "hopper", "amd64"), "nvidia.com/gpu", "8", "cpu", "64")},
			want: Node{Name: "n", Arch: "amd64", Product: h100, Family: "hopper", ComputeMajor: 9, Memory: 81559 << 20, Devices: 8, Extended: 8},
		},
		{
			name: "CPU node",
			src:  Sources{Node: kubeNode("n", map[string]string{v1.LabelArchStable: "arm64"}, "cpu", "8")},
			want: Node{Name: "n", Arch: "arm64"},
		},
		{
			name: "bad label values count as unknown",
			src: Sources{Node: kubeNode("n", map[string]string{
				LabelGPUMemory: "lots", LabelGPUCount: "-8", LabelGPUComputeMajor: "9.0", LabelGPUProduct: "X",
			})},
			want: Node{Name: "n", Product: "X"},
		},
		{
			name: "memory label beyond 1 PiB is ignored",
			src:  Sources{Node: kubeNode("n", map[string]string{LabelGPUMemory: "99999999999999"})},
			want: Node{Name: "n"},
		},
		{
			name: "Mesos agent attributes when GFD labels are absent",
			src: Sources{Node: kubeNode("n", map[string]string{
				LabelAgentGPUProduct: "Tesla-V100", LabelAgentGPUMemory: "16384", LabelAgentGPUCount: "4",
				LabelAgentGPUFamily: "volta", LabelAgentGPUComputeMajor: "7", LabelAgentArch: "ppc64le",
			})},
			want: Node{Name: "n", Arch: "ppc64le", Product: "Tesla-V100", Family: "volta", ComputeMajor: 7, Memory: 16384 << 20, Devices: 4},
		},
		{
			name: "GFD labels win over agent attributes",
			src: Sources{Node: kubeNode("n", map[string]string{
				LabelGPUProduct: h100, LabelAgentGPUProduct: "Tesla-V100", LabelAgentGPUMemory: "16384",
				v1.LabelArchStable: "amd64", LabelAgentArch: "ppc64le",
			})},
			want: Node{Name: "n", Arch: "amd64", Product: h100, Memory: 16384 << 20},
		},
		{
			name: "DRA devices win over labels; most common product, smallest memory",
			src: Sources{
				Node: kubeNode("n", gfd("NVIDIA-A100-SXM4-40GB", "40960", "ampere", "amd64")),
				DRA: []Device{
					{Product: "NVIDIA H100 80GB HBM3", Family: "Hopper", Memory: 80 << 30, ComputeMajor: 9},
					{Product: "NVIDIA H100 80GB HBM3", Family: "Hopper", Memory: 79 << 30, ComputeMajor: 9},
					{Product: "NVIDIA A100", Memory: 40 << 30, ComputeMajor: 8},
				},
			},
			want: Node{Name: "n", Arch: "amd64", Product: "NVIDIA H100 80GB HBM3", Family: "Hopper", ComputeMajor: 8,
				Memory: 40 << 30, Devices: 8, DRADevices: 3},
		},
		{
			name: "DRA product tie goes to the smaller name",
			src:  Sources{Node: kubeNode("n", nil), DRA: []Device{{Product: "B"}, {Product: "A"}, {Product: ""}, {Product: ""}}},
			want: Node{Name: "n", Product: "A", DRADevices: 4},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.src.Accelerators == nil {
				tc.src.Accelerators = gpuResources
			}
			got := Build(tc.src)
			if diff := cmp.Diff(tc.want, *got, cmp.AllowUnexported(Node{}), ignoreTokens()); diff != "" {
				t.Errorf("model (-want +got):\n%s", diff)
			}
		})
	}
}

func ignoreTokens() cmp.Option {
	return cmp.FilterPath(func(p cmp.Path) bool {
		s := p.String()
		return s == "tokens" || s == "resourceVersion"
	}, cmp.Ignore())
}

func TestRank(t *testing.T) {
	h100 := model("h", "NVIDIA-H100-80GB-HBM3", "81559", "hopper")
	a100 := model("a", "NVIDIA-A100-SXM4-40GB", "40960", "ampere")
	l40s := model("l", "NVIDIA-L40S", "46068", "ada-lovelace")
	none := Build(Sources{Node: kubeNode("c", nil)})
	for _, tc := range []struct {
		name   string
		node   *Node
		models string
		want   int
	}{
		{"first choice", h100, "H100,A100", 0},
		{"second choice", a100, "H100,A100", 1},
		{"case does not matter", a100, "h100,a100", 1},
		{"several words, any order", a100, "40GB-A100", 0},
		{"all words must match", a100, "A100-80GB", -1},
		{"a word is not a prefix", l40s, "L4", -1},
		{"whole word", l40s, "L40S", 0},
		{"family", h100, "ampere,hopper", 1},
		{"vendor matches every model of the vendor", a100, "NVIDIA", 0},
		{"no accelerators", none, "H100", -1},
		{"not listed", h100, "A100,V100", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			models, err := parseModels(tc.models)
			if err != nil {
				t.Fatal(err)
			}
			if got := tc.node.Rank(models); got != tc.want {
				t.Errorf("Rank(%q) on %q = %d, want %d", tc.models, tc.node.Product, got, tc.want)
			}
		})
	}
}

func TestBuiltFollowsResourceVersion(t *testing.T) {
	n := kubeNode("n", nil)
	n.ResourceVersion = "1"
	m := Build(Sources{Node: n})
	later := n.DeepCopy()
	later.ResourceVersion = "2"
	if !m.Built(n) || m.Built(later) {
		t.Errorf("Built: want true for the version it was built from only")
	}
}

// FuzzBuild: any label values build a model with sane numbers, and model
// matching never panics.
func FuzzBuild(f *testing.F) {
	f.Add("NVIDIA-H100-80GB-HBM3", "81559", "8", "hopper", "9", "amd64", "H100,A100")
	f.Add("", "-1", "x", "", "99999999999999999999", "", ",")
	f.Add("ÄÖ--", "1073741824", "0", "a b", "0", "arm64", "a-b c")
	f.Fuzz(func(t *testing.T, product, mem, count, family, compute, arch, wanted string) {
		n := Build(Sources{Node: kubeNode("n", map[string]string{
			LabelGPUProduct: product, LabelGPUMemory: mem, LabelGPUCount: count, LabelGPUFamily: family,
			LabelGPUComputeMajor: compute, "kubernetes.io/arch": arch,
		})})
		if n.Memory < 0 || n.Devices < 0 || n.ComputeMajor < 0 || n.Accelerators() < 0 {
			t.Fatalf("negative numbers in %+v", n)
		}
		if ms, err := parseModels(wanted); err == nil {
			if r := n.Rank(ms); r < -1 || r >= len(ms) {
				t.Fatalf("rank %d of %d models", r, len(ms))
			}
		}
	})
}
