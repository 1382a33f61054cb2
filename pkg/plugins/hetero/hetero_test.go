package hetero

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2/ktesting"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	"k8s.io/utils/ptr"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config/scheme"
	configv1 "github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config/v1"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/hardware"
	"github.com/kube-mesos/kube-mesos-scheduler/test/build"
)

// fakeHandle is the part of the framework handle the plugin uses; DRA is
// off (SharedDRAManager nil), which the integration tests cover.
type fakeHandle struct {
	fwk.Handle
	factory  informers.SharedInformerFactory
	recorder *events.FakeRecorder
}

func (h *fakeHandle) SharedInformerFactory() informers.SharedInformerFactory { return h.factory }
func (h *fakeHandle) EventRecorder() events.EventRecorderLogger              { return h.recorder }
func (h *fakeHandle) SharedDRAManager() fwk.SharedDRAManager                 { return nil }

// defaultArgs returns the v1 defaults converted to the internal args.
func defaultArgs(t testing.TB, mutate ...func(*config.HeteroArgs)) *config.HeteroArgs {
	t.Helper()
	v := &configv1.HeteroArgs{}
	scheme.Scheme.Default(v)
	out := &config.HeteroArgs{}
	if err := scheme.Scheme.Convert(v, out, nil); err != nil {
		t.Fatal(err)
	}
	for _, m := range mutate {
		m(out)
	}
	return out
}

// newPlugin starts the plugin over a fake clientset holding objs and waits
// until its store has seen every node.
func newPlugin(t testing.TB, args *config.HeteroArgs, objs ...runtime.Object) (*Hetero, *fakeHandle) {
	t.Helper()
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	client := fake.NewClientset(objs...)
	h := &fakeHandle{factory: informers.NewSharedInformerFactory(client, 0), recorder: events.NewFakeRecorder(10)}
	p, err := New(ctx, args, h)
	if err != nil {
		t.Fatal(err)
	}
	h.factory.Start(ctx.Done())
	h.factory.WaitForCacheSync(ctx.Done())
	pl := p.(*Hetero)
	nodes := 0
	for _, o := range objs {
		if _, ok := o.(*v1.Node); ok {
			nodes++
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(pl.store.Nodes()) < nodes {
		if time.Now().After(deadline) {
			t.Fatalf("store saw %d of %d nodes", len(pl.store.Nodes()), nodes)
		}
		time.Sleep(time.Millisecond)
	}
	return pl, h
}

func node(name, arch string, labels map[string]string, gpus string) *v1.Node {
	b := build.MakeNode(name).Label(v1.LabelArchStable, arch).Capacity("cpu", "64")
	for k, v := range labels {
		b.Label(k, v)
	}
	if gpus != "" {
		b.Capacity("nvidia.com/gpu", gpus)
	}
	return b.Obj()
}

func gpuNode(name, product, memMiB string) *v1.Node {
	return node(name, "amd64", map[string]string{hardware.LabelGPUProduct: product, hardware.LabelGPUMemory: memMiB}, "8")
}

func pod(name string, gpus string, annotations map[string]string) *v1.Pod {
	b := build.MakePod("default", name).UID("uid-"+name).Req("cpu", "1")
	if gpus != "" {
		b.Req("nvidia.com/gpu", gpus)
	}
	for k, v := range annotations {
		b.Annotation(k, v)
	}
	return b.Obj()
}

func nodeInfo(n *v1.Node, pods ...*v1.Pod) fwk.NodeInfo {
	ni := framework.NewNodeInfo(pods...)
	ni.SetNode(n)
	return ni
}

func statusDiff(want, got *fwk.Status) string {
	return cmp.Diff(want.AsError(), got.AsError(), cmp.Comparer(func(a, b error) bool {
		return a == nil && b == nil || a != nil && b != nil && a.Error() == b.Error()
	}))
}

func TestNewRefusesBadArgs(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	h := &fakeHandle{}
	for _, tc := range []struct {
		name string
		args runtime.Object
		want string
	}{
		{"wrong type", &config.DRFArgs{}, "want args of type HeteroArgs"},
		{"unknown architecture", defaultArgs(t, func(a *config.HeteroArgs) { a.ArchitecturePreference = []string{"x86_64"} }), "architecturePreference[0]"},
		{"duplicate architecture", defaultArgs(t, func(a *config.HeteroArgs) { a.ArchitecturePreference = []string{"arm64", "arm64"} }), "architecturePreference[1]"},
		{"bad device class", defaultArgs(t, func(a *config.HeteroArgs) { a.AcceleratorDeviceClasses = []string{"GPU!"} }), "acceleratorDeviceClasses[0]"},
		{"duplicate device class", defaultArgs(t, func(a *config.HeteroArgs) { a.AcceleratorDeviceClasses = []string{"gpu.a", "gpu.a"} }), "acceleratorDeviceClasses[1]"},
		{"bad policy", defaultArgs(t, func(a *config.HeteroArgs) { a.AcceleratorNodePolicy = "Sometimes" }), "acceleratorNodePolicy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(ctx, tc.args, h)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: error %v, want one naming %q", err, tc.want)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	a := defaultArgs(t)
	if a.AcceleratorNodePolicy != config.AcceleratorNodePrefer || len(a.AcceleratorResources) != 3 ||
		len(a.AcceleratorDeviceClasses) != 3 || len(a.ArchitecturePreference) != 0 || a.Weights.IdleAccelerators != 4 {
		t.Errorf("defaults: %+v", a)
	}
}

func TestPreFilter(t *testing.T) {
	strict := func(a *config.HeteroArgs) { a.AcceleratorNodePolicy = config.AcceleratorNodeStrict }
	daemon := pod("ds", "", nil)
	daemon.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "ds", UID: "u", Controller: ptr.To(true)}}
	for _, tc := range []struct {
		name      string
		args      *config.HeteroArgs
		pod       *v1.Pod
		want      *fwk.Status
		wantNeeds hardware.Needs
		wantEvent string
	}{
		{
			name: "CPU pod, Prefer: nothing to filter",
			args: defaultArgs(t), pod: pod("p", "", nil), want: fwk.NewStatus(fwk.Skip),
			wantNeeds: hardware.Needs{Policy: hardware.PolicyRequired, ScoreIdle: true},
		},
		{
			name: "CPU pod, Strict: keep off accelerator nodes",
			args: defaultArgs(t, strict), pod: pod("p", "", nil),
			wantNeeds: hardware.Needs{Policy: hardware.PolicyRequired, ScoreIdle: true, AvoidAccelerators: true},
		},
		{
			name: "DaemonSet pod, Strict: may use accelerator nodes",
			args: defaultArgs(t, strict), pod: daemon, want: fwk.NewStatus(fwk.Skip),
			wantNeeds: hardware.Needs{Policy: hardware.PolicyRequired, ScoreIdle: true},
		},
		{
			name: "CPU pod, None, cluster architecture preference",
			args: defaultArgs(t, func(a *config.HeteroArgs) {
				a.AcceleratorNodePolicy = config.AcceleratorNodeNone
				a.ArchitecturePreference = []string{"amd64"}
			}),
			pod: pod("p", "", nil), want: fwk.NewStatus(fwk.Skip),
			wantNeeds: hardware.Needs{Policy: hardware.PolicyRequired, Archs: []string{"amd64"}},
		},
		{
			name: "GPU pod with a required model and memory",
			args: defaultArgs(t), pod: pod("p", "2", map[string]string{AnnotationGPUModels: "H100", AnnotationGPUMinMemory: "40Gi"}),
			wantNeeds: hardware.Needs{GPUs: 2, Models: []hardware.Model{{"H100"}}, MinMemory: 40 << 30, Policy: hardware.PolicyRequired},
		},
		{
			name: "bad annotation",
			args: defaultArgs(t), pod: pod("p", "1", map[string]string{AnnotationGPUMinMemory: "lots"}),
			want: fwk.NewStatus(fwk.UnschedulableAndUnresolvable,
				`pod has an invalid hardware annotation: annotation kube-mesos.io/gpu-min-memory="lots": not a quantity (e.g. 40Gi)`),
			wantEvent: `Warning InvalidHardwareAnnotation annotation kube-mesos.io/gpu-min-memory="lots": not a quantity (e.g. 40Gi)`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, ctx := ktesting.NewTestContext(t)
			pl, h := newPlugin(t, tc.args)
			cs := framework.NewCycleState()
			_, got := pl.PreFilter(ctx, cs, tc.pod, nil)
			if diff := statusDiff(tc.want, got); diff != "" {
				t.Errorf("status (-want +got):\n%s", diff)
			}
			if tc.wantEvent != "" {
				select {
				case e := <-h.recorder.Events:
					if e != tc.wantEvent {
						t.Errorf("event %q, want %q", e, tc.wantEvent)
					}
				default:
					t.Errorf("no event, want %q", tc.wantEvent)
				}
				return
			}
			s, err := getPreFilterState(cs)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantNeeds, s.need); diff != "" {
				t.Errorf("needs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFilter(t *testing.T) {
	h100 := gpuNode("h100", "NVIDIA-H100-80GB-HBM3", "81559")
	a100 := gpuNode("a100", "NVIDIA-A100-SXM4-40GB", "40960")
	cpu := node("cpu", "amd64", nil, "")
	arm := node("arm", "arm64", nil, "")
	unschedulable := func(reason string) *fwk.Status { return fwk.NewStatus(fwk.UnschedulableAndUnresolvable, reason) }
	strict := defaultArgs(t, func(a *config.HeteroArgs) { a.AcceleratorNodePolicy = config.AcceleratorNodeStrict })
	for _, tc := range []struct {
		name string
		args *config.HeteroArgs
		pod  *v1.Pod
		want map[string]*fwk.Status
	}{
		{
			name: "architectures",
			args: defaultArgs(t), pod: pod("p", "", map[string]string{AnnotationArchitectures: "arm64"}),
			want: map[string]*fwk.Status{"h100": unschedulable(ErrReasonArchitecture), "a100": unschedulable(ErrReasonArchitecture),
				"cpu": unschedulable(ErrReasonArchitecture)},
		},
		{
			name: "required model",
			args: defaultArgs(t), pod: pod("p", "1", map[string]string{AnnotationGPUModels: "H100"}),
			want: map[string]*fwk.Status{"a100": unschedulable(ErrReasonModel), "cpu": unschedulable(ErrReasonModel), "arm": unschedulable(ErrReasonModel)},
		},
		{
			name: "required memory",
			args: defaultArgs(t), pod: pod("p", "1", map[string]string{AnnotationGPUMinMemory: "60Gi"}),
			want: map[string]*fwk.Status{"a100": unschedulable(ErrReasonMemory), "cpu": unschedulable(ErrReasonMemory), "arm": unschedulable(ErrReasonMemory)},
		},
		{
			name: "preferred model and memory filter nothing",
			args: strict, pod: pod("p", "1", map[string]string{AnnotationGPUModels: "H100", AnnotationGPUMinMemory: "60Gi", AnnotationHardwarePolicy: "preferred"}),
			want: map[string]*fwk.Status{},
		},
		{
			name: "strict keeps CPU pods off GPU nodes",
			args: strict, pod: pod("p", "", nil),
			want: map[string]*fwk.Status{"h100": unschedulable(ErrReasonAcceleratorNode), "a100": unschedulable(ErrReasonAcceleratorNode)},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, ctx := ktesting.NewTestContext(t)
			pl, _ := newPlugin(t, tc.args, h100, a100, cpu, arm)
			cs := framework.NewCycleState()
			if _, s := pl.PreFilter(ctx, cs, tc.pod, nil); !s.IsSuccess() && !s.IsSkip() {
				t.Fatalf("PreFilter: %v", s)
			}
			for _, n := range []*v1.Node{h100, a100, cpu, arm} {
				got := pl.Filter(ctx, cs, tc.pod, nodeInfo(n))
				if diff := statusDiff(tc.want[n.Name], got); diff != "" {
					t.Errorf("node %s (-want +got):\n%s", n.Name, diff)
				}
			}
		})
	}
}

// TestScoreUsesNodeInfo: packing and the idle penalty follow the pods the
// framework's NodeInfo holds on each node (assumed pods included).
func TestScoreUsesNodeInfo(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	h1 := gpuNode("h1", "NVIDIA-H100-80GB-HBM3", "81559")
	h2 := gpuNode("h2", "NVIDIA-H100-80GB-HBM3", "81559")
	cpu := node("cpu", "amd64", nil, "")
	pl, _ := newPlugin(t, defaultArgs(t), h1, h2, cpu)
	used := []*v1.Pod{pod("a", "3", nil), pod("b", "2", nil)}
	infos := map[string]fwk.NodeInfo{"h1": nodeInfo(h1, used...), "h2": nodeInfo(h2), "cpu": nodeInfo(cpu)}
	score := func(p *v1.Pod) map[string]int64 {
		cs := framework.NewCycleState()
		if _, s := pl.PreFilter(ctx, cs, p, nil); !s.IsSuccess() && !s.IsSkip() {
			t.Fatalf("PreFilter: %v", s)
		}
		if s := pl.PreScore(ctx, cs, p, nil); !s.IsSuccess() {
			t.Fatalf("PreScore: %v", s)
		}
		out := map[string]int64{}
		for name, ni := range infos {
			v, s := pl.Score(ctx, cs, p, ni)
			if !s.IsSuccess() {
				t.Fatalf("Score: %v", s)
			}
			out[name] = v
		}
		return out
	}
	// 1 GPU: packing only; h1 has 5 of 8 in use: (5+1)/8.
	if diff := cmp.Diff(map[string]int64{"h1": 75, "h2": 13, "cpu": 0}, score(pod("g", "1", nil))); diff != "" {
		t.Errorf("GPU pod scores (-want +got):\n%s", diff)
	}
	// No GPU: idle penalty; h1 has 3 idle: 0.5/4; h2 8 idle: 0.5/9.
	if diff := cmp.Diff(map[string]int64{"h1": 13, "h2": 6, "cpu": 100}, score(pod("c", "", nil))); diff != "" {
		t.Errorf("CPU pod scores (-want +got):\n%s", diff)
	}
}

func TestPreScoreSkipsWithoutTerms(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	pl, _ := newPlugin(t, defaultArgs(t, func(a *config.HeteroArgs) { a.AcceleratorNodePolicy = config.AcceleratorNodeNone }))
	cs := framework.NewCycleState()
	p := pod("p", "", nil)
	pl.PreFilter(ctx, cs, p, nil)
	if s := pl.PreScore(ctx, cs, p, nil); !s.IsSkip() {
		t.Errorf("PreScore = %v, want Skip", s)
	}
	// Without PreFilter (score-only configuration) PreScore computes the needs.
	if s := pl.PreScore(ctx, framework.NewCycleState(), pod("g", "1", nil), nil); !s.IsSuccess() {
		t.Errorf("PreScore without PreFilter = %v", s)
	}
}

// TestModelFollowsNodeVersion: a node object newer than the store's (the
// informer handler has not run yet) is modelled from the object itself.
func TestModelFollowsNodeVersion(t *testing.T) {
	n := gpuNode("n", "NVIDIA-A100", "40960")
	n.ResourceVersion = "1"
	pl, _ := newPlugin(t, defaultArgs(t), n)
	newer := n.DeepCopy()
	newer.ResourceVersion = "2"
	newer.Labels[hardware.LabelGPUProduct] = "NVIDIA-H100"
	if got := pl.model(newer).Product; got != "NVIDIA-H100" {
		t.Errorf("model of the newer node: product %q", got)
	}
	if got := pl.model(n).Product; got != "NVIDIA-A100" {
		t.Errorf("model of the stored node: product %q", got)
	}
}
