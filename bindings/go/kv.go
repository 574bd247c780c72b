// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

package snapmap

import (
	"math"
	"syscall"
	"unsafe"
)

// getBufSize is the value buffer Get starts with: most values fit, and a
// longer one costs one more call.
const getBufSize = 256

// Get returns a copy of the value of key, and the entry's version: the
// version of the write that made it.  An absent key fails with ENOENT.
func (m *Map) Get(key []byte) (value []byte, version uint64, err error) {
	return m.GetBuffer(key, make([]byte, getBufSize))
}

// GetBuffer is Get with a buffer of the caller's: the value is read into
// buf[:cap(buf)] when it fits, and into a new slice of the value's length
// otherwise (the module reports ERANGE with the length, and GetBuffer
// asks again, as often as a writer makes the value longer meanwhile).
// The value returned aliases buf when it fit.
func (m *Map) GetBuffer(key, buf []byte) (value []byte, version uint64, err error) {
	buf = buf[:cap(buf)]
	for {
		n, v, err := m.get(key, buf)
		if err == nil {
			return buf[:n], v, nil
		}
		if err != syscall.ERANGE {
			return nil, 0, wrap("get", err)
		}
		buf = make([]byte, n)
	}
}

// get is one GET: the value's length and version, or the errno, ERANGE
// with the length too.
func (m *Map) get(key, buf []byte) (uint32, uint64, error) {
	if err := checkLen(key, buf); err != nil {
		return 0, 0, err
	}
	arg := getArg{
		size:        uint32(unsafe.Sizeof(getArg{})),
		keyLen:      uint32(len(key)),
		valueBufLen: uint32(len(buf)),
		key:         newPtr(key),
		value:       newPtr(buf),
	}
	err := m.fd.ioctl(iocGet, unsafe.Pointer(&arg))
	if err != nil && err != syscall.ERANGE {
		return 0, 0, err
	}
	return arg.outValueLen, arg.outVersion, err
}

// Put inserts key or replaces its value, and returns the version of the
// new entry.  A reader sees the old value or the new one, never a mix.
// Errors: EINVAL for an empty key, EMSGSIZE for a key or value over the
// map's limits, ENOSPC when the map is full, EBADF on a read-only map.
func (m *Map) Put(key, value []byte) (uint64, error) {
	return m.PutWithFlags(key, value, 0, 0)
}

// Insert inserts key only if it is absent: EEXIST otherwise.
func (m *Map) Insert(key, value []byte) (uint64, error) {
	return m.PutWithFlags(key, value, PutNoExist, 0)
}

// Replace replaces the value of key only if it is present: ENOENT
// otherwise.
func (m *Map) Replace(key, value []byte) (uint64, error) {
	return m.PutWithFlags(key, value, PutExist, 0)
}

// CompareAndSwap replaces the value of key only if the entry's version is
// version (as Get returned it), and returns the new entry's version.  It
// fails with ECANCELED when the version differs or the key is absent.
func (m *Map) CompareAndSwap(key, value []byte, version uint64) (uint64, error) {
	return m.PutWithFlags(key, value, PutIfVersion, version)
}

// PutWithFlags is the PUT command as the ABI has it: flags are passed to
// the module as they are (EINVAL for an unknown flag or more than one),
// and version is the version [PutIfVersion] compares with, which must be
// 0 without it.  It returns the version of the new entry.
func (m *Map) PutWithFlags(key, value []byte, flags PutFlag, version uint64) (uint64, error) {
	if err := checkLen(key, value); err != nil {
		return 0, wrap("put", err)
	}
	arg := putArg{
		size:     uint32(unsafe.Sizeof(putArg{})),
		flags:    uint32(flags),
		keyLen:   uint32(len(key)),
		valueLen: uint32(len(value)),
		key:      newPtr(key),
		value:    newPtr(value),
		version:  version,
	}
	if err := m.fd.ioctl(iocPut, unsafe.Pointer(&arg)); err != nil {
		return 0, wrap("put", err)
	}
	return arg.outVersion, nil
}

// Delete deletes key, and returns the version of the deletion: a
// deletion is a write, with its place in the map's sequence of writes.
// An absent key fails with ENOENT.
func (m *Map) Delete(key []byte) (uint64, error) {
	return m.DeleteWithFlags(key, 0, 0)
}

// CompareAndDelete deletes key only if the entry's version is version:
// ECANCELED otherwise, or when the key is absent.
func (m *Map) CompareAndDelete(key []byte, version uint64) (uint64, error) {
	return m.DeleteWithFlags(key, DelIfVersion, version)
}

// DeleteWithFlags is the DEL command as the ABI has it: flags are passed
// to the module as they are, and version is the version [DelIfVersion]
// compares with, which must be 0 without it.
func (m *Map) DeleteWithFlags(key []byte, flags DelFlag, version uint64) (uint64, error) {
	if err := checkLen(key, nil); err != nil {
		return 0, wrap("delete", err)
	}
	arg := delArg{
		size:    uint32(unsafe.Sizeof(delArg{})),
		flags:   uint32(flags),
		keyLen:  uint32(len(key)),
		key:     newPtr(key),
		version: version,
	}
	if err := m.fd.ioctl(iocDel, unsafe.Pointer(&arg)); err != nil {
		return 0, wrap("delete", err)
	}
	return arg.outVersion, nil
}

// checkLen refuses, with EMSGSIZE as the module would, a key or value too
// long for the ABI's 32-bit lengths, which would otherwise be cut.
func checkLen(key, value []byte) error {
	if uint64(len(key)) > math.MaxUint32 || uint64(len(value)) > math.MaxUint32 {
		return syscall.EMSGSIZE
	}
	return nil
}
