package chart

import (
	"slices"
	"strings"
	"testing"

	"github.com/kube-mesos/kube-mesos-scheduler/test/chart/render"
)

// TestEmulatedVersion: the scheduler (kube-scheduler 1.37.1) must not be
// newer than the API server, so on a 1.35 or 1.36 cluster the chart runs
// it with --emulated-version of the cluster's minor version; on 1.37 with
// none; emulatedVersion overrides. A 1.34 cluster is refused by the chart's
// kubeVersion (the emulation reaches back three minors, 1.34, but only 1.35
// and 1.36 are tested: make test-compat), and so is an emulatedVersion
// outside 1.35–1.37.
func TestEmulatedVersion(t *testing.T) {
	for _, tc := range []struct {
		kube, value, want string
	}{
		{kube: "v1.35.4", want: "--emulated-version=1.35"},
		{kube: "v1.36.3", want: "--emulated-version=1.36"},
		{kube: "v1.37.1"},
		{kube: "v1.38.0"},
		{kube: "v1.37.1", value: "1.36", want: "--emulated-version=1.36"},
	} {
		values := map[string]any{}
		if tc.value != "" {
			values["emulatedVersion"] = tc.value
		}
		manifest, _, err := render.RenderFor(chartDir, release, namespace, values, tc.kube)
		if err != nil {
			t.Errorf("Kubernetes %s, emulatedVersion %q: %v", tc.kube, tc.value, err)
			continue
		}
		r := &rendered{objects: splitObjects(t, manifest)}
		args := r.deployment(t).Spec.Template.Spec.Containers[0].Args
		var got []string
		for _, a := range args {
			if strings.HasPrefix(a, "--emulated-version") {
				got = append(got, a)
			}
		}
		var want []string
		if tc.want != "" {
			want = []string{tc.want}
		}
		if !slices.Equal(got, want) {
			t.Errorf("Kubernetes %s, emulatedVersion %q: args %v, want %v", tc.kube, tc.value, got, want)
		}
	}
	for _, tc := range []struct{ kube, value, wantErr string }{
		{kube: "v1.34.2", wantErr: "kubeVersion"},
		{kube: "v1.37.1", value: "1.30", wantErr: "emulatedVersion"},
	} {
		values := map[string]any{}
		if tc.value != "" {
			values["emulatedVersion"] = tc.value
		}
		_, _, err := render.RenderFor(chartDir, release, namespace, values, tc.kube)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("Kubernetes %s, emulatedVersion %q: error %v, want one naming %s", tc.kube, tc.value, err, tc.wantErr)
		}
	}
}
