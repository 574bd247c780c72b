// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

package snapmap_test

import (
	"bytes"
	"errors"
	"strings"
	"syscall"
	"testing"

	"snapmap.dev/snapmap"
)

// Put, Get and Delete, and the versions they report: each write takes the
// next place in the map's sequence of writes.
func TestPutGetDelete(t *testing.T) {
	m := newMap(t, nil)
	v1, err := m.Put([]byte("k"), []byte("one"))
	if err != nil {
		t.Fatal(err)
	}
	val, ver, err := m.Get([]byte("k"))
	if err != nil || string(val) != "one" || ver != v1 {
		t.Errorf("Get: %q v%d %v, want \"one\" v%d", val, ver, err, v1)
	}
	v2, err := m.Put([]byte("k"), []byte("two"))
	if err != nil || v2 <= v1 {
		t.Errorf("a second Put: v%d %v, want a version above %d", v2, err, v1)
	}
	// An empty value is a value.
	v3, err := m.Put([]byte("empty"), nil)
	if err != nil {
		t.Fatal(err)
	}
	val, ver, err = m.Get([]byte("empty"))
	if err != nil || len(val) != 0 || ver != v3 {
		t.Errorf("Get of an empty value: %q v%d %v", val, ver, err)
	}
	vd, err := m.Delete([]byte("k"))
	if err != nil || vd <= v3 {
		t.Errorf("Delete: v%d %v, want a version above %d", vd, err, v3)
	}
	_, _, err = m.Get([]byte("k"))
	wantErrno(t, syscall.ENOENT, err, "Get of a deleted key")
	_, err = m.Delete([]byte("k"))
	wantErrno(t, syscall.ENOENT, err, "Delete of an absent key")
	var e *snapmap.Error
	if !errors.As(err, &e) || e.Op != "delete" || e.Err != syscall.ENOENT {
		t.Errorf("Delete's error %#v, want an *Error{Op: \"delete\", Err: ENOENT}", err)
	}
	info, err := m.Info()
	if err != nil {
		t.Fatal(err)
	}
	if info.Entries != 1 || info.Puts != 3 || info.Dels != 1 || info.Version < vd {
		t.Errorf("Info: %d entries, %d puts, %d dels, version %d; want 1, 3, 1, %d or more",
			info.Entries, info.Puts, info.Dels, info.Version, vd)
	}
}

// A value longer than Get's first buffer: the module says ERANGE and how
// long the value is, and Get asks again.
func TestGetGrowsItsBuffer(t *testing.T) {
	m := newMap(t, nil)
	for _, n := range []int{255, 256, 257, 1000, 70000} {
		want := bytesOf(n)
		ver, err := m.Put([]byte("big"), want)
		if err != nil {
			t.Fatal(err)
		}
		got, gv, err := m.Get([]byte("big"))
		if err != nil || !bytes.Equal(got, want) || gv != ver {
			t.Errorf("Get of %d bytes: %d bytes v%d %v", n, len(got), gv, err)
		}
		small := make([]byte, 3, 8)
		got, gv, err = m.GetBuffer([]byte("big"), small)
		if err != nil || !bytes.Equal(got, want) || gv != ver {
			t.Errorf("GetBuffer of %d bytes with 8: %d bytes v%d %v", n, len(got), gv, err)
		}
	}
	// A value that fits is read into the caller's buffer.
	if _, err := m.Put([]byte("small"), []byte("abc")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 0, 16)
	got, _, err := m.GetBuffer([]byte("small"), buf)
	if err != nil || string(got) != "abc" || &got[0] != &buf[:1][0] {
		t.Errorf("GetBuffer of 3 bytes into 16: %q %v, in the buffer given: %v",
			got, err, err == nil && &got[0] == &buf[:1][0])
	}
}

func TestInsertReplace(t *testing.T) {
	m := newMap(t, nil)
	_, err := m.Replace([]byte("k"), []byte("v"))
	wantErrno(t, syscall.ENOENT, err, "Replace of an absent key")
	if _, err := m.Insert([]byte("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	_, err = m.Insert([]byte("k"), []byte("w"))
	wantErrno(t, syscall.EEXIST, err, "Insert of a present key")
	if _, err := m.Replace([]byte("k"), []byte("w")); err != nil {
		t.Fatal(err)
	}
	if v, _, _ := m.Get([]byte("k")); string(v) != "w" {
		t.Errorf("value %q after Replace, want \"w\"", v)
	}
}

// Compare-and-swap and compare-and-delete on the entry's version.
func TestCompareAndSwap(t *testing.T) {
	m := newMap(t, nil)
	_, err := m.CompareAndSwap([]byte("k"), []byte("v"), 1)
	wantErrno(t, syscall.ECANCELED, err, "CompareAndSwap of an absent key")
	v1, err := m.Put([]byte("k"), []byte("one"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.CompareAndSwap([]byte("k"), []byte("two"), v1+1)
	wantErrno(t, syscall.ECANCELED, err, "CompareAndSwap with another version")
	v2, err := m.CompareAndSwap([]byte("k"), []byte("two"), v1)
	if err != nil || v2 <= v1 {
		t.Fatalf("CompareAndSwap with the version: v%d %v", v2, err)
	}
	_, err = m.CompareAndSwap([]byte("k"), []byte("three"), v1)
	wantErrno(t, syscall.ECANCELED, err, "CompareAndSwap with the old version")
	_, err = m.CompareAndDelete([]byte("k"), v1)
	wantErrno(t, syscall.ECANCELED, err, "CompareAndDelete with the old version")
	if v, _, _ := m.Get([]byte("k")); string(v) != "two" {
		t.Errorf("value %q after failed swaps, want \"two\"", v)
	}
	if _, err := m.CompareAndDelete([]byte("k"), v2); err != nil {
		t.Fatal(err)
	}
	_, _, err = m.Get([]byte("k"))
	wantErrno(t, syscall.ENOENT, err, "Get after CompareAndDelete")
}

// What the module refuses, and what the package refuses before it.
func TestBadArguments(t *testing.T) {
	m := newMap(t, &snapmap.CreateOptions{MaxKeyLen: 8, MaxValueLen: 16, MaxEntries: 2})
	k, v := []byte("k"), []byte("v")
	_, err := m.PutWithFlags(k, v, snapmap.PutNoExist|snapmap.PutExist, 0)
	wantErrno(t, syscall.EINVAL, err, "Put with two flags")
	_, err = m.PutWithFlags(k, v, 1<<31, 0)
	wantErrno(t, syscall.EINVAL, err, "Put with an unknown flag")
	_, err = m.PutWithFlags(k, v, 0, 5)
	wantErrno(t, syscall.EINVAL, err, "Put with a version and no PutIfVersion")
	_, err = m.DeleteWithFlags(k, 1<<7, 0)
	wantErrno(t, syscall.EINVAL, err, "Delete with an unknown flag")
	_, err = m.Put(nil, v)
	wantErrno(t, syscall.EINVAL, err, "Put of an empty key")
	_, _, err = m.Get(nil)
	wantErrno(t, syscall.EINVAL, err, "Get of an empty key")
	_, err = m.Put([]byte("123456789"), v)
	wantErrno(t, syscall.EMSGSIZE, err, "Put of a key over the limit")
	_, err = m.Put(k, []byte(strings.Repeat("v", 17)))
	wantErrno(t, syscall.EMSGSIZE, err, "Put of a value over the limit")
	for _, key := range []string{"a", "b"} {
		if _, err := m.Put([]byte(key), v); err != nil {
			t.Fatal(err)
		}
	}
	_, err = m.Put([]byte("c"), v)
	wantErrno(t, syscall.ENOSPC, err, "Put into a full map")
	// Replacing in a full map is fine.
	if _, err := m.Put([]byte("a"), []byte("w")); err != nil {
		t.Errorf("Put replacing in a full map: %v", err)
	}
	info, _ := m.Info()
	if info.Entries != 2 || info.Puts != 3 {
		t.Errorf("the refused calls changed the map: %+v", info)
	}
}

func TestClear(t *testing.T) {
	m := newMap(t, nil)
	model := fill(t, m, 100)
	v, err := m.Clear()
	if err != nil || v <= model[len(model)-1].version {
		t.Fatalf("Clear: v%d %v", v, err)
	}
	info, _ := m.Info()
	if info.Entries != 0 {
		t.Errorf("%d entries after Clear", info.Entries)
	}
	if got := snapshotOf(t, m); len(got) != 0 {
		t.Errorf("a snapshot after Clear holds %d entries", len(got))
	}
}
