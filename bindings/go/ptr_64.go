// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

//go:build !386 && !arm && !mips && !mipsle

package snapmap

import "unsafe"

// ptr is a user pointer as the ABI carries it, an __aligned_u64, kept as
// an unsafe.Pointer so that the garbage collector keeps (and the stack
// copier updates) what it points to.  On 64-bit machines the pointer is
// the whole of it.
type ptr struct {
	p unsafe.Pointer
}
