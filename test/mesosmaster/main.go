// Command mesosmaster runs the Mesos 1.12 master emulator standalone, for
// demos and manual testing:
//
//	go run ./test/mesosmaster --listen 127.0.0.1:5050 \
//	    --agents 'node-1=cpus:4;mem:8192;disk:10000;gpus:0;ports:[31000-32000]' \
//	    --agents 'node-2=cpus:8;mem:16384;disk:20000;gpus:0;ports:[31000-32000]' \
//	    --attributes 'node-1=rack:r1;zone:a'
//
// It logs one line per scheduler call and per event and stops on SIGINT or
// SIGTERM.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	emulator "github.com/kube-mesos/kube-mesos-scheduler/internal/mesosemulator"
)

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (f *multiFlag) String() string     { return strings.Join(*f, " ") }
func (f *multiFlag) Set(v string) error { *f = append(*f, v); return nil }

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mesosmaster:", err)
		os.Exit(2)
	}
}

// run parses flags, starts the emulator and waits for a signal.
func run(args []string) error {
	cfg, zkURL, err := parseFlags(args)
	if err != nil {
		return err
	}
	cfg.Logf = log.Printf
	m, err := emulator.Start(cfg)
	if err != nil {
		return err
	}
	defer m.Close()
	log.Printf("Mesos %s master emulator %s listening on %s (scheduler API %s)", emulator.Version, m.ID(), m.URL(), m.SchedulerURL())
	if zkURL != "" {
		servers, path, err := parseZK(zkURL)
		if err != nil {
			return err
		}
		znode, err := m.RegisterInZooKeeper(servers, path)
		if err != nil {
			return fmt.Errorf("zookeeper: %w", err)
		}
		log.Printf("registered in ZooKeeper as %s", znode)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	log.Printf("shutting down")
	return nil
}

// parseFlags builds the emulator Config from command-line flags.
func parseFlags(args []string) (emulator.Config, string, error) {
	fs := flag.NewFlagSet("mesosmaster", flag.ContinueOnError)
	var agents, attributes, credentials, weights multiFlag
	var cfg emulator.Config
	fs.StringVar(&cfg.Listen, "listen", "127.0.0.1:5050", "address to listen on")
	fs.StringVar(&cfg.Hostname, "hostname", emulator.DefaultHostname, "advertised master hostname")
	fs.StringVar(&cfg.MasterID, "master-id", "", "fixed master id (default: random UUID)")
	fs.Var(&agents, "agents", "agent 'hostname=cpus:4;mem:8192;disk:10000;gpus:0;ports:[31000-32000]' (repeatable)")
	fs.Var(&attributes, "attributes", "agent attributes 'hostname=rack:r1;zone:a' (repeatable)")
	fs.Var(&credentials, "credentials", "HTTP basic credential 'principal=secret' (repeatable; enables authentication)")
	fs.Var(&weights, "weights", "role weight 'role=2.5' (repeatable)")
	fs.DurationVar(&cfg.AllocationInterval, "allocation-interval", emulator.DefaultAllocationInterval, "batch allocation interval")
	fs.DurationVar(&cfg.OfferTimeout, "offer-timeout", 0, "rescind unanswered offers after this long (0 = never)")
	fs.DurationVar(&cfg.HeartbeatInterval, "heartbeat-interval", emulator.DefaultHeartbeatInterval, "HEARTBEAT interval")
	fs.DurationVar(&cfg.DefaultRefuse, "default-refuse", emulator.DefaultRefuseSeconds, "default decline filter")
	filterGPU := fs.Bool("filter-gpu-resources", true, "withhold GPU agents from frameworks without GPU_RESOURCES")
	leader := fs.String("leader", "", "run as a non-leading master redirecting to this leader host:port")
	zkURL := fs.String("zk", "", "join leader election, e.g. zk://127.0.0.1:2181/mesos")
	if err := fs.Parse(args); err != nil {
		return cfg, "", err
	}
	cfg.FilterGPUResources = filterGPU
	if *leader != "" {
		cfg.Leader, cfg.LeaderHostPort = emulator.Bool(false), *leader
	}
	if err := addAgents(&cfg, agents, attributes); err != nil {
		return cfg, "", err
	}
	var err error
	if cfg.Credentials, err = keyValues(credentials, func(s string) (string, error) { return s, nil }); err != nil {
		return cfg, "", err
	}
	cfg.RoleWeights, err = keyValues(weights, func(s string) (float64, error) { return strconv.ParseFloat(s, 64) })
	return cfg, *zkURL, err
}

// addAgents parses --agents and --attributes into cfg.Agents.
func addAgents(cfg *emulator.Config, agents, attributes []string) error {
	for _, spec := range agents {
		a, err := emulator.ParseAgent(spec)
		if err != nil {
			return err
		}
		cfg.Agents = append(cfg.Agents, a)
	}
	for _, spec := range attributes {
		host, attrs, err := emulator.ParseAttributes(spec)
		if err != nil {
			return err
		}
		found := false
		for i := range cfg.Agents {
			if cfg.Agents[i].Hostname == host {
				cfg.Agents[i].Attributes, found = attrs, true
			}
		}
		if !found {
			return fmt.Errorf("--attributes for unknown agent %q", host)
		}
	}
	return nil
}

// keyValues parses "key=value" items.
func keyValues[V any](items []string, parse func(string) (V, error)) (map[string]V, error) {
	if len(items) == 0 {
		return nil, nil
	}
	out := map[string]V{}
	for _, item := range items {
		k, v, ok := strings.Cut(item, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("expected key=value, got %q", item)
		}
		pv, err := parse(v)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", item, err)
		}
		out[k] = pv
	}
	return out, nil
}

// parseZK splits "zk://host1:2181,host2:2181/mesos" into servers and path.
func parseZK(url string) ([]string, string, error) {
	rest, ok := strings.CutPrefix(url, "zk://")
	hosts, path, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || hosts == "" {
		return nil, "", fmt.Errorf("bad ZooKeeper URL %q (want zk://host:port/path)", url)
	}
	return strings.Split(hosts, ","), "/" + path, nil
}
