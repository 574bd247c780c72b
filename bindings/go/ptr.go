// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

package snapmap

import "unsafe"

// newPtr makes the ptr of the first byte of b, or a null one for an empty
// b.  The slice's memory stays reachable through the ptr as long as the
// structure holding it is.
func newPtr(b []byte) ptr {
	if len(b) == 0 {
		return ptr{}
	}
	return ptr{p: unsafe.Pointer(&b[0])}
}
