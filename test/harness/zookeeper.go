package harness

import "github.com/kube-mesos/kube-mesos-scheduler/test/harness/zkserver"

// StartZooKeeper runs a real ZooKeeper 3.8 server (Debian's zookeeper
// package) standalone on a free loopback port until the test ends; see
// zkserver.Start. It returns "127.0.0.1:port" and a function that kills the
// server earlier. Without the package it fails with the apt-get command
// that installs it.
func StartZooKeeper(tb zkserver.TB) (hostPort string, stop func(), err error) {
	tb.Helper()
	return zkserver.Start(tb)
}
