package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	emulator "github.com/kube-mesos/kube-mesos-scheduler/internal/mesosemulator"
	"github.com/kube-mesos/kube-mesos-scheduler/test/harness"
)

// startMesos starts an emulated Mesos master with agents named like the
// nodes it creates (cpus, mem in MB, gpus per agent), plus the nodes.
func startMesos(t *testing.T, e *env, agents map[string][3]float64, cfg emulator.Config) *emulator.Master {
	t.Helper()
	for host, r := range agents {
		cfg.Agents = append(cfg.Agents, emulator.Agent{Hostname: host, Resources: emulator.Resources{
			CPUs: r[0], Mem: r[1], GPUs: r[2], Disk: 100000, Ports: []emulator.PortRange{{Begin: 31000, End: 32000}},
		}})
		n := harness.MakeNode(host).Capacity("cpu", fmt.Sprint(r[0]), "memory", fmt.Sprintf("%dMi", int(r[1])))
		if r[2] > 0 {
			n.Capacity("nvidia.com/gpu", fmt.Sprint(r[2]))
		}
		if err := harness.CreateNodes(e.ctx, e.cp.Client, n.Obj()); err != nil {
			t.Fatal(err)
		}
	}
	return startEmulator(t, cfg)
}

// startEmulator starts an emulated master (allocation interval 100 ms
// unless set), closed at the end of the test.
func startEmulator(t *testing.T, cfg emulator.Config) *emulator.Master {
	t.Helper()
	if cfg.AllocationInterval == 0 {
		cfg.AllocationInterval = 100 * time.Millisecond
	}
	m, err := emulator.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

// mesosProfile is our profile with the Mesos master as offer source.
func mesosProfile(m *emulator.Master, extra string) string {
	return withArgs(profile, fmt.Sprintf(`      - name: MesosOffers
        args:
          source: Mesos
          refuseSeconds: 1
          mesos:
            master: %s
            frameworkIDConfigMap: default/kms-framework
%s`, m.URL(), extra))
}

// ourFramework returns the emulator's view of our framework.
func ourFramework(t *testing.T, m *emulator.Master) emulator.StateFramework {
	t.Helper()
	for _, f := range m.Frameworks() {
		if f.Name == "kube-mesos-scheduler" {
			return f
		}
	}
	t.Fatal("our framework is not registered")
	return emulator.StateFramework{}
}

func runningTasks(m *emulator.Master) map[string]emulator.StateTask {
	out := map[string]emulator.StateTask{}
	for _, f := range m.Frameworks() {
		if f.Name != "kube-mesos-scheduler" {
			continue
		}
		for _, tk := range f.Tasks {
			if tk.State == "TASK_RUNNING" || tk.State == "TASK_STARTING" {
				out[tk.ID] = tk
			}
		}
	}
	return out
}

// TestMesosPodsAreTasks: pods land only on agents with offers for their
// role (node n2 has no agent), several pods go in one ACCEPT, and the
// master shows one task per bound pod holding exactly its requests.
// Deleting a pod kills its task.
func TestMesosPodsAreTasks(t *testing.T) {
	e := start(t, "")
	url := metricsURL(t)
	m := startMesos(t, e, map[string][3]float64{"n1": {8, 16384, 0}}, emulator.Config{})
	if err := harness.CreateNodes(e.ctx, e.cp.Client, harness.MakeNode("n2").Capacity("cpu", "64", "memory", "256Gi").Obj()); err != nil {
		t.Fatal(err)
	}
	namespaces(t, e, "mt")
	createBatch(t, e, "mt", "p", 3, func(b *harness.PodBuilder) *harness.PodBuilder { return b.Req("cpu", "1500m", "memory", "512Mi") })
	accepts := func() float64 {
		v, err := harness.ScrapeValue(url, `kube_mesos_mesos_calls_total{outcome="ok",type="ACCEPT"}`)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	before := accepts()
	e.sched = e.startScheduler(t, mesosProfile(m, ""))
	bound, err := harness.Settled(e.ctx, e.cp.Client, settle, "mt")
	if err != nil || bound["mt"] != 3 {
		t.Fatalf("bound %v, %v; want 3", bound, err)
	}
	pods, err := e.cp.Client.CoreV1().Pods("mt").List(e.ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tasks := runningTasks(m)
	for _, p := range pods.Items {
		if p.Spec.NodeName != "n1" {
			t.Errorf("%s on %s: only n1 has an agent", p.Name, p.Spec.NodeName)
		}
		tk, ok := tasks[string(p.UID)]
		if !ok {
			t.Errorf("no running task for bound pod %s", p.Name)
			continue
		}
		if tk.Resources.CPUs != 1.5 || tk.Resources.Mem != 512 || tk.Role != "mt" || tk.Name != "mt/"+p.Name {
			t.Errorf("task of %s: %+v role %s name %s, want 1.5 cpus, 512 MB, role mt", p.Name, tk.Resources, tk.Role, tk.Name)
		}
	}
	if len(tasks) != 3 {
		t.Errorf("%d tasks for 3 pods", len(tasks))
	}
	if n := accepts() - before; n != 1 {
		t.Errorf("%v ACCEPT calls for 3 pods created together, want 1", n)
	}
	if err := harness.DeletePod(e.ctx, e.cp.Client, "mt", pods.Items[0].Name); err != nil {
		t.Fatal(err)
	}
	if err := harness.Poll(e.ctx, settle, func(context.Context) (bool, error) {
		_, alive := runningTasks(m)[string(pods.Items[0].UID)]
		return !alive, nil
	}); err != nil {
		t.Errorf("the task of a deleted pod was not killed: %v", err)
	}
}

// TestMesosOtherFrameworkNeverOfferedOurResources: another framework on
// the same master is offered only what our pods' tasks do not hold.
func TestMesosOtherFrameworkNeverOfferedOurResources(t *testing.T) {
	e := start(t, "")
	m := startMesos(t, e, map[string][3]float64{"n1": {4, 8192, 0}}, emulator.Config{})
	namespaces(t, e, "ours")
	createBatch(t, e, "ours", "p", 3, func(b *harness.PodBuilder) *harness.PodBuilder { return b.Req("cpu", "1", "memory", "1Gi") })
	e.sched = e.startScheduler(t, mesosProfile(m, ""))
	if bound, err := harness.Settled(e.ctx, e.cp.Client, settle, "ours"); err != nil || bound["ours"] != 3 {
		t.Fatalf("bound %v, %v", bound, err)
	}
	other, err := harness.SubscribeRawFramework(e.ctx, m.SchedulerURL(), "spark", []string{"spark"}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	select {
	case o := <-other.Offers:
		if o.Scalars["cpus"] > 1 || o.Scalars["mem"] > 8192-3*1024 {
			t.Errorf("the other framework was offered %v of n1 while our tasks hold 3 cpus, 3072 MB", o.Scalars)
		}
	case <-time.After(settle):
		t.Fatal("the other framework got no offer")
	}
}

// TestMesosGPUResources: an agent with GPUs is offered to us only with the
// GPU_RESOURCES capability (gpuResources, on by default).
func TestMesosGPUResources(t *testing.T) {
	for _, gpus := range []bool{false, true} {
		t.Run(fmt.Sprintf("gpuResources=%v", gpus), func(t *testing.T) {
			e := start(t, "")
			m := startMesos(t, e, map[string][3]float64{"gpu": {8, 16384, 2}}, emulator.Config{})
			namespaces(t, e, "ml")
			createBatch(t, e, "ml", "p", 1, func(b *harness.PodBuilder) *harness.PodBuilder { return b.Req("cpu", "1", "nvidia.com/gpu", "1") })
			e.sched = e.startScheduler(t, mesosProfile(m, fmt.Sprintf("            gpuResources: %v\n", gpus)))
			if gpus {
				if _, err := harness.WaitForPodBound(e.ctx, e.cp.Client, "ml", "p-00", settle); err != nil {
					t.Fatal(err)
				}
				if tk := runningTasks(m); len(tk) != 1 {
					t.Errorf("tasks %v", tk)
				}
				return
			}
			msg, err := harness.WaitForUnschedulable(e.ctx, e.cp.Client, "ml", "p-00", settle)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(msg, "no outstanding offer") {
				t.Errorf("without GPU_RESOURCES the GPU agent must never be offered; pod says %q", msg)
			}
			if f := ourFramework(t, m); len(f.Tasks) != 0 {
				t.Errorf("tasks launched without GPU_RESOURCES: %v", f.Tasks)
			}
		})
	}
}

// TestMesosRescindedOfferNeverUsed: offers are rescinded (by the master's
// offer timeout while the pod cannot use them, and all at once by fault
// injection); the pod lands later, on a live offer, as a running task.
func TestMesosRescindedOfferNeverUsed(t *testing.T) {
	e := start(t, "")
	url := metricsURL(t)
	m := startMesos(t, e, map[string][3]float64{"n1": {4, 8192, 0}}, emulator.Config{OfferTimeout: 500 * time.Millisecond})
	namespaces(t, e, "resc")
	e.sched = e.startScheduler(t, strings.Replace(mesosProfile(m, ""), "profiles:", "profiles:", 1))
	createBatch(t, e, "resc", "p", 1, func(b *harness.PodBuilder) *harness.PodBuilder {
		return b.Req("cpu", "1").Annotation("kube-mesos.io/architectures", "arm64")
	})
	if err := harness.Poll(e.ctx, settle, func(context.Context) (bool, error) {
		v, err := harness.ScrapeValue(url, `kube_mesos_offers_total{event="rescinded",role="resc"}`)
		d, _ := harness.ScrapeValue(url, `kube_mesos_offers_total{event="declined",role="resc"}`)
		return v+d >= 1, err
	}); err != nil {
		t.Fatalf("no offer was rescinded or declined: %v", err)
	}
	m.RescindAll()
	var p *v1.Pod
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var err error
		if p, err = e.cp.Client.CoreV1().Pods("resc").Get(e.ctx, "p-00", metav1.GetOptions{}); err != nil {
			return err
		}
		p.Annotations["kube-mesos.io/architectures"] = "amd64"
		_, err = e.cp.Client.CoreV1().Pods("resc").Update(e.ctx, p, metav1.UpdateOptions{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := harness.WaitForPodBound(e.ctx, e.cp.Client, "resc", "p-00", settle); err != nil {
		t.Fatal(err)
	}
	if _, ok := runningTasks(m)[string(p.UID)]; !ok {
		t.Errorf("the bound pod has no running task: it was bound without a live offer")
	}
}

// TestMesosJSONAndFrameworkID: the JSON encoding works against a master
// that lists capabilities mesos-go does not know (QUOTA_V2), and the
// framework ID is stored in the ConfigMap for failover.
func TestMesosJSONAndFrameworkID(t *testing.T) {
	e := start(t, "")
	m := startMesos(t, e, map[string][3]float64{"n1": {4, 8192, 0}}, emulator.Config{})
	namespaces(t, e, "js")
	createBatch(t, e, "js", "p", 1, func(b *harness.PodBuilder) *harness.PodBuilder { return b.Req("cpu", "1") })
	e.sched = e.startScheduler(t, mesosProfile(m, "            encoding: JSON\n"))
	if _, err := harness.WaitForPodBound(e.ctx, e.cp.Client, "js", "p-00", settle); err != nil {
		t.Fatal(err)
	}
	cm, err := e.cp.Client.CoreV1().ConfigMaps("default").Get(e.ctx, "kms-framework", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cm.Data["frameworkID"], ourFramework(t, m).ID; got != want {
		t.Errorf("stored framework ID %q, master has %q", got, want)
	}
}
