// Command update-manifests copies the ElasticQuota CRD into the Helm chart
// and regenerates the plain manifests under manifests/install from the
// chart (`make manifests`).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kube-mesos/kube-mesos-scheduler/test/chart/render"
)

func main() {
	root := flag.String("root", "../..", "the repository root")
	flag.Parse()
	crd, err := os.ReadFile(filepath.Join(*root, render.CRDFile))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.WriteFile(filepath.Join(*root, render.ChartCRDFile), crd, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, v := range render.Variants {
		data, err := render.Plain(*root, v)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		path := filepath.Join(*root, v.File)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println("wrote", v.File)
	}
}
