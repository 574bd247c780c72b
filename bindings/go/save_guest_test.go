// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

package snapmap_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"snapmap.dev/snapmap"
)

func recordsOf(f *snapmap.SaveFile) []entry {
	var got []entry
	for _, r := range f.Records {
		got = append(got, entry{string(r.Key), string(r.Value), r.Version})
	}
	sort.Slice(got, func(i, j int) bool { return got[i].key < got[j].key })
	return got
}

// A map saved with Save, read back with ReadSaveFile, and loaded into a
// new map with Load.
func TestSaveLoad(t *testing.T) {
	name := uniqueName("save")
	m := newMap(t, &snapmap.CreateOptions{MaxKeyLen: 64, MaxValueLen: 512,
		MaxEntries: 1000, MaxBytes: 1 << 20, Mode: 0640, Name: name})
	model := fill(t, m, 600)
	if _, err := m.Put([]byte("empty"), nil); err != nil {
		t.Fatal(err)
	}
	before := time.Now().Add(-time.Second)
	var buf bytes.Buffer
	h, err := m.Save(&buf)
	if err != nil {
		t.Fatal(err)
	}
	f, err := snapmap.ReadSaveFile(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if f.Header != h {
		t.Errorf("the header read %+v, written %+v", f.Header, h)
	}
	info, _ := m.Info()
	if h.Name != name || h.Mode != 0640 || h.MaxKeyLen != 64 || h.MaxValueLen != 512 ||
		h.MaxEntries != 1000 || h.MaxBytes != 1<<20 || h.SnapshotVersion > info.Version ||
		h.SavedAt.Before(before) {
		t.Errorf("header %+v for map %+v", h, info)
	}
	want := append(model, entry{})
	want[len(want)-1] = entry{key: "empty"}
	sort.Slice(want, func(i, j int) bool { return want[i].key < want[j].key })
	got := recordsOf(f)
	// The empty value's version is the one Put gave: fill it in.
	for i := range want {
		if want[i].key == "empty" {
			_, want[i].version, _ = m.Get([]byte("empty"))
		}
	}
	sameEntries(t, "the file", got, want, false)

	loaded, err := snapmap.Load(f, &snapmap.CreateOptions{Name: uniqueName("loaded")})
	if err != nil {
		t.Fatal(err)
	}
	defer loaded.Close()
	li, _ := loaded.Info()
	if li.MaxKeyLen != 64 || li.MaxEntries != 1000 || li.Mode != 0640 || li.Entries != uint64(len(want)) {
		t.Errorf("the loaded map: %+v", li)
	}
	// Load writes: new versions, the same keys and values.
	sameEntries(t, "the loaded map", snapshotOf(t, loaded), want, true)

	// Into a map that holds a key of the file: EEXIST, as snapmapctl.
	other := newMap(t, nil)
	if _, err := other.Put([]byte("key-0300"), []byte("x")); err != nil {
		t.Fatal(err)
	}
	err = other.Load(f)
	if !errors.Is(err, os.ErrExist) || !strings.Contains(err.Error(), "load: record") {
		t.Errorf("Load into a map holding a key of the file: %v", err)
	}
}

// snapmapctl runs the snapmapctl of the rig's guest (its /bin), or skips
// where there is none (go test on a build machine).
func snapmapctl(t *testing.T, args ...string) string {
	t.Helper()
	path, err := exec.LookPath("snapmapctl")
	if err != nil {
		t.Skipf("no snapmapctl: %v", err)
	}
	out, err := exec.Command(path, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("snapmapctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Files snapmapctl writes, Go reads, and the reverse.
func TestSaveFilesOfSnapmapctl(t *testing.T) {
	needModule(t)
	dir := t.TempDir()
	name := uniqueName("ctl")
	m := newMap(t, &snapmap.CreateOptions{MaxKeyLen: 32, MaxValueLen: 128,
		MaxEntries: 400, MaxBytes: 1 << 20, Mode: 0604, Name: name})
	model := fill(t, m, 300)
	if _, err := m.Put([]byte{0, 0xff, '\n'}, []byte("\t binary \x00 key")); err != nil {
		t.Fatal(err)
	}

	// snapmapctl save -> ReadSaveFile.
	ctlFile := filepath.Join(dir, "by-snapmapctl.smap")
	snapmapctl(t, "save", name, ctlFile)
	raw, err := os.ReadFile(ctlFile)
	if err != nil {
		t.Fatal(err)
	}
	f, err := snapmap.ReadSaveFile(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("reading what snapmapctl saved: %v", err)
	}
	want := snapshotOf(t, m)
	sameEntries(t, "snapmapctl's file", recordsOf(f), want, false)
	h := f.Header
	if h.Name != name || h.Mode != 0604 || h.MaxKeyLen != 32 || h.MaxValueLen != 128 ||
		h.MaxEntries != 400 || h.MaxBytes != 1<<20 || h.SnapshotVersion <= model[len(model)-1].version {
		t.Errorf("snapmapctl's header: %+v", h)
	}
	// Written again by Go, it is the same file but for saved_at.
	var again bytes.Buffer
	if _, err := f.WriteTo(&again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Bytes(), raw) {
		t.Errorf("WriteTo of snapmapctl's file made another file (%d bytes, snapmapctl's %d)",
			again.Len(), len(raw))
	}

	// Save -> snapmapctl load --check, and load into an empty map.
	goFile := filepath.Join(dir, "by-go.smap")
	out, err := os.Create(goFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Save(out); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	check := snapmapctl(t, "load", "--check", goFile)
	if !strings.Contains(check, name) || !strings.Contains(check, "301") {
		t.Errorf("snapmapctl load --check says:\n%s", check)
	}
	into := uniqueName("into")
	target := newMap(t, &snapmap.CreateOptions{Name: into, MaxKeyLen: 32, MaxValueLen: 128})
	snapmapctl(t, "load", "--into", into, goFile)
	sameEntries(t, "what snapmapctl loaded from Go's file", snapshotOf(t, target), want, true)

	// A file cut short: both refuse it.
	cut := filepath.Join(dir, "cut.smap")
	if err := os.WriteFile(cut, raw[:len(raw)-20], 0600); err != nil {
		t.Fatal(err)
	}
	if _, err := exec.Command("snapmapctl", "load", "--check", cut).CombinedOutput(); err == nil {
		t.Errorf("snapmapctl accepts a file cut short")
	}
	if _, err := snapmap.ReadSaveFile(bytes.NewReader(raw[:len(raw)-20])); !errors.Is(err, snapmap.ErrCorrupt) {
		t.Errorf("ReadSaveFile of a file cut short: %v", err)
	}
}
