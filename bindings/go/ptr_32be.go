// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

//go:build mips

package snapmap

import "unsafe"

// ptr is a user pointer as the ABI carries it, an __aligned_u64: on a
// big-endian 32-bit machine, the pointer in the low half, which comes
// last.
type ptr struct {
	pad uint32
	p   unsafe.Pointer
}
