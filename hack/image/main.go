// Command image assembles the kube-mesos-scheduler container image without
// a Docker daemon; `make image` runs it (docs/install.md, "The image").
//
// From one static binary per platform (--binary linux/amd64=path, repeated)
// it builds a multi-platform OCI image FROM scratch with
// go-containerregistry and writes
//
//   - an OCI image layout (--oci-dir): index.json names (ref.name = the tag)
//     an image index with one manifest per platform;
//   - per platform a docker archive (--tar-dir)/kube-mesos-scheduler-<arch>.tar
//     tagged --tag, for `docker load` and `kind load image-archive`.
//
// --verify reads both back and checks them (platforms, ELF machine, static
// linking, user 65532, no setuid file, /etc/passwd, same image in both);
// --push pushes the verified index to --tag with the Docker config's
// credentials. Without --binary it verifies or pushes an existing layout.
//
// It is its own Go module so that the scheduler's module does not depend on
// go-containerregistry.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "hack/image:", err)
		os.Exit(1)
	}
}

// binaryFlag is the repeated --binary os/arch=path.
type binaryFlag []Binary

func (b *binaryFlag) String() string {
	var s []string
	for _, x := range *b {
		s = append(s, x.Platform.String()+"="+x.Path)
	}
	return strings.Join(s, ",")
}

func (b *binaryFlag) Set(v string) error {
	plat, file, ok := strings.Cut(v, "=")
	if !ok || file == "" {
		return fmt.Errorf("%q is not os/arch=path", v)
	}
	p, err := parsePlatform(plat)
	if err != nil {
		return err
	}
	*b = append(*b, Binary{Platform: p, Path: file})
	return nil
}

func parsePlatform(s string) (v1.Platform, error) {
	p, err := v1.ParsePlatform(s)
	if err != nil {
		return v1.Platform{}, err
	}
	if p.OS != "linux" {
		return v1.Platform{}, fmt.Errorf("platform %s: only linux", s)
	}
	if _, ok := elfMachines[p.Architecture]; !ok {
		return v1.Platform{}, fmt.Errorf("platform %s: unknown architecture", s)
	}
	return *p, nil
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("hack/image", flag.ContinueOnError)
	var bins binaryFlag
	fs.Var(&bins, "binary", "`os/arch=path` of the static scheduler binary for a platform; repeat per platform")
	tagFlag := fs.String("tag", "", "image `reference` registry/name:tag: the layout's ref.name, the docker archives' tag, the push target (required)")
	ociDir := fs.String("oci-dir", "_output/image/oci", "OCI image layout `directory` (replaced)")
	tarDir := fs.String("tar-dir", "_output/image", "`directory` of the docker archives kube-mesos-scheduler-<arch>.tar")
	version := fs.String("version", "", "org.opencontainers.image.version label (checked by --verify when set)")
	revision := fs.String("revision", "", "org.opencontainers.image.revision label, the commit (checked by --verify when set)")
	source := fs.String("source", DefaultSource, "org.opencontainers.image.source label")
	epoch := fs.String("created-epoch", os.Getenv("SOURCE_DATE_EPOCH"), "creation time and layer file times, `seconds` since 1970 (default $SOURCE_DATE_EPOCH, else 0)")
	caCerts := fs.String("ca-certs", CACertsPath, "CA bundle `file` of the build machine to copy to "+CACertsPath+"; the default is skipped when missing, \"\" for none")
	platforms := fs.String("platforms", "linux/amd64,linux/arm64", "platforms --verify expects when no --binary is given")
	verify := fs.Bool("verify", false, "read the layout and the docker archives back and check them")
	push := fs.Bool("push", false, "push the layout's index to --tag (credentials: ~/.docker/config.json and its helpers)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *tagFlag == "" {
		return errors.New("--tag is required")
	}
	tag, err := name.NewTag(*tagFlag)
	if err != nil {
		return err
	}
	if len(bins) == 0 && !*verify && !*push {
		return errors.New("nothing to do: give --binary, --verify or --push")
	}

	if len(bins) > 0 {
		created := time.Unix(0, 0)
		if *epoch != "" {
			sec, err := strconv.ParseInt(*epoch, 10, 64)
			if err != nil {
				return fmt.Errorf("--created-epoch %q: %w", *epoch, err)
			}
			created = time.Unix(sec, 0)
		}
		ca := *caCerts
		caSet := false
		fs.Visit(func(f *flag.Flag) { caSet = caSet || f.Name == "ca-certs" })
		if !caSet {
			if _, err := os.Stat(ca); err != nil {
				fmt.Fprintf(out, "no CA bundle at %s: the image gets none (https Mesos masters need mesos.tls.caSecret)\n", ca)
				ca = ""
			}
		}
		idx, err := Build(Options{
			Binaries: bins,
			Version:  *version,
			Revision: *revision,
			Source:   *source,
			Created:  created,
			CACerts:  ca,
		})
		if err != nil {
			return err
		}
		wrote, err := Write(idx, tag, *ociDir, *tarDir)
		if err != nil {
			return err
		}
		for _, w := range wrote {
			fmt.Fprintln(out, "wrote", w)
		}
	}

	if *verify {
		want := Expect{Tag: tag, Version: *version, Revision: *revision}
		for _, b := range bins {
			want.Platforms = append(want.Platforms, b.Platform)
		}
		if len(bins) == 0 {
			for _, s := range strings.Split(*platforms, ",") {
				p, err := parsePlatform(strings.TrimSpace(s))
				if err != nil {
					return err
				}
				want.Platforms = append(want.Platforms, p)
			}
		}
		summary, err := Verify(*ociDir, *tarDir, want)
		for _, s := range summary {
			fmt.Fprintln(out, "verified", s)
		}
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
	}

	if *push {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		d, err := Push(ctx, *ociDir, tag)
		if err != nil {
			return fmt.Errorf("push %s: %w", tag, err)
		}
		fmt.Fprintf(out, "pushed %s@%s\n", tag, d)
	}
	return nil
}
