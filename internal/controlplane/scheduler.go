package controlplane

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/cmd/kube-scheduler/app"
	"k8s.io/kubernetes/cmd/kube-scheduler/app/options"
	"k8s.io/kubernetes/pkg/scheduler"

	_ "github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config/scheme" // plugin args
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/plugins"
)

// Scheduler is our scheduler running in this process.
type Scheduler struct {
	Sched *scheduler.Scheduler
	// Leading is closed when the instance starts scheduling.
	Leading <-chan struct{}
	cancel  context.CancelFunc
	done    chan struct{}
	err     error
}

// SchedulerOption changes how StartScheduler runs the scheduler.
type SchedulerOption func(*schedulerOptions)

type schedulerOptions struct {
	restConfig *rest.Config
}

// WithRESTConfig makes the scheduler talk to the API server with cfg
// instead of the control plane's admin credentials, e.g. a copy of
// ControlPlane.Config that impersonates a ServiceAccount
// (cfg.Impersonate.UserName = "system:serviceaccount:NS:NAME"), so that
// the ServiceAccount's RBAC is what the scheduler gets.
func WithRESTConfig(cfg *rest.Config) SchedulerOption {
	return func(o *schedulerOptions) { o.restConfig = cfg }
}

// StartScheduler runs the kube-mesos-scheduler in-process from a real
// KubeSchedulerConfiguration (YAML). The config's clientConnection.kubeconfig
// is set to the control plane's (or to one for WithRESTConfig). It returns
// once the scheduler is set up (plugins created); it schedules once its
// informers have synced and, with leader election on, once it leads.
// Configuration errors are returned.
//
// This mirrors app.Run of the kube-scheduler (event recording, informers,
// handler sync, leader election, the scheduling loop) without its HTTP
// server and configz registration, so several instances can run in one
// process.
func StartScheduler(ctx context.Context, cp *ControlPlane, configYAML string, opts ...SchedulerOption) (*Scheduler, error) {
	var so schedulerOptions
	for _, opt := range opts {
		opt(&so)
	}
	dir, err := os.MkdirTemp(cp.Dir, "scheduler-")
	if err != nil {
		return nil, err
	}
	kubeconfig := cp.Kubeconfig
	if so.restConfig != nil {
		if kubeconfig, err = WriteKubeconfig(so.restConfig, filepath.Join(dir, "kubeconfig")); err != nil {
			return nil, err
		}
	}
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(withKubeconfig(configYAML, kubeconfig)), 0o600); err != nil {
		return nil, err
	}
	schedOpts := options.NewOptions()
	schedOpts.ConfigFile = path
	schedOpts.SecureServing.BindPort = 0
	if v := os.Getenv(EnvEmulatedVersion); v != "" {
		// As `kube-mesos-scheduler --emulated-version=V` would: the flag
		// parsed into the options' component registry, then applied (the
		// command does it before running).
		fs := pflag.NewFlagSet("emulation", pflag.ContinueOnError)
		for _, f := range schedOpts.Flags.FlagSets {
			fs.AddFlagSet(f)
		}
		if err := fs.Parse([]string{"--emulated-version=" + v}); err != nil {
			return nil, fmt.Errorf("%s=%s: %w", EnvEmulatedVersion, v, err)
		}
		if err := schedOpts.ComponentGlobalsRegistry.Set(); err != nil {
			return nil, fmt.Errorf("%s=%s: %w", EnvEmulatedVersion, v, err)
		}
	}
	var regOpts []app.Option
	for name, f := range plugins.NewRegistry() {
		regOpts = append(regOpts, app.WithPlugin(name, f))
	}
	ctx, cancel := context.WithCancel(ctx)
	cc, sched, err := app.Setup(ctx, schedOpts, regOpts...)
	if err != nil {
		cancel()
		return nil, err
	}
	leading := make(chan struct{})
	s := &Scheduler{Sched: sched, Leading: leading, cancel: cancel, done: make(chan struct{})}
	logger := klog.FromContext(ctx)
	go func() {
		defer close(s.done)
		cc.EventBroadcaster.StartRecordingToSink(ctx.Done())
		defer cc.EventBroadcaster.Shutdown()
		startInformers := func(ctx context.Context) {
			cc.InformerFactory.Start(ctx.Done())
			if cc.DynInformerFactory != nil {
				cc.DynInformerFactory.Start(ctx.Done())
			}
			cc.InformerFactory.WaitForCacheSync(ctx.Done())
			if cc.DynInformerFactory != nil {
				cc.DynInformerFactory.WaitForCacheSync(ctx.Done())
			}
			if err := sched.WaitForHandlersSync(ctx); err != nil {
				logger.Error(err, "Handlers are not fully synchronized")
			}
		}
		if cc.LeaderElection == nil {
			startInformers(ctx)
			close(leading)
			sched.Run(ctx)
			return
		}
		if !cc.ComponentConfig.DelayCacheUntilActive {
			startInformers(ctx)
		}
		le := *cc.LeaderElection // its identity is hostname_uuid: unique per instance
		le.Callbacks = leaderelection.LeaderCallbacks{
			OnStartedLeading: func(ctx context.Context) {
				if cc.ComponentConfig.DelayCacheUntilActive {
					startInformers(ctx)
				}
				close(leading)
				sched.Run(ctx)
			},
			// A real scheduler exits when it loses its lease; here the
			// instance stops.
			OnStoppedLeading: cancel,
		}
		elector, err := leaderelection.NewLeaderElector(le)
		if err != nil {
			s.err = err
			return
		}
		elector.Run(ctx)
	}()
	return s, nil
}

// Stop stops the scheduler and waits for it to finish.
func (s *Scheduler) Stop() error {
	s.cancel()
	<-s.done
	return s.err
}

// withKubeconfig points the config's clientConnection at the kubeconfig.
func withKubeconfig(cfg, kubeconfig string) string {
	if strings.Contains(cfg, "clientConnection:") {
		return strings.Replace(cfg, "clientConnection:", "clientConnection:\n  kubeconfig: "+kubeconfig, 1)
	}
	return strings.TrimRight(cfg, "\n") + "\nclientConnection:\n  kubeconfig: " + kubeconfig + "\n"
}
