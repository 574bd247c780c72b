// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

package snapmap

import (
	"encoding/binary"
	"unsafe"
)

// nativeEndian is the machine's byte order, that of the records a snapshot
// yields (their header is a C structure).  The save file format is
// little-endian whatever the machine.
var nativeEndian binary.ByteOrder = func() binary.ByteOrder {
	x := uint16(1)
	if *(*byte)(unsafe.Pointer(&x)) == 1 {
		return binary.LittleEndian
	}
	return binary.BigEndian
}()
