// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

//go:build mips || mipsle || mips64 || mips64le || ppc64 || ppc64le

package snapmap

// The ioctl direction bits and size field of MIPS's and PowerPC's
// <asm/ioctl.h>: three bits of direction, thirteen of size.
const (
	iocSizeBits = 13
	iocRead     = 2
	iocWrite    = 4
)
