// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

package snapmap

import (
	"bytes"
	"os"
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
