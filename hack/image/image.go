package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// What the image holds and how it runs.
const (
	BinaryPath  = "/usr/local/bin/kube-mesos-scheduler"
	CACertsPath = "/etc/ssl/certs/ca-certificates.crt"
	User        = "65532:65532"
	NonRootID   = "65532"
	// DefaultSource is the org.opencontainers.image.source label.
	DefaultSource = "https://github.com/kube-mesos/kube-mesos-scheduler"

	passwd = "root:x:0:0:root:/root:/sbin/nologin\n" +
		"nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n" +
		"nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
	group = "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n"

	labelSource   = "org.opencontainers.image.source"
	labelVersion  = "org.opencontainers.image.version"
	labelRevision = "org.opencontainers.image.revision"
	labelCreated  = "org.opencontainers.image.created"
	// On the index's descriptor in the layout's index.json, like
	// `docker buildx build --output type=oci` writes them: skopeo and
	// crane find the image by ref.name, containerd's import by its name.
	annotationRefName       = "org.opencontainers.image.ref.name"
	annotationContainerdRef = "io.containerd.image.name"
)

// elfMachines is the ELF machine of a Go binary per GOARCH.
var elfMachines = map[string]elf.Machine{
	"amd64":   elf.EM_X86_64,
	"arm64":   elf.EM_AARCH64,
	"arm":     elf.EM_ARM,
	"386":     elf.EM_386,
	"ppc64le": elf.EM_PPC64,
	"s390x":   elf.EM_S390,
	"riscv64": elf.EM_RISCV,
}

// Binary is the scheduler binary built for one platform.
type Binary struct {
	Platform v1.Platform
	Path     string
}

// Options describe the image Build assembles.
type Options struct {
	Binaries []Binary
	// Version, Revision and Source are the OCI labels of the same names.
	Version, Revision, Source string
	// Created is the creation time of the image and the modification
	// time of every file in its layer (SOURCE_DATE_EPOCH), so that the
	// same binaries give the same digests.
	Created time.Time
	// CACerts is a CA bundle to install as CACertsPath, with SSL_CERT_FILE
	// pointing to it; "" installs none.
	CACerts string
}

// Build assembles the image: an OCI index with, per binary, an image FROM
// scratch whose only layer holds the binary, /etc/passwd and /etc/group
// with the nonroot user and group 65532, the CA bundle and /tmp. The
// images run as 65532:65532 with the binary as their entrypoint.
func Build(o Options) (v1.ImageIndex, error) {
	if len(o.Binaries) == 0 {
		return nil, errors.New("no binaries")
	}
	var ca []byte
	if o.CACerts != "" {
		var err error
		if ca, err = os.ReadFile(o.CACerts); err != nil {
			return nil, err
		}
	}
	created := o.Created.UTC().Truncate(time.Second)
	labels := map[string]string{
		labelSource:   o.Source,
		labelVersion:  o.Version,
		labelRevision: o.Revision,
		labelCreated:  created.Format(time.RFC3339),
	}
	bins := slices.Clone(o.Binaries)
	slices.SortFunc(bins, func(a, b Binary) int { return strings.Compare(a.Platform.String(), b.Platform.String()) })
	var adds []mutate.IndexAddendum
	for i, b := range bins {
		if i > 0 && b.Platform.String() == bins[i-1].Platform.String() {
			return nil, fmt.Errorf("two binaries for %s", b.Platform.String())
		}
		img, err := buildImage(b, ca, labels, created)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Platform.String(), err)
		}
		p := b.Platform
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
	}
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
	return mutate.Annotations(idx, labels).(v1.ImageIndex), nil
}

func buildImage(b Binary, ca []byte, labels map[string]string, created time.Time) (v1.Image, error) {
	bin, err := os.ReadFile(b.Path)
	if err != nil {
		return nil, err
	}
	layerTar, err := rootFS(bin, ca, created)
	if err != nil {
		return nil, err
	}
	// Compressed here once, without a gzip header time: the same files give
	// the same layer digest.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(layerTar); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(gz.Bytes())), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	env := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	if ca != nil {
		env = append(env, "SSL_CERT_FILE="+CACertsPath)
	}
	cf := &v1.ConfigFile{
		Architecture: b.Platform.Architecture,
		OS:           b.Platform.OS,
		Variant:      b.Platform.Variant,
		Created:      v1.Time{Time: created},
		Config: v1.Config{
			User:       User,
			Entrypoint: []string{BinaryPath},
			Env:        env,
			WorkingDir: "/",
			Labels:     labels,
		},
		RootFS: v1.RootFS{Type: "layers"},
	}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return nil, err
	}
	return mutate.Append(img, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History: v1.History{
			Created:   v1.Time{Time: created},
			CreatedBy: "hack/image: kube-mesos-scheduler, /etc/passwd, /etc/group, CA bundle, /tmp",
		},
	})
}

// rootFS is the layer's tar: every file owned by root except the nonroot
// home, every time the creation time.
func rootFS(bin, ca []byte, mtime time.Time) ([]byte, error) {
	type entry struct {
		name     string
		mode     int64
		id       int
		contents []byte
		dir      bool
	}
	entries := []entry{
		{name: "etc/", mode: 0o755, dir: true},
		{name: "etc/group", mode: 0o644, contents: []byte(group)},
		{name: "etc/passwd", mode: 0o644, contents: []byte(passwd)},
	}
	if ca != nil {
		entries = append(entries,
			entry{name: "etc/ssl/", mode: 0o755, dir: true},
			entry{name: "etc/ssl/certs/", mode: 0o755, dir: true},
			entry{name: strings.TrimPrefix(CACertsPath, "/"), mode: 0o644, contents: ca})
	}
	entries = append(entries,
		entry{name: "home/", mode: 0o755, dir: true},
		entry{name: "home/nonroot/", mode: 0o700, id: 65532, dir: true},
		entry{name: "tmp/", mode: 0o1777, dir: true},
		entry{name: "usr/", mode: 0o755, dir: true},
		entry{name: "usr/local/", mode: 0o755, dir: true},
		entry{name: "usr/local/bin/", mode: 0o755, dir: true},
		entry{name: strings.TrimPrefix(BinaryPath, "/"), mode: 0o755, contents: bin})
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{
			Name:     e.name,
			Mode:     e.mode,
			Uid:      e.id,
			Gid:      e.id,
			ModTime:  mtime,
			Typeflag: tar.TypeReg,
			Size:     int64(len(e.contents)),
			Format:   tar.FormatUSTAR,
		}
		if e.dir {
			h.Typeflag = tar.TypeDir
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.contents); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// TarballName is the file name of a platform's docker archive.
func TarballName(p v1.Platform) string {
	n := "kube-mesos-scheduler-" + p.Architecture
	if p.Variant != "" {
		n += "-" + p.Variant
	}
	return n + ".tar"
}

// Write writes idx as an OCI image layout in ociDir (replacing a layout
// already there), named tag, and each of its images as a docker archive
// TarballName in tarDir tagged tag (`docker load`, `kind load
// image-archive`). It returns what it wrote.
func Write(idx v1.ImageIndex, tag name.Tag, ociDir, tarDir string) ([]string, error) {
	if err := clearLayout(ociDir); err != nil {
		return nil, err
	}
	p, err := layout.Write(ociDir, empty.Index)
	if err != nil {
		return nil, err
	}
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{
		annotationRefName:       tag.TagStr(),
		annotationContainerdRef: containerdName(tag),
	})); err != nil {
		return nil, err
	}
	d, err := idx.Digest()
	if err != nil {
		return nil, err
	}
	wrote := []string{fmt.Sprintf("%s: OCI image layout, index %s, ref.name %s", ociDir, d, tag.TagStr())}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(tarDir, 0o755); err != nil {
		return nil, err
	}
	for _, desc := range im.Manifests {
		img, err := idx.Image(desc.Digest)
		if err != nil {
			return nil, err
		}
		file := filepath.Join(tarDir, TarballName(*desc.Platform))
		if err := tarball.WriteToFile(file, tag, img); err != nil {
			return nil, err
		}
		wrote = append(wrote, fmt.Sprintf("%s: docker archive, %s, %s", file, desc.Platform, tag))
	}
	return wrote, nil
}

// clearLayout removes an earlier layout in dir, and refuses to remove a
// directory that is neither empty nor a layout.
func clearLayout(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err != nil {
			return fmt.Errorf("%s is neither empty nor an OCI image layout; not replacing it", dir)
		}
	}
	return os.RemoveAll(dir)
}

// containerdName is the name containerd gives tag: Docker Hub as docker.io.
func containerdName(tag name.Tag) string {
	reg := tag.RegistryStr()
	if reg == name.DefaultRegistry {
		reg = "docker.io"
	}
	return reg + "/" + tag.RepositoryStr() + ":" + tag.TagStr()
}

// layoutIndex is the image index named tag in the layout at ociDir.
func layoutIndex(ociDir string, tag name.Tag) (v1.ImageIndex, error) {
	root, err := layout.ImageIndexFromPath(ociDir)
	if err != nil {
		return nil, err
	}
	rm, err := root.IndexManifest()
	if err != nil {
		return nil, err
	}
	var found []v1.Descriptor
	for _, d := range rm.Manifests {
		if d.Annotations[annotationRefName] == tag.TagStr() {
			found = append(found, d)
		}
	}
	if len(found) != 1 || found[0].MediaType != types.OCIImageIndex {
		return nil, fmt.Errorf("%s: want one image index with %s=%s in index.json, found %d descriptors", ociDir, annotationRefName, tag.TagStr(), len(found))
	}
	return root.ImageIndex(found[0].Digest)
}

// Expect is what Verify checks the image against.
type Expect struct {
	Tag       name.Tag
	Platforms []v1.Platform
	// Version and Revision, when set, must be the labels.
	Version, Revision string
}

// Verify reads back the layout in ociDir and the docker archives in tarDir
// and checks that the index holds an image for each platform of want and
// nothing else; that each runs as 65532:65532, has no setuid or setgid
// file, a nonroot user 65532 in /etc/passwd, fixed file times, and a
// statically linked binary of its platform's ELF machine as entrypoint;
// and that each docker archive holds the same image, tagged want.Tag. It
// returns a line per image.
func Verify(ociDir, tarDir string, want Expect) ([]string, error) {
	idx, err := layoutIndex(ociDir, want.Tag)
	if err != nil {
		return nil, err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var errs []error
	fail := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if im.MediaType != types.OCIImageIndex {
		fail("index media type %s, want %s", im.MediaType, types.OCIImageIndex)
	}
	if len(im.Manifests) != len(want.Platforms) {
		fail("index has %d manifests, want %d (%s)", len(im.Manifests), len(want.Platforms), platformList(want.Platforms))
	}
	seen := map[string]bool{}
	var summary []string
	for _, d := range im.Manifests {
		if d.Platform == nil {
			fail("manifest %s has no platform", d.Digest)
			continue
		}
		p := *d.Platform
		ps := p.String()
		if seen[ps] {
			fail("two manifests for %s", ps)
		}
		seen[ps] = true
		if !slices.ContainsFunc(want.Platforms, func(w v1.Platform) bool { return w.String() == ps }) {
			fail("unexpected platform %s (want %s)", ps, platformList(want.Platforms))
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			fail("%s: %v", ps, err)
			continue
		}
		line, ierrs := verifyImage(img, p, want)
		for _, e := range ierrs {
			fail("%s: %v", ps, e)
		}
		if err := verifyTarball(filepath.Join(tarDir, TarballName(p)), img, want.Tag); err != nil {
			fail("%s: %v", ps, err)
		}
		summary = append(summary, fmt.Sprintf("%s %s: %s", ps, d.Digest, line))
	}
	for _, w := range want.Platforms {
		if !seen[w.String()] {
			fail("no manifest for %s", w.String())
		}
	}
	return summary, errors.Join(errs...)
}

func platformList(ps []v1.Platform) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.String())
	}
	return strings.Join(s, ", ")
}

func verifyImage(img v1.Image, p v1.Platform, want Expect) (string, []error) {
	var errs []error
	fail := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if mt, err := img.MediaType(); err != nil || mt != types.OCIManifestSchema1 {
		fail("manifest media type %s (%v), want %s", mt, err, types.OCIManifestSchema1)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return "", []error{err}
	}
	if cf.OS != p.OS || cf.Architecture != p.Architecture || cf.Variant != p.Variant {
		fail("config platform %s/%s/%s, index says %s", cf.OS, cf.Architecture, cf.Variant, p.String())
	}
	c := cf.Config
	if c.User != User {
		fail("config User %q, want %q", c.User, User)
	}
	if !slices.Equal(c.Entrypoint, []string{BinaryPath}) {
		fail("config Entrypoint %q, want [%q]", c.Entrypoint, BinaryPath)
	}
	for _, l := range []string{labelSource, labelVersion, labelRevision, labelCreated} {
		if c.Labels[l] == "" {
			fail("label %s is missing", l)
		}
	}
	if want.Version != "" && c.Labels[labelVersion] != want.Version {
		fail("label %s=%q, want %q", labelVersion, c.Labels[labelVersion], want.Version)
	}
	if want.Revision != "" && c.Labels[labelRevision] != want.Revision {
		fail("label %s=%q, want %q", labelRevision, c.Labels[labelRevision], want.Revision)
	}
	created := cf.Created.Time
	if got := c.Labels[labelCreated]; got != created.UTC().Format(time.RFC3339) {
		fail("label %s=%q, config created %s", labelCreated, got, created.UTC().Format(time.RFC3339))
	}

	layers, err := img.Layers()
	if err != nil {
		return "", append(errs, err)
	}
	if len(layers) != 1 {
		return "", append(errs, fmt.Errorf("%d layers, want 1", len(layers)))
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		return "", append(errs, err)
	}
	defer rc.Close()
	headers := map[string]*tar.Header{}
	contents := map[string][]byte{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", append(errs, fmt.Errorf("layer: %w", err))
		}
		n := path.Clean("/" + h.Name)
		headers[n] = h
		if h.Mode&0o6000 != 0 || h.FileInfo().Mode()&(os.ModeSetuid|os.ModeSetgid) != 0 {
			fail("%s is setuid or setgid (mode %#o)", n, h.Mode)
		}
		if !h.ModTime.Equal(created) {
			fail("%s: modification time %s, want the creation time %s", n, h.ModTime.UTC(), created.UTC())
		}
		if h.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(tr)
			if err != nil {
				return "", append(errs, fmt.Errorf("layer: %s: %w", n, err))
			}
			contents[n] = b
		}
	}

	line := ""
	if h := headers[BinaryPath]; h == nil || h.Typeflag != tar.TypeReg {
		fail("no file %s", BinaryPath)
	} else {
		if h.Mode&0o7777 != 0o755 || h.Uid != 0 || h.Gid != 0 {
			fail("%s: mode %#o owner %d:%d, want 0755 0:0", BinaryPath, h.Mode, h.Uid, h.Gid)
		}
		m, err := checkELF(contents[BinaryPath], p.Architecture)
		if err != nil {
			fail("%s: %v", BinaryPath, err)
		}
		line = fmt.Sprintf("%s %s, static, %d bytes", BinaryPath, m, h.Size)
	}
	if h := headers["/tmp"]; h == nil || h.Typeflag != tar.TypeDir || h.Mode&0o7777 != 0o1777 {
		fail("no directory /tmp with mode 1777")
	}
	if !hasLine(contents["/etc/passwd"], func(f []string) bool {
		return len(f) == 7 && f[0] == "nonroot" && f[2] == NonRootID && f[3] == NonRootID
	}) {
		fail("/etc/passwd has no user nonroot with uid and gid %s", NonRootID)
	}
	if !hasLine(contents["/etc/group"], func(f []string) bool {
		return len(f) == 4 && f[0] == "nonroot" && f[2] == NonRootID
	}) {
		fail("/etc/group has no group nonroot with gid %s", NonRootID)
	}
	envCA := slices.Contains(c.Env, "SSL_CERT_FILE="+CACertsPath)
	_, hasCA := contents[CACertsPath]
	switch {
	case envCA && !hasCA:
		fail("SSL_CERT_FILE=%s but the file is missing", CACertsPath)
	case hasCA && !envCA:
		fail("%s without SSL_CERT_FILE", CACertsPath)
	}
	ca := "no CA bundle"
	if hasCA {
		ca = "CA bundle"
	}
	return fmt.Sprintf("%s; user %s; %s", line, c.User, ca), errs
}

// hasLine reports whether the passwd or group file b has a line whose
// colon-separated fields satisfy ok.
func hasLine(b []byte, ok func(fields []string) bool) bool {
	s := bufio.NewScanner(bytes.NewReader(b))
	for s.Scan() {
		if ok(strings.Split(s.Text(), ":")) {
			return true
		}
	}
	return false
}

// checkELF checks that bin is a statically linked ELF executable for goarch.
func checkELF(bin []byte, goarch string) (elf.Machine, error) {
	want, ok := elfMachines[goarch]
	if !ok {
		return 0, fmt.Errorf("no ELF machine known for %s", goarch)
	}
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		return 0, fmt.Errorf("not an ELF file: %w", err)
	}
	defer f.Close()
	if f.Machine != want {
		return f.Machine, fmt.Errorf("ELF machine %s, want %s for %s", f.Machine, want, goarch)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return f.Machine, errors.New("dynamically linked (has PT_INTERP)")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		return f.Machine, fmt.Errorf("dynamically linked to %v", libs)
	}
	return f.Machine, nil
}

// verifyTarball checks that the docker archive at file holds img tagged tag.
func verifyTarball(file string, img v1.Image, tag name.Tag) error {
	timg, err := tarball.ImageFromPath(file, &tag)
	if err != nil {
		return fmt.Errorf("docker archive %s: %w", file, err)
	}
	got, err := timg.ConfigName()
	if err != nil {
		return err
	}
	want, err := img.ConfigName()
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("docker archive %s: config %s, the layout's is %s", file, got, want)
	}
	tl, err := timg.Layers()
	if err != nil {
		return err
	}
	ll, err := img.Layers()
	if err != nil {
		return err
	}
	if len(tl) != len(ll) {
		return fmt.Errorf("docker archive %s: %d layers, the layout has %d", file, len(tl), len(ll))
	}
	for i := range tl {
		td, err := tl[i].Digest()
		if err != nil {
			return err
		}
		ld, err := ll[i].Digest()
		if err != nil {
			return err
		}
		if td != ld {
			return fmt.Errorf("docker archive %s: layer %d is %s, the layout's %s", file, i, td, ld)
		}
	}
	return nil
}

// Push pushes the index named tag in the layout at ociDir to tag, with the
// credentials of the Docker config (~/.docker/config.json, credential
// helpers), and returns its digest.
func Push(ctx context.Context, ociDir string, tag name.Tag) (v1.Hash, error) {
	idx, err := layoutIndex(ociDir, tag)
	if err != nil {
		return v1.Hash{}, err
	}
	if err := remote.WriteIndex(tag, idx, remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
		return v1.Hash{}, err
	}
	return idx.Digest()
}
