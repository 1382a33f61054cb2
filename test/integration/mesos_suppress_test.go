package integration

import (
	"context"
	"slices"
	"testing"
	"time"

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
