// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

//go:build 386 || arm || mipsle

package snapmap

import "unsafe"

// ptr is a user pointer as the ABI carries it, an __aligned_u64: on a
// little-endian 32-bit machine, the pointer in the low half.
type ptr struct {
	p   unsafe.Pointer
	pad uint32
}
