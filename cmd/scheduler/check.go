package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// checkOptions are the flags of `kube-mesos-scheduler check`.
type checkOptions struct {
	url, lease string
	timeout    time.Duration
}

// newCheckCommand is `kube-mesos-scheduler check`, the chart's `helm test`:
// the scheduler serves (GET --url answers 200) and, with --lease, one
// replica leads (the Lease has a holder that renewed it within its
// duration). Both are retried until --timeout: behind a Service a request
// may reach a standby, whose /readyz fails until it leads.
func newCheckCommand() *cobra.Command {
	o := &checkOptions{}
	cmd := &cobra.Command{
		Use:           "check --url URL [--lease NAMESPACE/NAME]",
		Short:         "Check that the scheduler serves and that a replica leads (the chart's helm test)",
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), o.timeout)
			defer cancel()
			return runCheck(ctx, o, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.url, "url", "", "URL that must answer 200, e.g. https://SERVICE.NAMESPACE.svc:10259/readyz (its certificate is not verified)")
	f.StringVar(&o.lease, "lease", "", "NAMESPACE/NAME of the leader election Lease that must have a current holder (in-cluster credentials)")
	f.DurationVar(&o.timeout, "timeout", 2*time.Minute, "how long to retry before failing")
	_ = cmd.MarkFlagRequired("url")
	return cmd
}

func runCheck(ctx context.Context, o *checkOptions, out io.Writer) error {
	// The scheduler's serving certificate is self-signed unless one was
	// given; nothing secret is sent.
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // health endpoint, no credentials sent
		DisableKeepAlives: true,                                  // each try may reach another replica
	}}
	var last error
	err := wait.PollUntilContextCancel(ctx, 2*time.Second, true, func(ctx context.Context) (bool, error) {
		last = get(ctx, client, o.url)
		return last == nil, nil
	})
	if err != nil {
		return fmt.Errorf("GET %s: %w", o.url, errors.Join(last, err))
	}
	fmt.Fprintf(out, "%s: 200 OK\n", o.url)
	if o.lease == "" {
		return nil
	}
	ns, name, ok := strings.Cut(o.lease, "/")
	if !ok || ns == "" || name == "" {
		return fmt.Errorf("--lease %q: want NAMESPACE/NAME", o.lease)
	}
	cfg, err := rest.InClusterConfig()
	if err != nil {
		return fmt.Errorf("--lease needs in-cluster credentials: %w", err)
	}
	kc, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	var holder string
	err = wait.PollUntilContextCancel(ctx, 2*time.Second, true, func(ctx context.Context) (bool, error) {
		lease, err := kc.CoordinationV1().Leases(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			last = err
			return false, nil
		}
		holder, last = leading(lease, time.Now())
		return last == nil, nil
	})
	if err != nil {
		return fmt.Errorf("Lease %s: %w", o.lease, errors.Join(last, err))
	}
	fmt.Fprintf(out, "Lease %s: held by %s\n", o.lease, holder)
	return nil
}

func get(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// leading returns the Lease's holder if it renewed the Lease within its
// duration.
func leading(l *coordinationv1.Lease, now time.Time) (string, error) {
	s := l.Spec
	switch {
	case s.HolderIdentity == nil || *s.HolderIdentity == "":
		return "", errors.New("no holder: no replica leads")
	case s.RenewTime == nil || s.LeaseDurationSeconds == nil:
		return "", fmt.Errorf("holder %s never renewed it", *s.HolderIdentity)
	}
	if expired := s.RenewTime.Add(time.Duration(*s.LeaseDurationSeconds) * time.Second); now.After(expired) {
		return "", fmt.Errorf("holder %s last renewed it at %s, expired %s ago", *s.HolderIdentity, s.RenewTime.UTC().Format(time.RFC3339), now.Sub(expired).Round(time.Second))
	}
	return *s.HolderIdentity, nil
}
