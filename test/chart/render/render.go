// Package render renders the kube-mesos-scheduler Helm chart with the Helm
// library exactly as `helm template` does, and defines the plain manifests
// under manifests/install that are generated from it. The generator
// (cmd/update-manifests, run by `make manifests`) and the chart tests share
// it, so the tests prove the committed manifests are what the chart renders.
package render

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/release"
	"sigs.k8s.io/yaml"
)

const (
	// ChartDir is the chart's directory, relative to the repository root.
	ChartDir = "manifests/charts/kube-mesos-scheduler"
	// CRDFile is the optional ElasticQuota CRD; ChartCRDFile is its copy in
	// the chart's crds/ (Helm installs it unless --skip-crds, and never
	// upgrades or deletes it).
	CRDFile      = "manifests/crds/scheduling.x-k8s.io_elasticquotas.yaml"
	ChartCRDFile = ChartDir + "/crds/scheduling.x-k8s.io_elasticquotas.yaml"
	// ReleaseName and Namespace are those of the plain manifests: installed
	// with them, the chart gives the same objects as `kubectl apply`.
	ReleaseName = "kube-mesos-scheduler"
	Namespace   = "kube-system"
	// KubeVersion is the cluster version templates see (the scheduler's).
	KubeVersion = "v1.37.1"
)

// Variant is one plain manifest generated from the chart.
type Variant struct {
	// File is the manifest's path, relative to the repository root.
	File string
	// ValuesFile is a values file relative to the chart ("" for defaults).
	ValuesFile string
	// About says what the variant is, in the file's header.
	About string
}

// Variants are the plain manifests under manifests/install.
var Variants = []Variant{
	{
		File:  "manifests/install/kube-mesos-scheduler.yaml",
		About: "embedded Mesos-style allocator (the chart's default values)",
	},
	{
		File:       "manifests/install/kube-mesos-scheduler-mesos.yaml",
		ValuesFile: "ci/mesos-values.yaml",
		About:      "offers from a Mesos master (values: " + ChartDir + "/ci/mesos-values.yaml)",
	},
}

// Render renders the chart in chartDir for a release in namespace with
// values (nil: the defaults), as `helm template` would, and returns the
// manifest (objects sorted in Helm's install order, each after a
// "# Source:" comment, then the hooks, `helm test`'s included) and the
// release notes.
func Render(chartDir, release, namespace string, values map[string]any) (manifest, notes string, err error) {
	return render(chartDir, release, namespace, values, true, KubeVersion)
}

// RenderFor is Render for a cluster of another Kubernetes version, as
// `helm template --kube-version` (or helm install on that cluster) would.
func RenderFor(chartDir, release, namespace string, values map[string]any, kubeVersion string) (manifest, notes string, err error) {
	return render(chartDir, release, namespace, values, true, kubeVersion)
}

// render is Render; withTests false leaves out the `helm test` hooks.
func render(chartDir, releaseName, namespace string, values map[string]any, withTests bool, kubeVersion string) (manifest, notes string, err error) {
	chrt, err := loader.Load(chartDir)
	if err != nil {
		return "", "", err
	}
	kv, err := chartutil.ParseKubeVersion(kubeVersion)
	if err != nil {
		return "", "", err
	}
	install := action.NewInstall(&action.Configuration{Log: func(string, ...any) {}})
	install.DryRun = true
	install.DryRunOption = "client"
	install.ClientOnly = true
	install.Replace = true
	install.ReleaseName = releaseName
	install.Namespace = namespace
	install.KubeVersion = kv
	if values == nil {
		values = map[string]any{}
	}
	rel, err := install.Run(chrt, values)
	if err != nil {
		return "", "", err
	}
	var hooks strings.Builder
	for _, h := range rel.Hooks {
		if !withTests && slices.Contains(h.Events, release.HookTest) {
			continue
		}
		fmt.Fprintf(&hooks, "---\n# Source: %s\n%s\n", h.Path, h.Manifest)
	}
	return strings.TrimSpace(rel.Manifest) + "\n" + hooks.String(), rel.Info.Notes, nil
}

// ReadValues reads a YAML values file.
func ReadValues(path string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	values := map[string]any{}
	if err := yaml.Unmarshal(data, &values); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return values, nil
}

// Plain returns the content of a variant's plain manifest: a header and the
// chart rendered for ReleaseName in Namespace, without the `helm test`
// objects (there is no `helm test` after `kubectl apply`). root is the
// repository root.
func Plain(root string, v Variant) ([]byte, error) {
	chartDir := filepath.Join(root, ChartDir)
	var values map[string]any
	if v.ValuesFile != "" {
		var err error
		if values, err = ReadValues(filepath.Join(chartDir, v.ValuesFile)); err != nil {
			return nil, err
		}
	}
	manifest, _, err := render(chartDir, ReleaseName, Namespace, values, false, KubeVersion)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", v.File, err)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# kube-mesos-scheduler: %s.\n", v.About)
	fmt.Fprintf(&b, "# Generated from the Helm chart %s by `make manifests`; DO NOT EDIT.\n", ChartDir)
	fmt.Fprintf(&b, "# Installs into namespace %s:  kubectl apply -f %s\n", Namespace, v.File)
	fmt.Fprintf(&b, "# The optional ElasticQuota CRD is separate:  kubectl apply -f %s\n", CRDFile)
	b.WriteString(manifest)
	return b.Bytes(), nil
}
