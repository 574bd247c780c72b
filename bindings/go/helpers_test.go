// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

package snapmap_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync/atomic"
	"syscall"
	"testing"

	"snapmap.dev/snapmap"
)

// needModule skips a test that needs the module when there is none: on a
// build machine.  In the rig the module is loaded, and a skip there fails
// the run (it is in no column of selftests/expectations).
func needModule(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(snapmap.DevicePath); err != nil {
		t.Skipf("no %s: the snapmap module is not loaded", snapmap.DevicePath)
	}
}

// names makes map names no other test, nor an earlier run, uses.
var nameSeq atomic.Uint64

func uniqueName(what string) string {
	return fmt.Sprintf("go-%s-%d-%d", what, os.Getpid(), nameSeq.Add(1))
}

// newMap makes a map for one test, closed when the test ends.
func newMap(t *testing.T, opts *snapmap.CreateOptions) *snapmap.Map {
	t.Helper()
	needModule(t)
	m, err := snapmap.Create(opts)
	if err != nil {
		t.Fatalf("Create(%+v): %v", opts, err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// wantErrno fails the test unless err wraps errno.
func wantErrno(t *testing.T, errno syscall.Errno, err error, what string) {
	t.Helper()
	if !errors.Is(err, errno) {
		t.Errorf("%s: error %v, want %s (%v)", what, err, errnoName(errno), errno)
	}
	var e *snapmap.Error
	if err != nil && !errors.As(err, &e) && !errors.Is(err, snapmap.ErrClosed) {
		if _, ok := err.(syscall.Errno); !ok {
			t.Errorf("%s: error %T is no *snapmap.Error", what, err)
		}
	}
}

func errnoName(e syscall.Errno) string {
	for name, v := range map[string]syscall.Errno{
		"EEXIST": syscall.EEXIST, "ENOENT": syscall.ENOENT,
		"ECANCELED": syscall.ECANCELED, "EINVAL": syscall.EINVAL,
		"EBADF": syscall.EBADF, "ERANGE": syscall.ERANGE,
		"ESTALE": syscall.ESTALE, "EMSGSIZE": syscall.EMSGSIZE,
		"ENOSPC": syscall.ENOSPC, "EACCES": syscall.EACCES,
	} {
		if v == e {
			return name
		}
	}
	return fmt.Sprintf("errno %d", int(e))
}

// entry is one record of a map, as a test's model holds it.
type entry struct {
	key, value string
	version    uint64
}

// readAll reads a snapshot whole with Range, sorted by key.
func readAll(t *testing.T, s *snapmap.Snapshot) []entry {
	t.Helper()
	var got []entry
	it := s.Iterate()
	for it.Next() {
		got = append(got, entry{string(it.Key()), string(it.Value()), it.Version()})
	}
	if err := it.Err(); err != nil {
		t.Fatalf("reading snapshot: %v", err)
	}
	sort.Slice(got, func(i, j int) bool { return got[i].key < got[j].key })
	return got
}

// snapshotOf takes an ATOMIC snapshot of m and reads it whole.
func snapshotOf(t *testing.T, m *snapmap.Map) []entry {
	t.Helper()
	s, err := m.Snapshot(0)
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	defer s.Close()
	return readAll(t, s)
}

// sameEntries compares two sorted lists of entries, versions included
// unless noVersions.
func sameEntries(t *testing.T, what string, got, want []entry, noVersions bool) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d entries, want %d", what, len(got), len(want))
	}
	for i := 0; i < len(got) && i < len(want); i++ {
		g, w := got[i], want[i]
		if noVersions {
			g.version, w.version = 0, 0
		}
		if g != w {
			t.Errorf("%s: entry %d is %q=%q (v%d), want %q=%q (v%d)", what,
				i, g.key, abbrev(g.value), g.version, w.key, abbrev(w.value), w.version)
			return
		}
	}
}

func abbrev(s string) string {
	if len(s) > 20 {
		return s[:20] + "..."
	}
	return s
}

// fill puts n keys "key-%04d" with values "value-%d" into m and returns
// the model, sorted.
func fill(t *testing.T, m *snapmap.Map, n int) []entry {
	t.Helper()
	var model []entry
	for i := 0; i < n; i++ {
		k, v := fmt.Sprintf("key-%04d", i), fmt.Sprintf("value-%d", i)
		ver, err := m.Put([]byte(k), []byte(v))
		if err != nil {
			t.Fatalf("Put(%s): %v", k, err)
		}
		model = append(model, entry{k, v, ver})
	}
	return model
}

// bytesOf is a value of n bytes that says where each byte is.
func bytesOf(n int) []byte {
	b := bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n]
	if n > 0 {
		copy(b, fmt.Sprintf("%d:", n))
	}
	return b[:n]
}
