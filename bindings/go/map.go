// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

package snapmap

import (
	"unsafe"
)

// Map is an open map: a map file descriptor.  Its methods may be called
// from many goroutines at once; each single-key operation is atomic and
// linearizable.  Close it when done: a map lives while a Map (in any
// process), a Snapshot of it or a kernel module holds it.
type Map struct {
	fd       fd
	readOnly bool
}

func newMap(n int, readOnly bool) *Map {
	return &Map{fd: newFD(n, "snapmap-map"), readOnly: readOnly}
}

// Close closes the map's descriptor.  The map itself dies when the last
// thing that holds it lets go.
func (m *Map) Close() error {
	return wrap("close", m.fd.close())
}

// ReadOnly tells whether the map was opened with [OpenReadOnly].
func (m *Map) ReadOnly() bool {
	return m.readOnly
}

// Info is what [Map.Info] reports: a map's limits, usage and counters.
type Info struct {
	MaxKeyLen   uint32 // the map's key length limit
	MaxValueLen uint32 // the map's value length limit
	MaxEntries  uint64 // the map's entry limit
	MaxBytes    uint64 // the map's byte limit
	Entries     uint64 // keys in the map
	// Bytes is the memory the entries use, counting the per-entry
	// overhead and the versions snapshots pin: what MaxBytes limits.
	Bytes uint64
	// Version is the map's last version: that of its latest write, or of
	// its latest ATOMIC snapshot or clone if that came later.
	Version uint64
	Gets    uint64 // GETs served, found or not
	Puts    uint64 // successful PUTs
	Dels    uint64 // successful DELs
	UID     uint32 // owner's uid
	GID     uint32 // owner's gid
	Mode    uint32 // permission bits
	Name    string // empty for an unnamed map
}

// Info returns the map's limits, usage and counters.
func (m *Map) Info() (Info, error) {
	arg := infoArg{size: uint32(unsafe.Sizeof(infoArg{}))}
	if err := m.fd.ioctl(iocInfo, unsafe.Pointer(&arg)); err != nil {
		return Info{}, wrap("info", err)
	}
	return Info{
		MaxKeyLen:   arg.outMaxKeyLen,
		MaxValueLen: arg.outMaxValueLen,
		MaxEntries:  arg.outMaxEntries,
		MaxBytes:    arg.outMaxBytes,
		Entries:     arg.outEntries,
		Bytes:       arg.outBytes,
		Version:     arg.outVersion,
		Gets:        arg.outGets,
		Puts:        arg.outPuts,
		Dels:        arg.outDels,
		UID:         arg.outUID,
		GID:         arg.outGID,
		Mode:        arg.outMode,
		Name:        cString(arg.outName[:]),
	}, nil
}

// Clear deletes every key at one version, which it returns: a reader
// sees the map before it or after it, never part of it (a module of ABI
// version 1 deleted the keys one by one).
func (m *Map) Clear() (uint64, error) {
	arg := clearArg{size: uint32(unsafe.Sizeof(clearArg{}))}
	if err := m.fd.ioctl(iocClear, unsafe.Pointer(&arg)); err != nil {
		return 0, wrap("clear", err)
	}
	return arg.outVersion, nil
}

// CloneOptions are the name and mode of a clone.  The zero value makes an
// unnamed clone of mode 0600.
type CloneOptions struct {
	// Mode is as CreateOptions.Mode.
	Mode uint32
	// Name is as CreateOptions.Name.
	Name string
}

// Clone copies the map into a new one, opened for reading and writing,
// and returns it with the version of the ATOMIC snapshot it was copied
// from: the clone holds exactly the writes below that version, versions
// included, and has the source's limits.  Copying takes time in
// proportion to the map's size but never stops its writers.  Errors:
// ESTALE when the snapshot went stale while being copied; EEXIST, EDQUOT,
// EINVAL as for Create; ENOSPC and EDQUOT for too many open snapshots.
func (m *Map) Clone(opts *CloneOptions) (*Map, uint64, error) {
	if opts == nil {
		opts = &CloneOptions{}
	}
	arg := cloneArg{
		size: uint32(unsafe.Sizeof(cloneArg{})),
		mode: opts.Mode,
	}
	if err := setName(&arg.name, opts.Name); err != nil {
		return nil, 0, wrap("clone", err)
	}
	n, err := m.fd.ioctlFD(iocClone, unsafe.Pointer(&arg))
	if err != nil {
		return nil, 0, wrap("clone", err)
	}
	return newMap(n, false), arg.outVersion, nil
}
