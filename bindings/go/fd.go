// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

package snapmap

import (
	"os"
	"syscall"
	"unsafe"
)

// fd is a snapmap file descriptor (control, map or snapshot) held by an
// *os.File, whose reference counting lets a goroutine close it while
// others use it: a call either runs on the descriptor or fails with
// [ErrClosed], never on a number the kernel has given to another file.
type fd struct {
	f  *os.File
	rc syscall.RawConn
}

func newFD(n int, name string) fd {
	f := os.NewFile(uintptr(n), name)
	// A regular, blocking file never fails this.
	rc, _ := f.SyscallConn()
	return fd{f: f, rc: rc}
}

// The calls below fail with ErrClosed once the descriptor is closed:
// RawConn.Control's own error says only that.

// ioctl issues req with arg on the descriptor.
func (d fd) ioctl(req uintptr, arg unsafe.Pointer) error {
	_, err := d.ioctlFD(req, arg)
	return err
}

// ioctlFD issues req with arg on the descriptor, and returns the command's
// result: the new descriptor of the commands that make one.
func (d fd) ioctlFD(req uintptr, arg unsafe.Pointer) (int, error) {
	var (
		r    int
		ierr error
	)
	err := d.rc.Control(func(n uintptr) {
		r, ierr = ioctl(int(n), req, arg)
	})
	if err != nil {
		return -1, ErrClosed
	}
	return r, ierr
}

// read reads from the descriptor into b: the bytes read, 0 at the end.
func (d fd) read(b []byte) (int, error) {
	var (
		n    int
		rerr error
	)
	err := d.rc.Control(func(fd uintptr) {
		for {
			n, rerr = syscall.Read(int(fd), b)
			if rerr != syscall.EINTR {
				return
			}
		}
	})
	if err != nil {
		return 0, ErrClosed
	}
	if rerr != nil {
		return 0, rerr
	}
	return n, nil
}

// rewind starts the descriptor's reads over: lseek(fd, 0, SEEK_SET).
func (d fd) rewind() error {
	var serr error
	err := d.rc.Control(func(fd uintptr) {
		_, serr = syscall.Seek(int(fd), 0, 0)
	})
	if err != nil {
		return ErrClosed
	}
	return serr
}

func (d fd) close() error {
	return d.f.Close()
}
