package main

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// hello is testdata/hello built per GOARCH (TestMain).
var hello = map[string]string{}

var (
	amd64 = v1.Platform{OS: "linux", Architecture: "amd64"}
	arm64 = v1.Platform{OS: "linux", Architecture: "arm64"}
	both  = []v1.Platform{amd64, arm64}
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hack-image-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		for _, arch := range []string{"amd64", "arm64"} {
			out := filepath.Join(dir, arch, "hello")
			cmd := exec.Command("go", "build", "-trimpath", "-o", out, "./testdata/hello")
			cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+arch, "CGO_ENABLED=0")
			if b, err := cmd.CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "building testdata/hello for %s: %v\n%s", arch, err, b)
				return 1
			}
			hello[arch] = out
		}
		return m.Run()
	}()
	os.RemoveAll(dir)
	os.Exit(code)
}

func testTag(t *testing.T) name.Tag {
	t.Helper()
	tag, err := name.NewTag("example.com/kube-mesos/kube-mesos-scheduler:1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	return tag
}

func testOptions(t *testing.T, bins map[string]string) Options {
	t.Helper()
	ca := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(ca, []byte("-----BEGIN CERTIFICATE-----\nnot a real one\n-----END CERTIFICATE-----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	o := Options{
		Version:  "1.2.3",
		Revision: "0123456789abcdef0123456789abcdef01234567",
		Source:   DefaultSource,
		Created:  time.Unix(1700000000, 0),
		CACerts:  ca,
	}
	for arch, path := range bins {
		o.Binaries = append(o.Binaries, Binary{Platform: v1.Platform{OS: "linux", Architecture: arch}, Path: path})
	}
	return o
}

// build runs Build and Write into a new directory and returns it (layout
// in oci/, docker archives next to it).
func build(t *testing.T, o Options) string {
	t.Helper()
	idx, err := Build(o)
	if err != nil {
		t.Fatal(err)
	}
	return write(t, idx)
}

func write(t *testing.T, idx v1.ImageIndex) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := Write(idx, testTag(t), filepath.Join(dir, "oci"), dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func verify(t *testing.T, dir string, platforms []v1.Platform) ([]string, error) {
	t.Helper()
	return Verify(filepath.Join(dir, "oci"), dir, Expect{Tag: testTag(t), Platforms: platforms, Version: "1.2.3"})
}

func TestImage(t *testing.T) {
	dir := build(t, testOptions(t, hello))
	summary, err := verify(t, dir, both)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("verified:\n%s", strings.Join(summary, "\n"))
	if len(summary) != 2 ||
		!strings.HasPrefix(summary[0], "linux/amd64 ") || !strings.Contains(summary[0], "EM_X86_64, static") ||
		!strings.HasPrefix(summary[1], "linux/arm64 ") || !strings.Contains(summary[1], "EM_AARCH64, static") {
		t.Errorf("summary %q, want linux/amd64 EM_X86_64 and linux/arm64 EM_AARCH64", summary)
	}
	for _, arch := range []string{"amd64", "arm64"} {
		if _, err := os.Stat(filepath.Join(dir, "kube-mesos-scheduler-"+arch+".tar")); err != nil {
			t.Error(err)
		}
	}
	// The docker archive holds the tag as given, which `docker load` and
	// `kind load image-archive` apply.
	m, err := tarball.LoadManifest(func() (io.ReadCloser, error) {
		return os.Open(filepath.Join(dir, "kube-mesos-scheduler-arm64.tar"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 1 || len(m[0].RepoTags) != 1 || m[0].RepoTags[0] != testTag(t).String() {
		t.Errorf("docker archive manifest.json %+v, want one image tagged %s", m, testTag(t))
	}
}

// The checks fail on images that are not what `make image` promises.
func TestVerifyFails(t *testing.T) {
	t.Run("swapped binaries", func(t *testing.T) {
		dir := build(t, testOptions(t, map[string]string{"amd64": hello["arm64"], "arm64": hello["amd64"]}))
		_, err := verify(t, dir, both)
		wantErr(t, err, "linux/amd64: "+BinaryPath+": ELF machine EM_AARCH64, want EM_X86_64",
			"linux/arm64: "+BinaryPath+": ELF machine EM_X86_64, want EM_AARCH64")
	})
	t.Run("missing platform", func(t *testing.T) {
		dir := build(t, testOptions(t, map[string]string{"amd64": hello["amd64"]}))
		_, err := verify(t, dir, both)
		wantErr(t, err, "index has 1 manifests, want 2", "no manifest for linux/arm64")
	})
	t.Run("dynamically linked", func(t *testing.T) {
		if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
			t.Skip("needs a dynamically linked linux/amd64 program")
		}
		dyn, err := exec.LookPath("ls")
		if err != nil {
			t.Skip(err)
		}
		dir := build(t, testOptions(t, map[string]string{"amd64": dyn, "arm64": hello["arm64"]}))
		_, err = verify(t, dir, both)
		wantErr(t, err, "linux/amd64: "+BinaryPath+": dynamically linked")
	})
	t.Run("docker archive of another image", func(t *testing.T) {
		dir := build(t, testOptions(t, hello))
		o := testOptions(t, hello)
		o.Created = o.Created.Add(time.Hour)
		other := build(t, o)
		if err := os.Rename(filepath.Join(other, "kube-mesos-scheduler-arm64.tar"), filepath.Join(dir, "kube-mesos-scheduler-arm64.tar")); err != nil {
			t.Fatal(err)
		}
		_, err := verify(t, dir, both)
		wantErr(t, err, "linux/arm64: docker archive")
	})
	t.Run("wrong version", func(t *testing.T) {
		o := testOptions(t, hello)
		o.Version = "9.9.9"
		_, err := verify(t, build(t, o), both)
		wantErr(t, err, `label org.opencontainers.image.version="9.9.9", want "1.2.3"`)
	})

	idx, err := Build(testOptions(t, hello))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		edit   func(h *tar.Header, body []byte) []byte
		errors []string
	}{{
		name: "setuid binary",
		edit: func(h *tar.Header, body []byte) []byte {
			if h.Name == "usr/local/bin/kube-mesos-scheduler" {
				h.Mode |= 0o4000
			}
			return body
		},
		errors: []string{"linux/amd64: " + BinaryPath + " is setuid or setgid"},
	}, {
		name: "no nonroot user",
		edit: func(h *tar.Header, body []byte) []byte {
			if h.Name == "etc/passwd" {
				body = []byte(strings.ReplaceAll(string(body), "nonroot:x:65532", "nonroot:x:1000"))
				h.Size = int64(len(body))
			}
			return body
		},
		errors: []string{"linux/arm64: /etc/passwd has no user nonroot with uid and gid 65532"},
	}, {
		name: "file time not fixed",
		edit: func(h *tar.Header, body []byte) []byte {
			if h.Name == "etc/group" {
				h.ModTime = time.Now()
			}
			return body
		},
		errors: []string{"linux/amd64: /etc/group: modification time"},
	}, {
		name: "binary owned by nonroot",
		edit: func(h *tar.Header, body []byte) []byte {
			if h.Name == "usr/local/bin/kube-mesos-scheduler" {
				h.Uid, h.Gid = 65532, 65532
			}
			return body
		},
		errors: []string{"linux/amd64: " + BinaryPath + ": mode 0755 owner 65532:65532, want 0755 0:0"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := verify(t, write(t, editLayers(t, idx, tc.edit)), both)
			wantErr(t, err, tc.errors...)
		})
	}
}

func wantErr(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("Verify passed, want errors %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("Verify error\n%v\ndoes not contain %q", err, w)
		}
	}
}

// editLayers rebuilds each image of idx with edit applied to every file of
// its layer.
func editLayers(t *testing.T, idx v1.ImageIndex, edit func(h *tar.Header, body []byte) []byte) v1.ImageIndex {
	t.Helper()
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var adds []mutate.IndexAddendum
	for _, d := range im.Manifests {
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		layers, err := img.Layers()
		if err != nil {
			t.Fatal(err)
		}
		rc, err := layers[0].Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		tr, tw := tar.NewReader(rc), tar.NewWriter(&buf)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			body = edit(h, body)
			if err := tw.WriteHeader(h); err != nil {
				t.Fatal(err)
			}
			if _, err := tw.Write(body); err != nil {
				t.Fatal(err)
			}
		}
		rc.Close()
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(buf.Bytes())), nil
		}, tarball.WithMediaType(types.OCILayer))
		if err != nil {
			t.Fatal(err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		cf.RootFS.DiffIDs, cf.History = nil, nil
		base, err := mutate.ConfigFile(mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON), cf)
		if err != nil {
			t.Fatal(err)
		}
		edited, err := mutate.Append(base, mutate.Addendum{Layer: layer, MediaType: types.OCILayer})
		if err != nil {
			t.Fatal(err)
		}
		adds = append(adds, mutate.IndexAddendum{Add: edited, Descriptor: v1.Descriptor{Platform: d.Platform}})
	}
	return mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
}

// The same binaries and time give the same digest.
func TestReproducible(t *testing.T) {
	digest := func(o Options) v1.Hash {
		idx, err := Build(o)
		if err != nil {
			t.Fatal(err)
		}
		d, err := idx.Digest()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	o := testOptions(t, hello)
	first, second := digest(o), digest(o)
	if first != second {
		t.Errorf("two builds: %s and %s", first, second)
	}
	o.Created = o.Created.Add(time.Second)
	if later := digest(o); later == first {
		t.Errorf("another creation time gives the same digest %s", later)
	}
}

// Push writes the layout's index to a registry, here one in-process.
func TestPush(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	dir := build(t, testOptions(t, hello))
	// The layout names its index by the tag; re-tag it for the registry.
	tag, err := name.NewTag(u.Host + "/kube-mesos/kube-mesos-scheduler:1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	idx, err := layoutIndex(filepath.Join(dir, "oci"), testTag(t))
	if err != nil {
		t.Fatal(err)
	}
	retagged := t.TempDir()
	if _, err := Write(idx, tag, filepath.Join(retagged, "oci"), retagged); err != nil {
		t.Fatal(err)
	}
	pushed, err := Push(context.Background(), filepath.Join(retagged, "oci"), tag)
	if err != nil {
		t.Fatal(err)
	}
	want, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if pushed != want {
		t.Errorf("pushed %s, the layout's index is %s", pushed, want)
	}
	got, err := remote.Index(tag)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := got.Digest(); d != want {
		t.Errorf("registry has %s, want %s", d, want)
	}
	img, err := remote.Image(tag, remote.WithPlatform(arm64))
	if err != nil {
		t.Fatal(err)
	}
	if cf, err := img.ConfigFile(); err != nil || cf.Architecture != "arm64" || cf.Config.User != User {
		t.Errorf("pulled linux/arm64 config %+v (%v), want arm64 as %s", cf, err, User)
	}
}

// The command `make image` runs: build and verify, then verify only.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	oci := filepath.Join(dir, "oci")
	var out bytes.Buffer
	args := []string{
		"--binary", "linux/amd64=" + hello["amd64"], "--binary", "linux/arm64=" + hello["arm64"],
		"--tag", "kube-mesos-scheduler:e2e", "--version", "1.2.3", "--revision", "abc",
		"--created-epoch", "1700000000", "--oci-dir", oci, "--tar-dir", dir, "--verify",
	}
	if err := run(args, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, w := range []string{"wrote " + oci, "kube-mesos-scheduler-amd64.tar: docker archive, linux/amd64", "verified linux/amd64", "verified linux/arm64"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("output lacks %q:\n%s", w, out.String())
		}
	}
	out.Reset()
	if err := run([]string{"--tag", "kube-mesos-scheduler:e2e", "--oci-dir", oci, "--tar-dir", dir, "--verify"}, &out); err != nil {
		t.Fatalf("verify only: %v\n%s", err, out.String())
	}
	if err := run([]string{"--tag", "kube-mesos-scheduler:other", "--oci-dir", oci, "--tar-dir", dir, "--verify"}, &out); err == nil {
		t.Error("verify with another tag passed")
	}
	// A directory that is not a layout is not replaced.
	if err := run(append(args[:len(args)-5:len(args)-5], "--oci-dir", dir, "--tar-dir", dir), &out); err == nil || !strings.Contains(err.Error(), "not replacing") {
		t.Errorf("writing the layout over a directory that is none: %v", err)
	}
}
