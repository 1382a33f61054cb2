package integration

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/kube-mesos/kube-mesos-scheduler/test/harness"
)

// Fairness in the life of a cluster: tenants arrive while others run, and
// fair-share preemption moves the cluster to the weighted DRF allocation
// with the fewest evictions. Evicted pods are created again, as their
// controllers would (harness.Tenants).

// fairProfile is the default profile with a short fair-share preemption
// delay (the default 5s is meant for bursts of real submissions).
func fairProfile(delay string) string {
	return withArgs(profile, fmt.Sprintf(`      - name: DRF
        args:
          fairSharePreemptionDelay: %s
`, delay))
}

// lateArrival runs the late-arrival scenario: namespace a creates 20 pods
// on one node and settles, then namespace b creates 20. It returns the
// settled bound counts and the evictions.
func lateArrival(t *testing.T, node []string, aReq, bReq []string, aAnn, bAnn map[string]string) (map[string]int, int) {
	t.Helper()
	e := start(t, fairProfile("1s"))
	c := e.cp.Client
	if err := harness.CreateNamespace(e.ctx, c, "a", nil, aAnn); err != nil {
		t.Fatal(err)
	}
	if err := harness.CreateNamespace(e.ctx, c, "b", nil, bAnn); err != nil {
		t.Fatal(err)
	}
	if err := harness.CreateNodes(e.ctx, c, harness.MakeNode("n1").Capacity(node...).Obj()); err != nil {
		t.Fatal(err)
	}
	tenants, err := harness.WatchTenants(e.ctx, c, "a", "b")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tenants.Stop)
	t0 := time.Now()
	createBatch(t, e, "a", "a", 20, func(b *harness.PodBuilder) *harness.PodBuilder { return b.Req(aReq...) })
	if _, err := harness.Settled(e.ctx, c, settle, "a"); err != nil {
		t.Fatal(err)
	}
	t.Logf("a settled after %v", time.Since(t0))
	createBatch(t, e, "b", "b", 20, func(b *harness.PodBuilder) *harness.PodBuilder { return b.Req(bReq...) })
	var bound map[string]int
	err = harness.Poll(e.ctx, settle, func(ctx context.Context) (bool, error) {
		var err error
		bound, err = harness.Settled(ctx, c, settle, "a", "b")
		return err == nil && bound["b"] > 0, err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("all settled after %v", time.Since(t0))
	if err := tenants.Err(); err != nil {
		t.Fatal(err)
	}
	_, evicted := tenants.Evictions()
	return bound, evicted
}

// TestFairLateArrival: one node ⟨9 CPU, 18 GiB⟩; a (pods ⟨1 CPU, 4 GiB⟩)
// alone takes 4 pods (memory: a fifth needs 4 GiB of the 2 left). Then b
// (pods ⟨3 CPU, 1 GiB⟩) arrives: weighted DRF over both demands is the DRF
// paper's a 3, b 2. Fewest evictions: with a's 4 pods the node has ⟨5 CPU,
// 2 GiB⟩ free, so b's first pod needs none, leaving ⟨2, 1⟩; b's second
// needs 3 CPUs, and one pod of a gives ⟨1 CPU, 4 GiB⟩: exactly 1 eviction,
// which leaves a at its 3.
func TestFairLateArrival(t *testing.T) {
	bound, evicted := lateArrival(t, []string{"cpu", "9", "memory", "18Gi"},
		[]string{"cpu", "1", "memory", "4Gi"}, []string{"cpu", "3", "memory", "1Gi"}, nil, nil)
	if bound["a"] != 3 || bound["b"] != 2 || evicted != 1 {
		t.Fatalf("bound a=%d b=%d with %d evictions, want a=3 b=2 with exactly 1", bound["a"], bound["b"], evicted)
	}
}

// TestFairLateArrivalWeighted: one node ⟨8 CPU, 12 GiB⟩; a weighted 3 with
// pods ⟨1 CPU, 2 GiB⟩, b weighted 1 with pods ⟨1 CPU, 1 GiB⟩. a alone takes
// 6 pods (12 GiB). Weighted DRF: a's pod adds max(1/8, 2/12)/3 = 1/18 to
// its weighted share, b's max(1/8, 1/12) = 1/8. Filling (a first at the
// tie): a 1/18, b 1/8, a 2/18, a 3/18, b 2/8, a 4/18, a 5/18; then b
// (2/8 = 0.25 < 5/18) needs 1 GiB and memory is full (5·2 + 2·1 = 12), a
// needs 2: a 5, b 2 (unweighted it would be a 4, b 4). Fewest evictions:
// with a's 6 pods memory is full, so b's pods need room; one pod of a
// frees ⟨1 CPU, 2 GiB⟩, enough for b's two: exactly 1 eviction.
func TestFairLateArrivalWeighted(t *testing.T) {
	bound, evicted := lateArrival(t, []string{"cpu", "8", "memory", "12Gi"},
		[]string{"cpu", "1", "memory", "2Gi"}, []string{"cpu", "1", "memory", "1Gi"},
		map[string]string{"kube-mesos.io/weight": "3"}, nil)
	if bound["a"] != 5 || bound["b"] != 2 || evicted != 1 {
		t.Fatalf("bound a=%d b=%d with %d evictions, want a=5 b=2 with exactly 1", bound["a"], bound["b"], evicted)
	}
}

// TestFairFiftyTenants: 10 nodes ⟨16 CPU, 64 GiB⟩ (160 CPUs); 50
// namespaces, created right after the scheduler started, each submit 20
// pods ⟨1 CPU, 1 GiB⟩, one namespace after the other, as fast as the API
// server takes them. Weighted DRF (equal weights, CPU dominant): 160 / 50 =
// 3.2 pods each, so ten namespaces hold 4 and forty hold 3, all 160 CPUs
// used.
//
// The fewest evictions, computed here from what was bound when the first
// eviction happened (c per namespace): a final allocation f gives 4 to ten
// namespaces and 3 to the rest, and every namespace above its f must lose
// the difference, so evictions >= Σ max(0, c - f), smallest when the ten
// 4s go to the ten namespaces holding most. The scheduler must stay within
// 10 % of that, converge within 30 s, and evict nothing in the 60 s after.
//
// All 160 CPUs stay used at every sample from 2 s after the submissions: a
// CPU counts as used while a pod is bound to it, or while it is handed over
// from an evicted pod to its preemptor — nominated to it, or for at most
// four seconds after the eviction, until the scheduler's status write
// that nominates the preemptor reaches the API. The test logs how long
// handovers took: median 68 ms, p99 2.1 s, max 2.2 s in one CI run; max
// 3.02 s in another (p99 2.1 s), which a 3 s window failed on one sample
// (159 of 160). The slow ones are kube-scheduler's own: two preemptors
// nominated to one node, the first retried as its victim leaves sees the
// second's nomination on the freed CPU, fails, and waits out its pod
// backoff (about 2 s, more under load) while the scheduler holds the CPU
// for it. A CPU idle for longer than that still fails the test.
//
// The scheduler's API client gets 200 QPS (burst 400), as the chart
// configures it: kube-scheduler's default 50 QPS spends seconds on the
// status writes of a thousand pods before a preemption's binding gets out.
// The fair-share preemption delay is 10 s, not the default 5 s: the
// minimum number of evictions below assumes every tenant's demand known at
// the first eviction, and submitting the thousand pods took 7.6 s on a
// loaded 2-core machine (3-4 s unloaded).
func TestFairFiftyTenants(t *testing.T) {
	e := start(t, "")
	c := e.cp.Client
	var names []string
	for i := 0; i < 50; i++ {
		names = append(names, fmt.Sprintf("t%02d", i))
	}
	for i := 0; i < 10; i++ {
		if err := harness.CreateNodes(e.ctx, c, harness.MakeNode(fmt.Sprintf("n%02d", i)).Capacity("cpu", "16", "memory", "64Gi").Obj()); err != nil {
			t.Fatal(err)
		}
	}
	tenants, err := harness.WatchTenants(e.ctx, c, names...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tenants.Stop)
	e.sched = e.startScheduler(t, fairProfile("10s")+"clientConnection:\n  qps: 200\n  burst: 400\n")
	namespaces(t, e, names...)
	var pods []*v1.Pod
	for _, ns := range names {
		for i := 0; i < 20; i++ {
			pods = append(pods, harness.MakePod(ns, fmt.Sprintf("p%02d", i)).Req("cpu", "1", "memory", "1Gi").Obj())
		}
	}
	submitted := time.Now()
	if err := harness.CreatePodsInParallel(e.ctx, c, 8, pods...); err != nil {
		t.Fatal(err)
	}
	allSubmitted := time.Now()
	t.Logf("1000 pods submitted in %v", allSubmitted.Sub(submitted).Round(time.Millisecond))

	sum := func(m map[string]int) int {
		n := 0
		for _, v := range m {
			n += v
		}
		return n
	}
	fair := func(m map[string]int) bool {
		for _, ns := range names {
			if m[ns] < 3 || m[ns] > 4 {
				return false
			}
		}
		return sum(m) == 160
	}
	idle := 0
	err = wait.PollUntilContextTimeout(e.ctx, 250*time.Millisecond, time.Until(submitted.Add(30*time.Second)), false, func(context.Context) (bool, error) {
		if since := time.Since(submitted); since >= 2*time.Second {
			if claimed := tenants.Claimed(4 * time.Second); sum(claimed) < 160 {
				idle++
				t.Errorf("%v after submission: %d of 160 CPUs used (per node: %v)", since.Round(time.Millisecond), sum(claimed), claimed)
			}
		}
		return fair(tenants.Bound()), nil
	})
	if err != nil {
		t.Fatalf("not converged 30 s after submission: bound %v", tenants.Bound())
	}
	converged := time.Now()
	first, firstAt := tenants.FirstEviction()
	_, evictions := tenants.Evictions()
	t.Logf("converged %v after submission with %d evictions (first at %v); handovers %s", converged.Sub(submitted).Round(time.Millisecond),
		evictions, firstAt.Sub(submitted).Round(time.Millisecond), percentiles(tenants.Handovers()))
	if first != nil && firstAt.Before(allSubmitted) {
		t.Fatalf("the first eviction came %v before the last pod was submitted: the minimum below assumes every demand known", allSubmitted.Sub(firstAt))
	}
	least := 0
	if first != nil {
		counts := make([]int, 0, len(names))
		for _, ns := range names {
			counts = append(counts, first[ns])
		}
		sort.Sort(sort.Reverse(sort.IntSlice(counts)))
		for i, n := range counts {
			f := 3
			if i < 10 {
				f = 4
			}
			least += max(0, n-f)
		}
	}
	t.Logf("fewest evictions possible from the first eviction on: %d", least)
	if float64(evictions) > 1.1*float64(least) {
		t.Errorf("%d evictions, more than 10%% above the fewest possible (%d, from the bound pods at the first eviction: %v)", evictions, least, first)
	}
	// Nothing moves after convergence.
	err = wait.PollUntilContextTimeout(e.ctx, time.Second, 60*time.Second, false, func(context.Context) (bool, error) {
		if _, after := tenants.Evictions(); after != evictions {
			return false, fmt.Errorf("%d evictions after convergence", after-evictions)
		}
		if b := tenants.Bound(); !fair(b) {
			return false, fmt.Errorf("bound %v after convergence", b)
		}
		return false, nil
	})
	if !wait.Interrupted(err) {
		t.Error(err)
	}
	if err := tenants.Err(); err != nil {
		t.Fatal(err)
	}
}

// percentiles renders the median, 99th percentile and maximum of durations.
func percentiles(d []time.Duration) string {
	if len(d) == 0 {
		return "none"
	}
	slices.Sort(d)
	at := func(q float64) time.Duration { return d[min(len(d)-1, int(q*float64(len(d))))].Round(time.Millisecond) }
	return fmt.Sprintf("n=%d median %v p99 %v max %v", len(d), at(0.5), at(0.99), d[len(d)-1].Round(time.Millisecond))
}
