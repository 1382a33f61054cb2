package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/klog/v2/ktesting"
	"k8s.io/kubernetes/cmd/kube-scheduler/app/options"
	schedconfig "k8s.io/kubernetes/pkg/scheduler/apis/config"
	schedcache "k8s.io/kubernetes/pkg/scheduler/backend/cache"
	inTree "k8s.io/kubernetes/pkg/scheduler/framework/plugins"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"
	schedmetrics "k8s.io/kubernetes/pkg/scheduler/metrics"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/plugins"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/plugins/drf"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/plugins/hetero"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/plugins/offers"
)

// exampleConfigs returns every KubeSchedulerConfiguration file under
// manifests/ (Helm templates, which are not YAML until rendered, excluded).
func exampleConfigs(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir("../../manifests", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(data, []byte("kind: KubeSchedulerConfiguration")) && !bytes.Contains(data, []byte("{{")) &&
			bytes.HasPrefix(bytes.TrimSpace(skipComments(data)), []byte("apiVersion: kubescheduler.config.k8s.io/")) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no example KubeSchedulerConfiguration under manifests/")
	}
	return files
}

func skipComments(data []byte) []byte {
	var out [][]byte
	for _, l := range bytes.Split(data, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(l), []byte("#")) {
			out = append(out, l)
		}
	}
	return bytes.Join(out, []byte("\n"))
}

// TestExampleConfigs decodes every example configuration strictly, checks
// that our plugins' args come out typed and defaulted, and builds each
// profile's framework so that every plugin's New accepts its args.
func TestExampleConfigs(t *testing.T) {
	schedmetrics.Register()
	for _, file := range exampleConfigs(t) {
		t.Run(file, func(t *testing.T) {
			logger, ctx := ktesting.NewTestContext(t)
			cfg, err := options.LoadConfigFromFile(logger, file)
			if err != nil {
				t.Fatalf("decoding: %v", err)
			}
			ours := 0
			for i := range cfg.Profiles {
				prof := &cfg.Profiles[i]
				args := map[string]any{}
				for _, pc := range prof.PluginConfig {
					args[pc.Name] = pc.Args
				}
				if !usesOurPlugins(prof) {
					continue
				}
				ours++
				checkOffersArgs(t, args[offers.Name])
				checkDRFArgs(t, args[drf.Name])
				checkHeteroArgs(t, args[hetero.Name])

				registry := inTree.NewInTreeRegistry()
				if err := registry.Merge(plugins.NewRegistry()); err != nil {
					t.Fatal(err)
				}
				client := fake.NewClientset()
				fw, err := frameworkruntime.NewFramework(ctx, registry, prof,
					frameworkruntime.WithClientSet(client),
					frameworkruntime.WithSnapshotSharedLister(schedcache.NewEmptySnapshot()),
					frameworkruntime.WithInformerFactory(informers.NewSharedInformerFactory(client, time.Minute)))
				if err != nil {
					t.Fatalf("profile %q: building the framework: %v", prof.SchedulerName, err)
				}
				if !fw.HasFilterPlugins() || !fw.HasScorePlugins() {
					t.Errorf("profile %q has no filter or score plugins", prof.SchedulerName)
				}
			}
			if ours == 0 {
				t.Errorf("%s has no profile using MesosOffers, DRF or Hetero", file)
			}
		})
	}
}

func usesOurPlugins(prof *schedconfig.KubeSchedulerProfile) bool {
	for _, set := range []schedconfig.PluginSet{prof.Plugins.MultiPoint, prof.Plugins.QueueSort, prof.Plugins.Filter, prof.Plugins.Score} {
		for _, p := range set.Enabled {
			if p.Name == offers.Name || p.Name == drf.Name || p.Name == hetero.Name {
				return true
			}
		}
	}
	return false
}

func checkOffersArgs(t *testing.T, obj any) {
	a, ok := obj.(*config.MesosOffersArgs)
	if !ok {
		t.Fatalf("MesosOffers args are %T, want *config.MesosOffersArgs", obj)
	}
	if a.Source == "" || a.AllocationInterval.Duration == 0 || len(a.DefaultPortRanges) == 0 || a.AcceptBatchWindow.Duration == 0 {
		t.Errorf("MesosOffers args not defaulted: %+v", a)
	}
	if a.Source == config.OfferSourceMesos && (a.Mesos == nil || a.Mesos.FrameworkName == "" || a.Mesos.FailoverTimeout.Duration == 0) {
		t.Errorf("Mesos master config not defaulted: %+v", a.Mesos)
	}
}

func checkDRFArgs(t *testing.T, obj any) {
	a, ok := obj.(*config.DRFArgs)
	if !ok {
		t.Fatalf("DRF args are %T, want *config.DRFArgs", obj)
	}
	if len(a.Resources) == 0 || a.Preemption == "" {
		t.Errorf("DRF args not defaulted: %+v", a)
	}
}

func checkHeteroArgs(t *testing.T, obj any) {
	a, ok := obj.(*config.HeteroArgs)
	if !ok {
		t.Fatalf("Hetero args are %T, want *config.HeteroArgs", obj)
	}
	if len(a.AcceleratorResources) == 0 || a.AcceleratorNodePolicy == "" || a.Weights.Packing == 0 {
		t.Errorf("Hetero args not defaulted: %+v", a)
	}
}

// TestRefusesDefaultSchedulerName: the example configuration with its
// profile renamed default-scheduler does not build: each of our plugins
// refuses, naming the field, the name and itself. The same registry with
// AllowDefaultSchedulerName (scheduler_perf's harness) builds it.
func TestRefusesDefaultSchedulerName(t *testing.T) {
	schedmetrics.Register()
	logger, ctx := ktesting.NewTestContext(t)
	cfg, err := options.LoadConfigFromFile(logger, "../../manifests/config/embedded.yaml")
	if err != nil {
		t.Fatal(err)
	}
	prof := &cfg.Profiles[0]
	if !usesOurPlugins(prof) {
		t.Fatal("manifests/config/embedded.yaml: the first profile does not use our plugins")
	}
	prof.SchedulerName = "default-scheduler"
	build := func(opts ...plugins.Option) error {
		registry := inTree.NewInTreeRegistry()
		if err := registry.Merge(plugins.NewRegistry(opts...)); err != nil {
			t.Fatal(err)
		}
		client := fake.NewClientset()
		_, err := frameworkruntime.NewFramework(ctx, registry, prof,
			frameworkruntime.WithClientSet(client),
			frameworkruntime.WithSnapshotSharedLister(schedcache.NewEmptySnapshot()),
			frameworkruntime.WithInformerFactory(informers.NewSharedInformerFactory(client, time.Minute)))
		return err
	}
	err = build()
	if err == nil {
		t.Fatal("a profile named default-scheduler built")
	}
	for _, want := range []string{`profiles[].schedulerName "default-scheduler"`, "competing with the cluster's default scheduler"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if err := build(plugins.AllowDefaultSchedulerName()); err != nil {
		t.Errorf("with AllowDefaultSchedulerName: %v", err)
	}
}
