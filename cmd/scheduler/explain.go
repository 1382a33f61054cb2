package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/explain"
)

// explainOptions are the flags of `kube-mesos-scheduler explain`.
type explainOptions struct {
	kubeconfig, context, namespace string
	metricsURL                     string
	insecureSkipTLSVerify          bool
	timeout                        time.Duration
}

// newExplainCommand is `kube-mesos-scheduler explain POD`: why a pod waits.
// It reads the pod, its namespace and events from the API server, and the
// scheduler's /metrics with the same credentials (the identity needs what a
// metrics scraper needs: get on the non-resource URL /metrics).
func newExplainCommand() *cobra.Command {
	o := &explainOptions{}
	cmd := &cobra.Command{
		Use:   "explain POD",
		Short: "Say why a pod waits: the plugin holding it and why, its role, shares, offers and place in DRF order",
		Long: `explain prints, for a pod, which plugin holds it and with what reason (its
PodScheduled condition and latest scheduling event), its namespace's Mesos
role, the role's weight, dominant and weighted share, fair target,
guarantee and limit, the offers its role was made, and its place in DRF
order. The shares come from the scheduler's /metrics (--metrics-url): over
https it is called with the kubeconfig's credentials, which need "get" on
the non-resource URL /metrics, like any metrics scraper; credentials are
never sent over plain http. Without --metrics-url only what the API server
knows is printed.

  kubectl -n kube-mesos-scheduler port-forward deploy/kube-mesos-scheduler 10259 &
  kube-mesos-scheduler explain my-pod -n team-a \
      --metrics-url https://127.0.0.1:10259/metrics --insecure-skip-tls-verify`,
		Args:          cobra.ExactArgs(1),
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), o.timeout)
			defer cancel()
			return runExplain(ctx, o, args[0], cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster)")
	f.StringVar(&o.context, "context", "", "kubeconfig context")
	f.StringVarP(&o.namespace, "namespace", "n", "", "the pod's namespace (default: the context's)")
	f.StringVar(&o.metricsURL, "metrics-url", "", "the scheduler's metrics URL, e.g. https://127.0.0.1:10259/metrics through kubectl port-forward")
	f.BoolVar(&o.insecureSkipTLSVerify, "insecure-skip-tls-verify", false, "do not verify the scheduler's serving certificate (it is self-signed unless one was given)")
	f.DurationVar(&o.timeout, "timeout", 30*time.Second, "bound on the whole command")
	return cmd
}

func runExplain(ctx context.Context, o *explainOptions, name string, out io.Writer) error {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = o.kubeconfig
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: o.context})
	cfg, err := loader.ClientConfig()
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	ns := o.namespace
	if ns == "" {
		if ns, _, err = loader.Namespace(); err != nil {
			return fmt.Errorf("kubeconfig namespace: %w", err)
		}
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	in, err := explain.Gather(ctx, client, ns, name)
	if err != nil {
		return err
	}
	if o.metricsURL != "" {
		in.Metrics, in.MetricsErr = scrape(ctx, cfg, o)
	}
	return explain.Explain(in).Write(out)
}

// scrape reads the scheduler's metrics. Over https the kubeconfig's
// credentials go along (the scheduler authenticates and authorizes them
// against the API server); over http none do.
func scrape(ctx context.Context, cfg *rest.Config, o *explainOptions) (map[string]*dto.MetricFamily, error) {
	u, err := url.Parse(o.metricsURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("--metrics-url %q: want an http(s)://host:port/metrics URL", o.metricsURL)
	}
	client := &http.Client{}
	if u.Scheme == "https" {
		c := rest.CopyConfig(cfg)
		c.Host = u.Scheme + "://" + u.Host
		c.ServerName = ""
		if o.insecureSkipTLSVerify {
			c.Insecure, c.CAData, c.CAFile = true, nil, ""
		}
		if client.Transport, err = rest.TransportFor(c); err != nil {
			return nil, err
		}
	}
	return explain.Scrape(ctx, client, u.String())
}
