package bench

import (
	"context"
	"fmt"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/kubernetes/pkg/features"
	"os"
	"sync"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/component-base/metrics/legacyregistry"
	"k8s.io/component-base/metrics/testutil"

	emulator "github.com/kube-mesos/kube-mesos-scheduler/internal/mesosemulator"
	kmsmetrics "github.com/kube-mesos/kube-mesos-scheduler/pkg/metrics"
	"github.com/kube-mesos/kube-mesos-scheduler/test/harness"
)

// offerSourceProfile is our profile (all three plugins) with a 1 s
// allocation interval and a client fast enough not to be the bottleneck;
// %s is the MesosOffers source block.
const offerSourceProfile = `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection:
  leaderElect: false
clientConnection:
  qps: 5000
  burst: 5000
profiles:
  - schedulerName: kube-mesos-scheduler
    plugins:
      queueSort:
        enabled:
          - name: DRF
        disabled:
          - name: "*"
      multiPoint:
        enabled:
          - name: MesosOffers
          - name: DRF
          - name: Hetero
        disabled:
          - name: DefaultPreemption
    pluginConfig:
      - name: MesosOffers
        args:
          allocationInterval: 1s
%s`

// BenchmarkOfferSources places the same pods on the same nodes twice in one
// run: with the embedded allocator, and with a Mesos master (the emulator,
// one agent per node, 1 s allocation interval, every pod launched as a task
// through ACCEPT). Scale: KMS_MESOS_AGENTS (default 100) and KMS_MESOS_PODS
// (default 2,000) spread over four namespaces (roles). Throughput is pods
// over the time from the first to the last pod bound, as scheduler_perf
// measures it; the pods exist before the scheduler starts.
//
// It reports embedded-pods/s, mesos-pods/s and their ratio, and prints
// "offer sources: embedded=… mesos=… ratio=…".
//
// Each mode runs as the chart installs it: in Mesos mode the chart turns
// off kube-scheduler's NominatedNodeNameForExpectation feature gate (on by
// default since 1.35), which PATCHes the nominated node of every pod that
// waits in Permit — every pod in Mesos mode, where pods wait for their
// ACCEPT (docs/mesos.md, "Throughput"); the embedded phase keeps the
// default (its pods do not wait). KMS_NNN_ON=1 keeps the gate on in the
// Mesos phase too (chart value mesos.nominateWhileWaiting: true).
// KMS_BENCH_TIMELINE=1 prints the bound pods at every poll and, after the
// Mesos phase, the offers made/accepted/declined/rescinded and the
// scheduler's attempt counts: where the time went.
func BenchmarkOfferSources(b *testing.B) {
	nnn := os.Getenv("KMS_NNN_ON") != ""
	agents := envInt(b, "KMS_MESOS_AGENTS", 100)
	pods := envInt(b, "KMS_MESOS_PODS", 2000)
	var emb, mes result
	for i := 0; i < b.N; i++ {
		setNNN(b, true)
		emb = placeAll(b, false, agents, pods)
		setNNN(b, nnn)
		mes = placeAll(b, true, agents, pods)
	}
	b.ReportMetric(emb.throughput(pods), "embedded-pods/s")
	b.ReportMetric(mes.throughput(pods), "mesos-pods/s")
	b.ReportMetric(mes.throughput(pods)/emb.throughput(pods), "ratio")
	fmt.Printf("offer sources: agents=%d pods=%d nominate-while-waiting=%v embedded=%.1f pods/s (all bound %.1fs after start) mesos=%.1f pods/s (%.1fs; %d ACCEPT calls) ratio=%.3f\n",
		agents, pods, nnn, emb.throughput(pods), emb.total.Seconds(), mes.throughput(pods), mes.total.Seconds(), mes.accepts,
		mes.throughput(pods)/emb.throughput(pods))
}

// setNNN sets the NominatedNodeNameForExpectation feature gate for the
// next scheduler started (it reads the gate when it is built), back to its
// value before the benchmark once it ends.
func setNNN(b *testing.B, on bool) {
	b.Helper()
	before := utilfeature.DefaultFeatureGate.Enabled(features.NominatedNodeNameForExpectation)
	set := func(v bool) {
		if err := utilfeature.DefaultMutableFeatureGate.SetFromMap(map[string]bool{string(features.NominatedNodeNameForExpectation): v}); err != nil {
			b.Fatal(err)
		}
	}
	set(on)
	b.Cleanup(func() { set(before) })
}

type result struct {
	// span is from the first to the last pod bound; total from the
	// scheduler's start to the last pod bound.
	span, total time.Duration
	accepts     int
}

func (r result) throughput(pods int) float64 { return float64(pods) / r.span.Seconds() }

// placeAll runs one mode on a fresh control plane.
func placeAll(b *testing.B, mesos bool, agents, pods int) result {
	b.Helper()
	b.StopTimer()
	defer b.StartTimer()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cp, err := harness.StartControlPlane(b)
	if err != nil {
		b.Fatal(err)
	}
	defer cp.Stop()
	cfg := rest.CopyConfig(cp.Config)
	cfg.QPS, cfg.Burst = 2000, 2000
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	var nodes []*v1.Node
	var emuAgents []emulator.Agent
	for i := 0; i < agents; i++ {
		name := fmt.Sprintf("node-%03d", i)
		nodes = append(nodes, harness.MakeNode(name).Capacity("cpu", "32", "memory", "128Gi", "pods", "110").Obj())
		emuAgents = append(emuAgents, emulator.Agent{Hostname: name, Resources: emulator.Resources{
			CPUs: 32, Mem: 128 * 1024, Disk: 100000, Ports: []emulator.PortRange{{Begin: 31000, End: 32000}},
		}})
	}
	if err := harness.CreateNodes(ctx, client, nodes...); err != nil {
		b.Fatal(err)
	}
	source := "          source: Embedded\n"
	var master *emulator.Master
	if mesos {
		master, err = emulator.Start(emulator.Config{Agents: emuAgents, AllocationInterval: time.Second})
		if err != nil {
			b.Fatal(err)
		}
		defer master.Close()
		source = fmt.Sprintf("          source: Mesos\n          mesos:\n            master: %s\n            frameworkIDConfigMap: default/kms-framework\n", master.URL())
	}
	const roles = 4
	var all []*v1.Pod
	for r := 0; r < roles; r++ {
		ns := fmt.Sprintf("role-%d", r)
		if err := harness.CreateNamespace(ctx, client, ns, nil, nil); err != nil {
			b.Fatal(err)
		}
		for i := r; i < pods; i += roles {
			all = append(all, harness.MakePod(ns, fmt.Sprintf("p-%05d", i)).Req("cpu", "500m", "memory", "1Gi").Obj())
		}
	}
	if err := createParallel(ctx, client, all); err != nil {
		b.Fatal(err)
	}
	accepts0 := acceptCalls()
	start := time.Now()
	sched, err := harness.StartScheduler(ctx, cp, fmt.Sprintf(offerSourceProfile, source))
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = sched.Stop() }()
	first, last, err := waitBound(ctx, client, pods, 10*time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	res := result{span: last.Sub(first), total: last.Sub(start)}
	if mesos {
		tasks := 0
		for _, f := range master.Frameworks() {
			tasks += len(f.Tasks)
		}
		if tasks != pods {
			b.Fatalf("%d tasks on the master for %d bound pods", tasks, pods)
		}
		res.accepts = acceptCalls() - accepts0
		if os.Getenv("KMS_BENCH_TIMELINE") != "" {
			for _, ev := range []string{kmsmetrics.OfferMade, kmsmetrics.OfferAccepted, kmsmetrics.OfferDeclined, kmsmetrics.OfferRescinded} {
				n := 0.0
				for r := 0; r < 4; r++ {
					v, _ := testutil.GetCounterMetricValue(kmsmetrics.Offers.WithLabelValues(fmt.Sprintf("role-%d", r), ev))
					n += v
				}
				fmt.Printf("offers %s: %.0f\n", ev, n)
			}
			mfs, _ := legacyregistry.DefaultGatherer.Gather()
			for _, mf := range mfs {
				if mf.GetName() == "scheduler_schedule_attempts_total" || mf.GetName() == "scheduler_pod_scheduling_sli_duration_seconds" {
					for _, m := range mf.GetMetric() {
						fmt.Printf("%s %v %v %v\n", mf.GetName(), m.GetLabel(), m.GetCounter().GetValue(), m.GetHistogram().GetSampleCount())
					}
				}
			}
		}
	}
	return res
}

// createParallel creates pods with a few workers.
func createParallel(ctx context.Context, c kubernetes.Interface, pods []*v1.Pod) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(pods))
	work := make(chan *v1.Pod)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				if _, err := c.CoreV1().Pods(p.Namespace).Create(ctx, p, metav1.CreateOptions{}); err != nil {
					errs <- err
				}
			}
		}()
	}
	for _, p := range pods {
		work <- p
	}
	close(work)
	wg.Wait()
	close(errs)
	return <-errs
}

// waitBound waits until n pods are bound and returns when this poll (every
// 100 ms) first saw the first and the last of them bound.
func waitBound(ctx context.Context, c kubernetes.Interface, n int, timeout time.Duration) (first, last time.Time, err error) {
	seen := map[string]time.Time{}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		list, err := c.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{ResourceVersion: "0"})
		if err != nil {
			return first, last, err
		}
		now := time.Now()
		for _, p := range list.Items {
			if p.Spec.NodeName == "" {
				continue
			}
			if _, ok := seen[string(p.UID)]; !ok {
				seen[string(p.UID)] = now
				if first.IsZero() || now.Before(first) {
					first = now
				}
				last = now
			}
		}
		if os.Getenv("KMS_BENCH_TIMELINE") != "" {
			fmt.Printf("timeline %s bound=%d\n", now.Format("15:04:05.000"), len(seen))
		}
		if len(seen) >= n {
			return first, last, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return first, last, fmt.Errorf("%d of %d pods bound after %v", len(seen), n, timeout)
}

// acceptCalls returns the ACCEPT calls the scheduler made so far.
func acceptCalls() int {
	v, _ := testutil.GetCounterMetricValue(kmsmetrics.MesosCalls.WithLabelValues("ACCEPT", "ok"))
	return int(v)
}
