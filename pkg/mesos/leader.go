package mesos

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// leaderFinder finds the endpoint of the leading master
// ("scheme://host:port") and says when leadership may have changed.
type leaderFinder interface {
	Leader(ctx context.Context) (string, error)
	// Changed is signalled when the leader may have changed (nil: never).
	Changed() <-chan struct{}
}

// newLeaderFinder returns the finder for a master URL: "zk://" watches
// ZooKeeper, "http(s)://h1:p1,h2:p2" asks the masters' /master/redirect.
// Masters found in ZooKeeper are spoken to over HTTPS when TLS is configured
// (caFile or insecureSkipTLSVerify): their MasterInfo carries no scheme.
func newLeaderFinder(ctx context.Context, master string, tlsConfig *tls.Config) (leaderFinder, error) {
	scheme, rest, ok := strings.Cut(master, "://")
	if !ok {
		return nil, fmt.Errorf("master %q has no scheme", master)
	}
	if scheme == "zk" {
		masterScheme := "http"
		if tlsConfig != nil {
			masterScheme = "https"
		}
		return newZKFinder(ctx, rest, masterScheme)
	}
	hosts, _, _ := strings.Cut(rest, "/")
	var urls []string
	for _, h := range strings.Split(hosts, ",") {
		urls = append(urls, scheme+"://"+h)
	}
	return &redirectFinder{masters: urls, client: &http.Client{
		Timeout:       5 * time.Second,
		Transport:     &http.Transport{TLSClientConfig: tlsConfig},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}, nil
}

// redirectFinder asks each listed master's /master/redirect, which answers
// 307 with "Location: //<leader-host>:<port>" (itself when it leads).
type redirectFinder struct {
	masters []string
	client  *http.Client
}

func (f *redirectFinder) Changed() <-chan struct{} { return nil }

// Leader returns the leader the first reachable master names.
func (f *redirectFinder) Leader(ctx context.Context) (string, error) {
	var errs []error
	for _, m := range f.masters {
		leader, err := f.ask(ctx, m)
		if err == nil {
			return leader, nil
		}
		errs = append(errs, err)
	}
	return "", fmt.Errorf("no master named a leader: %w", errors.Join(errs...))
}

func (f *redirectFinder) ask(ctx context.Context, master string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, master+"/master/redirect", nil)
	if err != nil {
		return "", err
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect {
		return "", fmt.Errorf("%s/master/redirect: %s", master, resp.Status)
	}
	return resolveLocation(master, resp.Header.Get("Location"))
}

// resolveLocation turns a scheme-relative Location ("//host:port[/path]")
// into "scheme://host:port" with the scheme of the master asked.
func resolveLocation(master, location string) (string, error) {
	base, err := url.Parse(master)
	if err != nil {
		return "", err
	}
	loc, err := url.Parse(location)
	if err != nil || loc.Host == "" {
		return "", fmt.Errorf("%s named no leader (Location %q)", master, location)
	}
	return base.Scheme + "://" + loc.Host, nil
}
