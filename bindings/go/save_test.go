// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

package snapmap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The check value of CRC-32C that docs/save-format.md gives.
func TestSaveCRC32C(t *testing.T) {
	if got := crc32.Checksum([]byte("123456789"), castagnoli); got != 0xE3069283 {
		t.Fatalf("CRC-32C of 123456789 = %#x, want 0xe3069283", got)
	}
}

func testSaveFile() *SaveFile {
	return &SaveFile{
		Header: SaveHeader{
			Mode:            0640,
			SnapshotVersion: 42,
			MaxKeyLen:       16,
			MaxValueLen:     64,
			MaxEntries:      10,
			MaxBytes:        1 << 20,
			SavedAt:         time.Unix(1767225600, 0),
			Name:            "go.test-1",
		},
		Records: []Record{
			{Key: []byte("alpha"), Value: []byte("one"), Version: 7},
			{Key: []byte("beta"), Value: []byte{}, Version: 9},
			{Key: []byte{0, 1, 2}, Value: bytes.Repeat([]byte{0xff}, 64), Version: 41},
		},
	}
}

func encode(t *testing.T, f *SaveFile) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := f.WriteTo(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) {
		t.Fatalf("WriteTo reported %d bytes, wrote %d", n, buf.Len())
	}
	return buf.Bytes()
}

// The layout byte by byte, as docs/save-format.md draws it.
func TestSaveLayout(t *testing.T) {
	f := testSaveFile()
	b := encode(t, f)
	le := binary.LittleEndian
	want := saveHeaderSize + (16 + 5 + 3) + (16 + 4) + (16 + 3 + 64) + saveTrailerSize
	if len(b) != want {
		t.Fatalf("%d bytes, want %d", len(b), want)
	}
	if string(b[:8]) != "\x89SNAPMAP" {
		t.Errorf("magic %q", b[:8])
	}
	for _, c := range []struct {
		what      string
		got, want uint64
	}{
		{"format_version", uint64(le.Uint32(b[8:])), 1},
		{"header_size", uint64(le.Uint32(b[12:])), 160},
		{"flags", uint64(le.Uint32(b[16:])), 0},
		{"mode", uint64(le.Uint32(b[20:])), 0640},
		{"snapshot_version", le.Uint64(b[24:]), 42},
		{"record_count", le.Uint64(b[32:]), 3},
		{"max_key_len", uint64(le.Uint32(b[40:])), 16},
		{"max_value_len", uint64(le.Uint32(b[44:])), 64},
		{"max_entries", le.Uint64(b[48:]), 10},
		{"max_bytes", le.Uint64(b[56:]), 1 << 20},
		{"saved_at", le.Uint64(b[64:]), 1767225600},
		{"first key_len", uint64(le.Uint32(b[160:])), 5},
		{"first value_len", uint64(le.Uint32(b[164:])), 3},
		{"first version", le.Uint64(b[168:]), 7},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.what, c.got, c.want)
		}
	}
	if string(b[72:72+10]) != "go.test-1\x00" || !allZero(b[82:160]) {
		t.Errorf("name and reserved bytes %q", b[72:160])
	}
	if string(b[176:184]) != "alphaone" {
		t.Errorf("first record's key and value %q", b[176:184])
	}
	end := len(b) - saveTrailerSize
	if string(b[end:end+8]) != "\x89SNAPEND" {
		t.Errorf("end marker %q", b[end:end+8])
	}
	if crc := crc32.Checksum(b[:len(b)-4], castagnoli); le.Uint32(b[len(b)-4:]) != crc {
		t.Errorf("checksum %#x, want %#x", le.Uint32(b[len(b)-4:]), crc)
	}
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func TestSaveRoundTrip(t *testing.T) {
	f := testSaveFile()
	got, err := ReadSaveFile(bytes.NewReader(encode(t, f)))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Header, f.Header) {
		t.Errorf("header %+v, want %+v", got.Header, f.Header)
	}
	if len(got.Records) != len(f.Records) {
		t.Fatalf("%d records, want %d", len(got.Records), len(f.Records))
	}
	for i, r := range got.Records {
		w := f.Records[i]
		if !bytes.Equal(r.Key, w.Key) || !bytes.Equal(r.Value, w.Value) ||
			r.Version != w.Version {
			t.Errorf("record %d: %q=%q v%d, want %q=%q v%d", i,
				r.Key, r.Value, r.Version, w.Key, w.Value, w.Version)
		}
	}
}

// rechecksum writes the right checksum into b, so that the check that
// follows the checksum's is the one a change meets.
func rechecksum(b []byte) []byte {
	binary.LittleEndian.PutUint32(b[len(b)-4:],
		crc32.Checksum(b[:len(b)-4], castagnoli))
	return b
}

// Every check of docs/save-format.md refuses what it must, with the
// reason snapmapctl gives.
func TestSaveChecks(t *testing.T) {
	le := binary.LittleEndian
	for _, c := range []struct {
		name   string
		change func(b []byte) []byte
		want   string
	}{
		{"empty", func(b []byte) []byte { return nil }, "no magic number"},
		{"another kind", func(b []byte) []byte { b[1] = 'X'; return b }, "no magic number"},
		{"short", func(b []byte) []byte { return b[:100] }, "truncated: 100 bytes"},
		{"version 2", func(b []byte) []byte { le.PutUint32(b[8:], 2); return b }, "format version 2 is not supported"},
		{"flipped bit", func(b []byte) []byte { b[170] ^= 1; return b }, "checksum mismatch"},
		{"cut inside a record", func(b []byte) []byte { return b[:190] }, "inside record 2 of the 3"},
		{"trailing data", func(b []byte) []byte { return append(b, 0) }, "1 bytes of trailing data"},
		{"header size", func(b []byte) []byte { le.PutUint32(b[12:], 161); return rechecksum(b) }, "header size 161"},
		{"flags", func(b []byte) []byte { le.PutUint32(b[16:], 1); return rechecksum(b) }, "unknown flags 0x1"},
		{"reserved", func(b []byte) []byte { b[159] = 1; return rechecksum(b) }, "reserved header byte 159"},
		{"name unterminated", func(b []byte) []byte {
			copy(b[72:136], strings.Repeat("n", 64))
			return rechecksum(b)
		}, "not terminated"},
		{"name padding", func(b []byte) []byte { b[100] = 'x'; return rechecksum(b) }, "not padded with zeros"},
		{"name byte", func(b []byte) []byte { b[72] = '/'; return rechecksum(b) }, "holds a byte 0x2f"},
		{"mode", func(b []byte) []byte { le.PutUint32(b[20:], 01000); return rechecksum(b) }, "not a permission mode"},
		{"zero limit", func(b []byte) []byte { le.PutUint64(b[56:], 0); return rechecksum(b) }, "a limit in the header is zero"},
		{"over max_entries", func(b []byte) []byte { le.PutUint64(b[48:], 2); return rechecksum(b) }, "3 records, over the map's limit of 2"},
		{"key too long", func(b []byte) []byte { le.PutUint32(b[40:], 4); return rechecksum(b) }, "record 1: key length 5"},
		{"value too long", func(b []byte) []byte { le.PutUint32(b[44:], 2); return rechecksum(b) }, "record 1: value length 3"},
		{"count too high", func(b []byte) []byte { le.PutUint64(b[32:], 4); return rechecksum(b) }, "the header counts 4 records, the file holds 3"},
		{"count too low", func(b []byte) []byte { le.PutUint64(b[32:], 2); return rechecksum(b) }, "bytes between the last of the 2 records"},
		{"end marker", func(b []byte) []byte { b[len(b)-6] = 'X'; return rechecksum(b) }, "no end marker"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := c.change(encode(t, testSaveFile()))
			_, err := ReadSaveFile(bytes.NewReader(b))
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v, want one matching ErrCorrupt", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not say %q", err, c.want)
			}
		})
	}

	f := testSaveFile()
	f.Records[1].Key = []byte("alpha")
	_, err := ReadSaveFile(bytes.NewReader(encode(t, f)))
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "record 2 repeats the key") {
		t.Errorf("a repeated key: %v", err)
	}
}

// An error of a call inside another says both, once each.
func TestErrorWrapping(t *testing.T) {
	err := wrap("save", wrap("snapshot read", syscall.ESTALE))
	// The errno's text differs between architectures.
	if got, want := err.Error(), "snapmap: save: snapshot read: "+syscall.ESTALE.Error(); got != want {
		t.Errorf("error %q, want %q", got, want)
	}
	if !errors.Is(err, syscall.ESTALE) {
		t.Errorf("%v does not match ESTALE", err)
	}
	if wrap("save", nil) != nil {
		t.Errorf("wrap of nil is not nil")
	}
}
