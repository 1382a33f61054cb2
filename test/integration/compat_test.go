package integration

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/kube-mesos/kube-mesos-scheduler/internal/controlplane"
	"github.com/kube-mesos/kube-mesos-scheduler/test/harness"
)

// TestCompatAPIServerVersion: the API server the tests run against serves
// the API set of the Kubernetes version they claim. resource.k8s.io/v1
// DeviceTaintRule is served from 1.37 on (k8s.io/api v0.37.1 marks it
// introduced in 1.37), so a kube-apiserver emulating 1.35 or 1.36
// (KMS_EMULATED_VERSION, make test-compat) must not list it, and the 1.37
// one must. Without this the compatibility runs could silently run
// against 1.37 behaviour.
func TestCompatAPIServerVersion(t *testing.T) {
	minor := 37
	if v := os.Getenv(controlplane.EnvEmulatedVersion); v != "" {
		_, m, ok := strings.Cut(v, ".")
		n, err := strconv.Atoi(m)
		if !ok || err != nil {
			t.Fatalf("%s=%q: want 1.N", controlplane.EnvEmulatedVersion, v)
		}
		minor = n
	}
	cp, err := harness.StartControlPlane(t)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cp.Stop)
	list, err := cp.Client.Discovery().ServerResourcesForGroupVersion("resource.k8s.io/v1")
	if err != nil {
		t.Fatal(err)
	}
	served := false
	for _, r := range list.APIResources {
		if r.Name == "devicetaintrules" {
			served = true
		}
	}
	if want := minor >= 37; served != want {
		t.Errorf("kube-apiserver as 1.%d serves resource.k8s.io/v1 devicetaintrules: %v, want %v", minor, served, want)
	}
}
