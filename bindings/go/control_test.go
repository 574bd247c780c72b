// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

package snapmap_test

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"snapmap.dev/snapmap"
)

func TestAPI(t *testing.T) {
	needModule(t)
	api, err := snapmap.GetAPI()
	if err != nil {
		t.Fatal(err)
	}
	if api.ABIVersion < snapmap.ABIVersion {
		t.Errorf("ABI version %d, want %d or later", api.ABIVersion, snapmap.ABIVersion)
	}
	all := snapmap.FeatureNamedMaps | snapmap.FeatureVersions |
		snapmap.FeatureAtomicSnapshots | snapmap.FeatureClone
	if api.Features&all != all {
		t.Errorf("features %#x, want %#x at least", api.Features, all)
	}
	for _, c := range []snapmap.Command{snapmap.CmdAPI, snapmap.CmdCreate,
		snapmap.CmdOpen, snapmap.CmdList, snapmap.CmdGet, snapmap.CmdPut,
		snapmap.CmdDel, snapmap.CmdBatch, snapmap.CmdClear, snapmap.CmdInfo,
		snapmap.CmdSnapshot, snapmap.CmdClone, snapmap.CmdSnapshotInfo} {
		if !api.Has(c) {
			t.Errorf("the module lacks command %#x", c)
		}
	}
	if api.Has(0x3f) || api.Has(64) {
		t.Errorf("commands 0x3f and 64 are none of ABI version 1: %#x", api.Ioctls)
	}
}

// A named map: made with its limits and mode, listed, opened by name,
// refused a second time, and gone with its last holder.
func TestCreateOpenList(t *testing.T) {
	needModule(t)
	ctl, err := snapmap.OpenControl()
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.Close()
	name := uniqueName("named")
	opts := &snapmap.CreateOptions{MaxKeyLen: 32, MaxValueLen: 100,
		MaxEntries: 50, MaxBytes: 1 << 20, Mode: 0640, Name: name}
	m, err := ctl.Create(opts)
	if err != nil {
		t.Fatal(err)
	}
	info, err := m.Info()
	if err != nil {
		t.Fatal(err)
	}
	if info.MaxKeyLen != 32 || info.MaxValueLen != 100 || info.MaxEntries != 50 ||
		info.MaxBytes != 1<<20 || info.Mode != 0640 || info.Name != name ||
		info.UID != uint32(os.Getuid()) || info.Entries != 0 {
		t.Errorf("Info %+v does not match %+v", info, opts)
	}

	_, err = ctl.Create(opts)
	wantErrno(t, syscall.EEXIST, err, "Create of a name taken")

	list, err := ctl.List()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, d := range list {
		if d.Name == name {
			found = true
			if d.Mode != 0640 || d.UID != uint32(os.Getuid()) {
				t.Errorf("List describes %s as %+v", name, d)
			}
		}
	}
	if !found {
		t.Errorf("List does not list %s: %+v", name, list)
	}

	m2, err := snapmap.Open(name, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Put([]byte("k"), []byte("through the first fd")); err != nil {
		t.Fatal(err)
	}
	v, _, err := m2.Get([]byte("k"))
	if err != nil || string(v) != "through the first fd" {
		t.Errorf("Get through the second fd: %q, %v", v, err)
	}
	m.Close()
	m2.Close()
	_, err = snapmap.Open(name, 0)
	wantErrno(t, syscall.ENOENT, err, "Open of a map whose holders all closed")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ENOENT does not match fs.ErrNotExist: %v", err)
	}
	if !strings.HasPrefix(err.Error(), "snapmap: open "+name+": ") {
		t.Errorf("error %q does not say what failed", err)
	}
}

func TestCreateInvalid(t *testing.T) {
	needModule(t)
	for _, c := range []struct {
		what string
		opts snapmap.CreateOptions
	}{
		{"a name with a slash", snapmap.CreateOptions{Name: "a/b"}},
		{"a name of 64 bytes", snapmap.CreateOptions{Name: strings.Repeat("n", 64)}},
		{"a name with a NUL", snapmap.CreateOptions{Name: "a\x00b"}},
		{"mode 01000", snapmap.CreateOptions{Mode: 01000}},
		{"a key length over the cap", snapmap.CreateOptions{MaxKeyLen: 1 << 30}},
	} {
		m, err := snapmap.Create(&c.opts)
		if err == nil {
			m.Close()
		}
		wantErrno(t, syscall.EINVAL, err, c.what)
	}
	_, err := snapmap.Open("no-such-map-"+uniqueName("x"), 0)
	wantErrno(t, syscall.ENOENT, err, "Open of no map")
	_, err = snapmap.Open("x", 1<<7)
	wantErrno(t, syscall.EINVAL, err, "Open with an unknown flag")
}

// A map opened read-only reads, snapshots and clones, and every write
// fails with EBADF.
func TestReadOnly(t *testing.T) {
	needModule(t)
	name := uniqueName("ro")
	m := newMap(t, &snapmap.CreateOptions{Name: name})
	if _, err := m.Put([]byte("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	ro, err := snapmap.Open(name, snapmap.OpenReadOnly)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if !ro.ReadOnly() || m.ReadOnly() {
		t.Errorf("ReadOnly: %v for the read-only map, %v for the other", ro.ReadOnly(), m.ReadOnly())
	}
	if v, _, err := ro.Get([]byte("k")); err != nil || string(v) != "v" {
		t.Errorf("Get: %q, %v", v, err)
	}
	_, err = ro.Put([]byte("k"), []byte("w"))
	wantErrno(t, syscall.EBADF, err, "Put on a read-only map")
	_, err = ro.Delete([]byte("k"))
	wantErrno(t, syscall.EBADF, err, "Delete on a read-only map")
	_, err = ro.CompareAndSwap([]byte("k"), []byte("w"), 1)
	wantErrno(t, syscall.EBADF, err, "CompareAndSwap on a read-only map")
	_, err = ro.Clear()
	wantErrno(t, syscall.EBADF, err, "Clear on a read-only map")
	sameEntries(t, "snapshot of the read-only map", snapshotOf(t, ro),
		[]entry{{"k", "v", 0}}, true)
	if v, _, err := m.Get([]byte("k")); err != nil || string(v) != "v" {
		t.Errorf("the map changed: %q, %v", v, err)
	}
}

// A closed map says so, with an error that matches ErrClosed.
func TestClosed(t *testing.T) {
	needModule(t)
	m, err := snapmap.Create(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = m.Put([]byte("k"), nil)
	if !errors.Is(err, snapmap.ErrClosed) {
		t.Errorf("Put on a closed map: %v, want ErrClosed", err)
	}
	if err := m.Close(); !errors.Is(err, snapmap.ErrClosed) {
		t.Errorf("a second Close: %v, want ErrClosed", err)
	}
}

// helperEnv asks the test binary to open a map and say how it went,
// rather than run tests: TestPermissions runs it under another uid.
const helperEnv = "SNAPMAP_GO_TEST_OPEN"

func runHelper() int {
	m, err := snapmap.Open(os.Getenv(helperEnv), snapmap.OpenReadOnly)
	switch {
	case err == nil:
		m.Close()
		os.Stdout.WriteString("opened\n")
	case errors.Is(err, syscall.EACCES):
		os.Stdout.WriteString("EACCES\n")
	default:
		os.Stdout.WriteString(err.Error() + "\n")
	}
	return 0
}

// The mode of a named map is checked as a file's: nobody may not open a
// map of mode 0600, and may read one of mode 0604.
func TestPermissions(t *testing.T) {
	needModule(t)
	if os.Getuid() != 0 {
		t.Skip("needs root, to run a program as nobody")
	}
	for _, c := range []struct {
		mode uint32
		want string
	}{{0600, "EACCES"}, {0604, "opened"}} {
		name := uniqueName("perm")
		newMap(t, &snapmap.CreateOptions{Name: name, Mode: c.mode})
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), helperEnv+"="+name)
		cmd.SysProcAttr = &syscall.SysProcAttr{
			Credential: &syscall.Credential{Uid: 65534, Gid: 65534},
		}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("running the test binary as nobody: %v", err)
		}
		if got := strings.TrimSpace(string(out)); got != c.want {
			t.Errorf("nobody opening a map of mode %#o: %s, want %s", c.mode, got, c.want)
		}
	}
}
