// Command kube-mesos-scheduler is the kube-scheduler with the MesosOffers,
// DRF and Hetero plugins registered, plus two commands of its own:
// `explain POD` (why a pod waits) and `check` (the chart's helm test).
package main

import (
	"os"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"          // --logging-format=json
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go metrics
	_ "k8s.io/component-base/metrics/prometheus/version"  // version metric
	"k8s.io/kubernetes/cmd/kube-scheduler/app"

	_ "github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config/scheme" // plugin args
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/plugins"
)

func main() {
	var opts []app.Option
	for name, factory := range plugins.NewRegistry() {
		opts = append(opts, app.WithPlugin(name, factory))
	}
	cmd := app.NewSchedulerCommand(opts...)
	cmd.AddCommand(newExplainCommand(), newCheckCommand())
	os.Exit(cli.Run(cmd))
}
