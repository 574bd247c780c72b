// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

// Package snapmap drives snapmap, a concurrent key/value map that lives
// in the Linux kernel and can be copied whole, at one instant, while its
// writers run.
//
// A sync.Map's Range is no snapshot: it may show a key deleted and miss
// the key that replaced it, a state the map was never in.  Copying a map
// safely takes a lock that stops every writer for the whole copy, or a
// map that keeps versions.  snapmap keeps versions, in the kernel: an
// ATOMIC [Snapshot] is exactly the map at one instant, taken in constant
// time and read at leisure, and [Map.Clone] copies the map into a new one
// the same way, while writers go on at nearly full speed.
//
// The package is pure Go: it issues the ioctls of <linux/snapmap.h> on
// /dev/snapmap with the syscall package, with no cgo and no C library.
// It needs the snapmap module loaded.
//
// # Maps
//
// [Create] makes a map, [Open] opens a named one; both return a [*Map]
// whose methods many goroutines may call at once.  Keys and values are
// byte slices, within limits fixed when the map is made
// ([CreateOptions]).  Every entry carries a version, the place in the
// map's sequence of writes of the write that made it: [Map.Get] returns
// it and [Map.CompareAndSwap] compares with it.  [Map.Batch] runs many
// operations in one call.
//
// # Snapshots
//
// [Map.Snapshot] takes an ATOMIC snapshot (or with [SnapshotWeak] a cheap
// walk that promises no instant).  [Snapshot.Range] calls a function for
// every record, and [Snapshot.Iterate] returns an [Iterator] with
// Next, Key, Value and Err.  A snapshot pins the versions it needs; when
// they would take the map over its byte limit, the oldest snapshot is
// invalidated and reading it fails with ESTALE: writers are never blocked
// by a snapshot.
//
// # Save files
//
// [Map.Save] writes an ATOMIC snapshot in the file format of snapmapctl
// save (docs/save-format.md in the snapmap sources), and
// [ReadSaveFile] and [Control.Load] read such files back, whichever wrote
// them.
//
// # Errors
//
// A failed call returns an [*Error] wrapping the [syscall.Errno] the
// module answered with, as listed in <linux/snapmap.h>:
//
//	if _, _, err := m.Get(key); errors.Is(err, syscall.ENOENT) {
//		// the key is absent
//	}
package snapmap
