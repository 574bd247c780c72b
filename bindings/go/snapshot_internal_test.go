// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

package snapmap

import (
	"bytes"
	"errors"
	"os"
	"syscall"
	"testing"
)

// A record longer than the read buffer: read(2) says EMSGSIZE, and the
// buffer doubles until the record fits.
func TestSnapshotGrowsItsBuffer(t *testing.T) {
	if _, err := os.Stat(DevicePath); err != nil {
		t.Skipf("no %s: the snapmap module is not loaded", DevicePath)
	}
	m, err := Create(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	want := map[string][]byte{}
	for i, n := range []int{0, 1, 40, 100, 5000} {
		k := string(rune('a' + i))
		want[k] = bytes.Repeat([]byte{byte(i)}, n)
		if _, err := m.Put([]byte(k), want[k]); err != nil {
			t.Fatal(err)
		}
	}
	s, err := m.Snapshot(0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.buf = make([]byte, 32)
	got := map[string][]byte{}
	err = s.Range(func(k, v []byte) bool {
		got[string(k)] = append([]byte(nil), v...)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("%d records, want %d", len(got), len(want))
	}
	for k, v := range want {
		if !bytes.Equal(got[k], v) {
			t.Errorf("record %s: %d bytes, want %d", k, len(got[k]), len(v))
		}
	}
	if len(s.buf) < int(recordSize(1, 5000)) || len(s.buf) > 2*int(recordSize(1, 5000)) {
		t.Errorf("the buffer grew to %d bytes for a record of %d", len(s.buf), recordSize(1, 5000))
	}
}

// Records that do not parse stop the pass with EIO rather than skip or
// read past what read(2) returned.
func TestSnapshotRecordsChecked(t *testing.T) {
	record := func(kl, vl uint32, body int) []byte {
		b := make([]byte, 16+body)
		nativeEndian.PutUint32(b[0:], kl)
		nativeEndian.PutUint32(b[4:], vl)
		nativeEndian.PutUint64(b[8:], 7)
		return b
	}
	good := record(3, 2, 8)
	copy(good[16:], "keyvl")
	for _, c := range []struct {
		name  string
		buf   []byte
		valid int
	}{
		{"a short header", make([]byte, 8), 0},
		{"an empty key", record(0, 4, 8), 0},
		{"a record longer than the bytes read", record(8, 9, 16), 0},
		{"a good record, then a cut one", append(append([]byte{}, good...), record(4, 0, 0)...), 1},
	} {
		it := &Iterator{s: &Snapshot{}, buf: c.buf}
		n := 0
		for it.Next() {
			if string(it.Key()) != "key" || string(it.Value()) != "vl" || it.Version() != 7 {
				t.Errorf("%s: record %q=%q v%d", c.name, it.Key(), it.Value(), it.Version())
			}
			n++
		}
		if n != c.valid || !errors.Is(it.Err(), syscall.EIO) {
			t.Errorf("%s: %d records, then %v; want %d, then EIO", c.name, n, it.Err(), c.valid)
		}
	}
}
