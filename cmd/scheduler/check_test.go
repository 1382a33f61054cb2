package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// TestCheckRetriesStandby: behind a Service the first requests may reach a
// standby, whose /readyz answers 503; check retries until one answers 200.
// Three 503s then 200: check succeeds after the fourth request.
func TestCheckRetriesStandby(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if n.Add(1) <= 3 {
			http.Error(w, "[-]sched-handler-sync failed", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := runCheck(ctx, &checkOptions{url: srv.URL + "/readyz"}, &out); err != nil {
		t.Fatalf("check: %v", err)
	}
	if got := n.Load(); got != 4 {
		t.Errorf("%d requests, want 4 (three 503s, then 200)", got)
	}
}

// TestCheckFailsNamingTheAnswer: a scheduler that never gets ready fails
// the check with the status and body it gave.
func TestCheckFailsNamingTheAnswer(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "[-]sched-handler-sync failed", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	err := runCheck(ctx, &checkOptions{url: srv.URL + "/readyz"}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), "sched-handler-sync") {
		t.Errorf("error %v, want the 503 and the failed check named", err)
	}
}

// TestLeading: a Lease leads while renewTime + leaseDurationSeconds is not
// past; 15 s duration renewed 10 s ago leads, 20 s ago does not (expired 5 s
// ago); no holder never leads.
func TestLeading(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	lease := func(holder string, renewedAgo time.Duration) *coordinationv1.Lease {
		return &coordinationv1.Lease{Spec: coordinationv1.LeaseSpec{
			HolderIdentity: ptr.To(holder), LeaseDurationSeconds: ptr.To[int32](15),
			RenewTime: ptr.To(metav1.NewMicroTime(now.Add(-renewedAgo))),
		}}
	}
	if h, err := leading(lease("sched-0", 10*time.Second), now); err != nil || h != "sched-0" {
		t.Errorf("renewed 10s ago: %q, %v; want sched-0", h, err)
	}
	if _, err := leading(lease("sched-0", 20*time.Second), now); err == nil || !strings.Contains(err.Error(), "expired 5s ago") {
		t.Errorf("renewed 20s ago: %v, want expired 5s ago", err)
	}
	if _, err := leading(lease("", 0), now); err == nil {
		t.Error("no holder: want an error")
	}
}
