//go:build tools

// Package tools pins github.com/mesos/mesos-go and github.com/go-zookeeper/zk
// in go.mod until pkg/mesos, their only importer, lands.
package tools

import (
	_ "github.com/go-zookeeper/zk"
	_ "github.com/mesos/mesos-go/api/v1/lib/httpcli/httpsched"
)
