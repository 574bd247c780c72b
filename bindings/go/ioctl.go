// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

package snapmap

import (
	"runtime"
	"syscall"
	"unsafe"
)

// iocType is SNAPMAP_IOC_TYPE, the type byte of every snapmap command.
const iocType = 0xB7

// The fields of an ioctl command number, as <asm-generic/ioctl.h> packs
// them; iocSizeBits, iocNone, iocRead and iocWrite differ between
// architectures (ioctl_generic.go, ioctl_mipsppc.go).
const (
	iocNRBits   = 8
	iocTypeBits = 8

	iocNRShift   = 0
	iocTypeShift = iocNRShift + iocNRBits
	iocSizeShift = iocTypeShift + iocTypeBits
	iocDirShift  = iocSizeShift + iocSizeBits
)

// ioc is _IOC(dir, type, nr, size).
func ioc(dir, typ, nr, size uintptr) uintptr {
	return dir<<iocDirShift | typ<<iocTypeShift | nr<<iocNRShift |
		size<<iocSizeShift
}

// iowr is _IOWR(SNAPMAP_IOC_TYPE, cmd, a structure of size bytes): every
// snapmap command is read and written.
func iowr(cmd Command, size uintptr) uintptr {
	return ioc(iocRead|iocWrite, iocType, uintptr(cmd), size)
}

// The command numbers, SNAPMAP_IOC_*.
var (
	iocAPI          = iowr(CmdAPI, unsafe.Sizeof(apiArg{}))
	iocCreate       = iowr(CmdCreate, unsafe.Sizeof(createArg{}))
	iocOpen         = iowr(CmdOpen, unsafe.Sizeof(openArg{}))
	iocList         = iowr(CmdList, unsafe.Sizeof(listArg{}))
	iocGet          = iowr(CmdGet, unsafe.Sizeof(getArg{}))
	iocPut          = iowr(CmdPut, unsafe.Sizeof(putArg{}))
	iocDel          = iowr(CmdDel, unsafe.Sizeof(delArg{}))
	iocBatch        = iowr(CmdBatch, unsafe.Sizeof(batchArg{}))
	iocClear        = iowr(CmdClear, unsafe.Sizeof(clearArg{}))
	iocInfo         = iowr(CmdInfo, unsafe.Sizeof(infoArg{}))
	iocSnapshot     = iowr(CmdSnapshot, unsafe.Sizeof(snapshotArg{}))
	iocClone        = iowr(CmdClone, unsafe.Sizeof(cloneArg{}))
	iocSnapshotInfo = iowr(CmdSnapshotInfo, unsafe.Sizeof(snapshotInfoArg{}))
)

// ioctl issues req on fd with the structure at arg, whose first member is
// its size.  It returns the command's non-negative result (a new fd, for
// the commands that make one) or its errno.  The module never fails a
// command with EINTR: there is nothing to retry.
func ioctl(fd int, req uintptr, arg unsafe.Pointer) (int, error) {
	r, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), req,
		uintptr(arg))
	// What arg points to, and the buffers its pointers reach, must live
	// until the module is done with them.
	runtime.KeepAlive(arg)
	if errno != 0 {
		return -1, errno
	}
	return int(r), nil
}
