// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

package snapmap

import (
	"errors"
	"io/fs"
)

// Error is the error of a failed snapmap call: what was being done, and
// why.  Err is a [syscall.Errno] when the module (or the kernel) refused
// the call, as the "errno values" table of <linux/snapmap.h> says, so
//
//	errors.Is(err, syscall.ENOENT)
//
// tells an absent key, and errors.Is(err, fs.ErrNotExist) too, since a
// syscall.Errno matches the errors of io/fs where one fits.  Err is
// [ErrCorrupt] for a save file that fails its checks, or [ErrClosed] for
// a call on a closed map or snapshot.
type Error struct {
	// Op is the call that failed: "get", "put", "snapshot read", ...
	Op string
	// Err is why.
	Err error
}

// Error returns "snapmap: " followed by the call and its error.
func (e *Error) Error() string {
	return "snapmap: " + e.Op + ": " + e.Err.Error()
}

// Unwrap returns e.Err, for errors.Is and errors.As.
func (e *Error) Unwrap() error {
	return e.Err
}

// ErrClosed is the error of a call on a map, snapshot or control device
// already closed: it is fs.ErrClosed, as for an *os.File.
var ErrClosed = fs.ErrClosed

// ErrCorrupt is the error of a save file that fails the checks of the
// format (docs/save-format.md): errors.Is(err, ErrCorrupt) tells it from
// an I/O error.
var ErrCorrupt = errors.New("not a valid snapmap save file")

// wrap makes err an *Error of op, or leaves it nil.  An *Error of a call
// op made gets op in front of its own: "save: info".
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if e, ok := err.(*Error); ok {
		return &Error{Op: op + ": " + e.Op, Err: e.Err}
	}
	return &Error{Op: op, Err: err}
}
