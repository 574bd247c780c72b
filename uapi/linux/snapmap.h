/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * snapmap - concurrent key/value map with point-in-time snapshots
 *
 * User space API of the /dev/snapmap character device.
 */

#ifndef _UAPI_LINUX_SNAPMAP_H
#define _UAPI_LINUX_SNAPMAP_H

#include <linux/types.h>
#include <linux/ioctl.h>

/**
 * DOC: ABI conventions
 *
 * Every ioctl takes a pointer to a structure whose first member is
 * ``__u32 size``, the size of the structure as the caller knows it.
 * Structures only ever grow at their end:
 *
 * - a caller built against an older header passes a smaller @size and the
 *   module treats the missing members as zero;
 * - a caller built against a newer header passes a larger @size and the
 *   module accepts it as long as every byte it does not know is zero.
 *
 * Members named ``out_*`` are written by the module, at most @size bytes of
 * the structure are written back.  Members named ``__reserved*`` must be
 * zero.  User pointers travel as ``__aligned_u64``.  Every structure has the
 * same layout for 32-bit and 64-bit callers.
 *
 * The size encoded in an ioctl command number is informational: the module
 * dispatches on the command's type, number and direction and trusts the
 * ``size`` member, so a structure can grow without a new command number.
 * Every command's direction is ``_IOC_READ | _IOC_WRITE``, as ``_IOWR()``
 * encodes it; the same type and number with another direction is an
 * unknown command (ENOTTY).
 */

/**
 * DOC: errno values
 *
 * What each errno means, for every command.  When several arguments are
 * wrong, the error of the first check in this order wins: ``size`` (EINVAL,
 * then E2BIG), then flags, reserved members and mode bits (EINVAL), then
 * the fd's access mode (EBADF), then lengths (EINVAL, then EMSGSIZE), then
 * user memory (EFAULT), then, for a command that returns a new fd, a free fd
 * (EMFILE), then names and the limits of %SNAPMAP_IOC_CREATE (EINVAL),
 * then the state of the module and its maps.  User memory is checked
 * before a command looks a key up or changes anything, but for two
 * buffers that are only written, and only once there is something to
 * write: the value buffer of %SNAPMAP_IOC_GET (see &struct snapmap_get)
 * and the descriptions of %SNAPMAP_IOC_LIST.
 *
 * ========== ============================================================
 * ENOTTY     the command (its type, number and direction) is not known
 *            on this kind of file descriptor
 * EFAULT     an argument pointer, or a pointer inside an argument, is not
 *            accessible; nothing was changed.  (A command makes sure
 *            first that its answer can be written back: only another
 *            thread unmapping the argument meanwhile can make a change
 *            happen and its answer be lost.)
 * EINVAL     ``size`` is smaller than the first version of the structure,
 *            an unknown flag or a contradictory pair of flags is set, a
 *            ``__reserved`` member is not zero, a key length is 0, a name
 *            is not NUL-terminated or holds a character outside
 *            ``[A-Za-z0-9._-]``, a limit passed to %SNAPMAP_IOC_CREATE
 *            is above the module's cap, &snapmap_list.desc_size is
 *            out of its bounds, or %SNAPMAP_CREATE_PERSISTENT is asked
 *            for an unnamed map
 * E2BIG      ``size`` is larger than the module knows and a byte beyond
 *            the module's structure is not zero
 * EBADF      a write command was issued on a map fd opened read-only
 * EMSGSIZE   a key or value is longer than the map's limit; read(2) on
 *            a snapshot fd or a watch fd: the buffer cannot hold the
 *            next record
 * ERANGE     %SNAPMAP_IOC_GET: the value buffer is too small; the
 *            value's length and version are reported all the same
 * ENOENT     the key is not in the map; %SNAPMAP_IOC_OPEN,
 *            %SNAPMAP_IOC_DELETE: no map has that name
 * EEXIST     %SNAPMAP_PUT_NOEXIST and the key is present;
 *            %SNAPMAP_IOC_CREATE, %SNAPMAP_IOC_CLONE: a map of that name
 *            exists
 * ECANCELED  %SNAPMAP_PUT_IF_VERSION or %SNAPMAP_DEL_IF_VERSION and the
 *            key's version is not the one given (or the key is absent);
 *            %SNAPMAP_IOC_TXN: a condition does not hold
 * ENOSPC     the map is at its entry limit or its byte limit;
 *            %SNAPMAP_IOC_SNAPSHOT, %SNAPMAP_IOC_CLONE: the map has as
 *            many open snapshots as the module allows (module parameter
 *            max_snapshots_per_map); %SNAPMAP_IOC_WATCH: the map has as
 *            many open watches as the module allows (module parameter
 *            max_watches_per_map)
 * EDQUOT     %SNAPMAP_IOC_CREATE: the caller's user already owns as many
 *            maps as the module allows; %SNAPMAP_IOC_SNAPSHOT,
 *            %SNAPMAP_IOC_CLONE: the caller's user already holds as many
 *            open snapshots, of all maps, as the module allows (module
 *            parameter max_snapshots_per_user)
 * EACCES     %SNAPMAP_IOC_OPEN: the map's mode does not grant the access
 *            asked for; %SNAPMAP_IOC_DELETE: the caller neither owns the
 *            map nor has CAP_SYS_ADMIN
 * ESTALE     a snapshot was invalidated to keep its map within its byte
 *            limit (see "snapshots"); only closing it is left to do;
 *            %SNAPMAP_BATCH_SNAPSHOT: the batch's own snapshot was
 *            invalidated before the batch was done; a watch fd, or
 *            %SNAPMAP_IOC_WATCH from an older version: a change the
 *            watch had to yield is no longer kept (see "watches"); take
 *            a new snapshot and watch from its version
 * EAGAIN     read(2) on a non-blocking watch fd: no record is ready
 * ENOMEM     the module could not allocate memory, or the caller's
 *            memory cgroup (or for a write, the map creator's) is full;
 *            nothing was changed
 * EMFILE     %SNAPMAP_IOC_CREATE, %SNAPMAP_IOC_OPEN, %SNAPMAP_IOC_SNAPSHOT
 *            and %SNAPMAP_IOC_CLONE: the process has no free fd.  The
 *            fd is reserved before names and maps are looked at, so
 *            nothing was changed: no map was made, no name taken, no
 *            snapshot taken and no version moved
 * ========== ============================================================
 */

/**
 * SNAPMAP_ABI_VERSION - version of this interface
 *
 * Raised whenever a command, flag or feature is added; reported by
 * %SNAPMAP_IOC_API.
 */
#define SNAPMAP_ABI_VERSION 5

/* The ioctl type byte of every snapmap command. */
#define SNAPMAP_IOC_TYPE 0xB7

/**
 * enum snapmap_cmd - snapmap command numbers
 * @SNAPMAP_CMD_API: handshake, on the control fd
 * @SNAPMAP_CMD_CREATE: create a map, on the control fd
 * @SNAPMAP_CMD_OPEN: open a named map, on the control fd
 * @SNAPMAP_CMD_LIST: list the named maps, on the control fd
 * @SNAPMAP_CMD_DELETE: remove a map's name, on the control fd (ABI
 *                      version 4)
 * @SNAPMAP_CMD_GET: look a key up, on a map fd
 * @SNAPMAP_CMD_PUT: insert or replace a key, on a map fd
 * @SNAPMAP_CMD_DEL: delete a key, on a map fd
 * @SNAPMAP_CMD_BATCH: several GET, PUT and DEL in one call, on a map fd
 * @SNAPMAP_CMD_CLEAR: delete every key, on a map fd
 * @SNAPMAP_CMD_INFO: limits, usage and counters, on a map fd
 * @SNAPMAP_CMD_SNAPSHOT: take a snapshot, on a map fd
 * @SNAPMAP_CMD_CLONE: copy a map into a new one, on a map fd
 * @SNAPMAP_CMD_TXN: a transaction, on a map fd (ABI version 2)
 * @SNAPMAP_CMD_WATCH: follow the map's changes, on a map fd (ABI version 3)
 * @SNAPMAP_CMD_SNAPSHOT_INFO: version and size, on a snapshot fd
 * @SNAPMAP_CMD_SNAPSHOT_GET: look a key up in a snapshot, on a snapshot fd
 *                            (ABI version 2)
 *
 * Every other command appeared in ABI version 1.  The bit ``1 << cmd`` of
 * &snapmap_api.out_ioctls is set for every command the running module
 * implements.
 */
enum snapmap_cmd {
	SNAPMAP_CMD_API = 0x00,
	SNAPMAP_CMD_CREATE = 0x01,
	SNAPMAP_CMD_OPEN = 0x02,
	SNAPMAP_CMD_LIST = 0x03,
	SNAPMAP_CMD_DELETE = 0x04,
	SNAPMAP_CMD_GET = 0x10,
	SNAPMAP_CMD_PUT = 0x11,
	SNAPMAP_CMD_DEL = 0x12,
	SNAPMAP_CMD_BATCH = 0x13,
	SNAPMAP_CMD_CLEAR = 0x14,
	SNAPMAP_CMD_INFO = 0x15,
	SNAPMAP_CMD_SNAPSHOT = 0x16,
	SNAPMAP_CMD_CLONE = 0x17,
	SNAPMAP_CMD_TXN = 0x18,
	SNAPMAP_CMD_WATCH = 0x19,
	SNAPMAP_CMD_SNAPSHOT_INFO = 0x20,
	SNAPMAP_CMD_SNAPSHOT_GET = 0x21
};

/**
 * DOC: features
 *
 * Bits of &snapmap_api.out_features:
 *
 * - %SNAPMAP_FEATURE_NAMED_MAPS: maps can be named, opened by name with
 *   %SNAPMAP_IOC_OPEN, and are listed by %SNAPMAP_IOC_LIST (ABI version 1).
 * - %SNAPMAP_FEATURE_VERSIONS: every entry carries the version of the write
 *   that produced it; %SNAPMAP_PUT_IF_VERSION and %SNAPMAP_DEL_IF_VERSION
 *   compare against it (ABI version 1).
 * - %SNAPMAP_FEATURE_ATOMIC_SNAPSHOTS: %SNAPMAP_IOC_SNAPSHOT takes
 *   point-in-time snapshots (ABI version 1).
 * - %SNAPMAP_FEATURE_CLONE: %SNAPMAP_IOC_CLONE (ABI version 1).
 * - %SNAPMAP_FEATURE_TXN: transactions: %SNAPMAP_IOC_TXN, and reads of
 *   several keys at one version: %SNAPMAP_BATCH_SNAPSHOT and
 *   %SNAPMAP_IOC_SNAPSHOT_GET (ABI version 2).
 * - %SNAPMAP_FEATURE_WATCH: change feeds: %SNAPMAP_IOC_WATCH (ABI
 *   version 3).
 * - %SNAPMAP_FEATURE_PERSISTENT: persistent maps
 *   (%SNAPMAP_CREATE_PERSISTENT) and %SNAPMAP_IOC_DELETE; every map has an
 *   id, which %SNAPMAP_IOC_INFO, %SNAPMAP_IOC_LIST and the fdinfo of its
 *   fds report; %SNAPMAP_LIST_ALL; the snapshot counters of
 *   &struct snapmap_info (ABI version 4).
 * - %SNAPMAP_FEATURE_WATCH_WAKEUP: &snapmap_watch_arg.wakeup_bytes, and
 *   the ``watch_wakeup`` line of a watch fd's fdinfo (ABI version 5).
 */
#define SNAPMAP_FEATURE_NAMED_MAPS (1ULL << 0)
#define SNAPMAP_FEATURE_VERSIONS (1ULL << 1)
#define SNAPMAP_FEATURE_ATOMIC_SNAPSHOTS (1ULL << 2)
#define SNAPMAP_FEATURE_CLONE (1ULL << 3)
#define SNAPMAP_FEATURE_TXN (1ULL << 4)
#define SNAPMAP_FEATURE_WATCH (1ULL << 5)
#define SNAPMAP_FEATURE_PERSISTENT (1ULL << 6)
#define SNAPMAP_FEATURE_WATCH_WAKEUP (1ULL << 7)

/**
 * struct snapmap_api - API handshake
 * @size: sizeof(struct snapmap_api)
 * @flags: must be zero
 * @out_abi_version: the module's %SNAPMAP_ABI_VERSION
 * @__reserved: must be zero
 * @out_features: bitmask of ``SNAPMAP_FEATURE_*`` the module supports
 * @out_ioctls: bitmask of supported commands, bit ``1 << SNAPMAP_CMD_*``
 *
 * Issued on the control fd (an open /dev/snapmap), in the manner of
 * ``UFFDIO_API``, so that a program built against a newer header can tell
 * what the loaded module offers and degrade gracefully.
 */
struct snapmap_api {
	__u32 size;
	__u32 flags;
	__u32 out_abi_version;
	__u32 __reserved;
	__aligned_u64 out_features;
	__aligned_u64 out_ioctls;
};

/**
 * SNAPMAP_NAME_LEN - size of a map name, including its terminating NUL
 */
#define SNAPMAP_NAME_LEN 64

/**
 * DOC: map lifetime
 *
 * A map lives as long as something holds it: a map fd (from
 * %SNAPMAP_IOC_CREATE or %SNAPMAP_IOC_OPEN), a snapshot or watch fd, a
 * reference taken by a kernel module, or, for a persistent map, the
 * module's registry of names.  When the last one goes, the map and
 * everything in it is freed.  A named map's name can be found with
 * %SNAPMAP_IOC_OPEN while the map lives, and becomes free for a new map the
 * moment the map dies or the name is deleted.
 *
 * A map created with %SNAPMAP_CREATE_PERSISTENT (ABI version 4) is held by
 * the registry until %SNAPMAP_IOC_DELETE: it outlives every fd and the
 * process that made it.  It stays charged to its creator's user (module
 * parameter max_maps_per_user) and memory cgroup.
 *
 * %SNAPMAP_IOC_DELETE removes a name, persistent or not, as unlink(2)
 * removes a file's: the name is free at once, and a new map may take it;
 * fds still open keep working on the map, now unnamed, until they close.
 * A persistent map's registry hold goes with its name.
 *
 * Every map fd holds the module, and so does every persistent map: the
 * module cannot be unloaded (delete_module(2) fails with EWOULDBLOCK,
 * rmmod says the module is in use) while a map exists, be it only
 * persistent maps no process holds.  Delete them first.  Map fds are
 * opened close-on-exec.
 */

/**
 * DOC: create flags
 *
 * - %SNAPMAP_CREATE_PERSISTENT: keep the map after its last fd closes,
 *   until %SNAPMAP_IOC_DELETE (ABI version 4, %SNAPMAP_FEATURE_PERSISTENT).
 *   Only for a named map: EINVAL for an unnamed one.
 */
#define SNAPMAP_CREATE_PERSISTENT (1U << 0)

/**
 * struct snapmap_create - create a map
 * @size: sizeof(struct snapmap_create)
 * @flags: ``SNAPMAP_CREATE_*``
 * @max_key_len: longest key, in bytes; 0 for the module's default
 * @max_value_len: longest value, in bytes; 0 for the module's default
 * @max_entries: most keys the map may hold; 0 for the module's default
 * @max_bytes: most memory the map's entries may use, in bytes, counting
 *             the module's own per-entry overhead; 0 for the module's
 *             default
 * @mode: permission bits (``0777`` at most) checked by %SNAPMAP_IOC_OPEN
 *        against the creator's uid and gid; 0 means ``0600``
 * @__reserved: must be zero
 * @name: NUL-terminated name, unique among live maps; empty for an
 *        unnamed map, which only fds and references reach
 *
 * Issued on the control fd.  Limits above the module's caps (module
 * parameters) get EINVAL.  The memory of the map is charged to the
 * caller's memory cgroup.
 *
 * Return: a new map fd, opened for reading and writing.
 */
struct snapmap_create {
	__u32 size;
	__u32 flags;
	__u32 max_key_len;
	__u32 max_value_len;
	__aligned_u64 max_entries;
	__aligned_u64 max_bytes;
	__u32 mode;
	__u32 __reserved;
	char name[SNAPMAP_NAME_LEN];
};

/**
 * DOC: open flags
 *
 * - %SNAPMAP_OPEN_RDONLY: open the map read-only: GET, INFO and BATCH of
 *   GETs only; write commands get EBADF.  Needs the read permission
 *   bit; without this flag both read and write bits are needed.
 */
#define SNAPMAP_OPEN_RDONLY (1U << 0)

/**
 * struct snapmap_open - open a named map
 * @size: sizeof(struct snapmap_open)
 * @flags: ``SNAPMAP_OPEN_*``
 * @name: NUL-terminated name of the map
 *
 * Issued on the control fd.  The map's mode is checked like a file's:
 * owner bits if the caller's fsuid owns it, group bits if the caller is in
 * its group, other bits otherwise; CAP_SYS_ADMIN overrides.
 *
 * Return: a new map fd.
 */
struct snapmap_open {
	__u32 size;
	__u32 flags;
	char name[SNAPMAP_NAME_LEN];
};

/**
 * struct snapmap_delete - remove a map's name
 * @size: sizeof(struct snapmap_delete)
 * @flags: must be zero
 * @name: NUL-terminated name of the map
 *
 * Issued on the control fd (ABI version 4, %SNAPMAP_FEATURE_PERSISTENT).
 * Only the map's owner (the caller's fsuid is the map's uid) or a caller
 * with CAP_SYS_ADMIN may delete it, whatever the map's mode: as a file in
 * a sticky directory, which only its owner may unlink.  See "map
 * lifetime" for what becomes of the map.
 *
 * Return: 0; EINVAL for unknown flags or an invalid name; ENOENT if no
 * map has the name; EACCES if the caller may not delete it.
 */
struct snapmap_delete {
	__u32 size;
	__u32 flags;
	char name[SNAPMAP_NAME_LEN];
};

/**
 * DOC: map flags
 *
 * What &snapmap_map_desc.map_flags and &snapmap_info.out_map_flags say
 * of a map now (ABI version 4):
 *
 * - %SNAPMAP_MAP_PERSISTENT: the registry holds the map
 *   (%SNAPMAP_CREATE_PERSISTENT, not deleted yet).
 */
#define SNAPMAP_MAP_PERSISTENT (1U << 0)

/**
 * struct snapmap_map_desc - a map, as %SNAPMAP_IOC_LIST describes it
 * @uid: owner's uid
 * @gid: owner's gid
 * @mode: permission bits
 * @__reserved: zero
 * @name: NUL-terminated name, zero-padded; empty for an unnamed map
 * @id: the map's id, as &snapmap_info.out_id (ABI version 4)
 * @map_flags: ``SNAPMAP_MAP_*`` (ABI version 4)
 * @__reserved2: zero
 *
 * Only what a directory listing would show: a map's contents and usage
 * are read with %SNAPMAP_IOC_INFO by those who may open it.  Which
 * processes hold a map is for procfs to tell: the fdinfo of each of its
 * fds, which /proc shows only to those who may look at the process, has
 * the map's id (see "fdinfo").
 */
struct snapmap_map_desc {
	__u32 uid;
	__u32 gid;
	__u32 mode;
	__u32 __reserved;
	char name[SNAPMAP_NAME_LEN];
	__aligned_u64 id;
	__u32 map_flags;
	__u32 __reserved2;
};

/**
 * SNAPMAP_MAP_DESC_SIZE_VER0 - size of the first &struct snapmap_map_desc
 *
 * The smallest &snapmap_list.desc_size accepted.
 */
#define SNAPMAP_MAP_DESC_SIZE_VER0 80

/**
 * SNAPMAP_MAP_DESC_SIZE_MAX - largest &snapmap_list.desc_size accepted
 *
 * Room for &struct snapmap_map_desc to grow.
 */
#define SNAPMAP_MAP_DESC_SIZE_MAX 4096

/**
 * DOC: list flags
 *
 * - %SNAPMAP_LIST_ALL: list the unnamed maps too, and the named maps
 *   whose name was deleted while fds still hold them, of which the
 *   caller may see: those it owns (its fsuid is their uid), or every map
 *   with CAP_SYS_ADMIN (ABI version 4, %SNAPMAP_FEATURE_PERSISTENT).
 */
#define SNAPMAP_LIST_ALL (1U << 0)

/**
 * struct snapmap_list - list the named maps
 * @size: sizeof(struct snapmap_list)
 * @flags: ``SNAPMAP_LIST_*``
 * @count: room at @descs, in descriptions; 0 to ask only how many there are
 * @desc_size: sizeof(struct snapmap_map_desc) as the caller knows it, from
 *             %SNAPMAP_MAP_DESC_SIZE_VER0 to %SNAPMAP_MAP_DESC_SIZE_MAX
 *             (EINVAL outside, whatever @count); a larger one than the
 *             module's gets its tail zeroed, so it can grow
 * @descs: user pointer to an array of @count descriptions
 * @out_count: number of maps listed; when it is above @count, only the
 *             first @count were written and the caller may retry with
 *             more room
 * @__reserved: must be zero
 *
 * Issued on the control fd.  Every named map is listed, whoever owns it,
 * and with %SNAPMAP_LIST_ALL the other maps the caller may see, in no
 * particular order; maps created or freed during the call may or may not
 * appear.  A @desc_size below the module's description gets the first
 * @desc_size bytes of each.
 */
struct snapmap_list {
	__u32 size;
	__u32 flags;
	__u32 count;
	__u32 desc_size;
	__aligned_u64 descs;
	__u32 out_count;
	__u32 __reserved;
};

/**
 * struct snapmap_get - look a key up
 * @size: sizeof(struct snapmap_get)
 * @flags: must be zero
 * @key_len: length of the key, 1 to the map's max_key_len
 * @value_buf_len: size of the buffer at @value
 * @key: user pointer to the key
 * @value: user pointer to a buffer for the value
 * @out_value_len: length of the value
 * @__reserved: must be zero
 * @out_version: version of the entry: the write that produced the value
 *
 * When the buffer is too small, ERANGE is returned and @out_value_len and
 * @out_version are written all the same, so that the caller can retry.
 *
 * Like every command, GET checks that its answer can be written back
 * before it looks the key up: a read-only argument gets EFAULT whatever
 * the map holds.  The value buffer is the exception: GET writes only the
 * value's bytes there, and checks them only when there is a value to
 * write.  So an absent key gets ENOENT, and a value longer than
 * @value_buf_len ERANGE, whatever the buffer; an empty value writes
 * nothing; only a value that fits gets EFAULT if its @out_value_len bytes
 * at @value are not writable.
 */
struct snapmap_get {
	__u32 size;
	__u32 flags;
	__u32 key_len;
	__u32 value_buf_len;
	__aligned_u64 key;
	__aligned_u64 value;
	__u32 out_value_len;
	__u32 __reserved;
	__aligned_u64 out_version;
};

/**
 * DOC: put flags
 *
 * With no flag, %SNAPMAP_IOC_PUT inserts the key or replaces its value.
 *
 * - %SNAPMAP_PUT_NOEXIST: only insert; EEXIST if the key is present.
 * - %SNAPMAP_PUT_EXIST: only replace; ENOENT if the key is absent.
 * - %SNAPMAP_PUT_IF_VERSION: compare-and-swap: only replace, and only if
 *   the entry's version is &snapmap_put.version; ECANCELED otherwise.
 *
 * At most one of them may be set.
 */
#define SNAPMAP_PUT_NOEXIST (1U << 0)
#define SNAPMAP_PUT_EXIST (1U << 1)
#define SNAPMAP_PUT_IF_VERSION (1U << 2)

/**
 * struct snapmap_put - insert or replace a key
 * @size: sizeof(struct snapmap_put)
 * @flags: ``SNAPMAP_PUT_*``
 * @key_len: length of the key, 1 to the map's max_key_len
 * @value_len: length of the value, 0 to the map's max_value_len
 * @key: user pointer to the key
 * @value: user pointer to the value
 * @version: with %SNAPMAP_PUT_IF_VERSION, the version the entry must have;
 *           must be zero otherwise
 * @out_version: version of the new entry
 *
 * A reader sees the old value or the new one, never a mix.
 */
struct snapmap_put {
	__u32 size;
	__u32 flags;
	__u32 key_len;
	__u32 value_len;
	__aligned_u64 key;
	__aligned_u64 value;
	__aligned_u64 version;
	__aligned_u64 out_version;
};

/**
 * DOC: del flags
 *
 * - %SNAPMAP_DEL_IF_VERSION: delete only if the entry's version is
 *   &snapmap_del.version; ECANCELED otherwise.
 */
#define SNAPMAP_DEL_IF_VERSION (1U << 0)

/**
 * struct snapmap_del - delete a key
 * @size: sizeof(struct snapmap_del)
 * @flags: ``SNAPMAP_DEL_*``
 * @key_len: length of the key, 1 to the map's max_key_len
 * @__reserved: must be zero
 * @key: user pointer to the key
 * @version: with %SNAPMAP_DEL_IF_VERSION, the version the entry must have;
 *           must be zero otherwise
 * @out_version: version of the deletion itself: a deletion is a write
 *               and takes a place in the map's sequence of writes
 */
struct snapmap_del {
	__u32 size;
	__u32 flags;
	__u32 key_len;
	__u32 __reserved;
	__aligned_u64 key;
	__aligned_u64 version;
	__aligned_u64 out_version;
};

/**
 * enum snapmap_batch_opcode - operations of a batch
 * @SNAPMAP_BATCH_GET: as %SNAPMAP_IOC_GET
 * @SNAPMAP_BATCH_PUT: as %SNAPMAP_IOC_PUT
 * @SNAPMAP_BATCH_DEL: as %SNAPMAP_IOC_DEL
 */
enum snapmap_batch_opcode {
	SNAPMAP_BATCH_GET = 1,
	SNAPMAP_BATCH_PUT = 2,
	SNAPMAP_BATCH_DEL = 3
};

/**
 * struct snapmap_batch_op - one operation of a batch
 * @opcode: ``SNAPMAP_BATCH_*``
 * @flags: the flags of the matching single command
 * @key_len: length of the key
 * @value_len: PUT: length of the value; GET: size of the value buffer
 * @key: user pointer to the key
 * @value: user pointer to the value (PUT) or the value buffer (GET)
 * @version: as &snapmap_put.version or &snapmap_del.version
 * @out_result: 0, or the negative errno the single command would have
 *              returned
 * @out_value_len: GET: length of the value
 * @out_version: as the matching single command's ``out_version``
 *
 * Operations are read with the size given in &snapmap_batch.op_size, so
 * this structure can grow like the others.
 */
struct snapmap_batch_op {
	__u32 opcode;
	__u32 flags;
	__u32 key_len;
	__u32 value_len;
	__aligned_u64 key;
	__aligned_u64 value;
	__aligned_u64 version;
	__s32 out_result;
	__u32 out_value_len;
	__aligned_u64 out_version;
};

/**
 * DOC: batch flags
 *
 * - %SNAPMAP_BATCH_STOP_ON_ERROR: stop at the first operation that fails;
 *   that operation ran, reports its error and counts in
 *   &snapmap_batch.out_done.  Without the flag every operation runs and
 *   reports its own result.
 * - %SNAPMAP_BATCH_SNAPSHOT: every GET reads the map at one version, as
 *   an ATOMIC snapshot taken at the start of the batch would (ABI version
 *   2, %SNAPMAP_FEATURE_TXN): the values returned are the values those
 *   keys all held at one instant, reported in &snapmap_batch.out_version.
 *   Only GETs may be in such a batch: any other operation reports EINVAL
 *   and does not run.  The snapshot counts against the caps on open
 *   snapshots (ENOSPC, EDQUOT) and can go stale like any other (ESTALE);
 *   both fail the whole batch.  A module of ABI version 1 refuses the
 *   flag as unknown (EINVAL): %SNAPMAP_FEATURE_TXN tells them apart.
 */
#define SNAPMAP_BATCH_STOP_ON_ERROR (1U << 0)
#define SNAPMAP_BATCH_SNAPSHOT (1U << 1)

/**
 * SNAPMAP_BATCH_MAX - most operations in one batch
 */
#define SNAPMAP_BATCH_MAX 4096

/**
 * struct snapmap_batch - several operations in one call
 * @size: sizeof(struct snapmap_batch)
 * @flags: ``SNAPMAP_BATCH_*``
 * @count: number of operations at @ops, 0 to %SNAPMAP_BATCH_MAX
 * @op_size: sizeof(struct snapmap_batch_op) as the caller knows it
 * @ops: user pointer to an array of @count operations
 * @out_done: number of operations run, in order, the one that failed
 *            included with %SNAPMAP_BATCH_STOP_ON_ERROR; the others are
 *            untouched
 * @__reserved: must be zero
 * @out_version: with %SNAPMAP_BATCH_SNAPSHOT, the version the GETs read
 *               the map at: they see exactly the writes of versions below
 *               it; 0 otherwise (ABI version 2)
 *
 * Each operation is atomic on its own; the batch as a whole is not.  The
 * ioctl fails only for errors of the batch itself (its size, flags, count,
 * op_size or pointer); errors of single operations go to their
 * &snapmap_batch_op.out_result.  A read-only fd runs GETs and reports
 * EBADF for the others.
 */
struct snapmap_batch {
	__u32 size;
	__u32 flags;
	__u32 count;
	__u32 op_size;
	__aligned_u64 ops;
	__u32 out_done;
	__u32 __reserved;
	__aligned_u64 out_version;
};

/**
 * DOC: transactions
 *
 * %SNAPMAP_IOC_TXN checks a list of conditions and, if every one holds,
 * makes a list of writes (PUT and DEL) to different keys take effect at one
 * version, which it returns; if one does not hold, it changes nothing and
 * says which.  Every reader sees all of a transaction's writes or none:
 * GET, %SNAPMAP_BATCH_SNAPSHOT, ATOMIC snapshots and clones.  A WEAK
 * snapshot may see some of them, as it may see any writes made during its
 * walk.  Transactions on different keys take no lock in common; those on
 * keys in common wait for one another, and none waits forever.
 *
 * A transaction holds at most %SNAPMAP_TXN_MAX_CONDS conditions and
 * %SNAPMAP_TXN_MAX_OPS writes, and at most %SNAPMAP_TXN_MAX_BYTES bytes of
 * keys and values, counted over both lists.
 *
 * Its entries are checked in order, conditions first, then writes, and
 * &snapmap_txn.out_failed names the one at fault, counting the conditions
 * from 0 and the writes from &snapmap_txn.cond_count.  First each entry
 * is read (EFAULT; E2BIG for a non-zero tail beyond the module's
 * structure) and checked: its kind or opcode, its flags, a value or
 * version where its kind takes none (EINVAL), its lengths (EINVAL for an
 * empty key, then EMSGSIZE, also for the entry that takes the transaction
 * over %SNAPMAP_TXN_MAX_BYTES).  Then the keys, and the conditions'
 * values, are read in the same order (EFAULT).  Then each write is
 * compared with those before it: a second write to a key gets EINVAL.
 * Then the writes' values are read (EFAULT).  Only then is the map looked
 * at: the first condition that does not hold gets ECANCELED; the entry
 * and byte limits ENOSPC; memory ENOMEM.  Nothing is changed unless the
 * call returns 0.
 */

/**
 * enum snapmap_txn_cond_kind - what a condition of a transaction checks
 * @SNAPMAP_TXN_IF_VERSION: the key is present and its version is
 *                          &snapmap_txn_cond.version
 * @SNAPMAP_TXN_IF_PRESENT: the key is present
 * @SNAPMAP_TXN_IF_ABSENT: the key is absent
 * @SNAPMAP_TXN_IF_VALUE: the key is present and its value is the
 *                        &snapmap_txn_cond.value_len bytes at
 *                        &snapmap_txn_cond.value
 */
enum snapmap_txn_cond_kind {
	SNAPMAP_TXN_IF_VERSION = 1,
	SNAPMAP_TXN_IF_PRESENT = 2,
	SNAPMAP_TXN_IF_ABSENT = 3,
	SNAPMAP_TXN_IF_VALUE = 4
};

/**
 * struct snapmap_txn_cond - one condition of a transaction
 * @kind: ``SNAPMAP_TXN_IF_*``
 * @flags: must be zero
 * @key_len: length of the key, 1 to the map's max_key_len
 * @value_len: %SNAPMAP_TXN_IF_VALUE: length of the value, 0 to the map's
 *             max_value_len; must be zero otherwise
 * @key: user pointer to the key
 * @value: %SNAPMAP_TXN_IF_VALUE: user pointer to the value; must be zero
 *         otherwise
 * @version: %SNAPMAP_TXN_IF_VERSION: the version; must be zero otherwise
 *
 * Conditions are read with the size given in &snapmap_txn.cond_size, so
 * this structure can grow.  Several may be on one key.
 */
struct snapmap_txn_cond {
	__u32 kind;
	__u32 flags;
	__u32 key_len;
	__u32 value_len;
	__aligned_u64 key;
	__aligned_u64 value;
	__aligned_u64 version;
};

/**
 * enum snapmap_txn_opcode - the writes of a transaction
 * @SNAPMAP_TXN_PUT: insert the key or replace its value
 * @SNAPMAP_TXN_DEL: delete the key; deleting an absent key is no error,
 *                   and changes nothing
 */
enum snapmap_txn_opcode {
	SNAPMAP_TXN_PUT = 1,
	SNAPMAP_TXN_DEL = 2
};

/**
 * struct snapmap_txn_op - one write of a transaction
 * @opcode: ``SNAPMAP_TXN_*``
 * @flags: must be zero
 * @key_len: length of the key, 1 to the map's max_key_len
 * @value_len: PUT: length of the value, 0 to the map's max_value_len; DEL:
 *             must be zero
 * @key: user pointer to the key
 * @value: PUT: user pointer to the value; DEL: must be zero
 *
 * Writes are read with the size given in &snapmap_txn.op_size, so this
 * structure can grow.  No two may be on one key.  The module never writes
 * to them.
 */
struct snapmap_txn_op {
	__u32 opcode;
	__u32 flags;
	__u32 key_len;
	__u32 value_len;
	__aligned_u64 key;
	__aligned_u64 value;
};

/**
 * SNAPMAP_TXN_MAX_CONDS - most conditions in one transaction
 */
#define SNAPMAP_TXN_MAX_CONDS 64

/**
 * SNAPMAP_TXN_MAX_OPS - most writes in one transaction
 */
#define SNAPMAP_TXN_MAX_OPS 64

/**
 * SNAPMAP_TXN_MAX_BYTES - most bytes of keys and values in one transaction
 */
#define SNAPMAP_TXN_MAX_BYTES (4U << 20)

/**
 * SNAPMAP_TXN_NONE - &snapmap_txn.out_failed when no entry failed
 */
#define SNAPMAP_TXN_NONE 0xffffffffU

/**
 * struct snapmap_txn - a transaction
 * @size: sizeof(struct snapmap_txn)
 * @flags: must be zero
 * @cond_count: number of conditions at @conds, 0 to
 *              %SNAPMAP_TXN_MAX_CONDS
 * @cond_size: sizeof(struct snapmap_txn_cond) as the caller knows it, from
 *             that of its first version to 4096; a larger one than the
 *             module's must have a zero tail (E2BIG)
 * @op_count: number of writes at @ops, 0 to %SNAPMAP_TXN_MAX_OPS
 * @op_size: sizeof(struct snapmap_txn_op) as the caller knows it, as
 *           @cond_size
 * @conds: user pointer to an array of @cond_count conditions
 * @ops: user pointer to an array of @op_count writes
 * @out_version: the version every write took effect at; 0 if the
 *               transaction wrote nothing (no writes, or only DELs of
 *               absent keys) or failed
 * @out_failed: the entry at fault when the call fails with ECANCELED,
 *              EINVAL, E2BIG, EMSGSIZE or EFAULT because of one (see
 *              "transactions"), %SNAPMAP_TXN_NONE otherwise; not written
 *              when the transaction itself is refused (its size, flags,
 *              counts, entry sizes, or the fd's mode)
 * @__reserved: must be zero
 *
 * Issued on a map fd opened for writing (EBADF otherwise).  A transaction
 * with no writes checks its conditions at one instant and changes nothing.
 */
struct snapmap_txn {
	__u32 size;
	__u32 flags;
	__u32 cond_count;
	__u32 cond_size;
	__u32 op_count;
	__u32 op_size;
	__aligned_u64 conds;
	__aligned_u64 ops;
	__aligned_u64 out_version;
	__u32 out_failed;
	__u32 __reserved;
};

/**
 * struct snapmap_clear - delete every key
 * @size: sizeof(struct snapmap_clear)
 * @flags: must be zero
 * @out_version: version of the clear: every key written below it is
 *               deleted at it, every key written above it stays
 *
 * Every key is deleted at one version: every reader (GET, BATCH,
 * transactions, ATOMIC snapshots, clones) sees the map before the clear
 * or after it, never part of it (ABI version 2; in ABI version 1 a clear
 * deleted the keys one by one).  Writes wait while the clear commits, a
 * few instructions after an RCU grace period, so the call costs the same
 * for any map size.  The keys' memory is freed in the background:
 * &snapmap_info.out_entries is 0 at once, &snapmap_info.out_bytes
 * comes down as the memory is freed, and until then it counts against
 * the map's byte and entry limits; a write that finds the map full for
 * it waits for that memory rather than fail.
 */
struct snapmap_clear {
	__u32 size;
	__u32 flags;
	__aligned_u64 out_version;
};

/**
 * struct snapmap_info - limits, usage and counters of a map
 * @size: sizeof(struct snapmap_info)
 * @flags: must be zero
 * @out_max_key_len: the map's key length limit
 * @out_max_value_len: the map's value length limit
 * @out_max_entries: the map's entry limit
 * @out_max_bytes: the map's byte limit
 * @out_entries: keys in the map
 * @out_bytes: memory used by the map's entries, in bytes, counting the
 *             per-entry overhead; what the byte limit is checked against
 * @out_version: the map's last version: that of its latest write, or of
 *               its latest ATOMIC snapshot or clone if that came later
 *               (they take a version too)
 * @out_gets: GETs served, found or not
 * @out_puts: successful PUTs
 * @out_dels: successful DELs
 * @out_uid: owner's uid
 * @out_gid: owner's gid
 * @out_mode: permission bits
 * @__reserved: zero
 * @out_name: name, empty for an unnamed map (or one whose name was
 *            deleted)
 * @out_id: the map's id: a number no other map had since the module was
 *          loaded, 1 for the first (ABI version 4, as every member below)
 * @out_snapshots: open snapshots of the map: ATOMIC, WEAK or stale
 * @out_stale_snapshots: of those, the ones invalidated to keep the map
 *                       within its byte limit (see "snapshots")
 * @out_invalidated: snapshots invalidated since the map was made, closed
 *                   or not
 * @out_pinned_bytes: the part of @out_bytes that only open snapshots
 *                    need: older versions of keys, kept for them, which
 *                    go once no open snapshot needs them
 * @out_map_flags: ``SNAPMAP_MAP_*``
 * @__reserved2: zero
 *
 * A caller that passes the first version's @size (up to @out_name) gets
 * that much; the members after it are written only for a larger @size.
 */
struct snapmap_info {
	__u32 size;
	__u32 flags;
	__u32 out_max_key_len;
	__u32 out_max_value_len;
	__aligned_u64 out_max_entries;
	__aligned_u64 out_max_bytes;
	__aligned_u64 out_entries;
	__aligned_u64 out_bytes;
	__aligned_u64 out_version;
	__aligned_u64 out_gets;
	__aligned_u64 out_puts;
	__aligned_u64 out_dels;
	__u32 out_uid;
	__u32 out_gid;
	__u32 out_mode;
	__u32 __reserved;
	char out_name[SNAPMAP_NAME_LEN];
	__aligned_u64 out_id;
	__u32 out_snapshots;
	__u32 out_stale_snapshots;
	__aligned_u64 out_invalidated;
	__aligned_u64 out_pinned_bytes;
	__u32 out_map_flags;
	__u32 __reserved2;
};

/**
 * DOC: fdinfo
 *
 * /proc/PID/fdinfo/FD of a snapmap fd (ABI version 4) has, after the
 * kernel's own lines, one ``key:\tvalue`` line per item, in this order:
 *
 * - every map fd, snapshot fd and watch fd: ``map_id`` (as
 *   &snapmap_info.out_id), ``map_name`` (empty for an unnamed map),
 *   ``map_flags`` (``SNAPMAP_MAP_*``, in hexadecimal), ``entries``,
 *   ``bytes`` and ``version`` (as &snapmap_info.out_entries, .out_bytes
 *   and .out_version);
 * - a snapshot fd: ``snapshot_version`` (as
 *   &snapmap_snapshot_arg.out_version), ``weak`` and ``stale`` (0 or 1);
 * - a watch fd: ``watch_start`` (as &snapmap_watch_arg.out_version),
 *   ``watch_read`` (the version of the last record read(2) returned
 *   through the fd, its start before the first), ``watch_buffer`` (its
 *   buffer, in bytes) and ``watch_wakeup`` (its
 *   &snapmap_watch_arg.wakeup_bytes).
 *
 * procfs shows it only to those who may look at the process's fds; it is
 * how a tool finds which processes hold a map.
 */

/**
 * SNAPMAP_INFO_SIZE_VER0 - size of the first &struct snapmap_info, up
 * to &snapmap_info.out_name
 */
#define SNAPMAP_INFO_SIZE_VER0 160

/**
 * DOC: snapshots
 *
 * %SNAPMAP_IOC_SNAPSHOT returns a snapshot fd.  read(2) on it yields the
 * map's entries as whole records, each a &struct snapmap_record followed
 * by the key, the value and zero padding up to a multiple of 8 bytes; a
 * read never splits a record, returns 0 at the end, and fails with
 * EMSGSIZE when the buffer cannot hold the next record.
 * ``lseek(fd, 0, SEEK_SET)`` starts over; other seeks get EINVAL.  poll(2)
 * reports the fd always readable, as for a regular file.  The order of the
 * records is unspecified but the same on every pass.
 *
 * An ATOMIC snapshot (the default) is exactly the map at one instant
 * between the ioctl's call and its return: it holds an entry for a key if
 * and only if the key's latest write before that instant was a PUT, with
 * that write's value and version.  Taking it costs the same for any map
 * size; writers keep running while it is taken and read.
 *
 * To do that, the map keeps the versions the snapshot needs.  They count
 * against the map's byte limit: when a write takes the map over it, the
 * oldest snapshot is invalidated (its reads fail with ESTALE from then
 * on) and the versions only it needed are freed.  Writes never fail or
 * wait because a snapshot is open.
 *
 * A WEAK snapshot (%SNAPMAP_SNAPSHOT_WEAK) is a walk of the live map as
 * reads go on: each record is a value its key held at some moment of the
 * walk, but the whole is no state the map was ever in.  A walk (from the
 * first read, or from a rewind with lseek()) yields each key at most once,
 * and every key present throughout it exactly once; keys written during
 * it may or may not appear.  It pins nothing and never goes stale.
 */

/**
 * struct snapmap_record - header of a record read from a snapshot fd
 * @key_len: length of the key that follows the header
 * @value_len: length of the value that follows the key
 * @version: version of the entry
 *
 * The record takes ``SNAPMAP_RECORD_SIZE(key_len, value_len)`` bytes.
 */
struct snapmap_record {
	__u32 key_len;
	__u32 value_len;
	__aligned_u64 version;
};

/* Bytes a record takes in read(2)'s buffer, padding included. */
#define SNAPMAP_RECORD_SIZE(key_len, value_len)				\
	(sizeof(struct snapmap_record) +				\
	 (((__u64)(key_len) + (value_len) + 7) & ~(__u64)7))

/**
 * DOC: snapshot flags
 *
 * - %SNAPMAP_SNAPSHOT_WEAK: a WEAK snapshot instead of an ATOMIC one.
 */
#define SNAPMAP_SNAPSHOT_WEAK (1U << 0)

/**
 * struct snapmap_snapshot_arg - take a snapshot of a map
 * @size: sizeof(struct snapmap_snapshot_arg)
 * @flags: ``SNAPMAP_SNAPSHOT_*``
 * @out_version: for an ATOMIC snapshot, its version: it holds exactly the
 *               writes of versions below this one; 0 for a WEAK snapshot
 *
 * Issued on a map fd, read-only ones included.  The snapshot holds the
 * map: it can outlive every map fd.
 *
 * Return: a new snapshot fd, read-only and close-on-exec.
 */
struct snapmap_snapshot_arg {
	__u32 size;
	__u32 flags;
	__aligned_u64 out_version;
};

/**
 * struct snapmap_snapshot_info - what a snapshot holds
 * @size: sizeof(struct snapmap_snapshot_info)
 * @flags: must be zero
 * @out_version: as &snapmap_snapshot_arg.out_version
 * @out_entries: number of records; for a WEAK snapshot, those read so far
 *               in the current pass
 * @out_bytes: bytes read(2) yields for all records; for a WEAK snapshot,
 *             for those read so far in the current pass
 * @out_snapshot_flags: the ``SNAPMAP_SNAPSHOT_*`` flags it was taken with
 * @__reserved: zero
 *
 * Issued on a snapshot fd.  For an ATOMIC snapshot the first call counts
 * the records, which takes time proportional to the map's size.
 */
struct snapmap_snapshot_info {
	__u32 size;
	__u32 flags;
	__aligned_u64 out_version;
	__aligned_u64 out_entries;
	__aligned_u64 out_bytes;
	__u32 out_snapshot_flags;
	__u32 __reserved;
};

/**
 * DOC: snapshot get
 *
 * %SNAPMAP_IOC_SNAPSHOT_GET on a snapshot fd takes a &struct snapmap_get
 * and looks the key up as the snapshot holds it (ABI version 2,
 * %SNAPMAP_FEATURE_TXN): for an ATOMIC snapshot, the value and version the
 * key had at the snapshot's instant, or ENOENT if it was absent then; for
 * a WEAK one, the key's current value, as %SNAPMAP_IOC_GET.  The errors
 * are those of %SNAPMAP_IOC_GET, and ESTALE once the snapshot went stale.
 * It does not move the snapshot's read position.
 */

/**
 * struct snapmap_clone - copy a map into a new one
 * @size: sizeof(struct snapmap_clone)
 * @flags: must be zero
 * @mode: as &snapmap_create.mode
 * @__reserved: must be zero
 * @out_version: version of the ATOMIC snapshot the clone was made from
 * @name: as &snapmap_create.name
 *
 * Issued on a map fd.  The new map has the source's limits, and holds what
 * an ATOMIC snapshot of the source holds, versions included; its own next
 * writes get versions above @out_version.  Copying takes time proportional
 * to the source's size but never stops its writers.  A snapshot never
 * holds more than its map's limits, so the copy always fits them.  ESTALE
 * if the snapshot went stale while being copied; ENOSPC and EDQUOT when
 * the source, or the caller's user, has as many open snapshots as the
 * module allows, as for %SNAPMAP_IOC_SNAPSHOT (the copy is made from a
 * snapshot of its own); EEXIST, EDQUOT and EINVAL as for
 * %SNAPMAP_IOC_CREATE.
 *
 * Flags and mode (EINVAL), the answer's write-back (EFAULT) and the new
 * fd (EMFILE) are checked first, and the name (EINVAL) and the caps on
 * open snapshots (ENOSPC, EDQUOT) before the snapshot is taken: these
 * errors, and ENOMEM for the new map itself, leave the source untouched.
 * A clone that fails once it has taken its snapshot (ESTALE, EEXIST,
 * EDQUOT for the caller's maps, or ENOMEM while copying) leaves the source
 * as it was but for its version (see &snapmap_info.out_version), which the
 * snapshot took.  The new map's name is taken only once the copy
 * is complete.
 *
 * Return: a new map fd, opened for reading and writing.
 */
struct snapmap_clone {
	__u32 size;
	__u32 flags;
	__u32 mode;
	__u32 __reserved;
	__aligned_u64 out_version;
	char name[SNAPMAP_NAME_LEN];
};

/**
 * DOC: watches
 *
 * %SNAPMAP_IOC_WATCH returns a watch fd: read(2) on it yields the map's
 * changes, in the order of their versions, each once: every change of a
 * version above the watch's start (&snapmap_watch_arg.out_version), none
 * below.  A snapshot taken at version V and the records of a watch that
 * starts at V, applied in order, give the map exactly as it was at the
 * version of every record read.
 *
 * Each record is a &struct snapmap_change followed by the key, the value
 * and zero padding up to a multiple of 8 bytes:
 *
 * - %SNAPMAP_CHANGE_PUT: the key was given the value;
 * - %SNAPMAP_CHANGE_DEL: the key was deleted;
 * - %SNAPMAP_CHANGE_CLEAR: every key was deleted (no key, no value);
 * - %SNAPMAP_CHANGE_TXN: the next &snapmap_change.count records are the
 *   writes of one transaction, all of this record's version (no key, no
 *   value).  A reader that applies them together never shows part of it.
 *
 * A write that changes nothing (a DEL of an absent key, a CLEAR of an
 * empty map) has no record.  A read never splits a record, and fails with
 * EMSGSIZE when the buffer cannot hold the next one; it may end between
 * the records of a transaction.  A read with no record ready blocks until
 * one is, or fails with EAGAIN if the fd is non-blocking (fcntl(2)
 * ``O_NONBLOCK``); poll(2) and epoll report the fd readable when a read
 * would not block.  A fault while copying out fails the read with EFAULT
 * if nothing was copied; no record is lost either way.
 *
 * By default a watcher that keeps up is woken for each change as soon as
 * it is made: the lowest latency, and a wake-up for the writer to pay
 * each time.  Once changes come faster than it can be woken for each (it
 * found more than one at its last look), it is woken by a timer instead,
 * the module's ``watch_coalesce_us`` (100 microseconds by default; 0
 * turns this off) after it caught up, or by a writer once half its buffer
 * is unread, whichever comes first; once it finds one change or none, it
 * is woken for each again.  Only its wake-up waits: a poll or read that
 * looks meanwhile finds the records there.
 *
 * A watcher that follows many changes can ask to be woken only once
 * records of &snapmap_watch_arg.wakeup_bytes are ready: then poll(2)
 * reports the fd readable, and a blocking read(2) returns, only once they
 * are (or the watch lost a change), while a non-blocking read returns the
 * records there are.  As with ``SO_RCVLOWAT``, the watcher bounds how
 * late it learns of a change with poll's timeout, after which it reads
 * without blocking.
 *
 * Writers never wait for a watch.  The records not yet read are kept by
 * the map, in the memory cgroup of the process that opened the map's first
 * open watch, up to the largest buffer of the open watches
 * (&snapmap_watch_arg.buffer_bytes).  When they need more, the oldest go,
 * and a watch that had not read one of them fails its next read with
 * ESTALE (poll reports it readable, so that the read finds out): it can
 * no longer tell every change.  So does every open watch when a record
 * cannot be allocated.  The watches' reads let the oldest go, each before
 * it reads; while no watch reads, the map keeps up to an eighth more
 * before its writers do.  The way back is a new snapshot and a new watch
 * from its version, as one call: %SNAPMAP_WATCH_SNAPSHOT.
 *
 * The records kept are also the map's memory of recent changes: a watch
 * may start at an older version (%SNAPMAP_WATCH_SINCE) as long as every
 * change above it is still kept, and fails with ESTALE otherwise.  A map
 * keeps records only while a watch is open, from the version the first of
 * them started at.
 */

/**
 * DOC: watch flags
 *
 * - %SNAPMAP_WATCH_SINCE: start at &snapmap_watch_arg.since rather than
 *   at the map's current version.
 * - %SNAPMAP_WATCH_SNAPSHOT: also take an ATOMIC snapshot, and start the
 *   watch at its version: &snapmap_watch_arg.out_snapshot_fd.  Not with
 *   %SNAPMAP_WATCH_SINCE.
 */
#define SNAPMAP_WATCH_SINCE (1U << 0)
#define SNAPMAP_WATCH_SNAPSHOT (1U << 1)

/**
 * struct snapmap_watch_arg - follow a map's changes
 * @size: sizeof(struct snapmap_watch_arg)
 * @flags: ``SNAPMAP_WATCH_*``
 * @since: with %SNAPMAP_WATCH_SINCE, the version to start at: the watch
 *         yields every change of a version above it; at most the map's
 *         current version (&snapmap_info.out_version); else zero
 * @prefix: the watch yields only the changes of keys that start with
 *          these bytes, and CLEARs; ignored if @prefix_len is 0
 * @prefix_len: length of @prefix, at most the map's key length limit
 * @out_snapshot_fd: with %SNAPMAP_WATCH_SNAPSHOT, a new snapshot fd,
 *                   read-only and close-on-exec, of an ATOMIC snapshot
 *                   taken at @out_version; else -1
 * @buffer_bytes: the most bytes of records not yet read that the watch
 *                may need kept, at least %SNAPMAP_WATCH_MIN_BUFFER and
 *                at most the module's cap (module parameter
 *                max_watch_buffer_bytes); 0 for the module's default
 *                (watch_buffer_bytes)
 * @out_version: the watch's start: it yields the changes of versions
 *               above this one
 * @wakeup_bytes: poll(2) reports the watch fd readable, and a blocking
 *                read(2) returns, only once the records past the watch's
 *                place in the map's feed take this many bytes, counted as
 *                @buffer_bytes counts them (records of keys outside
 *                @prefix included), or the watch lost a change; at most
 *                half the watch's buffer.  0 (the default, and what a
 *                caller built before ABI version 5 passes) for any
 *                record: see "watches"
 *
 * Issued on a map fd, read-only ones included.  The watch holds the map:
 * it can outlive every map fd.  The first version of the structure ends
 * at @out_version (%SNAPMAP_WATCH_ARG_SIZE_VER0 bytes).
 *
 * Return: a new watch fd, read-only and close-on-exec.  EINVAL for
 * unknown or contradictory flags, @since without %SNAPMAP_WATCH_SINCE or
 * above the map's version, a @buffer_bytes out of its bounds, or a
 * @wakeup_bytes above half the watch's buffer; EMSGSIZE
 * for a prefix longer than the map's key length limit; ESTALE if the
 * changes since @since are no longer all kept; ENOSPC if the map has as
 * many open watches as the module allows (module parameter
 * max_watches_per_map); with %SNAPMAP_WATCH_SNAPSHOT, the errors of
 * %SNAPMAP_IOC_SNAPSHOT.
 */
struct snapmap_watch_arg {
	__u32 size;
	__u32 flags;
	__aligned_u64 since;
	__aligned_u64 prefix;
	__u32 prefix_len;
	__s32 out_snapshot_fd;
	__aligned_u64 buffer_bytes;
	__aligned_u64 out_version;
	__aligned_u64 wakeup_bytes;
};

/**
 * SNAPMAP_WATCH_ARG_SIZE_VER0 - size of the first &struct
 * snapmap_watch_arg, up to &snapmap_watch_arg.out_version
 */
#define SNAPMAP_WATCH_ARG_SIZE_VER0 48

/* The smallest buffer a watch may ask for. */
#define SNAPMAP_WATCH_MIN_BUFFER 4096

/* Types of &struct snapmap_change. */
#define SNAPMAP_CHANGE_PUT 1
#define SNAPMAP_CHANGE_DEL 2
#define SNAPMAP_CHANGE_CLEAR 3
#define SNAPMAP_CHANGE_TXN 4

/**
 * struct snapmap_change - header of a record read from a watch fd
 * @type: ``SNAPMAP_CHANGE_*``
 * @key_len: length of the key that follows the header; 0 for a CLEAR and
 *           a TXN
 * @value_len: length of the value that follows the key; 0 but for a PUT
 * @count: for a TXN, the records of its writes that follow; else 0
 * @version: version of the change
 *
 * The record takes ``SNAPMAP_CHANGE_SIZE(key_len, value_len)`` bytes.
 */
struct snapmap_change {
	__u32 type;
	__u32 key_len;
	__u32 value_len;
	__u32 count;
	__aligned_u64 version;
};

/* Bytes a record takes in read(2)'s buffer, padding included. */
#define SNAPMAP_CHANGE_SIZE(key_len, value_len)				\
	(sizeof(struct snapmap_change) +				\
	 (((__u64)(key_len) + (value_len) + 7) & ~(__u64)7))

#define SNAPMAP_IOC_API _IOWR(SNAPMAP_IOC_TYPE, SNAPMAP_CMD_API, \
			      struct snapmap_api)
#define SNAPMAP_IOC_CREATE _IOWR(SNAPMAP_IOC_TYPE, SNAPMAP_CMD_CREATE, \
				 struct snapmap_create)
#define SNAPMAP_IOC_OPEN _IOWR(SNAPMAP_IOC_TYPE, SNAPMAP_CMD_OPEN, \
			       struct snapmap_open)
#define SNAPMAP_IOC_LIST _IOWR(SNAPMAP_IOC_TYPE, SNAPMAP_CMD_LIST, \
			       struct snapmap_list)
#define SNAPMAP_IOC_DELETE _IOWR(SNAPMAP_IOC_TYPE, SNAPMAP_CMD_DELETE, \
				 struct snapmap_delete)
#define SNAPMAP_IOC_GET _IOWR(SNAPMAP_IOC_TYPE, SNAPMAP_CMD_GET, \
			      struct snapmap_get)
#define SNAPMAP_IOC_PUT _IOWR(SNAPMAP_IOC_TYPE, SNAPMAP_CMD_PUT, \
			      struct snapmap_put)
#define SNAPMAP_IOC_DEL _IOWR(SNAPMAP_IOC_TYPE, SNAPMAP_CMD_DEL, \
			      struct snapmap_del)
#define SNAPMAP_IOC_BATCH _IOWR(SNAPMAP_IOC_TYPE, SNAPMAP_CMD_BATCH, \
				struct snapmap_batch)
#define SNAPMAP_IOC_CLEAR _IOWR(SNAPMAP_IOC_TYPE, SNAPMAP_CMD_CLEAR, \
				struct snapmap_clear)
#define SNAPMAP_IOC_INFO _IOWR(SNAPMAP_IOC_TYPE, SNAPMAP_CMD_INFO, \
			       struct snapmap_info)
#define SNAPMAP_IOC_SNAPSHOT _IOWR(SNAPMAP_IOC_TYPE, SNAPMAP_CMD_SNAPSHOT, \
				   struct snapmap_snapshot_arg)
#define SNAPMAP_IOC_CLONE _IOWR(SNAPMAP_IOC_TYPE, SNAPMAP_CMD_CLONE, \
				struct snapmap_clone)
#define SNAPMAP_IOC_SNAPSHOT_INFO _IOWR(SNAPMAP_IOC_TYPE,		\
					SNAPMAP_CMD_SNAPSHOT_INFO,	\
					struct snapmap_snapshot_info)
#define SNAPMAP_IOC_TXN _IOWR(SNAPMAP_IOC_TYPE, SNAPMAP_CMD_TXN, \
			      struct snapmap_txn)
#define SNAPMAP_IOC_SNAPSHOT_GET _IOWR(SNAPMAP_IOC_TYPE,			\
				       SNAPMAP_CMD_SNAPSHOT_GET,	\
				       struct snapmap_get)
#define SNAPMAP_IOC_WATCH _IOWR(SNAPMAP_IOC_TYPE, SNAPMAP_CMD_WATCH, \
				struct snapmap_watch_arg)

#endif /* _UAPI_LINUX_SNAPMAP_H */
