// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

package snapmap

import (
	"errors"
	"fmt"
	"syscall"
	"unsafe"
)

// snapshotBufSize is what a snapshot reads at a time, as libsnapmap: a
// record longer than that doubles the buffer.
const snapshotBufSize = 64 << 10

// Snapshot is an open snapshot of a map.  An ATOMIC one (the default) is
// exactly the map at one instant between the call to [Map.Snapshot] and
// its return, and stays so however the map changes: read it at leisure,
// as often as needed.  A WEAK one (SnapshotWeak) is a walk of the live map
// as it is read, with no instant behind it.
//
// A Snapshot holds its map (it may outlive every Map of it), and an
// ATOMIC one pins the old versions it needs, which count against the
// map's byte limit: when a write takes the map over it, the oldest
// snapshot is invalidated and reading it fails with ESTALE.  Close it
// when done.
//
// A Snapshot is read by one goroutine at a time.
type Snapshot struct {
	fd      fd
	flags   SnapshotFlag
	version uint64
	buf     []byte
	// iter is the iterator of the pass under way, which a new pass ends.
	iter *Iterator
}

// Snapshot takes a snapshot of the map: ATOMIC with flags 0, WEAK with
// [SnapshotWeak].  It works on read-only maps too.  Errors: EINVAL for an
// unknown flag; ENOSPC when the map, and EDQUOT when the user, has as many
// open snapshots as the module allows.
func (m *Map) Snapshot(flags SnapshotFlag) (*Snapshot, error) {
	arg := snapshotArg{
		size:  uint32(unsafe.Sizeof(snapshotArg{})),
		flags: uint32(flags),
	}
	n, err := m.fd.ioctlFD(iocSnapshot, unsafe.Pointer(&arg))
	if err != nil {
		return nil, wrap("snapshot", err)
	}
	return &Snapshot{
		fd:      newFD(n, "snapmap-snapshot"),
		flags:   flags,
		version: arg.outVersion,
		buf:     make([]byte, snapshotBufSize),
	}, nil
}

// Close closes the snapshot, and frees what it pinned.
func (s *Snapshot) Close() error {
	return wrap("close", s.fd.close())
}

// Version is the version of an ATOMIC snapshot: it holds exactly the
// map's writes of versions below it.  0 for a WEAK snapshot.
func (s *Snapshot) Version() uint64 {
	return s.version
}

// Weak tells whether the snapshot is WEAK.
func (s *Snapshot) Weak() bool {
	return s.flags&SnapshotWeak != 0
}

// SnapshotInfo is what a snapshot holds, as [Snapshot.Info] reports it.
type SnapshotInfo struct {
	// Version is as Snapshot.Version.
	Version uint64
	// Entries is the number of records; for a WEAK snapshot, of those
	// read so far in the current pass.
	Entries uint64
	// Bytes is what reading all records yields (the format of
	// <linux/snapmap.h>); for a WEAK snapshot, of those read so far.
	Bytes uint64
	// Flags are the flags the snapshot was taken with.
	Flags SnapshotFlag
}

// Info tells what the snapshot holds.  For an ATOMIC snapshot the first
// call counts the records, in time proportional to the map's size.
// ESTALE when the snapshot was invalidated.
func (s *Snapshot) Info() (SnapshotInfo, error) {
	arg := snapshotInfoArg{size: uint32(unsafe.Sizeof(snapshotInfoArg{}))}
	if err := s.fd.ioctl(iocSnapshotInfo, unsafe.Pointer(&arg)); err != nil {
		return SnapshotInfo{}, wrap("snapshot info", err)
	}
	return SnapshotInfo{
		Version: arg.outVersion,
		Entries: arg.outEntries,
		Bytes:   arg.outBytes,
		Flags:   SnapshotFlag(arg.outSnapshotFlags),
	}, nil
}

// Range calls f for every record of the snapshot, from the first, until f
// returns false, and returns the error that ended the pass early, if any
// (ESTALE when the snapshot was invalidated).  key and value alias the
// snapshot's read buffer: they are valid only until f returns, so copy
// them to keep them.  For an ATOMIC snapshot every pass yields the same
// records in the same order; for a WEAK one each pass is a new walk.
//
// Range and Iterate start a new pass each; a pass ends the one before.
func (s *Snapshot) Range(f func(key, value []byte) bool) error {
	it := s.Iterate()
	for it.Next() {
		if !f(it.Key(), it.Value()) {
			break
		}
	}
	return it.Err()
}

// Iterate starts a pass over the snapshot's records, from the first, and
// returns its iterator:
//
//	it := snap.Iterate()
//	for it.Next() {
//		use(it.Key(), it.Value(), it.Version())
//	}
//	if err := it.Err(); err != nil {
//		...
//	}
//
// A new pass, with Iterate or Range, ends this one: its Next returns
// false and its Err says so.
func (s *Snapshot) Iterate() *Iterator {
	if s.iter != nil {
		s.iter.end(errPassEnded)
	}
	it := &Iterator{s: s}
	s.iter = it
	if err := s.fd.rewind(); err != nil {
		it.end(wrap("snapshot rewind", err))
	}
	return it
}

// errPassEnded ends an iterator whose snapshot started a new pass.
var errPassEnded = errors.New("a new pass over the snapshot began")

// Iterator reads a snapshot's records one by one: see [Snapshot.Iterate].
type Iterator struct {
	s   *Snapshot
	buf []byte // the records read and not yet handed out
	key []byte
	val []byte
	ver uint64
	err error
	eof bool
}

// Next moves to the next record, reading more from the snapshot when
// those read are used up.  It returns false at the end of the snapshot or
// on an error, which Err then returns.
func (it *Iterator) Next() bool {
	if it.err != nil || it.eof {
		return false
	}
	if len(it.buf) == 0 && !it.fill() {
		return false
	}
	// The header is checked against the bytes read, never trusted: a
	// record lies whole within them, and its key is never empty.
	b := it.buf
	if len(b) < recordHeaderSize {
		return it.end(it.corrupt(len(b)))
	}
	kl := nativeEndian.Uint32(b[0:])
	vl := nativeEndian.Uint32(b[4:])
	size := recordSize(kl, vl)
	if kl == 0 || size > uint64(len(b)) {
		return it.end(it.corrupt(len(b)))
	}
	it.ver = nativeEndian.Uint64(b[8:])
	it.key = b[recordHeaderSize : recordHeaderSize+kl : recordHeaderSize+kl]
	end := recordHeaderSize + uint64(kl) + uint64(vl)
	it.val = b[recordHeaderSize+kl : end : end]
	it.buf = b[size:]
	return true
}

// fill reads the next records into the snapshot's buffer, doubling it
// while the next record does not fit.
func (it *Iterator) fill() bool {
	s := it.s
	for {
		n, err := s.fd.read(s.buf)
		if err == syscall.EMSGSIZE {
			s.buf = make([]byte, 2*len(s.buf))
			continue
		}
		if err != nil {
			return it.end(wrap("snapshot read", err))
		}
		if n == 0 {
			it.eof = true
			return false
		}
		it.buf = s.buf[:n]
		return true
	}
}

// corrupt is the error of records that do not parse: the module broke the
// ABI, and going on would skip some.
func (it *Iterator) corrupt(left int) error {
	return wrap("snapshot read", fmt.Errorf(
		"%w: a record does not fit the %d bytes read", syscall.EIO, left))
}

// end stops the pass with err: Next returns false from now on.
func (it *Iterator) end(err error) bool {
	if it.err == nil {
		it.err = err
	}
	it.buf, it.key, it.val = nil, nil, nil
	return false
}

// Key is the key of the current record.  It aliases the snapshot's read
// buffer and is valid until the next call to Next.
func (it *Iterator) Key() []byte {
	return it.key
}

// Value is the value of the current record, valid until the next call to
// Next, as Key.
func (it *Iterator) Value() []byte {
	return it.val
}

// Version is the version of the current record's entry: the version of
// the write that made it.
func (it *Iterator) Version() uint64 {
	return it.ver
}

// Err is the error that ended the pass, or nil when it ended at the end
// of the snapshot (or has not ended).
func (it *Iterator) Err() error {
	return it.err
}
