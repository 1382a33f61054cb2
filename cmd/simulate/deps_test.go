package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestSimulatorLinksNoTestPackages: the simulator links the in-process
// control plane and the Mesos master emulator from internal/, never a
// package under test/ (go list -deps names every package it links).
func TestSimulatorLinksNoTestPackages(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	const module = "github.com/kube-mesos/kube-mesos-scheduler/"
	deps := strings.Fields(string(out))
	seen := map[string]bool{}
	for _, d := range deps {
		seen[d] = true
		if strings.HasPrefix(d, module+"test/") {
			t.Errorf("cmd/simulate links %s", d)
		}
	}
	for _, want := range []string{module + "internal/controlplane", module + "internal/mesosemulator"} {
		if !seen[want] {
			t.Errorf("cmd/simulate does not link %s: go list -deps named %d packages", want, len(deps))
		}
	}
}
