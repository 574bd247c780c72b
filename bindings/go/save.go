// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

package snapmap

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"time"
)

// The save file format, version 1, of snapmapctl save and load: see
// docs/save-format.md.  Every integer is little-endian.
const (
	saveMagic       = "\x89SNAPMAP"
	saveEndMagic    = "\x89SNAPEND"
	saveVersion     = 1
	saveHeaderSize  = 160
	saveRecordHead  = 16
	saveTrailerSize = 12

	// Offsets of the header's members.
	offVersion     = 8
	offHeaderSize  = 12
	offFlags       = 16
	offMode        = 20
	offSnapVersion = 24
	offCount       = 32
	offMaxKeyLen   = 40
	offMaxValueLen = 44
	offMaxEntries  = 48
	offMaxBytes    = 56
	offSavedAt     = 64
	offName        = 72
	offReserved    = 136
)

// castagnoli is the CRC-32C of the trailer: polynomial 0x1EDC6F41,
// reflected, initial value and final XOR 0xFFFFFFFF, as hash/crc32 has it.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// SaveHeader is what a save file says of the map it was saved from.
type SaveHeader struct {
	// Mode is the source map's permission bits.
	Mode uint32
	// SnapshotVersion is the version of the ATOMIC snapshot saved: it
	// holds exactly the map's writes of versions below it.
	SnapshotVersion uint64
	// MaxKeyLen is the source map's key length limit.
	MaxKeyLen uint32
	// MaxValueLen is the source map's value length limit.
	MaxValueLen uint32
	// MaxEntries is the source map's entry limit.
	MaxEntries uint64
	// MaxBytes is the source map's byte limit.
	MaxBytes uint64
	// SavedAt is when the file was written, to the second.
	SavedAt time.Time
	// Name is the source map's name, empty for an unnamed map.
	Name string
}

// Record is one entry of a save file.
type Record struct {
	Key     []byte // the entry's key
	Value   []byte // the entry's value
	Version uint64 // the entry's version in the source map
}

// SaveFile is a whole save file, as ReadSaveFile reads and checks it.
type SaveFile struct {
	Header  SaveHeader // what the file says of the map
	Records []Record   // the map's entries, in the order saved
}

// saveWriter writes a save file, checksumming as it goes; the first error
// sticks.
type saveWriter struct {
	w   *bufio.Writer
	crc uint32
	n   int64
	err error
}

func (sw *saveWriter) write(b []byte) {
	if sw.err != nil {
		return
	}
	sw.crc = crc32.Update(sw.crc, castagnoli, b)
	var n int
	n, sw.err = sw.w.Write(b)
	sw.n += int64(n)
}

func (sw *saveWriter) header(h *SaveHeader, count uint64) {
	var b [saveHeaderSize]byte
	le := binary.LittleEndian

	copy(b[:], saveMagic)
	le.PutUint32(b[offVersion:], saveVersion)
	le.PutUint32(b[offHeaderSize:], saveHeaderSize)
	le.PutUint32(b[offMode:], h.Mode)
	le.PutUint64(b[offSnapVersion:], h.SnapshotVersion)
	le.PutUint64(b[offCount:], count)
	le.PutUint32(b[offMaxKeyLen:], h.MaxKeyLen)
	le.PutUint32(b[offMaxValueLen:], h.MaxValueLen)
	le.PutUint64(b[offMaxEntries:], h.MaxEntries)
	le.PutUint64(b[offMaxBytes:], h.MaxBytes)
	if !h.SavedAt.IsZero() {
		le.PutUint64(b[offSavedAt:], uint64(h.SavedAt.Unix()))
	}
	name := h.Name
	if len(name) > NameLen-1 {
		name = name[:NameLen-1]
	}
	copy(b[offName:offName+NameLen-1], name)
	sw.write(b[:])
}

func (sw *saveWriter) record(key, value []byte, version uint64) {
	var head [saveRecordHead]byte
	le := binary.LittleEndian

	le.PutUint32(head[0:], uint32(len(key)))
	le.PutUint32(head[4:], uint32(len(value)))
	le.PutUint64(head[8:], version)
	sw.write(head[:])
	sw.write(key)
	sw.write(value)
}

func (sw *saveWriter) trailer() error {
	var crc [4]byte

	sw.write([]byte(saveEndMagic))
	binary.LittleEndian.PutUint32(crc[:], sw.crc)
	if sw.err == nil {
		var n int
		n, sw.err = sw.w.Write(crc[:])
		sw.n += int64(n)
	}
	if sw.err == nil {
		sw.err = sw.w.Flush()
	}
	return sw.err
}

// Save writes an ATOMIC snapshot of the map to w in the save file format
// of snapmapctl (docs/save-format.md), which `snapmapctl load` reads, and
// returns the header written.  Writers keep running meanwhile.  When the
// snapshot goes stale midway, Save fails with ESTALE and what it wrote is
// no save file: write to a temporary file and rename it into place, as
// snapmapctl does, to keep the old file until the new one is whole.
func (m *Map) Save(w io.Writer) (SaveHeader, error) {
	info, err := m.Info()
	if err != nil {
		return SaveHeader{}, wrap("save", err)
	}
	snap, err := m.Snapshot(0)
	if err != nil {
		return SaveHeader{}, wrap("save", err)
	}
	defer snap.Close()
	si, err := snap.Info()
	if err != nil {
		return SaveHeader{}, wrap("save", err)
	}
	h := SaveHeader{
		Mode:            info.Mode,
		SnapshotVersion: snap.Version(),
		MaxKeyLen:       info.MaxKeyLen,
		MaxValueLen:     info.MaxValueLen,
		MaxEntries:      info.MaxEntries,
		MaxBytes:        info.MaxBytes,
		SavedAt:         time.Unix(time.Now().Unix(), 0),
		Name:            info.Name,
	}
	sw := &saveWriter{w: bufio.NewWriterSize(w, 1<<20)}
	sw.header(&h, si.Entries)
	var count uint64
	it := snap.Iterate()
	for it.Next() && sw.err == nil {
		sw.record(it.Key(), it.Value(), it.Version())
		count++
	}
	if err := it.Err(); err != nil {
		return SaveHeader{}, wrap("save", err)
	}
	if sw.err == nil && count != si.Entries {
		return SaveHeader{}, wrap("save", fmt.Errorf(
			"the snapshot counted %d records but yielded %d",
			si.Entries, count))
	}
	if err := sw.trailer(); err != nil {
		return SaveHeader{}, wrap("save", err)
	}
	return h, nil
}

// WriteTo writes f in the save file format, and returns the bytes
// written.  A file made up in Go gets the same checks from
// `snapmapctl load` as one it wrote itself: limits not 0, every record
// within them, no key twice.
func (f *SaveFile) WriteTo(w io.Writer) (int64, error) {
	sw := &saveWriter{w: bufio.NewWriter(w)}
	sw.header(&f.Header, uint64(len(f.Records)))
	for _, r := range f.Records {
		sw.record(r.Key, r.Value, r.Version)
	}
	err := sw.trailer()
	return sw.n, wrap("write save file", err)
}

// ReadSaveFile reads a whole save file from r and checks all of it, as
// `snapmapctl load` does and in the same order: magic, length, format
// version, checksum, then everything a careless writer could get wrong.
// A file that fails a check gets an error that matches ErrCorrupt and
// says what is wrong.  The records' keys and values share one buffer.
func ReadSaveFile(r io.Reader) (*SaveFile, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, wrap("read save file", err)
	}
	f, err := parseSaveFile(b)
	if err != nil {
		return nil, wrap("read save file", err)
	}
	return f, nil
}

// corrupt is a check of the format that failed.
func corrupt(format string, args ...interface{}) error {
	return fmt.Errorf("%w: "+format, append([]interface{}{ErrCorrupt}, args...)...)
}

func nameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' ||
		c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
}

func parseSaveFile(b []byte) (*SaveFile, error) {
	le := binary.LittleEndian
	n := len(b)

	if m := len(saveMagic); !bytes.HasPrefix(b, []byte(saveMagic)[:min(n, m)]) || n == 0 {
		return nil, corrupt("not a snapmap save file (no magic number)")
	}
	if n < saveHeaderSize+saveTrailerSize {
		return nil, corrupt("truncated: %d bytes, less than a header and a trailer (%d)",
			n, saveHeaderSize+saveTrailerSize)
	}
	// Before the checksum: a newer format may checksum differently.
	if v := le.Uint32(b[offVersion:]); v != saveVersion {
		return nil, corrupt("format version %d is not supported (this package reads version %d)",
			v, saveVersion)
	}
	count := le.Uint64(b[offCount:])
	if crc32.Checksum(b[:n-4], castagnoli) != le.Uint32(b[n-4:]) {
		return nil, diagnose(b, count)
	}

	// The file is as its writer made it: what follows catches writers
	// that got the format wrong, and files made by hand.
	if hs := le.Uint32(b[offHeaderSize:]); hs != saveHeaderSize {
		return nil, corrupt("header size %d, expected %d", hs, saveHeaderSize)
	}
	if fl := le.Uint32(b[offFlags:]); fl != 0 {
		return nil, corrupt("unknown flags %#x in the header", fl)
	}
	for i := offReserved; i < saveHeaderSize; i++ {
		if b[i] != 0 {
			return nil, corrupt("reserved header byte %d is not zero", i)
		}
	}
	name := b[offName : offName+NameLen]
	nameLen := bytes.IndexByte(name, 0)
	if nameLen < 0 {
		return nil, corrupt("the map name is not terminated")
	}
	for _, c := range name[nameLen:] {
		if c != 0 {
			return nil, corrupt("the map name is not padded with zeros")
		}
	}
	for _, c := range name[:nameLen] {
		if !nameByte(c) {
			return nil, corrupt("the map name holds a byte %#02x, not one of [A-Za-z0-9._-]", c)
		}
	}
	h := SaveHeader{
		Mode:            le.Uint32(b[offMode:]),
		SnapshotVersion: le.Uint64(b[offSnapVersion:]),
		MaxKeyLen:       le.Uint32(b[offMaxKeyLen:]),
		MaxValueLen:     le.Uint32(b[offMaxValueLen:]),
		MaxEntries:      le.Uint64(b[offMaxEntries:]),
		MaxBytes:        le.Uint64(b[offMaxBytes:]),
		SavedAt:         time.Unix(int64(le.Uint64(b[offSavedAt:])), 0),
		Name:            string(name[:nameLen]),
	}
	if h.Mode&^0777 != 0 {
		return nil, corrupt("mode %#o is not a permission mode", h.Mode)
	}
	if h.MaxKeyLen == 0 || h.MaxEntries == 0 || h.MaxBytes == 0 {
		return nil, corrupt("a limit in the header is zero")
	}
	if count > h.MaxEntries {
		return nil, corrupt("%d records, over the map's limit of %d entries",
			count, h.MaxEntries)
	}

	end := uint64(n - saveTrailerSize)
	off := uint64(saveHeaderSize)
	recs := make([]Record, 0, min64(count, end/saveRecordHead))
	seen := make(map[string]struct{}, cap(recs))
	for i := uint64(0); i < count; i++ {
		if end-off < saveRecordHead {
			return nil, corrupt("the header counts %d records, the file holds %d", count, i)
		}
		kl := uint64(le.Uint32(b[off:]))
		vl := uint64(le.Uint32(b[off+4:]))
		if kl == 0 || kl > uint64(h.MaxKeyLen) {
			return nil, corrupt("record %d: key length %d is not within 1 to the map's limit of %d",
				i+1, kl, h.MaxKeyLen)
		}
		if vl > uint64(h.MaxValueLen) {
			return nil, corrupt("record %d: value length %d is over the map's limit of %d",
				i+1, vl, h.MaxValueLen)
		}
		ver := le.Uint64(b[off+8:])
		off += saveRecordHead
		if end-off < kl+vl {
			return nil, corrupt("record %d runs into the trailer", i+1)
		}
		key := b[off : off+kl : off+kl]
		val := b[off+kl : off+kl+vl : off+kl+vl]
		off += kl + vl
		if _, dup := seen[string(key)]; dup {
			return nil, corrupt("record %d repeats the key of an earlier record", i+1)
		}
		seen[string(key)] = struct{}{}
		recs = append(recs, Record{Key: key, Value: val, Version: ver})
	}
	if off != end {
		return nil, corrupt("%d bytes between the last of the %d records and the trailer",
			end-off, count)
	}
	if !bytes.Equal(b[off:off+8], []byte(saveEndMagic)) {
		return nil, corrupt("no end marker before the checksum")
	}
	return &SaveFile{Header: h, Records: recs}, nil
}

// diagnose finds the likeliest reason for a checksum that does not match,
// walking the records as the header counts them, trusting nothing.
func diagnose(b []byte, count uint64) error {
	le := binary.LittleEndian
	n := uint64(len(b))
	off := uint64(saveHeaderSize)
	for i := uint64(0); i < count; i++ {
		if n-off < saveRecordHead {
			return truncated(n, i, count)
		}
		rec := uint64(le.Uint32(b[off:])) + uint64(le.Uint32(b[off+4:]))
		off += saveRecordHead
		if n-off < rec {
			return truncated(n, i, count)
		}
		off += rec
	}
	if n-off < saveTrailerSize {
		return truncated(n, count, count)
	}
	end := off + saveTrailerSize
	if end < n && bytes.Equal(b[off:off+8], []byte(saveEndMagic)) &&
		crc32.Checksum(b[:end-4], castagnoli) == le.Uint32(b[end-4:]) {
		return corrupt("%d bytes of trailing data after the end of the save file", n-end)
	}
	return corrupt("checksum mismatch: the file is corrupt")
}

func truncated(n, i, count uint64) error {
	if i < count {
		i++
	}
	return corrupt("truncated or corrupt: the file ends (at %d bytes) inside record %d of the %d its header counts",
		n, i, count)
}

func min(a, b int) int {
	if a < b {
		return a
	}
	return b
}

func min64(a, b uint64) uint64 {
	if a < b {
		return a
	}
	return b
}

// loadBatch is how many records Load writes per call.
const loadBatch = 256

// Load writes every record of f into the map, inserting each key (EEXIST,
// and the load stops, for a key the map holds already): into an empty map
// it restores the saved contents.  The entries get new versions, as for
// any write.  On an error the records before the failed one are written:
// Control.Load, which makes the map, is all or nothing.
func (m *Map) Load(f *SaveFile) error {
	ops := make([]BatchOp, 0, loadBatch)
	for start := 0; start < len(f.Records); start += loadBatch {
		ops = ops[:0]
		for _, r := range f.Records[start:min(start+loadBatch, len(f.Records))] {
			op := PutOp(r.Key, r.Value)
			op.Flags = uint32(PutNoExist)
			ops = append(ops, op)
		}
		if _, err := m.Batch(ops, BatchStopOnError); err != nil {
			return wrap("load", err)
		}
		for i, op := range ops {
			if op.Err != nil {
				return wrap(fmt.Sprintf("load: record %d", start+i+1), op.Err)
			}
		}
	}
	return nil
}

// Load makes a map from a save file and returns it: with the file's
// limits and mode, except where opts gives others, and opts' name (the
// file's is informational).  A named map is built unnamed, where no one
// can reach it, then cloned under its name, as snapmapctl load does: the
// name appears with every record in the map, and on an error no map is
// made.
func (c *Control) Load(f *SaveFile, opts *CreateOptions) (*Map, error) {
	o := CreateOptions{}
	if opts != nil {
		o = *opts
	}
	h := &f.Header
	if o.MaxKeyLen == 0 {
		o.MaxKeyLen = h.MaxKeyLen
	}
	if o.MaxValueLen == 0 {
		o.MaxValueLen = h.MaxValueLen
	}
	if o.MaxEntries == 0 {
		o.MaxEntries = h.MaxEntries
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = h.MaxBytes
	}
	if o.Mode == 0 {
		o.Mode = h.Mode
	}
	name := o.Name
	o.Name = ""
	m, err := c.Create(&o)
	if err != nil {
		return nil, err
	}
	if err := m.Load(f); err != nil {
		m.Close()
		return nil, err
	}
	if name == "" {
		return m, nil
	}
	defer m.Close()
	named, _, err := m.Clone(&CloneOptions{Mode: o.Mode, Name: name})
	if err != nil {
		return nil, wrap("load", err)
	}
	return named, nil
}

// Load is [Control.Load] on a control device opened for the call.
func Load(f *SaveFile, opts *CreateOptions) (*Map, error) {
	var m *Map
	err := withControl(func(c *Control) (err error) {
		m, err = c.Load(f, opts)
		return err
	})
	return m, err
}
