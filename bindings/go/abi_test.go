// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

package snapmap

import (
	"runtime"
	"testing"
	"unsafe"
)

// The sizes and offsets of <linux/snapmap.h>'s structures as gcc lays
// them out (the same for -m32 and -m64: scripts/static-checks compares
// them with pahole).  A member the Go mirror misplaces would hand the
// module a wrong length or pointer.
func TestABILayout(t *testing.T) {
	type field struct {
		name string
		got  uintptr
		want uintptr
	}
	structs := []struct {
		name   string
		size   uintptr
		want   uintptr
		fields []field
	}{
		{"snapmap_api", unsafe.Sizeof(apiArg{}), 32, []field{
			{"out_abi_version", unsafe.Offsetof(apiArg{}.outABIVersion), 8},
			{"out_features", unsafe.Offsetof(apiArg{}.outFeatures), 16},
			{"out_ioctls", unsafe.Offsetof(apiArg{}.outIoctls), 24},
		}},
		{"snapmap_create", unsafe.Sizeof(createArg{}), 104, []field{
			{"max_entries", unsafe.Offsetof(createArg{}.maxEntries), 16},
			{"max_bytes", unsafe.Offsetof(createArg{}.maxBytes), 24},
			{"mode", unsafe.Offsetof(createArg{}.mode), 32},
			{"name", unsafe.Offsetof(createArg{}.name), 40},
		}},
		{"snapmap_open", unsafe.Sizeof(openArg{}), 72, []field{
			{"name", unsafe.Offsetof(openArg{}.name), 8},
		}},
		{"snapmap_map_desc", unsafe.Sizeof(mapDesc{}), 80, []field{
			{"mode", unsafe.Offsetof(mapDesc{}.mode), 8},
			{"name", unsafe.Offsetof(mapDesc{}.name), 16},
		}},
		{"snapmap_list", unsafe.Sizeof(listArg{}), 32, []field{
			{"descs", unsafe.Offsetof(listArg{}.descs), 16},
			{"out_count", unsafe.Offsetof(listArg{}.outCount), 24},
		}},
		{"snapmap_get", unsafe.Sizeof(getArg{}), 48, []field{
			{"key", unsafe.Offsetof(getArg{}.key), 16},
			{"value", unsafe.Offsetof(getArg{}.value), 24},
			{"out_value_len", unsafe.Offsetof(getArg{}.outValueLen), 32},
			{"out_version", unsafe.Offsetof(getArg{}.outVersion), 40},
		}},
		{"snapmap_put", unsafe.Sizeof(putArg{}), 48, []field{
			{"key", unsafe.Offsetof(putArg{}.key), 16},
			{"value", unsafe.Offsetof(putArg{}.value), 24},
			{"version", unsafe.Offsetof(putArg{}.version), 32},
			{"out_version", unsafe.Offsetof(putArg{}.outVersion), 40},
		}},
		{"snapmap_del", unsafe.Sizeof(delArg{}), 40, []field{
			{"key", unsafe.Offsetof(delArg{}.key), 16},
			{"version", unsafe.Offsetof(delArg{}.version), 24},
			{"out_version", unsafe.Offsetof(delArg{}.outVersion), 32},
		}},
		{"snapmap_batch_op", unsafe.Sizeof(batchOpArg{}), 56, []field{
			{"key", unsafe.Offsetof(batchOpArg{}.key), 16},
			{"value", unsafe.Offsetof(batchOpArg{}.value), 24},
			{"version", unsafe.Offsetof(batchOpArg{}.version), 32},
			{"out_result", unsafe.Offsetof(batchOpArg{}.outResult), 40},
			{"out_value_len", unsafe.Offsetof(batchOpArg{}.outValueLen), 44},
			{"out_version", unsafe.Offsetof(batchOpArg{}.outVersion), 48},
		}},
		{"snapmap_batch", unsafe.Sizeof(batchArg{}), 32, []field{
			{"ops", unsafe.Offsetof(batchArg{}.ops), 16},
			{"out_done", unsafe.Offsetof(batchArg{}.outDone), 24},
		}},
		{"snapmap_clear", unsafe.Sizeof(clearArg{}), 16, []field{
			{"out_version", unsafe.Offsetof(clearArg{}.outVersion), 8},
		}},
		{"snapmap_info", unsafe.Sizeof(infoArg{}), 160, []field{
			{"out_max_entries", unsafe.Offsetof(infoArg{}.outMaxEntries), 16},
			{"out_entries", unsafe.Offsetof(infoArg{}.outEntries), 32},
			{"out_version", unsafe.Offsetof(infoArg{}.outVersion), 48},
			{"out_dels", unsafe.Offsetof(infoArg{}.outDels), 72},
			{"out_uid", unsafe.Offsetof(infoArg{}.outUID), 80},
			{"out_mode", unsafe.Offsetof(infoArg{}.outMode), 88},
			{"out_name", unsafe.Offsetof(infoArg{}.outName), 96},
		}},
		{"snapmap_snapshot_arg", unsafe.Sizeof(snapshotArg{}), 16, []field{
			{"out_version", unsafe.Offsetof(snapshotArg{}.outVersion), 8},
		}},
		{"snapmap_snapshot_info", unsafe.Sizeof(snapshotInfoArg{}), 40, []field{
			{"out_version", unsafe.Offsetof(snapshotInfoArg{}.outVersion), 8},
			{"out_entries", unsafe.Offsetof(snapshotInfoArg{}.outEntries), 16},
			{"out_bytes", unsafe.Offsetof(snapshotInfoArg{}.outBytes), 24},
			{"out_snapshot_flags", unsafe.Offsetof(snapshotInfoArg{}.outSnapshotFlags), 32},
		}},
		{"snapmap_clone", unsafe.Sizeof(cloneArg{}), 88, []field{
			{"out_version", unsafe.Offsetof(cloneArg{}.outVersion), 16},
			{"name", unsafe.Offsetof(cloneArg{}.name), 24},
		}},
	}
	for _, s := range structs {
		if s.size != s.want {
			t.Errorf("struct %s: %d bytes, want %d", s.name, s.size, s.want)
		}
		for _, f := range s.fields {
			if f.got != f.want {
				t.Errorf("struct %s: %s at offset %d, want %d",
					s.name, f.name, f.got, f.want)
			}
		}
	}
	// SNAPMAP_MAP_DESC_SIZE_VER0, the one size the header states.
	if got := unsafe.Sizeof(mapDesc{}); got != 80 {
		t.Errorf("struct snapmap_map_desc: %d bytes, SNAPMAP_MAP_DESC_SIZE_VER0 is 80", got)
	}
	if got := unsafe.Sizeof(ptr{}); got != 8 {
		t.Errorf("a user pointer takes %d bytes, want 8 (__aligned_u64)", got)
	}
}

// The command numbers, as the C preprocessor expands SNAPMAP_IOC_*: the
// same on x86 and arm64, which share <asm-generic/ioctl.h>.
func TestIoctlNumbers(t *testing.T) {
	switch runtime.GOARCH {
	case "amd64", "arm64", "386", "arm", "riscv64":
	default:
		t.Skipf("no reference numbers for %s", runtime.GOARCH)
	}
	for _, c := range []struct {
		name string
		got  uintptr
		want uintptr
	}{
		{"SNAPMAP_IOC_API", iocAPI, 0xc020b700},
		{"SNAPMAP_IOC_CREATE", iocCreate, 0xc068b701},
		{"SNAPMAP_IOC_OPEN", iocOpen, 0xc048b702},
		{"SNAPMAP_IOC_LIST", iocList, 0xc020b703},
		{"SNAPMAP_IOC_GET", iocGet, 0xc030b710},
		{"SNAPMAP_IOC_PUT", iocPut, 0xc030b711},
		{"SNAPMAP_IOC_DEL", iocDel, 0xc028b712},
		{"SNAPMAP_IOC_BATCH", iocBatch, 0xc020b713},
		{"SNAPMAP_IOC_CLEAR", iocClear, 0xc010b714},
		{"SNAPMAP_IOC_INFO", iocInfo, 0xc0a0b715},
		{"SNAPMAP_IOC_SNAPSHOT", iocSnapshot, 0xc010b716},
		{"SNAPMAP_IOC_CLONE", iocClone, 0xc058b717},
		{"SNAPMAP_IOC_SNAPSHOT_INFO", iocSnapshotInfo, 0xc028b720},
	} {
		if c.got != c.want {
			t.Errorf("%s = %#x, want %#x", c.name, c.got, c.want)
		}
	}
}

// SNAPMAP_RECORD_SIZE(): a header, then key and value padded to 8.
func TestRecordSize(t *testing.T) {
	for _, c := range []struct {
		k, v uint32
		want uint64
	}{
		{1, 0, 24}, {8, 0, 24}, {8, 1, 32}, {4, 4, 24}, {5, 4, 32},
		{1 << 16, 1 << 30, 16 + 1<<16 + 1<<30},
	} {
		if got := recordSize(c.k, c.v); got != c.want {
			t.Errorf("recordSize(%d, %d) = %d, want %d", c.k, c.v, got, c.want)
		}
	}
}
