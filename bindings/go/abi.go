// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

package snapmap

// The structures of <linux/snapmap.h>, member for member.  Every one has
// the same layout for 32-bit and 64-bit callers and no implicit padding
// (the header's BUILD_BUG_ON checks and scripts/static-checks see to it),
// so a Go struct with the same members in the same order has the same
// layout: abi_test.go holds each to the size and offsets the C compiler
// gives.  User pointers are ptr, an unsafe.Pointer in 8 bytes, so that the
// garbage collector sees what they point to.

// ABIVersion is the version of <linux/snapmap.h> this package was written
// against, SNAPMAP_ABI_VERSION.  The loaded module reports its own in
// API.ABIVersion.
const ABIVersion = 1

// NameLen is the size of a map name in the ABI, its terminating NUL
// included: a name has at most NameLen-1 bytes.
const NameLen = 64

// BatchMax is the most operations one [Map.Batch] call takes,
// SNAPMAP_BATCH_MAX.
const BatchMax = 4096

// Command is a snapmap command number, SNAPMAP_CMD_*; [API.Has] tells
// whether the loaded module implements one.
type Command uint32

// The commands of ABI version 1.
const (
	CmdAPI          Command = 0x00 // handshake, on the control device
	CmdCreate       Command = 0x01 // create a map
	CmdOpen         Command = 0x02 // open a named map
	CmdList         Command = 0x03 // list the named maps
	CmdGet          Command = 0x10 // look a key up
	CmdPut          Command = 0x11 // insert or replace a key
	CmdDel          Command = 0x12 // delete a key
	CmdBatch        Command = 0x13 // several GET, PUT and DEL in one call
	CmdClear        Command = 0x14 // delete every key
	CmdInfo         Command = 0x15 // limits, usage and counters
	CmdSnapshot     Command = 0x16 // take a snapshot
	CmdClone        Command = 0x17 // copy a map into a new one
	CmdSnapshotInfo Command = 0x20 // version and size of a snapshot
)

// Features is the bitmask of SNAPMAP_FEATURE_* a module reports in
// API.Features.
type Features uint64

// The features of ABI version 1.
const (
	// FeatureNamedMaps: maps can be named, opened by name and listed.
	FeatureNamedMaps Features = 1 << 0
	// FeatureVersions: every entry carries the version of the write that
	// made it, and compare-and-swap compares against it.
	FeatureVersions Features = 1 << 1
	// FeatureAtomicSnapshots: snapshots are point-in-time.
	FeatureAtomicSnapshots Features = 1 << 2
	// FeatureClone: maps can be cloned.
	FeatureClone Features = 1 << 3
)

// OpenFlag is a flag of [Control.Open], SNAPMAP_OPEN_*.
type OpenFlag uint32

// OpenReadOnly opens a map read-only: Get, Info, Snapshot, Clone and
// batches of gets only; writes fail with EBADF.
const OpenReadOnly OpenFlag = 1 << 0

// PutFlag is a flag of [Map.PutWithFlags], SNAPMAP_PUT_*.  At most one may
// be set.
type PutFlag uint32

// The put flags.
const (
	// PutNoExist only inserts: EEXIST if the key is present.
	PutNoExist PutFlag = 1 << 0
	// PutExist only replaces: ENOENT if the key is absent.
	PutExist PutFlag = 1 << 1
	// PutIfVersion only replaces, and only if the entry's version is the
	// one given: ECANCELED otherwise.
	PutIfVersion PutFlag = 1 << 2
)

// DelFlag is a flag of [Map.DeleteWithFlags], SNAPMAP_DEL_*.
type DelFlag uint32

// DelIfVersion deletes only if the entry's version is the one given:
// ECANCELED otherwise.
const DelIfVersion DelFlag = 1 << 0

// BatchFlag is a flag of [Map.Batch], SNAPMAP_BATCH_*.
type BatchFlag uint32

// BatchStopOnError stops a batch at the first operation that fails; that
// operation ran and reports its error.
const BatchStopOnError BatchFlag = 1 << 0

// SnapshotFlag is a flag of [Map.Snapshot], SNAPMAP_SNAPSHOT_*.
type SnapshotFlag uint32

// SnapshotWeak takes a WEAK snapshot, a walk of the live map, instead of
// an ATOMIC one: each record is a value its key held at some moment of
// the walk, but the whole is no state the map was ever in.
const SnapshotWeak SnapshotFlag = 1 << 0

// BatchOpcode is the operation of a [BatchOp], SNAPMAP_BATCH_*.
type BatchOpcode uint32

// The batch operations.
const (
	BatchGet BatchOpcode = 1 // as Map.Get
	BatchPut BatchOpcode = 2 // as Map.PutWithFlags
	BatchDel BatchOpcode = 3 // as Map.DeleteWithFlags
)

// recordHeaderSize is sizeof(struct snapmap_record).
const recordHeaderSize = 16

// recordSize is SNAPMAP_RECORD_SIZE(): the bytes a record takes in a
// snapshot read, padding included.
func recordSize(keyLen, valueLen uint32) uint64 {
	return recordHeaderSize + ((uint64(keyLen) + uint64(valueLen) + 7) &^ 7)
}

// struct snapmap_api
type apiArg struct {
	size          uint32
	flags         uint32
	outABIVersion uint32
	reserved      uint32
	outFeatures   uint64
	outIoctls     uint64
}

// struct snapmap_create
type createArg struct {
	size        uint32
	flags       uint32
	maxKeyLen   uint32
	maxValueLen uint32
	maxEntries  uint64
	maxBytes    uint64
	mode        uint32
	reserved    uint32
	name        [NameLen]byte
}

// struct snapmap_open
type openArg struct {
	size  uint32
	flags uint32
	name  [NameLen]byte
}

// struct snapmap_map_desc
type mapDesc struct {
	uid      uint32
	gid      uint32
	mode     uint32
	reserved uint32
	name     [NameLen]byte
}

// struct snapmap_list
type listArg struct {
	size     uint32
	flags    uint32
	count    uint32
	descSize uint32
	descs    ptr
	outCount uint32
	reserved uint32
}

// struct snapmap_get
type getArg struct {
	size        uint32
	flags       uint32
	keyLen      uint32
	valueBufLen uint32
	key         ptr
	value       ptr
	outValueLen uint32
	reserved    uint32
	outVersion  uint64
}

// struct snapmap_put
type putArg struct {
	size       uint32
	flags      uint32
	keyLen     uint32
	valueLen   uint32
	key        ptr
	value      ptr
	version    uint64
	outVersion uint64
}

// struct snapmap_del
type delArg struct {
	size       uint32
	flags      uint32
	keyLen     uint32
	reserved   uint32
	key        ptr
	version    uint64
	outVersion uint64
}

// struct snapmap_batch_op
type batchOpArg struct {
	opcode      uint32
	flags       uint32
	keyLen      uint32
	valueLen    uint32
	key         ptr
	value       ptr
	version     uint64
	outResult   int32
	outValueLen uint32
	outVersion  uint64
}

// struct snapmap_batch
type batchArg struct {
	size     uint32
	flags    uint32
	count    uint32
	opSize   uint32
	ops      ptr
	outDone  uint32
	reserved uint32
}

// struct snapmap_clear
type clearArg struct {
	size       uint32
	flags      uint32
	outVersion uint64
}

// struct snapmap_info
type infoArg struct {
	size           uint32
	flags          uint32
	outMaxKeyLen   uint32
	outMaxValueLen uint32
	outMaxEntries  uint64
	outMaxBytes    uint64
	outEntries     uint64
	outBytes       uint64
	outVersion     uint64
	outGets        uint64
	outPuts        uint64
	outDels        uint64
	outUID         uint32
	outGID         uint32
	outMode        uint32
	reserved       uint32
	outName        [NameLen]byte
}

// struct snapmap_snapshot_arg
type snapshotArg struct {
	size       uint32
	flags      uint32
	outVersion uint64
}

// struct snapmap_snapshot_info
type snapshotInfoArg struct {
	size             uint32
	flags            uint32
	outVersion       uint64
	outEntries       uint64
	outBytes         uint64
	outSnapshotFlags uint32
	reserved         uint32
}

// struct snapmap_clone
type cloneArg struct {
	size       uint32
	flags      uint32
	mode       uint32
	reserved   uint32
	outVersion uint64
	name       [NameLen]byte
}
