// SPDX-License-Identifier: GPL-2.0
/*
 * libsnapmap selftests: what every function shares.  The version, the
 * control device and ctl_fd -1, the handshake and snapmap_has_cmd(),
 * options structures (NULL, too small, larger with a zero or a non-zero
 * tail, fields past a short size left unread), errno left alone on
 * success and set on failure, close-on-exec fds, EBADF and ENOTTY for fds of the wrong kind,
 * and EOPNOTSUPP for a command an older module lacks.
 */

#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <elf.h>

#include "lib_test.h"

TEST(lib_version)
{
	char expected[32];

	snprintf(expected, sizeof(expected), "%d.%d",
		 LIBSNAPMAP_MAJOR_VERSION, LIBSNAPMAP_MINOR_VERSION);
	ASSERT_TRUE(snapmap_lib_version() != NULL);
	EXPECT_STREQ(expected, snapmap_lib_version());
}

TEST(ctl_open)
{
	struct snapmap_api api;
	int ctl;

	ctl = LIB(snapmap_ctl_open());
	ASSERT_LE(0, ctl);
	EXPECT_TRUE(lib_cloexec(ctl));
	/* A control fd: the handshake works on it. */
	EXPECT_EQ(0, sm_ret(ioctl(ctl, SNAPMAP_IOC_API,
				  &(struct snapmap_api){ .size = sizeof(api) })));
	EXPECT_EQ(O_RDWR, fcntl(ctl, F_GETFL) & O_ACCMODE);
	EXPECT_EQ(0, close(ctl));
}

/* snapmap_api() answers what the raw handshake answers. */
TEST(api)
{
	struct snapmap_api raw = { .size = sizeof(raw) }, api;
	int ctl;

	ctl = snapmap_open_ctl();
	ASSERT_LE(0, ctl);
	ASSERT_EQ(0, ioctl(ctl, SNAPMAP_IOC_API, &raw));

	memset(&api, 0xa5, sizeof(api));
	ASSERT_EQ(0, LIB(snapmap_api(ctl, &api)));
	EXPECT_EQ(sizeof(api), api.size);
	EXPECT_EQ(0, api.flags);
	EXPECT_EQ(SNAPMAP_ABI_VERSION, api.out_abi_version);
	EXPECT_EQ(0, api.__reserved);
	EXPECT_EQ(raw.out_features, api.out_features);
	EXPECT_EQ(raw.out_ioctls, api.out_ioctls);

	/* ctl_fd -1: the call opens the control device itself. */
	memset(&api, 0, sizeof(api));
	ASSERT_EQ(0, LIB(snapmap_api(-1, &api)));
	EXPECT_EQ(raw.out_ioctls, api.out_ioctls);
	EXPECT_EQ(raw.out_features, api.out_features);

	EXPECT_EQ(-EINVAL, LIB(snapmap_api(ctl, NULL)));
	EXPECT_EQ(0, close(ctl));
}

TEST(has_cmd)
{
	static const unsigned int cmds[] = {
		SNAPMAP_CMD_API, SNAPMAP_CMD_CREATE, SNAPMAP_CMD_OPEN,
		SNAPMAP_CMD_LIST, SNAPMAP_CMD_GET, SNAPMAP_CMD_PUT,
		SNAPMAP_CMD_DEL, SNAPMAP_CMD_BATCH, SNAPMAP_CMD_CLEAR,
		SNAPMAP_CMD_INFO, SNAPMAP_CMD_SNAPSHOT, SNAPMAP_CMD_CLONE,
		SNAPMAP_CMD_SNAPSHOT_INFO, SNAPMAP_CMD_DELETE,
	};
	struct snapmap_api api, none = { .size = sizeof(none) };
	unsigned int i;

	ASSERT_EQ(0, LIB(snapmap_api(-1, &api)));
	/* This module has every command of the header. */
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		EXPECT_TRUE(snapmap_has_cmd(&api, cmds[i])) {
			TH_LOG("command %#x missing", cmds[i]);
		}
		EXPECT_FALSE(snapmap_has_cmd(&none, cmds[i]));
	}
	/* A number between two blocks of commands, and out of range. */
	EXPECT_FALSE(snapmap_has_cmd(&api, SNAPMAP_CMD_DELETE + 1));
	EXPECT_FALSE(snapmap_has_cmd(&api, 63));
	none.out_ioctls = ~0ULL;
	EXPECT_TRUE(snapmap_has_cmd(&none, 63));
	EXPECT_FALSE(snapmap_has_cmd(&none, 64));
	EXPECT_FALSE(snapmap_has_cmd(&none, ~0U));
	EXPECT_FALSE(snapmap_has_cmd(NULL, SNAPMAP_CMD_API));
}

/*
 * Without /dev/snapmap (as when the module is not loaded), every call
 * given ctl_fd -1 fails with ENOENT, while a control fd opened before
 * keeps working: the device is hidden under an empty /dev in a mount
 * namespace of this test's own.
 */
TEST(no_device)
{
	struct snapmap_map_desc *descs = (void *)1;
	char name[SNAPMAP_NAME_LEN];
	SNAPMAP_OPTS(snapmap_create_opts, opts, .name = name);
	struct snapmap_api api;
	int ctl, fd;

	lib_name(name, "no-device");
	ctl = snapmap_open_ctl();
	ASSERT_LE(0, ctl);
	fd = LIB(snapmap_create(ctl, &opts));
	ASSERT_LE(0, fd);

	if (unshare(CLONE_NEWNS))
		SKIP(return, "no mount namespace: %s", strerror(errno));
	ASSERT_EQ(0, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
	ASSERT_EQ(0, mount("none", "/dev", "tmpfs", 0, NULL));
	ASSERT_NE(0, access(SNAPMAP_DEV, F_OK));

	EXPECT_EQ(-ENOENT, LIB(snapmap_ctl_open()));
	EXPECT_EQ(-ENOENT, LIB(snapmap_api(-1, &api)));
	EXPECT_EQ(-ENOENT, LIB(snapmap_create(-1, NULL)));
	/* The map exists: this ENOENT is the device's. */
	EXPECT_EQ(-ENOENT, LIB(snapmap_open(-1, name, 0)));
	EXPECT_EQ(-ENOENT, LIB(snapmap_list(-1, &descs)));
	EXPECT_TRUE(descs == NULL);

	/* The control fd and the map fd need no device node. */
	EXPECT_EQ(0, LIB(snapmap_api(ctl, &api)));
	fd = LIB(snapmap_open(ctl, name, SNAPMAP_OPEN_RDONLY));
	EXPECT_LE(0, fd);
	EXPECT_EQ(0, close(fd));
	EXPECT_EQ(0, close(ctl));
}

/* Every fd the library opens or hands out is close-on-exec. */
TEST(cloexec)
{
	char name[SNAPMAP_NAME_LEN];
	SNAPMAP_OPTS(snapmap_create_opts, opts, .name = name);
	struct snapmap_snapshot *snap;
	int ctl, fd, ro, cfd;

	lib_name(name, "cloexec");
	ctl = LIB(snapmap_ctl_open());
	ASSERT_LE(0, ctl);
	EXPECT_TRUE(lib_cloexec(ctl));
	fd = LIB(snapmap_create(ctl, &opts));
	ASSERT_LE(0, fd);
	EXPECT_TRUE(lib_cloexec(fd));
	ro = LIB(snapmap_open(-1, name, SNAPMAP_OPEN_RDONLY));
	ASSERT_LE(0, ro);
	EXPECT_TRUE(lib_cloexec(ro));
	cfd = LIB(snapmap_clone(ro, NULL, NULL));
	ASSERT_LE(0, cfd);
	EXPECT_TRUE(lib_cloexec(cfd));
	ASSERT_EQ(0, LIB(snapmap_snapshot_open(fd, NULL, &snap)));
	EXPECT_TRUE(lib_cloexec(snapmap_snapshot_fd(snap)));
	snapmap_snapshot_close(snap);
	EXPECT_EQ(0, close(cfd));
	EXPECT_EQ(0, close(ro));
	EXPECT_EQ(0, close(fd));
	EXPECT_EQ(0, close(ctl));
}

/*
 * errno is left alone by every function that succeeds, the ones that
 * return nothing included.  (LIB() checks each call of every test.)
 */
TEST(errno_kept)
{
	struct snapmap_batch_op ops[3];
	struct snapmap_snapshot_info sinfo;
	struct snapmap_map_desc *descs;
	struct snapmap_snapshot *snap;
	struct snapmap_entry entry;
	struct snapmap_info info;
	struct snapmap_api api;
	char value[8];
	__u32 len = sizeof(value);
	__u64 v1, v2;
	int ctl, fd, cfd, n;

	ctl = LIB(snapmap_ctl_open());
	ASSERT_LE(0, ctl);
	ASSERT_EQ(0, LIB(snapmap_api(ctl, &api)));
	fd = LIB(snapmap_create(ctl, NULL));
	ASSERT_LE(0, fd);
	n = LIB(snapmap_list(ctl, &descs));
	ASSERT_LE(1, n);
	free(descs);
	ASSERT_EQ(0, LIB(snapmap_info(fd, &info)));
	ASSERT_EQ(0, LIB(snapmap_put(fd, "k", 1, "v", 1, 0, &v1)));
	ASSERT_EQ(0, LIB(snapmap_get(fd, "k", 1, value, &len, NULL)));
	ASSERT_EQ(0, LIB(snapmap_cas(fd, "k", 1, "w", 1, v1, &v2)));
	ASSERT_EQ(0, LIB(snapmap_del_if(fd, "k", 1, v2, NULL)));
	ASSERT_EQ(0, LIB(snapmap_put(fd, "k", 1, "v", 1, 0, NULL)));
	ASSERT_EQ(0, LIB(snapmap_del(fd, "k", 1, NULL)));
	ASSERT_EQ(0, LIB(snapmap_clear(fd, NULL)));

	errno = LIB_ERRNO_MARK;
	snapmap_batch_put(&ops[0], "a", 1, "1", 1, 0);
	snapmap_batch_get(&ops[1], "a", 1, value, sizeof(value));
	snapmap_batch_del(&ops[2], "a", 1);
	EXPECT_TRUE(snapmap_has_cmd(&api, SNAPMAP_CMD_BATCH));
	EXPECT_TRUE(snapmap_lib_version() != NULL);
	EXPECT_EQ(LIB_ERRNO_MARK, errno);
	ASSERT_EQ(3, LIB(snapmap_batch(fd, ops, 3, 0)));

	cfd = LIB(snapmap_clone(fd, NULL, NULL));
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, LIB(snapmap_put(fd, "s", 1, "1", 1, 0, NULL)));
	ASSERT_EQ(0, LIB(snapmap_snapshot_open(fd, NULL, &snap)));
	ASSERT_EQ(1, LIB(snapmap_snapshot_next(snap, &entry)));
	ASSERT_EQ(0, LIB(snapmap_snapshot_next(snap, &entry)));
	ASSERT_EQ(0, LIB(snapmap_snapshot_rewind(snap)));
	ASSERT_EQ(0, LIB(snapmap_snapshot_info(snap, &sinfo)));
	errno = LIB_ERRNO_MARK;
	EXPECT_LT(0, snapmap_snapshot_version(snap));
	EXPECT_LE(0, snapmap_snapshot_fd(snap));
	snapmap_snapshot_close(snap);
	snapmap_snapshot_close(NULL);
	EXPECT_EQ(LIB_ERRNO_MARK, errno);

	EXPECT_EQ(0, close(cfd));
	EXPECT_EQ(0, close(fd));
	EXPECT_EQ(0, close(ctl));
}

/*
 * Every function that fails stores its error in errno too, those that
 * return a count, an fd, a version or a bool included.  (LIB() checks
 * each failure of every test; these are the calls that return no errno.)
 */
TEST(errno_set)
{
	struct snapmap_map_desc *descs;
	struct snapmap_snapshot *snap;
	struct snapmap_watch *watch;
	struct snapmap_entry e;
	__u32 len = 0;
	int fd;

	fd = LIB(snapmap_create(-1, NULL));
	ASSERT_LE(0, fd);
	/* A count, and an fd: the failure is in both. */
	EXPECT_EQ(-EINVAL, LIB(snapmap_list(-1, NULL)));
	EXPECT_EQ(-EBADF, LIB(snapmap_list(-2, &descs)));
	EXPECT_EQ(-EBADF, LIB(snapmap_create(-2, NULL)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_snapshot_fd(NULL)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_watch_fd(NULL)));
	EXPECT_EQ(-EBADF, LIB(snapmap_get(-1, "k", 1, NULL, &len, NULL)));
	EXPECT_EQ(-ENOENT, LIB(snapmap_get(fd, "k", 1, NULL, &len, NULL)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_snapshot_next(NULL, &e)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_watch_next(NULL, NULL)));
	EXPECT_EQ(-EBADF, LIB(snapmap_snapshot_open(-1, NULL, &snap)));
	EXPECT_EQ(-EBADF, LIB(snapmap_watch_open(-1, NULL, &watch)));

	/* A version and a bool: 0 and false are answers too, errno tells. */
	errno = LIB_ERRNO_MARK;
	EXPECT_EQ(0, snapmap_snapshot_version(NULL));
	EXPECT_EQ(EINVAL, errno);
	errno = LIB_ERRNO_MARK;
	EXPECT_EQ(0, snapmap_watch_version(NULL));
	EXPECT_EQ(EINVAL, errno);
	errno = LIB_ERRNO_MARK;
	EXPECT_FALSE(snapmap_has_cmd(NULL, SNAPMAP_CMD_INFO));
	EXPECT_EQ(EINVAL, errno);

	/* perror()'s message is the failure's. */
	errno = 0;
	EXPECT_EQ(-ENOENT, snapmap_del(fd, "k", 1, NULL));
	EXPECT_STREQ(strerror(ENOENT), strerror(errno));
	EXPECT_EQ(0, close(fd));
}

/* A closed fd is EBADF for every kind of call. */
TEST(closed_fd)
{
	struct snapmap_map_desc *descs;
	struct snapmap_snapshot *snap;
	struct snapmap_info info;
	struct snapmap_api api;
	struct snapmap_batch_op op;
	__u32 len = 0;
	int fd;

	fd = snapmap_open_ctl();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, close(fd));

	EXPECT_EQ(-EBADF, LIB(snapmap_api(fd, &api)));
	EXPECT_EQ(-EBADF, LIB(snapmap_create(fd, NULL)));
	EXPECT_EQ(-EBADF, LIB(snapmap_open(fd, "x", 0)));
	EXPECT_EQ(-EBADF, LIB(snapmap_list(fd, &descs)));
	EXPECT_EQ(-EBADF, LIB(snapmap_info(fd, &info)));
	EXPECT_EQ(-EBADF, LIB(snapmap_get(fd, "k", 1, NULL, &len, NULL)));
	EXPECT_EQ(-EBADF, LIB(snapmap_put(fd, "k", 1, "v", 1, 0, NULL)));
	EXPECT_EQ(-EBADF, LIB(snapmap_cas(fd, "k", 1, "v", 1, 1, NULL)));
	EXPECT_EQ(-EBADF, LIB(snapmap_del(fd, "k", 1, NULL)));
	EXPECT_EQ(-EBADF, LIB(snapmap_del_if(fd, "k", 1, 1, NULL)));
	EXPECT_EQ(-EBADF, LIB(snapmap_clear(fd, NULL)));
	snapmap_batch_del(&op, "k", 1);
	EXPECT_EQ(-EBADF, LIB(snapmap_batch(fd, &op, 1, 0)));
	EXPECT_EQ(-EBADF, LIB(snapmap_snapshot_open(fd, NULL, &snap)));
	EXPECT_EQ(-EBADF, LIB(snapmap_clone(fd, NULL, NULL)));
	/* Only -1 means "open the device": other negative fds are bad. */
	EXPECT_EQ(-EBADF, LIB(snapmap_create(-2, NULL)));
	EXPECT_EQ(-EBADF, LIB(snapmap_info(-1, &info)));
}

/*
 * A command issued on an fd of the wrong kind, or on no snapmap fd at
 * all, is ENOTTY, not EOPNOTSUPP: the module has the command.
 */
TEST(wrong_fd_kind)
{
	struct snapmap_snapshot_opts sopts = { .sz = sizeof(sopts) };
	struct snapmap_map_desc *descs;
	struct snapmap_snapshot *snap;
	struct snapmap_info info;
	struct snapmap_api api;
	struct snapmap_batch_op op;
	int ctl, fd, null, sfd, i;
	int fds[3];
	__u32 len = 0;

	ctl = snapmap_open_ctl();
	ASSERT_LE(0, ctl);
	fd = LIB(snapmap_create(ctl, NULL));
	ASSERT_LE(0, fd);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, null);
	ASSERT_EQ(0, LIB(snapmap_snapshot_open(fd, &sopts, &snap)));
	sfd = snapmap_snapshot_fd(snap);

	/* Control commands on a map fd, a snapshot fd and /dev/null. */
	fds[0] = fd;
	fds[1] = sfd;
	fds[2] = null;
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(-ENOTTY, LIB(snapmap_api(fds[i], &api)));
		EXPECT_EQ(-ENOTTY, LIB(snapmap_create(fds[i], NULL)));
		EXPECT_EQ(-ENOTTY, LIB(snapmap_open(fds[i], "x", 0)));
		EXPECT_EQ(-ENOTTY, LIB(snapmap_list(fds[i], &descs)));
	}

	/* Map commands on a control fd, a snapshot fd and /dev/null. */
	fds[0] = ctl;
	snapmap_batch_del(&op, "k", 1);
	for (i = 0; i < 3; i++) {
		struct snapmap_snapshot *s2 = (void *)1;

		EXPECT_EQ(-ENOTTY, LIB(snapmap_info(fds[i], &info)));
		EXPECT_EQ(-ENOTTY, LIB(snapmap_get(fds[i], "k", 1, NULL, &len,
						   NULL)));
		EXPECT_EQ(-ENOTTY, LIB(snapmap_put(fds[i], "k", 1, "v", 1, 0,
						   NULL)));
		EXPECT_EQ(-ENOTTY, LIB(snapmap_cas(fds[i], "k", 1, "v", 1, 1,
						   NULL)));
		EXPECT_EQ(-ENOTTY, LIB(snapmap_del(fds[i], "k", 1, NULL)));
		EXPECT_EQ(-ENOTTY, LIB(snapmap_del_if(fds[i], "k", 1, 1,
						      NULL)));
		EXPECT_EQ(-ENOTTY, LIB(snapmap_clear(fds[i], NULL)));
		EXPECT_EQ(-ENOTTY, LIB(snapmap_batch(fds[i], &op, 1, 0)));
		EXPECT_EQ(-ENOTTY, LIB(snapmap_snapshot_open(fds[i], NULL,
							     &s2)));
		EXPECT_TRUE(s2 == NULL);
		EXPECT_EQ(-ENOTTY, LIB(snapmap_clone(fds[i], NULL, NULL)));
	}

	snapmap_snapshot_close(snap);
	EXPECT_EQ(0, close(null));
	EXPECT_EQ(0, close(fd));
	EXPECT_EQ(0, close(ctl));
}

enum opts_kind { OPTS_CREATE, OPTS_CLONE, OPTS_SNAPSHOT, OPTS_KINDS };

/* Pass @big as options of @kind: a new fd (closed again), or -errno. */
static int try_opts(enum opts_kind kind, int fd, union lib_big_opts *big)
{
	struct snapmap_snapshot *snap;
	int ret;

	switch (kind) {
	case OPTS_CREATE:
		ret = snapmap_create(-1, &big->create);
		break;
	case OPTS_CLONE:
		ret = snapmap_clone(fd, &big->clone, NULL);
		break;
	default:
		ret = snapmap_snapshot_open(fd, &big->snapshot, &snap);
		if (!ret) {
			ret = snapmap_snapshot_fd(snap);
			snapmap_snapshot_close(snap);
		}
		return ret;
	}
	if (ret >= 0)
		close(ret);
	return ret;
}

/*
 * Options structures, the same for the three kinds: NULL is every
 * default; a size that does not cover @sz is EINVAL; a size larger than
 * the library knows is fine with a zero tail and E2BIG with a non-zero
 * one, wherever the non-zero byte is.  (NULL, every default, is
 * lib_map_test's and lib_snapshot_test's.)
 */
TEST(opts_sizes)
{
	const size_t known[OPTS_KINDS] = {
		[OPTS_CREATE] = sizeof(struct snapmap_create_opts),
		[OPTS_CLONE] = sizeof(struct snapmap_clone_opts),
		[OPTS_SNAPSHOT] = sizeof(struct snapmap_snapshot_opts),
	};
	union lib_big_opts big;
	enum opts_kind kind;
	size_t sz, nonzero;
	int fd, ret;

	fd = LIB(snapmap_create(-1, NULL));
	ASSERT_LE(0, fd);
	for (kind = 0; kind < OPTS_KINDS; kind++) {
		for (sz = 0; sz <= known[kind] + 16; sz++) {
			memset(&big, 0, sizeof(big));
			memcpy(big.bytes, &sz, sizeof(sz));
			ret = try_opts(kind, fd, &big);
			if (sz < sizeof(size_t)) {
				EXPECT_EQ(-EINVAL, ret) {
					TH_LOG("kind %d sz %zu", kind, sz);
				}
			} else {
				EXPECT_LE(0, ret) {
					TH_LOG("kind %d sz %zu: %d", kind, sz,
					       ret);
				}
			}
			/* Each byte beyond what the library knows. */
			for (nonzero = known[kind]; nonzero < sz; nonzero++) {
				big.bytes[nonzero] = 1;
				EXPECT_EQ(-E2BIG, try_opts(kind, fd, &big)) {
					TH_LOG("kind %d sz %zu byte %zu", kind,
					       sz, nonzero);
				}
				big.bytes[nonzero] = 0;
			}
		}
	}
	EXPECT_EQ(0, close(fd));
}

/* Fields beyond a short @sz are not read: they may hold anything. */
TEST(opts_short_sz)
{
	char name[SNAPMAP_NAME_LEN];
	struct snapmap_create_opts copts;
	struct snapmap_clone_opts clopts;
	struct snapmap_snapshot_opts sopts;
	struct snapmap_snapshot *snap;
	struct snapmap_info info, cinfo;
	struct snapmap_entry e;
	unsigned long long cap = 0;
	int fd, cfd;

	/* Limits past the caps and a bad mode, none of them within sz. */
	memset(&copts, 0xff, sizeof(copts));
	copts.sz = offsetofend(struct snapmap_create_opts, max_value_len);
	copts.max_key_len = 8;
	copts.max_value_len = 100;
	copts.name = (const char *)8;
	fd = LIB(snapmap_create(-1, &copts));
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, LIB(snapmap_info(fd, &info)));
	EXPECT_EQ(8, info.out_max_key_len);
	EXPECT_EQ(100, info.out_max_value_len);
	EXPECT_EQ(0600, info.out_mode);
	EXPECT_STREQ("", info.out_name);
	if (!sm_param("max_entries", &cap)) {
		EXPECT_EQ(cap, info.out_max_entries);
	}

	/* The name is past sz: an unnamed 0600 clone. */
	memset(&clopts, 0xff, sizeof(clopts));
	clopts.sz = offsetofend(struct snapmap_clone_opts, mode);
	clopts.mode = 0640;
	clopts.name = lib_name(name, "short-sz");
	cfd = LIB(snapmap_clone(fd, &clopts, NULL));
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, LIB(snapmap_info(cfd, &cinfo)));
	EXPECT_EQ(0640, cinfo.out_mode);
	EXPECT_STREQ("", cinfo.out_name);
	EXPECT_EQ(-ENOENT, LIB(snapmap_open(-1, name, 0)));

	/* A WEAK snapshot whose buf_size, past sz, is not even looked at. */
	memset(&sopts, 0xff, sizeof(sopts));
	sopts.sz = offsetofend(struct snapmap_snapshot_opts, flags);
	sopts.flags = SNAPMAP_SNAPSHOT_WEAK;
	ASSERT_EQ(0, LIB(snapmap_put(fd, "k", 1, "v", 1, 0, NULL)));
	ASSERT_EQ(0, LIB(snapmap_snapshot_open(fd, &sopts, &snap)));
	EXPECT_EQ(0, snapmap_snapshot_version(snap));
	EXPECT_EQ(1, LIB(snapmap_snapshot_next(snap, &e)));
	EXPECT_EQ(0, LIB(snapmap_snapshot_next(snap, &e)));
	snapmap_snapshot_close(snap);

	/* sz covers nothing but itself: every default. */
	memset(&copts, 0xff, sizeof(copts));
	copts.sz = sizeof(size_t);
	close(cfd);
	cfd = LIB(snapmap_create(-1, &copts));
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, LIB(snapmap_info(cfd, &cinfo)));
	EXPECT_EQ(0600, cinfo.out_mode);
	if (!sm_param("max_key_len", &cap)) {
		EXPECT_EQ(cap, cinfo.out_max_key_len);
	}
	EXPECT_EQ(0, close(cfd));
	EXPECT_EQ(0, close(fd));
}

/*
 * An older module, as this process sees it: the command @missing gets
 * ENOTTY on every fd, and the handshake answers what the module answers,
 * less the command's bit.  A child traces the test with ptrace(2): it
 * makes the missing command's ioctl fail with ENOTTY without running it,
 * and edits the real handshake's answer on its way out.
 */
struct old_module {
	pid_t tracer;
};

#if defined(__x86_64__)
#define REG_NR(r) ((r).orig_rax)
#define REG_RET(r) ((r).rax)
#elif defined(__i386__)
#define REG_NR(r) ((r).orig_eax)
#define REG_RET(r) ((r).eax)
#elif defined(__aarch64__)
#define REG_RET(r) ((r).regs[0])
#endif

#if defined(__aarch64__)
/*
 * arm64 has no PTRACE_GETREGS: the general registers are the NT_PRSTATUS
 * regset, and the syscall number, which x0..x7 do not hold, a regset of
 * its own.
 */
static int regs_get(pid_t pid, struct user_regs_struct *regs)
{
	struct iovec iov = { .iov_base = regs, .iov_len = sizeof(*regs) };

	return ptrace(PTRACE_GETREGSET, pid, NT_PRSTATUS, &iov);
}

static int regs_set(pid_t pid, struct user_regs_struct *regs)
{
	struct iovec iov = { .iov_base = regs, .iov_len = sizeof(*regs) };

	return ptrace(PTRACE_SETREGSET, pid, NT_PRSTATUS, &iov);
}

/* At syscall entry: syscall -1, which the kernel skips. */
static int skip_syscall(pid_t pid, struct user_regs_struct *regs)
{
	int nr = -1;
	struct iovec iov = { .iov_base = &nr, .iov_len = sizeof(nr) };

	return ptrace(PTRACE_SETREGSET, pid, NT_ARM_SYSTEM_CALL, &iov);
}
#else
static int regs_get(pid_t pid, struct user_regs_struct *regs)
{
	return ptrace(PTRACE_GETREGS, pid, 0, regs);
}

static int regs_set(pid_t pid, struct user_regs_struct *regs)
{
	return ptrace(PTRACE_SETREGS, pid, 0, regs);
}

static int skip_syscall(pid_t pid, struct user_regs_struct *regs)
{
	REG_NR(*regs) = -1;
	return regs_set(pid, regs);
}
#endif

/* Clear bit @cmd of the out_ioctls of the snapmap_api at @addr in @pid. */
static int clear_ioctl_bit(pid_t pid, __u64 addr, unsigned int cmd)
{
	const unsigned int bits = 8 * sizeof(long);
	uintptr_t word = addr + offsetof(struct snapmap_api, out_ioctls) +
			 cmd / bits * sizeof(long);
	long val;

	errno = 0;
	val = ptrace(PTRACE_PEEKDATA, pid, word, 0);
	if (errno)
		return -1;
	val &= ~(1UL << (cmd % bits));
	return ptrace(PTRACE_POKEDATA, pid, word, val);
}

/* The tracer, in a child: runs until killed, or exits with a reason. */
static int old_module_trace(pid_t pid, unsigned int cmd, unsigned long request,
			    int ready_fd)
{
	struct __ptrace_syscall_info info;
	struct user_regs_struct regs;
	bool skipped = false, api = false;
	__u64 api_addr = 0;
	int status, sig = 0;

	if (ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_TRACESYSGOOD) ||
	    ptrace(PTRACE_INTERRUPT, pid, 0, 0) ||
	    waitpid(pid, &status, __WALL) != pid)
		return 10;
	/* Attached: let the test go on, and stop it at each syscall. */
	if (write(ready_fd, "", 1) != 1)
		return 11;
	for (;;) {
		if (ptrace(PTRACE_SYSCALL, pid, 0, sig))
			return 12;
		sig = 0;
		if (waitpid(pid, &status, __WALL) != pid)
			return 13;
		if (!WIFSTOPPED(status))
			return 0;
		if (WSTOPSIG(status) != (SIGTRAP | 0x80)) {
			/* A signal for the test, not an event of ours. */
			if (status >> 16 == 0)
				sig = WSTOPSIG(status);
			continue;
		}
		if (ptrace(PTRACE_GET_SYSCALL_INFO, pid, sizeof(info),
			   &info) <= 0)
			return 14;
		if (info.op == PTRACE_SYSCALL_INFO_ENTRY) {
			skipped = false;
			api = false;
			if (info.entry.nr != __NR_ioctl)
				continue;
			if ((unsigned int)info.entry.args[1] == request) {
				/* Syscall -1: the kernel skips it. */
				if (regs_get(pid, &regs))
					return 15;
				if (skip_syscall(pid, &regs))
					return 16;
				skipped = true;
			} else if ((unsigned int)info.entry.args[1] ==
				   SNAPMAP_IOC_API) {
				api = true;
				api_addr = info.entry.args[2];
			}
		} else if (info.op == PTRACE_SYSCALL_INFO_EXIT) {
			if (skipped) {
				if (regs_get(pid, &regs))
					return 17;
				REG_RET(regs) = -ENOTTY;
				if (regs_set(pid, &regs))
					return 18;
			} else if (api && !info.exit.is_error &&
				   clear_ioctl_bit(pid, api_addr, cmd)) {
				return 19;
			}
			skipped = false;
			api = false;
		}
	}
}

/* NULL once this process sees the older module, or a reason to skip. */
static const char *old_module_start(struct old_module *om, unsigned int cmd,
				    unsigned long request)
{
	pid_t pid = getpid();
	int ready[2];
	char c;

	if (pipe(ready))
		return "no pipe";
	fflush(stdout);
	fflush(stderr);
	om->tracer = fork();
	if (om->tracer < 0)
		return "no fork";
	if (!om->tracer) {
		close(ready[0]);
		_exit(old_module_trace(pid, cmd, request, ready[1]));
	}
	close(ready[1]);
	/* EOF: the tracer could not attach. */
	if (read(ready[0], &c, 1) != 1) {
		close(ready[0]);
		waitpid(om->tracer, NULL, 0);
		om->tracer = 0;
		return "cannot ptrace this process";
	}
	close(ready[0]);
	return NULL;
}

/* Back to the real module: the tracer's end detaches it. */
static void old_module_stop(struct old_module *om)
{
	if (om->tracer > 0) {
		kill(om->tracer, SIGKILL);
		waitpid(om->tracer, NULL, 0);
		om->tracer = 0;
	}
}

FIXTURE(old) {
	int ctl;
	int fd;
	int null;
	struct old_module om;
};

FIXTURE_SETUP(old)
{
	self->ctl = snapmap_open_ctl();
	ASSERT_LE(0, self->ctl);
	self->fd = LIB(snapmap_create(self->ctl, NULL));
	ASSERT_LE(0, self->fd);
	self->null = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->null);
}

FIXTURE_TEARDOWN(old)
{
	old_module_stop(&self->om);
	close(self->null);
	close(self->fd);
	close(self->ctl);
}

/* A control command: the handshake is asked on the same fd. */
TEST_F(old, list_missing)
{
	struct snapmap_map_desc *descs = (void *)1;
	struct snapmap_api api;
	const char *why;
	int fd;

	why = old_module_start(&self->om, SNAPMAP_CMD_LIST, SNAPMAP_IOC_LIST);
	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, LIB(snapmap_api(self->ctl, &api)));
	EXPECT_FALSE(snapmap_has_cmd(&api, SNAPMAP_CMD_LIST));
	EXPECT_TRUE(snapmap_has_cmd(&api, SNAPMAP_CMD_CREATE));

	EXPECT_EQ(-EOPNOTSUPP, LIB(snapmap_list(self->ctl, &descs)));
	EXPECT_TRUE(descs == NULL);
	EXPECT_EQ(-EOPNOTSUPP, LIB(snapmap_list(-1, &descs)));
	/* A map fd is no control fd, with or without the command. */
	EXPECT_EQ(-ENOTTY, LIB(snapmap_list(self->fd, &descs)));
	EXPECT_EQ(-ENOTTY, LIB(snapmap_list(self->null, &descs)));
	/* The commands it has still work. */
	fd = LIB(snapmap_create(self->ctl, NULL));
	EXPECT_LE(0, fd);
	close(fd);
}

/* A map command: the handshake is asked on a control fd of its own. */
TEST_F(old, clone_missing)
{
	const char *why;

	why = old_module_start(&self->om, SNAPMAP_CMD_CLONE,
			       SNAPMAP_IOC_CLONE);
	if (why)
		SKIP(return, "%s", why);
	EXPECT_EQ(-EOPNOTSUPP, LIB(snapmap_clone(self->fd, NULL, NULL)));
	/* Not a map fd: the wrong kind, whatever the module has. */
	EXPECT_EQ(-ENOTTY, LIB(snapmap_clone(self->ctl, NULL, NULL)));
	EXPECT_EQ(-ENOTTY, LIB(snapmap_clone(self->null, NULL, NULL)));
	EXPECT_EQ(0, LIB(snapmap_put(self->fd, "k", 1, "v", 1, 0, NULL)));
}

TEST_F(old, get_missing)
{
	__u32 len = 0;
	const char *why;

	why = old_module_start(&self->om, SNAPMAP_CMD_GET, SNAPMAP_IOC_GET);
	if (why)
		SKIP(return, "%s", why);
	EXPECT_EQ(-EOPNOTSUPP, LIB(snapmap_get(self->fd, "k", 1, NULL, &len,
					       NULL)));
	EXPECT_EQ(-ENOTTY, LIB(snapmap_get(self->ctl, "k", 1, NULL, &len,
					   NULL)));
}

/* A snapshot command, on the fd of a snapshot the library took. */
TEST_F(old, snapshot_info_missing)
{
	struct snapmap_snapshot_info info;
	struct snapmap_snapshot *snap;
	struct snapmap_entry e;
	const char *why;

	ASSERT_EQ(0, LIB(snapmap_put(self->fd, "k", 1, "v", 1, 0, NULL)));
	ASSERT_EQ(0, LIB(snapmap_snapshot_open(self->fd, NULL, &snap)));
	why = old_module_start(&self->om, SNAPMAP_CMD_SNAPSHOT_INFO,
			       SNAPMAP_IOC_SNAPSHOT_INFO);
	if (why) {
		snapmap_snapshot_close(snap);
		SKIP(return, "%s", why);
	}
	EXPECT_EQ(-EOPNOTSUPP, LIB(snapmap_snapshot_info(snap, &info)));
	EXPECT_EQ(1, LIB(snapmap_snapshot_next(snap, &e)));
	snapmap_snapshot_close(snap);
}

TEST_HARNESS_MAIN
