package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestSchedulerBinaryLinksNoTestCode: the production binary links no test
// code of ours — neither test/ nor the simulator's in-process control plane
// and Mesos master emulator under internal/ — and not the standard testing
// package: `go list -deps` of this package names every package it links.
func TestSchedulerBinaryLinksNoTestCode(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	const module = "github.com/kube-mesos/kube-mesos-scheduler/"
	deps := strings.Fields(string(out))
	if len(deps) < 100 {
		t.Fatalf("go list -deps named %d packages: not the scheduler's dependencies", len(deps))
	}
	for _, d := range deps {
		switch {
		case d == "testing",
			strings.HasPrefix(d, module+"test/"),
			strings.HasPrefix(d, module+"internal/"):
			t.Errorf("cmd/scheduler links %s", d)
		}
	}
}
