package integration

import (
	"context"
	"slices"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	emulator "github.com/kube-mesos/kube-mesos-scheduler/internal/mesosemulator"
	"github.com/kube-mesos/kube-mesos-scheduler/test/harness"
)

// TestMesosSuppressIdleRoles: a framework whose roles have nothing pending
// is offered nothing, and stays so after it subscribes again.
//
// One agent ⟨4 CPU, 8 GiB⟩, the emulator allocating every 100 ms, our
// declines refusing for 1 s (refuseSeconds in mesosProfile). Namespace
// "idle" runs two pods of ⟨1 CPU, 1 GiB⟩ and then has nothing pending: the
// agent's free ⟨2 CPU, 6 GiB⟩ would be offered to role "idle" again after
// every decline filter expired — about once every 1.1 s (1 s filter + at
// most one 100 ms allocation), so ≈ 27 offers in 30 s — unless the role is
// suppressed. Suppressed, the master offers it nothing: the design predicts
// 0 offers over the 30 s, and 0 over the 15 s after the subscription is
// dropped and made again (the master forgets suppression then, so the
// scheduler names the role in SUBSCRIBE's suppressed_roles and SUPPRESSes
// it again).
func TestMesosSuppressIdleRoles(t *testing.T) {
	e := start(t, "")
	url := metricsURL(t)
	m := startMesos(t, e, map[string][3]float64{"n1": {4, 8192, 0}}, emulator.Config{})
	namespaces(t, e, "idle")
	createPods(t, e, "idle", "p", 2, "1", "1Gi")
	scrape := func(series string) float64 {
		t.Helper()
		v, err := harness.ScrapeValue(url, series)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	const suppressCalls = `kube_mesos_mesos_calls_total{outcome="ok",type="SUPPRESS"}`
	offers := func() float64 { return offersTotal(t, url, "idle", "made") }
	// The master's view: SUPPRESS calls it handled.
	masterSuppress := func() int { return m.CallStats().Handled["SUPPRESS"] }
	suppress0 := scrape(suppressCalls)
	e.sched = e.startScheduler(t, mesosProfile(m, ""))
	waitAllBound(t, e, "idle", 2)
	if err := harness.Poll(e.ctx, settle, func(context.Context) (bool, error) {
		return scrape(suppressCalls) > suppress0 && masterSuppress() > 0, nil
	}); err != nil {
		t.Fatalf("role idle never suppressed (SUPPRESS calls %v, at the master %d): %v", scrape(suppressCalls)-suppress0, masterSuppress(), err)
	}
	fw := ourFramework(t, m)
	if got := m.Suppressed(fw.ID); !slices.Contains(got, "idle") {
		t.Errorf("the master suppresses %v for us, want idle among them", got)
	}
	before, since := offers(), time.Now()
	time.Sleep(30 * time.Second)
	if n := offers() - before; n != 0 {
		t.Errorf("%v offers to the idle role over 30 s, want 0 (suppressed)", n)
	}
	if sent := m.OffersSince(since, fw.ID); len(sent) != 0 {
		t.Errorf("the master sent offers %v over 30 s, want none", sent)
	}

	// The subscription drops; the scheduler subscribes again.
	subscriptions := scrape("kube_mesos_mesos_subscriptions_total")
	suppress1 := scrape(suppressCalls)
	m.DropStreams()
	if err := harness.Poll(e.ctx, settle, func(context.Context) (bool, error) {
		return scrape("kube_mesos_mesos_subscriptions_total") > subscriptions, nil
	}); err != nil {
		t.Fatalf("never subscribed again: %v", err)
	}
	if err := harness.Poll(e.ctx, settle, func(context.Context) (bool, error) {
		return scrape(suppressCalls) > suppress1, nil
	}); err != nil {
		t.Errorf("no SUPPRESS after the re-subscription: %v", err)
	}
	if got := m.Suppressed(fw.ID); !slices.Contains(got, "idle") {
		t.Errorf("after the re-subscription the master suppresses %v for us, want idle among them", got)
	}
	before, since = offers(), time.Now()
	time.Sleep(15 * time.Second)
	if n := offers() - before; n != 0 {
		t.Errorf("%v offers to the idle role over 15 s after the re-subscription, want 0", n)
	}
	if sent := m.OffersSince(since, fw.ID); len(sent) != 0 {
		t.Errorf("after the re-subscription the master sent offers %v over 15 s, want none", sent)
	}

	// Demand again: the role is revived and its new pod placed.
	createPods(t, e, "idle", "q", 1, "1", "1Gi")
	waitAllBound(t, e, "idle", 3)
}

// TestMesosReviveAfterSlowSuppress: a REVIVE the Mesos source decides
// while its SUPPRESS of the same role is still on its way reaches the
// master after it, so the role ends revived.
//
// One agent ⟨4 CPU, 8 GiB⟩, namespace "slow", orphanPodPolicy Relaunch.
// Pod p-00 ⟨1 CPU, 1 GiB⟩ binds; its role then has nothing pending and the
// scheduler SUPPRESSes it — the emulator holds that call (received, not
// applied). Meanwhile p-00's task is killed: the pod is an orphan, and
// the source REVIVEs its role to relaunch the task on the pod's node.
// For 3 s no REVIVE may reach the master: it must wait for the SUPPRESS it
// follows. Then the SUPPRESS is released; applied in the order decided —
// SUPPRESS, then REVIVE — the role is offered the agent's free ⟨3 CPU,
// 7 GiB⟩ and p-00's task is relaunched. In the other order the master
// keeps the role suppressed and nothing revives it: p-00 would be evicted
// after the 30 s relaunch window (the fault campaign saw this, a round
// stuck for 30 s). The same order between the sweeper's SUPPRESS and a new
// pod's REVIVE is TestNewPodReviveFollowsSweepSuppress's (a new pod here
// would use the offer the blocked sweeper has not declined yet).
func TestMesosReviveAfterSlowSuppress(t *testing.T) {
	e := start(t, "")
	m := startMesos(t, e, map[string][3]float64{"n1": {4, 8192, 0}}, emulator.Config{})
	namespaces(t, e, "slow")
	release := m.HoldCalls("SUPPRESS")
	defer release()
	e.sched = e.startScheduler(t, mesosProfile(m, "            orphanPodPolicy: Relaunch\n"))
	createPods(t, e, "slow", "p", 1, "1", "1Gi")
	waitAllBound(t, e, "slow", 1)
	if err := harness.Poll(e.ctx, settle, func(context.Context) (bool, error) { return m.HeldCalls() == 1, nil }); err != nil {
		t.Fatalf("the idle role's SUPPRESS never reached the master: %v", err)
	}
	revives := m.CallStats().Handled["REVIVE"]
	pod, err := e.cp.Client.CoreV1().Pods("slow").Get(e.ctx, "p-00", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.FinishTask(string(pod.UID), mesos.TASK_KILLED); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, e, "slow", "p-00", "MesosTaskEnded")
	if err := harness.Poll(e.ctx, 3*time.Second, func(context.Context) (bool, error) {
		return m.CallStats().Handled["REVIVE"] > revives, nil
	}); err == nil {
		t.Errorf("a REVIVE reached the master while the SUPPRESS before it was held")
	}
	release()
	waitEvent(t, e, "slow", "p-00", "MesosTaskRelaunched")
}
