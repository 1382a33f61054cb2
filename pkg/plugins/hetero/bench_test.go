package hetero

import (
	"fmt"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/klog/v2/ktesting"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config"
)

// BenchmarkPerNode is the cost of the plugin's Filter and Score for one
// node, as the framework calls them: the store lookup, the node's usage from
// its NodeInfo, and hardware.Admit / hardware.Score. One op = one node.
func BenchmarkPerNode(b *testing.B) {
	_, ctx := ktesting.NewTestContext(b)
	const n = 100
	var objs []runtime.Object
	var infos []fwk.NodeInfo
	for i := 0; i < n; i++ {
		nd := gpuNode(fmt.Sprintf("n%03d", i), "NVIDIA-H100-80GB-HBM3", "81559")
		nd.ResourceVersion = "1"
		objs = append(objs, nd)
		var pods []*v1.Pod
		for j := 0; j < i%8; j++ {
			pods = append(pods, bound(pod(fmt.Sprintf("p%d-%d", i, j), "1", nil), nd.Name))
		}
		infos = append(infos, nodeInfo(nd, pods...))
	}
	pl, _ := newPlugin(b, defaultArgs(b, func(a *config.HeteroArgs) { a.ArchitecturePreference = []string{"amd64", "arm64"} }), objs...)
	for _, bc := range []struct {
		name string
		pod  *v1.Pod
	}{
		{"gpu-pod", pod("g", "2", map[string]string{AnnotationGPUModels: "H100,A100", AnnotationGPUMinMemory: "40Gi"})},
		{"cpu-pod", pod("c", "", nil)},
	} {
		cs := framework.NewCycleState()
		pl.PreFilter(ctx, cs, bc.pod, nil)
		if s := pl.PreScore(ctx, cs, bc.pod, nil); !s.IsSuccess() {
			b.Fatal(s)
		}
		b.Run("Score/"+bc.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, s := pl.Score(ctx, cs, bc.pod, infos[i%n]); !s.IsSuccess() {
					b.Fatal(s)
				}
				i++
			}
		})
		b.Run("Filter/"+bc.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				pl.Filter(ctx, cs, bc.pod, infos[i%n])
				i++
			}
		})
	}
}
