// SPDX-License-Identifier: GPL-2.0
/*
 * snapmapctl: argument parsing and small helpers the commands share.
 */

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libsnapmap.h"
#include "output.h"
#include "snapmapctl.h"

int usage_error(const struct opts *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_usage(o->cmd, fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try 'snapmapctl %s%s--help' for more information.\n",
		o->cmd ? o->cmd : "", o->cmd ? " " : "");
	return EXIT_USAGE;
}

/* The module's rule: 1 to SNAPMAP_NAME_LEN - 1 of [A-Za-z0-9._-]. */
bool valid_map_name(const char *name)
{
	size_t len = strlen(name), i;

	if (!len || len >= SNAPMAP_NAME_LEN)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = name[i];

		/* Not isalnum(): the locale must not widen the set. */
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return false;
	}
	return true;
}

int check_map_name(const struct opts *o, const char *name)
{
	if (valid_map_name(name))
		return 0;
	return usage_error(o, "invalid map name '%s': use 1 to %d characters of [A-Za-z0-9._-]",
			   name, SNAPMAP_NAME_LEN - 1);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Pairs of hex digits, with an optional "0x" in front. */
static int decode_hex(const char *s, unsigned char *out, __u32 *len)
{
	size_t n, i;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	n = strlen(s);
	if (n % 2)
		return -1;
	for (i = 0; i < n / 2; i++) {
		int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = hi << 4 | lo;
	}
	*len = n / 2;
	return 0;
}

/* The escapes of human output: \\ \t \n \r \xNN. */
static int decode_escaped(const char *s, unsigned char *out, __u32 *len)
{
	__u32 n = 0;
	int hi, lo;

	while (*s) {
		if (*s != '\\') {
			out[n++] = *s++;
			continue;
		}
		switch (s[1]) {
		case '\\':
			out[n++] = '\\';
			break;
		case 't':
			out[n++] = '\t';
			break;
		case 'n':
			out[n++] = '\n';
			break;
		case 'r':
			out[n++] = '\r';
			break;
		case 'x':
			hi = hex_digit(s[2]);
			lo = hi < 0 ? -1 : hex_digit(s[3]);
			if (lo < 0)
				return -1;
			out[n++] = hi << 4 | lo;
			s += 2;
			break;
		default:
			return -1;
		}
		s += 2;
	}
	*len = n;
	return 0;
}

/*
 * Decode @s, spelt as @enc says, into @out, which has room for strlen(@s)
 * bytes: 0, or -EINVAL when @s is not spelt so (decode_error() says how).
 */
int decode_bytes(enum arg_encoding enc, const char *s, unsigned char *out,
		 __u32 *len)
{
	switch (enc) {
	case ARG_HEX:
		return decode_hex(s, out, len) ? -EINVAL : 0;
	case ARG_ESCAPED:
		return decode_escaped(s, out, len) ? -EINVAL : 0;
	case ARG_RAW:
		break;
	}
	*len = strlen(s);
	memcpy(out, s, *len);
	return 0;
}

/* What is wrong with what decode_bytes() refused, after its name. */
const char *decode_error(enum arg_encoding enc)
{
	return enc == ARG_HEX ? "is not hexadecimal (pairs of digits 0-9a-f)" :
	       "has a bad escape (use \\\\ \\t \\n \\r or \\xNN)";
}

int decode_arg(const struct opts *o, const char *what, const char *arg,
	       void **buf, __u32 *len)
{
	size_t n = strlen(arg);
	unsigned char *out;

	if (n > 0xffffffffU)
		return usage_error(o, "%s is too long", what);
	out = malloc(n + 1);
	if (!out) {
		error_errno(o->cmd, ENOMEM, ERR_OTHER, "%s",
			    sm_strerror(ENOMEM, ERR_OTHER));
		return EXIT_FAIL;
	}
	if (decode_bytes(o->enc, arg, out, len)) {
		free(out);
		return usage_error(o, "%s '%s' %s", what, arg,
				   decode_error(o->enc));
	}
	*buf = out;
	return 0;
}

int decode_key(const struct opts *o, const char *arg, void **key, __u32 *len)
{
	int ret = decode_arg(o, "key", arg, key, len);

	if (ret)
		return ret;
	if (!*len) {
		free(*key);
		*key = NULL;
		return usage_error(o, "the key is empty (keys are 1 byte or more)");
	}
	return 0;
}

int read_all(int fd, void **buf, size_t *len, size_t max)
{
	size_t size = 65536, n = 0;
	char *b = malloc(size), *nb;
	ssize_t r;

	if (!b)
		return -ENOMEM;
	for (;;) {
		if (n == size) {
			if (size > max) {
				free(b);
				return -EFBIG;
			}
			nb = realloc(b, size * 2);
			if (!nb) {
				free(b);
				return -ENOMEM;
			}
			b = nb;
			size *= 2;
		}
		r = read(fd, b + n, size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			r = -errno;
			free(b);
			return r;
		}
		if (!r)
			break;
		n += r;
	}
	if (n > max) {
		free(b);
		return -EFBIG;
	}
	*buf = b;
	*len = n;
	return 0;
}

/* Decimal, with an optional binary suffix K, M, G or T if allowed. */
int parse_u64(const char *s, __u64 *v, bool suffixes)
{
	unsigned long long n;
	unsigned int shift = 0;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	if (suffixes && *end) {
		switch (*end) {
		case 'k':
		case 'K':
			shift = 10;
			break;
		case 'M':
			shift = 20;
			break;
		case 'G':
			shift = 30;
			break;
		case 'T':
			shift = 40;
			break;
		default:
			return -EINVAL;
		}
		end++;
		/* Also accept "KiB" and "KB", which mean the same here. */
		if (*end == 'i')
			end++;
		if (*end == 'B')
			end++;
	}
	if (*end)
		return -EINVAL;
	if (shift && n > (~0ULL >> shift))
		return -ERANGE;
	*v = n << shift;
	return 0;
}

int parse_mode(const char *s, __u32 *mode)
{
	unsigned long m;
	char *end;

	if (*s < '0' || *s > '7')
		return -EINVAL;
	m = strtoul(s, &end, 8);
	if (*end || m > 0777)
		return -EINVAL;
	*mode = m;
	return 0;
}

/*
 * User and group names through the C library's name services, so that
 * NSS users (LDAP, systemd's) are named too.  A static build (the test
 * guest's) still reads /etc/passwd and /etc/group: glibc has its "files"
 * service built in, which is why its linker warns that other services
 * would need the shared libraries.  NULL when there is no name: the
 * caller shows the number.
 */
const char *user_name(__u32 uid)
{
	static char name[256];
	struct passwd pw, *found = NULL;
	char buf[4096];

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &found) || !found ||
	    !found->pw_name || !found->pw_name[0])
		return NULL;
	snprintf(name, sizeof(name), "%s", found->pw_name);
	return name;
}

const char *group_name(__u32 gid)
{
	static char name[256];
	struct group gr, *found = NULL;
	char buf[4096];

	if (getgrgid_r(gid, &gr, buf, sizeof(buf), &found) || !found ||
	    !found->gr_name || !found->gr_name[0])
		return NULL;
	snprintf(name, sizeof(name), "%s", found->gr_name);
	return name;
}

/*
 * The control fd, opened once: the library would open /dev/snapmap for
 * each call, and its ENOENT would read as "no such map" when the module is
 * not even loaded.
 */
static int ctl_fd = -1;

int get_ctl(const struct opts *o)
{
	if (ctl_fd < 0) {
		ctl_fd = snapmap_ctl_open();
		if (ctl_fd < 0) {
			error_errno(o->cmd, -ctl_fd, ERR_CTL,
				    "cannot open /dev/snapmap: %s",
				    sm_strerror(-ctl_fd, ERR_CTL));
			ctl_fd = -1;
			return -1;
		}
	}
	return ctl_fd;
}

int open_map(const struct opts *o, const char *name, bool write)
{
	int ctl = get_ctl(o), fd;

	if (ctl < 0)
		return -1;
	fd = snapmap_open(ctl, name, write ? 0 : SNAPMAP_OPEN_RDONLY);
	if (fd < 0) {
		error_map(o->cmd, name, -fd, ERR_MAP);
		return -1;
	}
	return fd;
}

int finish_stdout(const struct opts *o)
{
	if (fflush(stdout) || ferror(stdout)) {
		error_errno(o->cmd, errno ? errno : EIO, ERR_OTHER,
			    "write error on standard output: %s",
			    strerror(errno ? errno : EIO));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
