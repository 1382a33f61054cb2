package runner

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"k8s.io/klog/v2"

	"github.com/kube-mesos/kube-mesos-scheduler/internal/controlplane"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/simulate"
)

type flags struct {
	scenario, output, svg, mode, logFile string
	timeout, quiet                       time.Duration
	maxNodes, maxPods                    int
	verbosity                            int
	hold                                 bool
}

// Main is the simulate command: it parses args, runs the scenario and
// writes the report to stdout; it returns the exit status: 0 settled, 1
// not settled or failed, 2 a bad scenario or flag.
func Main(args []string, stdout, stderr io.Writer) int {
	f, err := parseFlags(args, stderr)
	if err != nil {
		return 2
	}
	sc, err := simulate.LoadFile(f.scenario)
	if err != nil {
		fmt.Fprintf(stderr, "simulate: %v\n", err)
		return 2
	}
	if n := sc.NodeCount(); n > f.maxNodes {
		fmt.Fprintf(stderr, "simulate: %s: %d nodes, more than --max-nodes %d (raise it to run this scenario)\n", f.scenario, n, f.maxNodes)
		return 2
	}
	if n := sc.PodCount(); n > f.maxPods {
		fmt.Fprintf(stderr, "simulate: %s: %d pods, more than --max-pods %d (raise it to run this scenario)\n", f.scenario, n, f.maxPods)
		return 2
	}
	progress, restore, err := logToFile(f.logFile, f.verbosity, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "simulate: %v\n", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := Options{
		Mode: simulate.Mode(f.mode), Name: f.scenario, Timeout: f.timeout, Quiet: f.quiet,
		Progress: func(format string, a ...any) { fmt.Fprintf(progress, "simulate: "+format+"\n", a...) },
	}
	var outErr error
	written := false
	if f.hold {
		opts.Hold = func(res *Result, kubeconfig string) {
			written = true
			if outErr = writeOutputs(f, res, stdout, stderr); outErr == nil {
				outErr = hold(ctx, res, kubeconfig, stdout)
			}
		}
	}
	res, runErr := Run(ctx, sc, opts)
	restore()
	if res == nil {
		fmt.Fprintf(stderr, "simulate: %v (scheduler log: %s)\n", runErr, f.logFile)
		return 1
	}
	if !written {
		outErr = writeOutputs(f, res, stdout, stderr)
	}
	if outErr != nil {
		fmt.Fprintf(stderr, "simulate: %v\n", outErr)
		return 1
	}
	if runErr != nil {
		fmt.Fprintf(stderr, "simulate: %v\n", runErr)
		return 1
	}
	return 0
}

// writeOutputs writes the report, the chart, and where to find them and
// the log.
func writeOutputs(f *flags, res *Result, stdout, stderr io.Writer) error {
	// Pointers to the files go to stdout with the text report, to stderr
	// with JSON (so that stdout stays one JSON document).
	notes := stdout
	if f.output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res.Report); err != nil {
			return err
		}
		notes = stderr
	} else if err := simulate.WriteText(stdout, res.Report); err != nil {
		return err
	}
	fmt.Fprintln(notes)
	if f.svg != "" {
		if err := writeSVG(f.svg, res.Shares); err != nil {
			return err
		}
		fmt.Fprintf(notes, "Dominant shares over time: %s\n", f.svg)
	}
	fmt.Fprintf(notes, "Scheduler log: %s\n", f.logFile)
	return nil
}

func parseFlags(args []string, stderr io.Writer) (*flags, error) {
	f := &flags{}
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.scenario, "scenario", "", "scenario file (YAML), see docs/simulate.md")
	fs.StringVar(&f.output, "output", "text", "report format: text or json")
	fs.StringVar(&f.svg, "svg", "", "write an SVG chart of the dominant shares over time to this file")
	fs.StringVar(&f.mode, "mode", "", "offer source: embedded or mesos (default: mesos if the scenario has a mesos section)")
	fs.StringVar(&f.logFile, "log-file", "_output/simulate.log", "where the scheduler's and the control plane's logs go")
	fs.DurationVar(&f.timeout, "timeout", DefaultTimeout, "bounds the whole run: starting the control plane, creating the objects and waiting for placement to settle")
	fs.IntVar(&f.maxNodes, "max-nodes", DefaultMaxNodes, "refuse a scenario with more nodes (each is a Node object in a real kube-apiserver)")
	fs.IntVar(&f.maxPods, "max-pods", DefaultMaxPods, "refuse a scenario with more pods")
	fs.DurationVar(&f.quiet, "quiet", 0, fmt.Sprintf("placement has settled when no pod moved for this long (default %s, %s in Mesos mode)",
		DefaultQuiet, DefaultQuietMesos))
	fs.IntVar(&f.verbosity, "v", 2, "log verbosity of the scheduler in --log-file")
	fs.BoolVar(&f.hold, "hold", false, "after the report, keep the cluster and the scheduler running until interrupted, for kubectl and `kube-mesos-scheduler explain`")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	var problems []string
	if f.scenario == "" {
		problems = append(problems, "--scenario is required")
	}
	if f.output != "text" && f.output != "json" {
		problems = append(problems, fmt.Sprintf("--output %q: want text or json", f.output))
	}
	switch simulate.Mode(f.mode) {
	case "", simulate.ModeEmbedded, simulate.ModeMesos:
	default:
		problems = append(problems, fmt.Sprintf("--mode %q: want embedded or mesos", f.mode))
	}
	if fs.NArg() > 0 {
		problems = append(problems, fmt.Sprintf("unexpected arguments %q", fs.Args()))
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintf(stderr, "simulate: %s\n", p)
		}
		fs.Usage()
		return nil, errors.New("bad flags")
	}
	return f, nil
}

// logToFile sends klog's output (the scheduler, the kube-apiserver) to a
// file (etcd itself logs through a no-op zap logger). When stderr is the
// process's, descriptor 2 goes to the file too (redirectStderr), and the
// returned writer reaches the terminal. restore flushes the log and puts
// klog and stderr back as they were.
func logToFile(path string, verbosity int, stderr io.Writer) (progress io.Writer, restore func(), err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, nil, err
	}
	file, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, nil, err
	}
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	saved := map[string]string{}
	for k, v := range map[string]string{
		"logtostderr": "false", "alsologtostderr": "false", "stderrthreshold": "FATAL",
		"v": strconv.Itoa(verbosity),
	} {
		saved[k] = fs.Lookup(k).Value.String()
		if err := fs.Set(k, v); err != nil {
			file.Close()
			return nil, nil, err
		}
	}
	klog.SetOutput(file)
	progress, putBack := stderr, func() {}
	if stderr == io.Writer(os.Stderr) {
		if progress, putBack, err = redirectStderr(file); err != nil {
			progress, putBack = stderr, func() {}
		}
	}
	return progress, func() {
		klog.Flush()
		putBack()
		for k, v := range saved {
			_ = fs.Set(k, v)
		}
		klog.SetOutput(os.Stderr)
		file.Close()
	}, nil
}

func writeSVG(path string, t *simulate.Timeline) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := t.WriteSVG(f, "Dominant share per namespace", "seconds since the scheduler started", "dominant share"); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// hold keeps the cluster running until ctx ends, serving the scheduler's
// metrics on a loopback port, and says how to look at it: kubectl, and
// `kube-mesos-scheduler explain` on a pod that waits.
func hold(ctx context.Context, res *Result, kubeconfig string, out io.Writer) error {
	metricsURL, stop, err := controlplane.ServeMetrics()
	if err != nil {
		return err
	}
	defer stop()
	fmt.Fprintf(out, "\nThe cluster and the scheduler run until interrupted (Ctrl-C).\n")
	fmt.Fprintf(out, "  kubectl --kubeconfig %s get pods -A\n", kubeconfig)
	pod, ns := "POD", "NAMESPACE"
	for _, p := range res.Report.Pods {
		if p.Node == nil {
			pod, ns = p.Name, p.Namespace
			break
		}
	}
	fmt.Fprintf(out, "  bin/kube-mesos-scheduler explain %s -n %s --kubeconfig %s --metrics-url %s\n", pod, ns, kubeconfig, metricsURL)
	<-ctx.Done()
	return nil
}
