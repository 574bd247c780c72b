// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

package snapmap_test

import (
	"fmt"
	"syscall"
	"testing"

	"snapmap.dev/snapmap"
)

// An ATOMIC snapshot is the map when it was taken, whatever happens to
// the map afterwards, pass after pass.
func TestSnapshotIsPointInTime(t *testing.T) {
	m := newMap(t, nil)
	model := fill(t, m, 300)
	s, err := m.Snapshot(0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Weak() || s.Version() <= model[len(model)-1].version {
		t.Errorf("snapshot: weak %v, version %d, want ATOMIC above %d",
			s.Weak(), s.Version(), model[len(model)-1].version)
	}
	// Changes after the snapshot: none shows.
	if _, err := m.Put([]byte("key-0000"), []byte("changed")); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Delete([]byte("key-0001")); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Put([]byte("added"), []byte("later")); err != nil {
		t.Fatal(err)
	}
	sameEntries(t, "first pass", readAll(t, s), model, false)
	sameEntries(t, "second pass", readAll(t, s), model, false)
	info, err := s.Info()
	if err != nil {
		t.Fatal(err)
	}
	var bytes uint64
	for _, e := range model {
		bytes += 16 + (uint64(len(e.key)+len(e.value))+7)&^7
	}
	if info.Version != s.Version() || info.Entries != 300 || info.Bytes != bytes || info.Flags != 0 {
		t.Errorf("Info %+v, want version %d, 300 entries, %d bytes, flags 0",
			info, s.Version(), bytes)
	}
	// It outlives the map's last fd.
	m.Close()
	sameEntries(t, "after the map was closed", readAll(t, s), model, false)
}

// Range stops when its function says so, and starts over each time.
func TestSnapshotRange(t *testing.T) {
	m := newMap(t, nil)
	model := fill(t, m, 50)
	s, err := m.Snapshot(0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	calls := 0
	if err := s.Range(func(k, v []byte) bool { calls++; return calls < 3 }); err != nil {
		t.Fatal(err)
	}
	if calls != 3 {
		t.Errorf("Range called its function %d times after it returned false on the 3rd", calls)
	}
	seen := map[string]string{}
	err = s.Range(func(k, v []byte) bool {
		seen[string(k)] = string(v)
		return true
	})
	if err != nil || len(seen) != len(model) {
		t.Fatalf("a whole Range: %d keys, %v; want %d", len(seen), err, len(model))
	}
	for _, e := range model {
		if seen[e.key] != e.value {
			t.Errorf("Range gave %s=%q, want %q", e.key, seen[e.key], e.value)
		}
	}
}

// A pass ends the one before: the old iterator stops, with an error.
func TestSnapshotIteratorEndsWithNewPass(t *testing.T) {
	m := newMap(t, nil)
	fill(t, m, 10)
	s, err := m.Snapshot(0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	it := s.Iterate()
	if !it.Next() || len(it.Key()) == 0 || it.Version() == 0 {
		t.Fatalf("the first record: %q v%d, %v", it.Key(), it.Version(), it.Err())
	}
	it2 := s.Iterate()
	if it.Next() || it.Err() == nil {
		t.Errorf("the first iterator goes on after a new pass began")
	}
	n := 0
	for it2.Next() {
		n++
	}
	if it2.Err() != nil || n != 10 {
		t.Errorf("the new pass: %d records, %v", n, it2.Err())
	}
	// At the end, Next stays false with no error.
	if it2.Next() || it2.Err() != nil {
		t.Errorf("Next after the end: %v", it2.Err())
	}
}

// A WEAK snapshot is a walk of the live map: it has no version, and each
// pass sees the map as it is.
func TestSnapshotWeak(t *testing.T) {
	m := newMap(t, nil)
	model := fill(t, m, 20)
	s, err := m.Snapshot(snapmap.SnapshotWeak)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.Weak() || s.Version() != 0 {
		t.Errorf("WEAK snapshot: weak %v, version %d", s.Weak(), s.Version())
	}
	sameEntries(t, "a WEAK pass", readAll(t, s), model, false)
	info, err := s.Info()
	if err != nil || info.Flags != snapmap.SnapshotWeak || info.Entries != 20 {
		t.Errorf("Info after a pass: %+v, %v", info, err)
	}
	if _, err := m.Delete([]byte("key-0000")); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, s); len(got) != 19 {
		t.Errorf("a WEAK pass after a delete: %d entries, want 19", len(got))
	}
	_, err = m.Snapshot(1 << 9)
	wantErrno(t, syscall.EINVAL, err, "Snapshot with an unknown flag")
}

// A snapshot that pins too much of a map at its byte limit is
// invalidated: it says ESTALE, for good, and the writes went through.
func TestSnapshotStale(t *testing.T) {
	m := newMap(t, &snapmap.CreateOptions{MaxKeyLen: 16, MaxValueLen: 64, MaxBytes: 8192})
	value := func(round, i int) []byte {
		return []byte(fmt.Sprintf("%-64d", round*1000+i))
	}
	keys := 0
	for ; keys < 1000; keys++ {
		_, err := m.Put([]byte(fmt.Sprintf("k%d", keys)), value(0, keys))
		if err != nil {
			wantErrno(t, syscall.ENOSPC, err, "filling the map")
			break
		}
	}
	if keys < 2 || keys == 1000 {
		t.Fatalf("the map took %d keys", keys)
	}
	s, err := m.Snapshot(0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var stale error
	for round := 1; round < 100 && stale == nil; round++ {
		for i := 0; i < keys; i++ {
			if _, err := m.Put([]byte(fmt.Sprintf("k%d", i)), value(round, i)); err != nil {
				t.Fatalf("round %d: a write failed because of a snapshot: %v", round, err)
			}
		}
		stale = s.Range(func(k, v []byte) bool { return true })
	}
	wantErrno(t, syscall.ESTALE, stale, "reading a snapshot the writes went past")
	_, err = s.Info()
	wantErrno(t, syscall.ESTALE, err, "Info of a stale snapshot")
	wantErrno(t, syscall.ESTALE, s.Range(func(k, v []byte) bool { return true }),
		"reading it again")
	// A new one works.
	if got := snapshotOf(t, m); len(got) != keys {
		t.Errorf("a new snapshot holds %d entries, want %d", len(got), keys)
	}
}
