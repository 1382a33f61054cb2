package main

import (
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	cfg, zk, err := parseFlags([]string{
		"--listen", "127.0.0.1:0",
		"--agents", "node-1=cpus:4;mem:8192;disk:10000;gpus:0;ports:[31000-32000]",
		"--agents", "node-2=cpus:8;mem:16384;disk:20000;gpus:2;ports:[31000-32000]",
		"--attributes", "node-1=rack:r1;zone:a",
		"--allocation-interval", "200ms", "--offer-timeout", "5s", "--heartbeat-interval", "1s",
		"--credentials", "kms=s3cret", "--weights", "team-a=2", "--hostname", "master.local",
		"--leader", "localhost:5060", "--zk", "zk://127.0.0.1:2181/mesos",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Agents) != 2 || cfg.Agents[0].Attributes["zone"] != "a" || cfg.Agents[1].Resources.GPUs != 2 {
		t.Fatalf("agents %+v", cfg.Agents)
	}
	if cfg.AllocationInterval != 200*time.Millisecond || cfg.OfferTimeout != 5*time.Second || cfg.HeartbeatInterval != time.Second {
		t.Fatalf("durations %+v", cfg)
	}
	if cfg.Credentials["kms"] != "s3cret" || cfg.RoleWeights["team-a"] != 2 || cfg.Hostname != "master.local" {
		t.Fatalf("maps %+v", cfg)
	}
	if *cfg.Leader || cfg.LeaderHostPort != "localhost:5060" || zk != "zk://127.0.0.1:2181/mesos" {
		t.Fatalf("leader %v %q zk %q", *cfg.Leader, cfg.LeaderHostPort, zk)
	}
	servers, path, err := parseZK(zk)
	if err != nil || len(servers) != 1 || servers[0] != "127.0.0.1:2181" || path != "/mesos" {
		t.Fatalf("parseZK: %v %q %v", servers, path, err)
	}
	if _, _, err := parseFlags([]string{"--attributes", "ghost=rack:r1"}); err == nil {
		t.Fatalf("attributes for an unknown agent accepted")
	}
}
