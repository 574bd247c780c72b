// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

package snapmap

import (
	"syscall"
	"unsafe"
)

// BatchOp is one operation of a [Map.Batch]: its input, then what it did.
type BatchOp struct {
	// Op is BatchGet, BatchPut or BatchDel.
	Op BatchOpcode
	// Flags are those of the matching single call: PutFlag for a put,
	// DelFlag for a delete, 0 for a get.
	Flags uint32
	// Key is the key.
	Key []byte
	// Value is the value to put, or for a get the buffer to read the
	// value into, all of its capacity; after the batch, a get's Value is
	// the value read (when Err is nil).
	Value []byte
	// Version is the version PutIfVersion or DelIfVersion compares with.
	Version uint64

	// Err is nil if the operation succeeded, else the syscall.Errno the
	// single call would have failed with: ERANGE for a get whose buffer
	// was too small (ValueLen says how long the value is).
	Err error
	// ValueLen is the length of the value a get found.
	ValueLen uint32
	// OutVersion is the version of the entry a get found, of the entry a
	// put made, or of a deletion.
	OutVersion uint64
	// Done tells whether the operation ran: all do, but those after the
	// first failure with BatchStopOnError.
	Done bool
}

// GetOp is a batch operation that gets key into buf (its whole capacity).
func GetOp(key, buf []byte) BatchOp {
	return BatchOp{Op: BatchGet, Key: key, Value: buf[:cap(buf)]}
}

// PutOp is a batch operation that puts value at key.
func PutOp(key, value []byte) BatchOp {
	return BatchOp{Op: BatchPut, Key: key, Value: value}
}

// DelOp is a batch operation that deletes key.
func DelOp(key []byte) BatchOp {
	return BatchOp{Op: BatchDel, Key: key}
}

// Batch runs ops, in order, in one call, up to [BatchMax] of them, and
// returns how many ran.  Each operation is atomic on its own; the batch as
// a whole is not.  Batch fails only for errors of the batch itself (a bad
// flag, too many operations); each operation's own result is in its Err,
// and without [BatchStopOnError] every operation runs whatever the others
// did.  On a read-only map, gets run and the others fail with EBADF.
func (m *Map) Batch(ops []BatchOp, flags BatchFlag) (int, error) {
	if len(ops) > BatchMax {
		return 0, wrap("batch", syscall.EINVAL)
	}
	args := make([]batchOpArg, len(ops))
	for i := range ops {
		op := &ops[i]
		if op.Op == BatchGet {
			op.Value = op.Value[:cap(op.Value)]
		}
		if err := checkLen(op.Key, op.Value); err != nil {
			return 0, wrap("batch", err)
		}
		args[i] = batchOpArg{
			opcode:   uint32(op.Op),
			flags:    op.Flags,
			keyLen:   uint32(len(op.Key)),
			valueLen: uint32(len(op.Value)),
			key:      newPtr(op.Key),
			value:    newPtr(op.Value),
			version:  op.Version,
		}
		op.Err, op.ValueLen, op.OutVersion, op.Done = nil, 0, 0, false
	}
	arg := batchArg{
		size:   uint32(unsafe.Sizeof(batchArg{})),
		flags:  uint32(flags),
		count:  uint32(len(ops)),
		opSize: uint32(unsafe.Sizeof(batchOpArg{})),
	}
	if len(args) > 0 {
		arg.ops = ptr{p: unsafe.Pointer(&args[0])}
	}
	if err := m.fd.ioctl(iocBatch, unsafe.Pointer(&arg)); err != nil {
		return 0, wrap("batch", err)
	}
	done := int(arg.outDone)
	for i := 0; i < done && i < len(ops); i++ {
		op, a := &ops[i], &args[i]
		op.Done = true
		op.ValueLen = a.outValueLen
		op.OutVersion = a.outVersion
		if a.outResult < 0 {
			op.Err = syscall.Errno(-a.outResult)
		}
		if op.Op == BatchGet && op.Err == nil {
			op.Value = op.Value[:a.outValueLen]
		}
	}
	return done, nil
}
