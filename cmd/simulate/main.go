// Command simulate runs a scheduling scenario against a real etcd and
// kube-apiserver started in-process, with the kube-mesos-scheduler (all
// three plugins) in-process too, and reports where every pod landed or why
// it waits, per namespace and per node, plus an SVG chart of the dominant
// shares over time. See docs/simulate.md.
//
//	go run ./cmd/simulate --scenario examples/demo.yaml [--output text|json]
//	    [--svg FILE] [--timeout 90s] [--mode embedded|mesos] [--log-file FILE]
//
// It lives apart from cmd/scheduler so that etcd and the kube-apiserver stay
// out of the production binary. The scheduler's logs go to --log-file, not
// to the terminal. Exit status: 0 settled, 1 not settled or failed, 2 a bad
// scenario or flag.
package main

import (
	"os"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/simulate/runner"
)

func main() {
	os.Exit(runner.Main(os.Args[1:], os.Stdout, os.Stderr))
}
