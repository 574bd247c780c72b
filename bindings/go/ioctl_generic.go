// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

//go:build !mips && !mipsle && !mips64 && !mips64le && !ppc64 && !ppc64le

package snapmap

// The ioctl direction bits and size field of <asm-generic/ioctl.h>: x86,
// arm, arm64, riscv, s390 and loongarch.
const (
	iocSizeBits = 14
	iocWrite    = 1
	iocRead     = 2
)
