// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap selftests: the snapmapctl tool, run as a program.
 *
 * Every command, its exit statuses (0 to 4) and messages, that every
 * --json output is one valid JSON document (checked by a strict parser
 * here), the escaping of bytes, holding maps, and save and load: a round
 * trip keeps the contents, every damaged or truncated file is refused with
 * the target unchanged, and a load that fails midway undoes its writes.
 *
 * The maps the tool works on are made and checked here with raw ioctls, so
 * that the tool is judged against the module, not against itself.  Save
 * files are also built here from docs/save-format.md alone.
 *
 * snapmapctl is looked for in $SNAPMAPCTL, then in $PATH (the test guest
 * has it in /bin); the tests are skipped without it.
 */

#include <ctype.h>
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <termios.h>

#include "snapmap_test.h"

#define OTHER_UID 65534
#define OTHER_GID 65534

/* Limits of the fixture's map. */
#define KEY_MAX 64
#define VALUE_MAX 256
#define ENTRIES_MAX 100

#define TMP "/tmp/snapmapctl_test"

/* Exit statuses, as snapmapctl(8) documents them. */
#define ST_NOT_FOUND	1	/* no such map or key */
#define ST_USAGE	2
#define ST_CANCELED	3	/* a condition does not hold */
#define ST_ERROR	4	/* anything else */

static const char *ctl_path(void)
{
	static char path[4096];
	const char *env = getenv("SNAPMAPCTL"), *p;
	size_t n;

	if (env && *env)
		return access(env, X_OK) ? NULL : env;
	for (p = getenv("PATH") ?: "/bin:/usr/bin"; *p; p += n + !!p[n]) {
		n = strcspn(p, ":");
		snprintf(path, sizeof(path), "%.*s/snapmapctl", (int)n, p);
		if (!access(path, X_OK))
			return path;
	}
	return NULL;
}

/*
 * Running the tool
 */

struct result {
	int status;	/* exit status, or 128 + signal */
	char *out;	/* NUL-terminated, out_len bytes before the NUL */
	size_t out_len;
	char *err;
};

static void result_free(struct result *r)
{
	free(r->out);
	free(r->err);
	r->out = NULL;
	r->err = NULL;
}

static char *read_back(int fd, size_t *len)
{
	off_t n = lseek(fd, 0, SEEK_END);
	char *buf = malloc(n + 1);

	if (!buf)
		return NULL;
	if (pread(fd, buf, n, 0) != n)
		n = 0;
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

/*
 * What the child does before it runs snapmapctl, if set: changes to the
 * world the tool sees, in the child's own mount namespace.
 */
static void (*child_hook)(void);

static void private_mounts(void)
{
	if (unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		_exit(124);
}

/* No /dev/snapmap, as when the module is not loaded. */
static void hide_dev(void)
{
	private_mounts();
	if (mount("none", "/dev", "tmpfs", 0, NULL))
		_exit(124);
}

/* TMP "/passwd" as /etc/passwd. */
static void fake_passwd(void)
{
	private_mounts();
	if (mount(TMP "/passwd", "/etc/passwd", NULL, MS_BIND, NULL))
		_exit(124);
}

/*
 * Run snapmapctl with @argv (NULL-terminated, without the program name),
 * @in on its standard input, as @uid unless it is 0.
 */
static int run_v(struct result *r, const void *in, size_t in_len, uid_t uid,
		 const char *const *argv)
{
	const char *args[64];
	int fds[3], i, status;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	args[0] = "snapmapctl";
	for (i = 0; argv[i] && i < 62; i++)
		args[i + 1] = argv[i];
	args[i + 1] = NULL;
	for (i = 0; i < 3; i++)
		fds[i] = memfd_create("snapmapctl_test", MFD_CLOEXEC);
	if (in_len && write(fds[0], in, in_len) != (ssize_t)in_len)
		return -1;
	lseek(fds[0], 0, SEEK_SET);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		for (i = 0; i < 3; i++)
			dup2(fds[i], i);
		if (child_hook)
			child_hook();
		if (uid && (setgroups(0, NULL) ||
			    setresgid(OTHER_GID, OTHER_GID, OTHER_GID) ||
			    setresuid(uid, uid, uid)))
			_exit(125);
		execv(ctl_path(), (char **)args);
		_exit(126);
	}
	waitpid(pid, &status, 0);
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) :
		    128 + WTERMSIG(status);
	r->out = read_back(fds[1], &r->out_len);
	r->err = read_back(fds[2], NULL);
	for (i = 0; i < 3; i++)
		close(fds[i]);
	return 0;
}

#define RUN(r, ...) \
	run_v(&(r), NULL, 0, 0, (const char *const[]){ __VA_ARGS__, NULL })
#define RUN_IN(r, in, len, ...) \
	run_v(&(r), in, len, 0, (const char *const[]){ __VA_ARGS__, NULL })
#define RUN_AS(r, uid, ...) \
	run_v(&(r), NULL, 0, uid, (const char *const[]){ __VA_ARGS__, NULL })

/* Expect exit status @st, and the usual shape of a failure's message. */
#define EXPECT_STATUS(st, r)						\
	do {								\
		EXPECT_EQ(st, (r).status) {				\
			TH_LOG("stdout: %s", (r).out);			\
			TH_LOG("stderr: %s", (r).err);			\
		}							\
		if ((st) != 0) {					\
			EXPECT_EQ(0, strncmp((r).err, "snapmapctl: ", 12)); \
		}							\
	} while (0)

#define EXPECT_HAS(haystack, needle)					\
	EXPECT_TRUE(strstr(haystack, needle) != NULL) {			\
		TH_LOG("'%s' not in: %s", needle, haystack);		\
	}

/*
 * Start snapmapctl with @argv, its standard output (and, with
 * @merge_stderr, its standard error) into a pipe, *@out; standard input
 * is /dev/null.  Returns its pid.
 */
static pid_t spawn_piped(int *out, bool merge_stderr, const char *const *argv)
{
	const char *args[64];
	int pipefd[2], i, null;
	pid_t pid;

	args[0] = "snapmapctl";
	for (i = 0; argv[i] && i < 62; i++)
		args[i + 1] = argv[i];
	args[i + 1] = NULL;
	if (pipe2(pipefd, O_CLOEXEC))
		return -1;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (!pid) {
		null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(pipefd[1], 1);
		if (merge_stderr)
			dup2(pipefd[1], 2);
		execv(ctl_path(), (char **)args);
		_exit(126);
	}
	close(pipefd[1]);
	*out = pipefd[0];
	return pid;
}

/* A command that streams (watch, mirror), its messages in the pipe too. */
#define SPAWN_STREAM(out, ...) \
	spawn_piped(out, true, (const char *const[]){ __VA_ARGS__, NULL })

/*
 * Read a line of @fd into @line, NUL-terminated, waiting a minute at most:
 * its length, or -1 if no whole line came.
 */
static int read_line(int fd, char *line, size_t size)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t n = 0;

	while (n + 1 < size && poll(&pfd, 1, 60000) == 1) {
		if (read(fd, line + n, 1) != 1)
			break;
		if (line[n++] == '\n')
			break;
	}
	line[n] = '\0';
	return n && line[n - 1] == '\n' ? (int)n : -1;
}

/* Wait for @pid: its exit status, or 128 + signal. */
static int reap(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/*
 * Start a holding command (create, clone or load with --hold) and wait
 * for its first line.  Returns its pid; the line is copied to @line.
 */
static pid_t spawn_hold(char *line, size_t size, const char *const *argv)
{
	pid_t pid;
	int out;

	pid = spawn_piped(&out, false, argv);
	if (pid < 0)
		return pid;
	read_line(out, line, size);
	close(out);
	return pid;
}

#define SPAWN_HOLD(line, ...) \
	spawn_hold(line, sizeof(line), (const char *const[]){ __VA_ARGS__, NULL })

/* Stop a holder and return its exit status. */
static int stop_hold(pid_t pid)
{
	kill(pid, SIGTERM);
	return reap(pid);
}

/* Whether a named map exists; waits a little for a holder to let go. */
static bool map_exists(int ctl, const char *name, bool expect)
{
	int i, fd;

	for (i = 0; i < 100; i++) {
		fd = sm_open(ctl, name, SNAPMAP_OPEN_RDONLY);
		if (fd >= 0)
			close(fd);
		if ((fd >= 0) == expect)
			break;
		usleep(20000);
	}
	return fd >= 0;
}

/*
 * A strict JSON parser (RFC 8259): the tests' judge of --json output.
 */

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jval {
	enum jtype t;
	bool b;
	unsigned long long num;	/* integers only; others are refused */
	bool num_int;
	char *s;		/* J_STR: decoded, NUL-terminated */
	size_t slen;
	size_t n;		/* J_ARR, J_OBJ */
	char **keys;
	struct jval **items;
};

struct jparser {
	const char *p, *end;
	int depth;
};

static void jfree(struct jval *v)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < v->n; i++) {
		if (v->keys)
			free(v->keys[i]);
		jfree(v->items[i]);
	}
	free(v->keys);
	free(v->items);
	free(v->s);
	free(v);
}

static void jskip_ws(struct jparser *jp)
{
	while (jp->p < jp->end && (*jp->p == ' ' || *jp->p == '\t' ||
				   *jp->p == '\n' || *jp->p == '\r'))
		jp->p++;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static void put_utf8(char *out, size_t *n, unsigned int cp)
{
	if (cp < 0x80) {
		out[(*n)++] = cp;
	} else if (cp < 0x800) {
		out[(*n)++] = 0xc0 | cp >> 6;
		out[(*n)++] = 0x80 | (cp & 0x3f);
	} else if (cp < 0x10000) {
		out[(*n)++] = 0xe0 | cp >> 12;
		out[(*n)++] = 0x80 | ((cp >> 6) & 0x3f);
		out[(*n)++] = 0x80 | (cp & 0x3f);
	} else {
		out[(*n)++] = 0xf0 | cp >> 18;
		out[(*n)++] = 0x80 | ((cp >> 12) & 0x3f);
		out[(*n)++] = 0x80 | ((cp >> 6) & 0x3f);
		out[(*n)++] = 0x80 | (cp & 0x3f);
	}
}

/* Length of a valid UTF-8 sequence at @s, 0 if invalid. */
static size_t utf8_ok(const unsigned char *s, size_t n)
{
	static const unsigned int min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	unsigned int c;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		len = 2, c = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, c = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, c = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return len;
}

static int jhex4(struct jparser *jp, unsigned int *cp)
{
	int i, h;

	if (jp->end - jp->p < 4)
		return -1;
	*cp = 0;
	for (i = 0; i < 4; i++) {
		h = hexval(jp->p[i]);
		if (h < 0)
			return -1;
		*cp = *cp << 4 | h;
	}
	jp->p += 4;
	return 0;
}

static char *jstring(struct jparser *jp, size_t *len)
{
	static const char simple[] = "\"\\/bfnrt";
	static const char decoded[] = "\"\\/\b\f\n\r\t";
	char *out = malloc(jp->end - jp->p + 1);
	unsigned int cp, lo;
	unsigned char c;
	size_t n = 0, k;

	if (!out || jp->p >= jp->end || *jp->p != '"')
		goto bad;
	jp->p++;
	while (jp->p < jp->end && *jp->p != '"') {
		c = *jp->p;
		if (c < 0x20)
			goto bad;
		if (c != '\\') {
			k = utf8_ok((const unsigned char *)jp->p, jp->end - jp->p);
			if (!k)
				goto bad;
			memcpy(out + n, jp->p, k);
			n += k;
			jp->p += k;
			continue;
		}
		if (++jp->p >= jp->end)
			goto bad;
		c = *jp->p++;
		if (c != 'u') {
			const char *esc = strchr(simple, c);

			if (!c || !esc)
				goto bad;
			out[n++] = decoded[esc - simple];
			continue;
		}
		if (jhex4(jp, &cp) || (cp >= 0xdc00 && cp <= 0xdfff))
			goto bad;
		if (cp >= 0xd800 && cp <= 0xdbff) {
			/* A surrogate pair, or nothing. */
			if (jp->end - jp->p < 2 || jp->p[0] != '\\' ||
			    jp->p[1] != 'u')
				goto bad;
			jp->p += 2;
			if (jhex4(jp, &lo) || lo < 0xdc00 || lo > 0xdfff)
				goto bad;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		}
		put_utf8(out, &n, cp);
	}
	if (jp->p >= jp->end)
		goto bad;
	jp->p++;
	out[n] = '\0';
	*len = n;
	return out;
bad:
	free(out);
	return NULL;
}

static struct jval *jvalue(struct jparser *jp);

static int jappend(struct jval *v, char *key, struct jval *item)
{
	void *k = realloc(v->keys, (v->n + 1) * sizeof(*v->keys));
	void *i;

	if (!k)
		return -1;
	v->keys = k;
	i = realloc(v->items, (v->n + 1) * sizeof(*v->items));
	if (!i)
		return -1;
	v->items = i;
	v->keys[v->n] = key;
	v->items[v->n++] = item;
	return 0;
}

static struct jval *jcontainer(struct jparser *jp, bool obj)
{
	struct jval *v = calloc(1, sizeof(*v)), *item;
	char close = obj ? '}' : ']';
	char *key = NULL;
	size_t klen, i;

	if (!v || ++jp->depth > 64)
		goto bad;
	v->t = obj ? J_OBJ : J_ARR;
	jp->p++;
	jskip_ws(jp);
	if (jp->p < jp->end && *jp->p == close) {
		jp->p++;
		jp->depth--;
		return v;
	}
	for (;;) {
		jskip_ws(jp);
		key = NULL;
		if (obj) {
			key = jstring(jp, &klen);
			if (!key)
				goto bad;
			/* Duplicate names are legal JSON, but never ours. */
			for (i = 0; i < v->n; i++)
				if (!strcmp(v->keys[i], key))
					goto bad;
			jskip_ws(jp);
			if (jp->p >= jp->end || *jp->p++ != ':')
				goto bad;
		}
		item = jvalue(jp);
		if (!item || jappend(v, key, item)) {
			jfree(item);
			goto bad;
		}
		key = NULL;
		jskip_ws(jp);
		if (jp->p >= jp->end)
			goto bad;
		if (*jp->p == ',') {
			jp->p++;
			continue;
		}
		if (*jp->p++ != close)
			goto bad;
		jp->depth--;
		return v;
	}
bad:
	free(key);
	jfree(v);
	return NULL;
}

static struct jval *jnumber(struct jparser *jp)
{
	struct jval *v = calloc(1, sizeof(*v));
	const char *s = jp->p;

	if (!v)
		return NULL;
	v->t = J_NUM;
	v->num_int = true;
	if (jp->p < jp->end && *jp->p == '-')
		jp->p++, v->num_int = false;
	if (jp->p >= jp->end || !isdigit((unsigned char)*jp->p))
		goto bad;
	if (*jp->p == '0' && jp->p + 1 < jp->end &&
	    isdigit((unsigned char)jp->p[1]))
		goto bad;
	while (jp->p < jp->end && isdigit((unsigned char)*jp->p))
		jp->p++;
	if (jp->p < jp->end && *jp->p == '.') {
		v->num_int = false;
		if (++jp->p >= jp->end || !isdigit((unsigned char)*jp->p))
			goto bad;
		while (jp->p < jp->end && isdigit((unsigned char)*jp->p))
			jp->p++;
	}
	if (jp->p < jp->end && (*jp->p == 'e' || *jp->p == 'E')) {
		v->num_int = false;
		jp->p++;
		if (jp->p < jp->end && (*jp->p == '+' || *jp->p == '-'))
			jp->p++;
		if (jp->p >= jp->end || !isdigit((unsigned char)*jp->p))
			goto bad;
		while (jp->p < jp->end && isdigit((unsigned char)*jp->p))
			jp->p++;
	}
	if (v->num_int)
		v->num = strtoull(s, NULL, 10);
	return v;
bad:
	free(v);
	return NULL;
}

static struct jval *jliteral(struct jparser *jp, const char *word,
			     enum jtype t, bool b)
{
	size_t n = strlen(word);
	struct jval *v;

	if ((size_t)(jp->end - jp->p) < n || memcmp(jp->p, word, n))
		return NULL;
	jp->p += n;
	v = calloc(1, sizeof(*v));
	if (v) {
		v->t = t;
		v->b = b;
	}
	return v;
}

static struct jval *jvalue(struct jparser *jp)
{
	struct jval *v;

	jskip_ws(jp);
	if (jp->p >= jp->end)
		return NULL;
	switch (*jp->p) {
	case '{':
		return jcontainer(jp, true);
	case '[':
		return jcontainer(jp, false);
	case '"':
		v = calloc(1, sizeof(*v));
		if (!v)
			return NULL;
		v->t = J_STR;
		v->s = jstring(jp, &v->slen);
		if (!v->s) {
			free(v);
			return NULL;
		}
		return v;
	case 't':
		return jliteral(jp, "true", J_BOOL, true);
	case 'f':
		return jliteral(jp, "false", J_BOOL, false);
	case 'n':
		return jliteral(jp, "null", J_NULL, false);
	}
	return jnumber(jp);
}

/* The one JSON document that @text must be, or NULL. */
static struct jval *jparse(const char *text, size_t len)
{
	struct jparser jp = { text, text + len, 0 };
	struct jval *v = jvalue(&jp);

	jskip_ws(&jp);
	if (v && jp.p != jp.end) {
		jfree(v);
		return NULL;
	}
	return v;
}

static struct jval *jget(const struct jval *v, const char *key)
{
	size_t i;

	if (!v || v->t != J_OBJ)
		return NULL;
	for (i = 0; i < v->n; i++)
		if (!strcmp(v->keys[i], key))
			return v->items[i];
	return NULL;
}

static const char *jstr(const struct jval *v, const char *key)
{
	const struct jval *m = jget(v, key);

	return m && m->t == J_STR ? m->s : NULL;
}

/* An integer member, or ~0 if absent or not an integer. */
static unsigned long long jnum(const struct jval *v, const char *key)
{
	const struct jval *m = jget(v, key);

	return m && m->t == J_NUM && m->num_int ? m->num : ~0ULL;
}

/*
 * The bytes of member @key, decoded as @key_encoding says; NULL if the
 * pair is malformed.  @len gets the length.
 */
static unsigned char *jbytes(const struct jval *v, const char *key,
			     size_t *len)
{
	char enc_key[64];
	const char *enc, *s;
	unsigned char *out;
	size_t i, n;

	snprintf(enc_key, sizeof(enc_key), "%s_encoding", key);
	enc = jstr(v, enc_key);
	s = jstr(v, key);
	if (!enc || !s)
		return NULL;
	n = jget(v, key)->slen;
	out = malloc(n + 1);
	if (!out)
		return NULL;
	if (!strcmp(enc, "utf8")) {
		memcpy(out, s, n);
		*len = n;
		return out;
	}
	if (strcmp(enc, "hex") || n % 2)
		goto bad;
	for (i = 0; i < n / 2; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0 || isupper((unsigned char)s[2 * i]) ||
		    isupper((unsigned char)s[2 * i + 1]))
			goto bad;
		out[i] = hi << 4 | lo;
	}
	*len = n / 2;
	return out;
bad:
	free(out);
	return NULL;
}

/*
 * Save files, built from docs/save-format.md alone
 */

static __u32 crc32c(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	__u32 crc = ~0U;
	int k;

	while (len--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78U : crc >> 1;
	}
	return ~crc;
}

static void le32(unsigned char *p, __u32 v)
{
	int i;

	for (i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

static void le64(unsigned char *p, __u64 v)
{
	le32(p, v);
	le32(p + 4, v >> 32);
}

static __u32 rd32(const unsigned char *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (__u32)p[3] << 24;
}

static __u64 rd64(const unsigned char *p)
{
	return rd32(p) | (__u64)rd32(p + 4) << 32;
}

struct tkv {
	const char *key;
	size_t key_len;
	const char *value;
	size_t value_len;
};

struct sfbuf {
	unsigned char *b;
	size_t len;
};

static void sf_add(struct sfbuf *f, const void *p, size_t n)
{
	f->b = realloc(f->b, f->len + n);
	memcpy(f->b + f->len, p, n);
	f->len += n;
}

/* A valid save file of @n records with the fixture's limits. */
static struct sfbuf sf_build(const struct tkv *kv, int n, const char *name)
{
	unsigned char h[160] = { 0x89, 'S', 'N', 'A', 'P', 'M', 'A', 'P' };
	unsigned char rh[16], crc[4];
	struct sfbuf f = { NULL, 0 };
	int i;

	le32(h + 8, 1);
	le32(h + 12, 160);
	le32(h + 20, 0640);
	le64(h + 24, 1000);
	le64(h + 32, n);
	le32(h + 40, KEY_MAX);
	le32(h + 44, VALUE_MAX);
	le64(h + 48, ENTRIES_MAX);
	le64(h + 56, 1 << 20);
	le64(h + 64, 1700000000);
	strcpy((char *)h + 72, name);
	sf_add(&f, h, sizeof(h));
	for (i = 0; i < n; i++) {
		le32(rh, kv[i].key_len);
		le32(rh + 4, kv[i].value_len);
		le64(rh + 8, i + 1);
		sf_add(&f, rh, sizeof(rh));
		sf_add(&f, kv[i].key, kv[i].key_len);
		sf_add(&f, kv[i].value, kv[i].value_len);
	}
	sf_add(&f, "\x89SNAPEND", 8);
	le32(crc, crc32c(f.b, f.len));
	sf_add(&f, crc, 4);
	return f;
}

/* Make the checksum right again after an edit. */
static void sf_fix_crc(struct sfbuf *f)
{
	le32(f->b + f->len - 4, crc32c(f->b, f->len - 4));
}

static int write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, buf, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

static int read_file(const char *path, struct sfbuf *f)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	f->b = NULL;
	f->len = 0;
	if (fd < 0 || fstat(fd, &st))
		return -1;
	f->b = malloc(st.st_size + 1);
	f->len = st.st_size;
	if (read(fd, f->b, f->len) != (ssize_t)f->len) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * The fixture: a named map made with ioctls and held by the test, with
 * small limits and mode 0640, and scratch names for maps the tool makes.
 */

FIXTURE(ctl) {
	int ctl;
	int fd;
	char name[SNAPMAP_NAME_LEN];
	char other[SNAPMAP_NAME_LEN];
	char third[SNAPMAP_NAME_LEN];
};

FIXTURE_SETUP(ctl)
{
	ASSERT_TRUE(ctl_path() != NULL)
		TH_LOG("snapmapctl not found (set SNAPMAPCTL or PATH)");
	self->ctl = snapmap_open_ctl();
	ASSERT_LE(0, self->ctl);
	snprintf(self->name, sizeof(self->name), "ctl-%d", (int)getpid());
	snprintf(self->other, sizeof(self->other), "ctl-%d-b", (int)getpid());
	snprintf(self->third, sizeof(self->third), "ctl-%d-c", (int)getpid());
	self->fd = sm_create(self->ctl, KEY_MAX, VALUE_MAX, ENTRIES_MAX, 0,
			     0640, self->name);
	ASSERT_LE(0, self->fd);
	mkdir(TMP, 0700);
	umask(022);
}

FIXTURE_TEARDOWN(ctl)
{
	struct dirent *d;
	char path[512];
	DIR *dir;

	if (!ctl_path())
		return;
	close(self->fd);
	close(self->ctl);
	dir = opendir(TMP);
	while (dir && (d = readdir(dir))) {
		if (d->d_name[0] == '.' && (!d->d_name[1] ||
					    !strcmp(d->d_name, "..")))
			continue;
		snprintf(path, sizeof(path), TMP "/%s", d->d_name);
		unlink(path);
	}
	if (dir)
		closedir(dir);
	rmdir(TMP);
}

/* A few entries of every kind of byte string. */
static const struct tkv sample[] = {
	{ "alpha", 5, "one", 3 },
	{ "beta", 4, "two words", 9 },
	{ "bin\0key", 7, "\x00\x01\xff\n", 4 },
	{ "tab\there", 8, "", 0 },
	{ "\xc3\xa9t\xc3\xa9", 5, "caf\xc3\xa9", 5 },
	{ "back\\slash", 10, "line\nbreak", 10 },
};

#define N_SAMPLE ((int)ARRAY_SIZE(sample))

static void fill_sample(int fd)
{
	int i;

	for (i = 0; i < N_SAMPLE; i++)
		sm_put(fd, 0, sample[i].key, sample[i].key_len,
		       sample[i].value, sample[i].value_len, 0, NULL);
}

/* Whether the map at @fd holds exactly @n entries of @kv. */
static bool holds_exactly(int fd, const struct tkv *kv, int n)
{
	struct snapmap_info info;
	unsigned char buf[1024];
	__u32 len;
	int i;

	if (sm_info(fd, &info) || info.out_entries != (__u64)n)
		return false;
	for (i = 0; i < n; i++) {
		if (sm_get(fd, kv[i].key, kv[i].key_len, buf, sizeof(buf),
			   &len, NULL))
			return false;
		if (len != kv[i].value_len || memcmp(buf, kv[i].value, len))
			return false;
	}
	return true;
}

/* Expect @r's output to be one JSON document; returns it. */
static struct jval *expect_json(struct __test_metadata *_metadata,
				const struct result *r)
{
	struct jval *v = jparse(r->out, r->out_len);

	EXPECT_TRUE(v != NULL) {
		TH_LOG("not one JSON document: %s", r->out);
	}
	return v;
}

#define JSON(r) expect_json(_metadata, &(r))

/* Lines in @s. */
static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* The error document of --json: its members, for checks. */
static void expect_error_doc(struct __test_metadata *_metadata,
			     const struct result *r, const char *cmd,
			     int status, int err, const char *name,
			     const char *msg)
{
	struct jval *v = expect_json(_metadata, r);
	const struct jval *e = jget(v, "error");

	ASSERT_TRUE(e && e->t == J_OBJ) {
		TH_LOG("no \"error\" object: %s", r->out);
	}
	EXPECT_EQ(1, v->n);
	if (cmd) {
		EXPECT_STREQ(cmd, jstr(e, "command"));
	} else {
		EXPECT_EQ(J_NULL, jget(e, "command")->t);
	}
	EXPECT_EQ(status, jnum(e, "status"));
	EXPECT_EQ(status, r->status);
	EXPECT_EQ(err, jnum(e, "errno"));
	if (name) {
		EXPECT_STREQ(name, jstr(e, "name"));
	} else {
		EXPECT_EQ(J_NULL, jget(e, "name")->t);
	}
	ASSERT_TRUE(jstr(e, "message") != NULL);
	EXPECT_TRUE(strstr(jstr(e, "message"), msg) != NULL) {
		TH_LOG("'%s' not in: %s", msg, jstr(e, "message"));
	}
	/* The same message, for people, on stderr. */
	EXPECT_HAS(r->err, jstr(e, "message"));
	jfree(v);
}

#define EXPECT_ERROR_DOC(r, cmd, status, err, name, msg) \
	expect_error_doc(_metadata, &(r), cmd, status, err, name, msg)

TEST_F(ctl, version)
{
	struct result r;
	struct jval *v;

	RUN(r, "version");
	EXPECT_STATUS(0, r);
	EXPECT_HAS(r.out, "ABI version");
	result_free(&r);

	RUN(r, "--json", "version");
	EXPECT_STATUS(0, r);
	v = JSON(r);
	EXPECT_EQ(SNAPMAP_ABI_VERSION, jnum(v, "abi_version"));
	EXPECT_TRUE(jget(v, "features") && jget(v, "features")->t == J_ARR);
	EXPECT_TRUE(jget(v, "ioctls") && jget(v, "ioctls")->t == J_ARR);
	jfree(v);
	result_free(&r);
}

/*
 * Usage errors exit 2, print nothing on stdout but the error document of
 * --json, and point to --help.
 */
TEST_F(ctl, usage)
{
	static const char *const bad[][8] = {
		{ NULL },
		{ "frobnicate" },
		{ "get", "x" },
		{ "get", "x", "k", "extra" },
		{ "ls", "--weak" },
		{ "put", "--hex", "x", "zz", "v" },
		{ "put", "--hex", "x", "abc", "v" },
		{ "put", "--escaped", "x", "k\\q", "v" },
		{ "put", "x", "", "v" },
		{ "put", "x", "k" },
		{ "put", "--no-replace", "--replace-only", "x", "k", "v" },
		{ "create", "x" },
		{ "create", "bad name", "--hold" },
		{ "create", "x", "--hold", "--background" },
		{ "create", "x", "--max-entries", "lots", "--hold" },
		{ "create", "x", "--mode", "999", "--hold" },
		{ "create", "x", "--" },
		{ "create", "x", "--pid-file", "/tmp/p" },
		{ "clone", "x" },
		{ "load", "f" },
		{ "load", "--into", "x", "f", "g" },
		{ "load", "--into", "x", "--hold", "f" },
		{ "get", "--raw", "--json", "x", "k" },
		{ "info", "--max-entries" },
		{ "txn" },
		{ "txn", "x", "f", "g" },
		{ "txn", "--versions", "x" },
		{ "mget", "x" },
		{ "mget", "x", "" },
		{ "mget", "--raw", "x", "k" },
		{ "watch", "--wakeup-bytes", "0", "x" },
		{ "watch", "--wakeup-bytes", "lots", "x" },
		{ "watch", "--wakeup-ms", "50", "x" },
		{ "watch", "--wakeup-bytes", "4K", "--wakeup-ms", "0", "x" },
		{ "watch", "--wakeup-bytes", "4K", "--wakeup-ms", "2147483648",
		  "x" },
		{ "mirror", "--wakeup-bytes", "4K", "x", "y" },
	};
	struct result r;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		bool json = false;
		int k;

		for (k = 0; bad[i][k]; k++)
			json |= !strcmp(bad[i][k], "--json");
		run_v(&r, NULL, 0, 0, bad[i]);
		EXPECT_STATUS(ST_USAGE, r);
		/* Nothing on stdout, or with --json the error document. */
		if (json) {
			EXPECT_ERROR_DOC(r, bad[i][0], ST_USAGE, EINVAL,
					 "EINVAL", "");
		} else {
			EXPECT_EQ(0, r.out_len);
		}
		EXPECT_HAS(r.err, "--help");
		result_free(&r);
	}

	RUN(r, "--help");
	EXPECT_STATUS(0, r);
	EXPECT_HAS(r.out, "usage: snapmapctl");
	EXPECT_HAS(r.out, "dump");
	result_free(&r);
	RUN(r, "dump", "--help");
	EXPECT_STATUS(0, r);
	EXPECT_HAS(r.out, "--weak");
	result_free(&r);
	RUN(r, "help", "load");
	EXPECT_STATUS(0, r);
	EXPECT_HAS(r.out, "--into");
	result_free(&r);
}

TEST_F(ctl, put_get_del)
{
	char key[KEY_MAX + 2], value[VALUE_MAX + 2], buf[64], vfile[64];
	unsigned char got[VALUE_MAX];
	__u64 version, v2;
	struct result r;
	struct jval *v;
	unsigned char *b;
	size_t len;
	__u32 glen;

	RUN(r, "put", self->name, "alpha", "one");
	EXPECT_STATUS(0, r);
	EXPECT_EQ(0, r.out_len);
	result_free(&r);
	ASSERT_EQ(0, sm_get(self->fd, "alpha", 5, got, sizeof(got), &glen,
			    &version));
	EXPECT_VALUE(self->fd, "alpha", 5, "one", 3, version);

	RUN(r, "get", self->name, "alpha");
	EXPECT_STATUS(0, r);
	EXPECT_STREQ("one\n", r.out);
	result_free(&r);

	RUN(r, "get", "--raw", self->name, "alpha");
	EXPECT_STREQ("one", r.out);
	result_free(&r);

	RUN(r, "get", "--versions", self->name, "alpha");
	snprintf(buf, sizeof(buf), "%llu\tone\n", (unsigned long long)version);
	EXPECT_STREQ(buf, r.out);
	result_free(&r);

	/* An absent key: exit 1 (not found), and a message naming map and key. */
	RUN(r, "get", self->name, "nokey");
	EXPECT_STATUS(ST_NOT_FOUND, r);
	EXPECT_EQ(0, r.out_len);
	EXPECT_HAS(r.err, self->name);
	EXPECT_HAS(r.err, "'nokey'");
	EXPECT_HAS(r.err, "no such key");
	result_free(&r);

	/* Binary values from standard input and from a file. */
	RUN_IN(r, "a\0b\xff\n", 5, "put", self->name, "bin", "-");
	EXPECT_STATUS(0, r);
	result_free(&r);
	ASSERT_EQ(0, sm_get(self->fd, "bin", 3, got, sizeof(got), &glen,
			    &v2));
	EXPECT_VALUE(self->fd, "bin", 3, "a\0b\xff\n", 5, v2);
	RUN(r, "get", self->name, "bin");
	EXPECT_STREQ("a\\x00b\\xff\\n\n", r.out);
	result_free(&r);
	RUN(r, "get", "--raw", self->name, "bin");
	EXPECT_EQ(5, r.out_len);
	EXPECT_EQ(0, memcmp(r.out, "a\0b\xff\n", 5));
	result_free(&r);
	RUN(r, "get", "-x", self->name, "62696e");
	EXPECT_STREQ("610062ff0a\n", r.out);
	result_free(&r);
	RUN(r, "get", "--json", self->name, "bin");
	v = JSON(r);
	EXPECT_STREQ("hex", jstr(v, "value_encoding"));
	EXPECT_STREQ("utf8", jstr(v, "key_encoding"));
	b = jbytes(v, "value", &len);
	EXPECT_EQ(5, len);
	EXPECT_EQ(0, memcmp(b, "a\0b\xff\n", 5));
	EXPECT_EQ(v2, jnum(v, "version"));
	free(b);
	jfree(v);
	result_free(&r);

	snprintf(vfile, sizeof(vfile), TMP "/value");
	ASSERT_EQ(0, write_file(vfile, "from\0file", 9));
	RUN(r, "put", "--value-file", vfile, self->name, "file");
	EXPECT_STATUS(0, r);
	result_free(&r);
	EXPECT_EQ(0, sm_get(self->fd, "file", 4, got, sizeof(got), &glen,
			    NULL));
	EXPECT_EQ(9, glen);
	EXPECT_EQ(0, memcmp(got, "from\0file", 9));

	/* Keys and values in hex and in escapes. */
	RUN(r, "put", "-x", self->name, "6b0079", "0x76ff");
	EXPECT_STATUS(0, r);
	result_free(&r);
	EXPECT_EQ(0, sm_get(self->fd, "k\0y", 3, got, sizeof(got), &glen,
			    NULL));
	EXPECT_EQ(2, glen);
	EXPECT_EQ(0, memcmp(got, "v\xff", 2));
	RUN(r, "put", "-e", self->name, "e\\x01\\\\", "t\\tn\\n");
	EXPECT_STATUS(0, r);
	result_free(&r);
	EXPECT_EQ(0, sm_get(self->fd, "e\x01\\", 3, got, sizeof(got), &glen,
			    NULL));
	EXPECT_EQ(4, glen);
	EXPECT_EQ(0, memcmp(got, "t\tn\n", 4));
	/* What human output shows, -e reads back. */
	RUN(r, "get", "-e", self->name, "e\\x01\\\\");
	EXPECT_STREQ("t\\tn\\n\n", r.out);
	result_free(&r);

	/* A key that looks like an option, after "--"; an empty value. */
	RUN(r, "put", self->name, "--", "-dash", "");
	EXPECT_STATUS(0, r);
	result_free(&r);
	RUN(r, "get", self->name, "--", "-dash");
	EXPECT_STATUS(0, r);
	EXPECT_STREQ("\n", r.out);
	result_free(&r);

	/* Conditional writes. */
	RUN(r, "put", "--no-replace", self->name, "alpha", "x");
	EXPECT_STATUS(ST_CANCELED, r);
	EXPECT_HAS(r.err, "key exists");
	result_free(&r);
	RUN(r, "put", "--replace-only", self->name, "absent", "x");
	EXPECT_STATUS(ST_NOT_FOUND, r);
	EXPECT_HAS(r.err, "no such key");
	result_free(&r);
	EXPECT_EQ(-ENOENT, sm_get(self->fd, "absent", 6, got, sizeof(got),
				  &glen, NULL));
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)version + 1000);
	RUN(r, "put", "--if-version", buf, self->name, "alpha", "x");
	EXPECT_STATUS(ST_CANCELED, r);
	EXPECT_HAS(r.err, "version mismatch");
	result_free(&r);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)version);
	RUN(r, "put", "--json", "--if-version", buf, self->name, "alpha",
	    "uno");
	EXPECT_STATUS(0, r);
	v = JSON(r);
	ASSERT_EQ(0, sm_get(self->fd, "alpha", 5, got, sizeof(got), &glen,
			    &v2));
	EXPECT_EQ(v2, jnum(v, "version"));
	EXPECT_STREQ(self->name, jstr(v, "map"));
	jfree(v);
	result_free(&r);
	EXPECT_VALUE(self->fd, "alpha", 5, "uno", 3, v2);

	/* Limits, named with their numbers. */
	memset(key, 'k', sizeof(key));
	key[KEY_MAX + 1] = '\0';
	RUN(r, "put", self->name, key, "v");
	EXPECT_STATUS(ST_ERROR, r);
	EXPECT_HAS(r.err, "key of 65 bytes");
	EXPECT_HAS(r.err, "limit of 64");
	result_free(&r);
	memset(value, 'v', sizeof(value));
	value[VALUE_MAX + 1] = '\0';
	RUN(r, "put", self->name, "big", value);
	EXPECT_STATUS(ST_ERROR, r);
	EXPECT_HAS(r.err, "value of 257 bytes");
	result_free(&r);

	/* Deletion. */
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v2 + 1000);
	RUN(r, "del", "--if-version", buf, self->name, "alpha");
	EXPECT_STATUS(ST_CANCELED, r);
	EXPECT_HAS(r.err, "version mismatch");
	result_free(&r);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v2);
	RUN(r, "del", "--if-version", buf, self->name, "alpha");
	EXPECT_STATUS(0, r);
	EXPECT_EQ(0, r.out_len);
	result_free(&r);
	EXPECT_EQ(-ENOENT, sm_get(self->fd, "alpha", 5, got, sizeof(got),
				  &glen, NULL));
	RUN(r, "del", self->name, "alpha");
	EXPECT_STATUS(ST_NOT_FOUND, r);
	EXPECT_HAS(r.err, "no such key");
	result_free(&r);
	RUN(r, "del", "--json", self->name, "bin");
	EXPECT_STATUS(0, r);
	v = JSON(r);
	EXPECT_STREQ("bin", jstr(v, "key"));
	EXPECT_NE(~0ULL, jnum(v, "version"));
	jfree(v);
	result_free(&r);

	/* A map that does not exist. */
	RUN(r, "get", "ctl-no-such-map", "k");
	EXPECT_STATUS(ST_NOT_FOUND, r);
	EXPECT_HAS(r.err, "map 'ctl-no-such-map': no such map");
	result_free(&r);

	/* clear. */
	RUN(r, "clear", "--json", self->name);
	EXPECT_STATUS(0, r);
	v = JSON(r);
	EXPECT_NE(~0ULL, jnum(v, "version"));
	jfree(v);
	result_free(&r);
	EXPECT_TRUE(holds_exactly(self->fd, NULL, 0));
}

TEST_F(ctl, no_space)
{
	struct result r;
	int fd;

	fd = sm_create(self->ctl, 0, 0, 2, 0, 0600, self->other);
	ASSERT_LE(0, fd);
	RUN(r, "put", self->other, "a", "1");
	EXPECT_STATUS(0, r);
	result_free(&r);
	RUN(r, "put", self->other, "b", "2");
	EXPECT_STATUS(0, r);
	result_free(&r);
	RUN(r, "put", self->other, "c", "3");
	EXPECT_STATUS(ST_ERROR, r);
	EXPECT_HAS(r.err, "snapmapctl: put: map '");
	EXPECT_HAS(r.err, "': no space left (entry or byte limit reached)");
	result_free(&r);
	close(fd);
}

/* snapmapctl txn, with the string @text on its standard input. */
static int run_txn_v(struct result *r, const char *text,
		     const char *const *argv)
{
	const char *args[64] = { "txn" };
	int i;

	for (i = 0; argv[i] && i < 62; i++)
		args[i + 1] = argv[i];
	args[i + 1] = NULL;
	return run_v(r, text, strlen(text), 0, args);
}

#define RUN_TXN(r, text, ...) \
	run_txn_v(&(r), text, (const char *const[]){ __VA_ARGS__, NULL })

/* The version a key of the fixture's map has, or 0 if it is absent. */
static __u64 version_of(int fd, const char *key)
{
	unsigned char buf[VALUE_MAX];
	__u32 len;
	__u64 v;

	return sm_get(fd, key, strlen(key), buf, sizeof(buf), &len, &v) ?
	       0 : v;
}

/* Text input: every kind of entry, comments, blank lines, CR LF. */
TEST_F(ctl, txn_text)
{
	__u64 va, vb, version;
	struct result r;
	struct jval *v;
	char in[512];

	ASSERT_EQ(0, sm_put_str(self->fd, "a", "alpha", &va));
	ASSERT_EQ(0, sm_put_str(self->fd, "b", "beta", &vb));
	snprintf(in, sizeof(in),
		 "# move a to c, drop b\n"
		 "\n"
		 "if-version a %llu\n"
		 "  if-present\tb  \r\n"
		 "if-absent c\n"
		 "if-value b beta\n"
		 "put c alpha\n"
		 "del b\n"
		 "del a\n",
		 (unsigned long long)va);
	RUN_TXN(r, in, self->name);
	EXPECT_STATUS(0, r);
	result_free(&r);
	version = version_of(self->fd, "c");
	EXPECT_LT(vb, version);
	/* It prints the version of its writes. */
	RUN_TXN(r, "put d 1\n", self->name);
	EXPECT_STATUS(0, r);
	EXPECT_EQ(version_of(self->fd, "d"), strtoull(r.out, NULL, 10));
	EXPECT_LT(version, version_of(self->fd, "d"));
	result_free(&r);
	EXPECT_VALUE(self->fd, "c", 1, "alpha", 5, version);
	EXPECT_EQ(0, version_of(self->fd, "a"));
	EXPECT_EQ(0, version_of(self->fd, "b"));

	/* From a file, in hex and in escapes, and --json. */
	ASSERT_EQ(0, write_file(TMP "/txn", "put 6b00 0x\nput 6c ff01\n", 24));
	RUN(r, "txn", "-x", "--json", self->name, TMP "/txn");
	EXPECT_STATUS(0, r);
	v = JSON(r);
	EXPECT_STREQ(self->name, jstr(v, "map"));
	EXPECT_EQ(version_of(self->fd, "l"), jnum(v, "version"));
	EXPECT_EQ(0, jnum(v, "conditions"));
	EXPECT_EQ(2, jnum(v, "writes"));
	jfree(v);
	result_free(&r);
	EXPECT_VALUE(self->fd, "k\0", 2, "", 0, version_of(self->fd, "l"));
	EXPECT_VALUE(self->fd, "l", 1, "\xff\x01", 2,
		     version_of(self->fd, "l"));
	RUN_TXN(r, "put sp\\x20ace a\\tb\n", "-e", self->name);
	EXPECT_STATUS(0, r);
	result_free(&r);
	EXPECT_VALUE(self->fd, "sp ace", 6, "a\tb", 3,
		     version_of(self->fd, "sp ace"));
}

/*
 * A condition that does not hold: exit status 3, the condition named by
 * its place and as written, and nothing changed.
 */
TEST_F(ctl, txn_cancel)
{
	struct snapmap_info before, after;
	struct result r;

	ASSERT_EQ(0, sm_put_str(self->fd, "a", "alpha", NULL));
	ASSERT_EQ(0, sm_put_str(self->fd, "b", "beta", NULL));
	ASSERT_EQ(0, sm_info(self->fd, &before));

	RUN_TXN(r, "if-present a\n# b is there\nif-absent   b\nput c 1\n",
		self->name);
	EXPECT_STATUS(ST_CANCELED, r);
	EXPECT_EQ(0, r.out_len);
	EXPECT_HAS(r.err, "condition 2 of 2 does not hold (line 3: if-absent   b)");
	EXPECT_HAS(r.err, self->name);
	result_free(&r);

	RUN_TXN(r, "{\"if\": [\n  {\"cond\": \"value\", \"key\": \"a\",\n"
		"   \"value\": \"ALPHA\"}],\n \"then\": [{\"op\": \"del\", \"key\": \"a\"}]}",
		"--json", self->name);
	EXPECT_ERROR_DOC(r, "txn", ST_CANCELED, ECANCELED, "ECANCELED",
			 "condition 1 of 1 does not hold");
	EXPECT_HAS(r.err, "condition 1 of 1 does not hold (line 2: {\"cond\": \"value\", \"key\": \"a\", \"value\": \"ALPHA\"})");
	result_free(&r);

	ASSERT_EQ(0, sm_info(self->fd, &after));
	EXPECT_MAP_UNCHANGED(before, after);
	EXPECT_EQ(0, version_of(self->fd, "c"));
	EXPECT_NE(0, version_of(self->fd, "a"));
}

/* JSON input: every kind of entry, encodings, and what it wrote. */
TEST_F(ctl, txn_json)
{
	char in[1024];
	__u64 va, version;
	struct result r;
	struct jval *v;

	ASSERT_EQ(0, sm_put_str(self->fd, "a", "alpha", &va));
	ASSERT_EQ(0, sm_put_str(self->fd, "b", "beta", NULL));
	snprintf(in, sizeof(in),
		 "{\"if\": [{\"cond\": \"version\", \"key\": \"a\", \"version\": %llu},\n"
		 "        {\"cond\": \"present\", \"key\": \"62\", \"key_encoding\": \"hex\"},\n"
		 "        {\"cond\": \"absent\", \"key\": \"c\\u0000\"},\n"
		 "        {\"cond\": \"value\", \"key\": \"b\", \"value\": \"62657461\",\n"
		 "         \"value_encoding\": \"hex\"}],\n"
		 " \"then\": [{\"op\": \"put\", \"key\": \"c\\u0000\", \"value\": \"caf\\u00e9\\n\"},\n"
		 "          {\"value\": \"\", \"op\": \"put\", \"key\": \"e\"},\n"
		 "          {\"op\": \"del\", \"key\": \"a\"}]}\n",
		 (unsigned long long)va);
	ASSERT_EQ(0, write_file(TMP "/txn.json", in, strlen(in)));
	RUN(r, "txn", "--json", self->name, TMP "/txn.json");
	EXPECT_STATUS(0, r);
	v = JSON(r);
	version = jnum(v, "version");
	EXPECT_LT(va, version);
	EXPECT_EQ(4, jnum(v, "conditions"));
	EXPECT_EQ(3, jnum(v, "writes"));
	jfree(v);
	result_free(&r);
	EXPECT_VALUE(self->fd, "c\0", 2, "caf\xc3\xa9\n", 6, version);
	EXPECT_VALUE(self->fd, "e", 1, "", 0, version);
	EXPECT_EQ(0, version_of(self->fd, "a"));

	/* Only conditions: checked, nothing written, version 0; "-". */
	RUN_IN(r, "{\"if\": [{\"cond\": \"present\", \"key\": \"b\"}]}", 41,
	       "txn", self->name, "-");
	EXPECT_STATUS(0, r);
	EXPECT_STREQ("0\n", r.out);
	result_free(&r);
}

/*
 * Inputs refused before the map is touched: malformed JSON, entries that
 * are not what they must be, a condition after a write; and a second
 * write to a key, which the module refuses.  Each is exit status 1 with a
 * message that says where and what, and nothing is changed.
 */
#define DEEP 100000

TEST_F(ctl, txn_refused)
{
	static const struct {
		const char *in;
		const char *msg;
	} bad[] = {
		{ "{\"then\": [{\"op\": \"put\", \"key\": \"c\", \"value\": \"1\"}]",
		  "standard input, line 1: column 51: unexpected end of input" },
		{ "{\"then\": [{\"op\": \"put\", \"key\": \"c\", \"value\": \"1\"},]}",
		  "column 51: unexpected ']': expected a value" },
		{ "{\"then\":\n [{\"op\": \"put\", \"key\": \"c\", \"value\": 1}]}",
		  "line 2: \"value\" must be a string, not number" },
		{ "{\"then\": [{\"op\": \"put\", \"key\": \"c\", \"value\": \"1\", \"x\": 1}]}",
		  "\"then\"[0]: unknown member \"x\"" },
		{ "{\"then\": [{\"op\": \"put\", \"key\": \"c\"}]}",
		  "\"then\"[0]: no \"value\"" },
		{ "{\"if\": [{\"cond\": \"version\", \"key\": \"a\", \"version\": -1}]}",
		  "\"version\" must be an integer from 0 to 2^64-1" },
		{ "{\"then\": [{\"op\": \"put\", \"key\": \"c\\x\", \"value\": \"1\"}]}",
		  "invalid escape '\\x' in a string" },
		{ "{\"then\": [{\"op\": \"put\", \"key\": \"\", \"value\": \"1\"}]}",
		  "the key is empty" },
		{ "{\"then\": [{\"op\": \"put\", \"key\": \"zz\", \"key_encoding\": \"hex\", \"value\": \"1\"}]}",
		  "\"key\" is not hexadecimal" },
		{ "[{\"op\": \"put\", \"key\": \"c\", \"value\": \"1\"}]",
		  "unknown entry" },
		{ "{\"if\": {}}", "\"if\" must be an array, not object" },
		{ "{\"if\": [], \"if\": []}", "\"if\" given twice" },
		{ "put c 1\nif-absent c\n",
		  "line 2: a condition after a write" },
		{ "put c\n", "line 1: 'put' takes KEY VALUE, not 1 field;" },
		{ "if-version a x\n", "'x' is not a version" },
		{ "replace c 1\n", "line 1: unknown entry 'replace'" },
		{ "put c 1 2\n",
		  "line 1: 'put' takes KEY VALUE, not 3 fields (blanks in a KEY or VALUE need --escaped or --hex)" },
		{ "\n# nothing\n", "no condition and no write" },
		{ "put c 1\nput c 2\n",
		  "write 2 of 2 (line 2: put c 2): a second write to the same key" },
	};
	struct snapmap_info before, after;
	struct result r;
	char *deep;
	size_t i;

	ASSERT_EQ(0, sm_put_str(self->fd, "a", "alpha", NULL));
	ASSERT_EQ(0, sm_info(self->fd, &before));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		RUN_TXN(r, bad[i].in, self->name);
		EXPECT_STATUS(ST_ERROR, r);
		EXPECT_EQ(0, r.out_len);
		EXPECT_TRUE(strstr(r.err, bad[i].msg) != NULL) {
			TH_LOG("input %zu: '%s' not in: %s", i, bad[i].msg,
			       r.err);
		}
		EXPECT_HAS(r.err, "nothing was changed");
		result_free(&r);
	}
	ASSERT_EQ(0, sm_info(self->fd, &after));
	EXPECT_MAP_UNCHANGED(before, after);
	EXPECT_EQ(0, version_of(self->fd, "c"));

	/* Deep nesting is refused, not followed. */
	deep = malloc(DEEP + 8);
	ASSERT_TRUE(deep != NULL);
	strcpy(deep, "{\"if\": ");
	memset(deep + 7, '[', DEEP);
	RUN_IN(r, deep, DEEP + 7, "txn", self->name);
	EXPECT_STATUS(ST_ERROR, r);
	EXPECT_HAS(r.err, "nested deeper than");
	result_free(&r);
	free(deep);

	/* --hex and --escaped are for text: a usage error. */
	RUN_TXN(r, "{\"if\": []}", "-x", self->name);
	EXPECT_STATUS(ST_USAGE, r);
	EXPECT_HAS(r.err, "key_encoding");
	result_free(&r);
	RUN(r, "txn", self->name, TMP "/no-such-file");
	EXPECT_STATUS(ST_ERROR, r);
	EXPECT_HAS(r.err, "cannot open");
	result_free(&r);
	ASSERT_EQ(0, sm_info(self->fd, &after));
	EXPECT_MAP_UNCHANGED(before, after);
}

TEST_F(ctl, mget)
{
	__u64 va, vb, version;
	struct result r;
	struct jval *v, *recs;
	char line[128];
	unsigned char *b;
	size_t len;

	ASSERT_EQ(0, sm_put_str(self->fd, "a", "alpha", &va));
	ASSERT_EQ(0, sm_put_str(self->fd, "b", "two words", &vb));

	RUN(r, "mget", self->name, "a", "b");
	EXPECT_STATUS(0, r);
	snprintf(line, sizeof(line), "# map '%s': read at version ",
		 self->name);
	ASSERT_EQ(0, strncmp(r.out, line, strlen(line)));
	version = strtoull(r.out + strlen(line), NULL, 10);
	EXPECT_LT(vb, version);
	EXPECT_HAS(r.out, "\na\talpha\nb\ttwo words\n");
	result_free(&r);

	RUN(r, "mget", "--versions", "-H", self->name, "b", "a");
	EXPECT_STATUS(0, r);
	snprintf(line, sizeof(line), "%llu\tb\ttwo words\n%llu\ta\talpha\n",
		 (unsigned long long)vb, (unsigned long long)va);
	EXPECT_STREQ(line, r.out);
	result_free(&r);

	/* An absent key: the others printed, exit 1, the key named. */
	RUN(r, "mget", "--json", self->name, "a", "nope", "b");
	EXPECT_STATUS(ST_NOT_FOUND, r);
	EXPECT_HAS(r.err, "key 'nope': no such key");
	v = JSON(r);
	EXPECT_STREQ(self->name, jstr(v, "map"));
	EXPECT_LT(vb, jnum(v, "version"));
	recs = jget(v, "records");
	ASSERT_TRUE(recs && recs->t == J_ARR && recs->n == 3);
	b = jbytes(recs->items[0], "value", &len);
	ASSERT_TRUE(b != NULL);
	EXPECT_EQ(5, len);
	EXPECT_EQ(0, memcmp(b, "alpha", 5));
	free(b);
	EXPECT_EQ(va, jnum(recs->items[0], "version"));
	EXPECT_STREQ("nope", jstr(recs->items[1], "key"));
	EXPECT_EQ(J_NULL, jget(recs->items[1], "value")->t);
	EXPECT_EQ(J_NULL, jget(recs->items[1], "version")->t);
	EXPECT_EQ(vb, jnum(recs->items[2], "version"));
	jfree(v);
	result_free(&r);

	/* Values longer than the first buffer, in hex. */
	memset(line, 'v', VALUE_MAX < sizeof(line) ? VALUE_MAX : 100);
	ASSERT_EQ(0, sm_put(self->fd, 0, "big", 3, line, 100, 0, NULL));
	RUN(r, "mget", "-x", "-H", self->name, "626967");
	EXPECT_STATUS(0, r);
	EXPECT_EQ(3 * 2 + 1 + 100 * 2 + 1, r.out_len);
	EXPECT_EQ(0, strncmp(r.out, "626967\t7676", 11));
	result_free(&r);

	RUN(r, "mget", self->name);
	EXPECT_STATUS(ST_USAGE, r);
	result_free(&r);
	RUN(r, "mget", "ctl-no-such-map", "a");
	EXPECT_STATUS(ST_NOT_FOUND, r);
	EXPECT_HAS(r.err, "no such map");
	result_free(&r);
}

TEST_F(ctl, ls_info)
{
	struct snapmap_info info;
	const struct jval *m;
	struct result r;
	struct jval *v;
	char line[256];
	size_t i;

	fill_sample(self->fd);
	ASSERT_EQ(0, sm_info(self->fd, &info));

	RUN(r, "ls");
	EXPECT_STATUS(0, r);
	EXPECT_EQ(0, strncmp(r.out, "NAME ", 5));
	snprintf(line, sizeof(line), "\n%s ", self->name);
	EXPECT_HAS(r.out, line);
	snprintf(line, sizeof(line), " 0640 ");
	EXPECT_HAS(r.out, line);
	result_free(&r);

	RUN(r, "ls", "--json");
	EXPECT_STATUS(0, r);
	v = JSON(r);
	ASSERT_TRUE(v && v->t == J_ARR);
	for (m = NULL, i = 0; i < v->n; i++)
		if (!strcmp(jstr(v->items[i], "name") ?: "", self->name))
			m = v->items[i];
	ASSERT_TRUE(m != NULL);
	EXPECT_STREQ("0640", jstr(m, "mode"));
	EXPECT_EQ(0, jnum(m, "uid"));
	EXPECT_EQ(N_SAMPLE, jnum(m, "entries"));
	EXPECT_EQ(info.out_bytes, jnum(m, "bytes"));
	jfree(v);
	result_free(&r);

	/* Someone who may not read the map sees it without its usage. */
	RUN_AS(r, OTHER_UID, "ls", "--json");
	EXPECT_STATUS(0, r);
	v = JSON(r);
	ASSERT_TRUE(v && v->t == J_ARR);
	for (m = NULL, i = 0; i < v->n; i++)
		if (!strcmp(jstr(v->items[i], "name") ?: "", self->name))
			m = v->items[i];
	ASSERT_TRUE(m != NULL);
	EXPECT_EQ(J_NULL, jget(m, "entries")->t);
	EXPECT_EQ(J_NULL, jget(m, "bytes")->t);
	jfree(v);
	result_free(&r);
	RUN_AS(r, OTHER_UID, "ls");
	snprintf(line, sizeof(line), "%s ", self->name);
	ASSERT_TRUE(strstr(r.out, line) != NULL);
	EXPECT_TRUE(strstr(strstr(r.out, line), "  -  -\n") != NULL) {
		TH_LOG("%s", r.out);
	}
	result_free(&r);
	RUN_AS(r, OTHER_UID, "info", self->name);
	EXPECT_STATUS(ST_ERROR, r);
	EXPECT_HAS(r.err, "permission denied");
	result_free(&r);

	RUN(r, "info", self->name);
	EXPECT_STATUS(0, r);
	EXPECT_HAS(r.out, "max key:      64 bytes\n");
	EXPECT_HAS(r.out, "max value:    256 bytes\n");
	snprintf(line, sizeof(line), "entries:      %d of %d", N_SAMPLE,
		 ENTRIES_MAX);
	EXPECT_HAS(r.out, line);
	EXPECT_HAS(r.out, "mode:         0640\n");
	result_free(&r);

	RUN(r, "info", "--json", self->name);
	EXPECT_STATUS(0, r);
	v = JSON(r);
	EXPECT_STREQ(self->name, jstr(v, "name"));
	EXPECT_EQ(KEY_MAX, jnum(v, "max_key_len"));
	EXPECT_EQ(VALUE_MAX, jnum(v, "max_value_len"));
	EXPECT_EQ(ENTRIES_MAX, jnum(v, "max_entries"));
	EXPECT_EQ(info.out_max_bytes, jnum(v, "max_bytes"));
	EXPECT_EQ(N_SAMPLE, jnum(v, "entries"));
	EXPECT_EQ(info.out_bytes, jnum(v, "bytes"));
	EXPECT_EQ(info.out_version, jnum(v, "version"));
	EXPECT_EQ(info.out_puts, jnum(v, "puts"));
	EXPECT_STREQ("0640", jstr(v, "mode"));
	jfree(v);
	result_free(&r);

	RUN(r, "info", "ctl-no-such-map");
	EXPECT_STATUS(ST_NOT_FOUND, r);
	EXPECT_HAS(r.err, "no such map");
	result_free(&r);
}

/* The id of the map behind @fd, or 0. */
static __u64 id_of(int fd)
{
	struct snapmap_info info;

	return sm_info(fd, &info) ? 0 : info.out_id;
}

/* The item of the JSON array @v whose "id" is @id, or NULL. */
static const struct jval *item_of_id(const struct jval *v, __u64 id)
{
	size_t i;

	for (i = 0; v && v->t == J_ARR && i < v->n; i++)
		if (jnum(v->items[i], "id") == id)
			return v->items[i];
	return NULL;
}

/* Whether @b is the JSON boolean @want. */
static bool is_bool(const struct jval *b, bool want)
{
	return b && b->t == J_BOOL && b->b == want;
}

/* Whether the JSON array @a holds the number @n. */
static bool has_num(const struct jval *a, unsigned long long n)
{
	size_t i;

	for (i = 0; a && a->t == J_ARR && i < a->n; i++)
		if (a->items[i]->t == J_NUM && a->items[i]->num == n)
			return true;
	return false;
}

/* create --persistent outlives the tool; rm deletes it, for its owner. */
TEST_F(ctl, persistent_rm)
{
	struct result r;
	struct jval *v;
	int fd;

	RUN(r, "create", "--persistent", "--mode", "0644", self->third);
	EXPECT_STATUS(0, r);
	EXPECT_EQ(0, r.out_len);
	result_free(&r);
	/* The tool is gone; the map is not. */
	fd = sm_open(self->ctl, self->third, SNAPMAP_OPEN_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, close(fd));

	RUN(r, "info", "--json", self->third);
	EXPECT_STATUS(0, r);
	v = JSON(r);
	ASSERT_TRUE(v != NULL);
	EXPECT_TRUE(is_bool(jget(v, "persistent"), true));
	EXPECT_EQ(0, jnum(v, "snapshots"));
	EXPECT_LT(0, jnum(v, "id"));
	jfree(v);
	result_free(&r);
	RUN(r, "info", self->third);
	EXPECT_STATUS(0, r);
	EXPECT_HAS(r.out, ", persistent\n");
	result_free(&r);

	/* Taken: EEXIST, as for any create. */
	RUN(r, "create", "--persistent", self->third);
	EXPECT_STATUS(ST_ERROR, r);
	result_free(&r);

	/* Another user may read it (0644), not remove it. */
	RUN_AS(r, OTHER_UID, "rm", self->third);
	EXPECT_STATUS(ST_ERROR, r);
	EXPECT_HAS(r.err, "permission denied");
	result_free(&r);
	RUN_AS(r, OTHER_UID, "rm", "--json", self->third);
	EXPECT_STATUS(ST_ERROR, r);
	v = JSON(r);
	ASSERT_TRUE(v != NULL);
	EXPECT_STREQ("EACCES", jstr(jget(v, "error"), "name"));
	jfree(v);
	result_free(&r);
	EXPECT_TRUE(map_exists(self->ctl, self->third, true));

	RUN(r, "rm", self->third);
	EXPECT_STATUS(0, r);
	EXPECT_EQ(0, r.out_len);
	result_free(&r);
	EXPECT_FALSE(map_exists(self->ctl, self->third, false));
	RUN(r, "rm", self->third);
	EXPECT_STATUS(ST_NOT_FOUND, r);
	EXPECT_HAS(r.err, "no such map");
	result_free(&r);

	/* --json says what was made. */
	RUN(r, "create", "--persistent", "--json", self->third);
	EXPECT_STATUS(0, r);
	v = JSON(r);
	ASSERT_TRUE(v != NULL);
	EXPECT_STREQ(self->third, jstr(v, "name"));
	EXPECT_TRUE(is_bool(jget(v, "persistent"), true));
	jfree(v);
	result_free(&r);
	/* rm of a map that is not persistent unnames it; fds keep it. */
	RUN(r, "rm", "--json", self->third, self->name);
	EXPECT_STATUS(0, r);
	v = JSON(r);
	ASSERT_TRUE(v != NULL);
	ASSERT_TRUE(jget(v, "removed") && jget(v, "removed")->n == 2);
	EXPECT_STREQ(self->third, jget(v, "removed")->items[0]->s);
	EXPECT_STREQ(self->name, jget(v, "removed")->items[1]->s);
	jfree(v);
	result_free(&r);
	EXPECT_FALSE(map_exists(self->ctl, self->third, false));
	EXPECT_FALSE(map_exists(self->ctl, self->name, false));
	EXPECT_EQ(0, sm_put_str(self->fd, "still", "here", NULL));
}

/* ls --all: unnamed maps too, with the pids that hold each. */
TEST_F(ctl, ls_all)
{
	const struct jval *m;
	struct result r;
	struct jval *v;
	char line[256];
	const char *m_line;
	bool found;
	int u, sfd;
	__u64 uid_id;

	u = sm_create_default(self->ctl);
	ASSERT_LE(0, u);
	uid_id = id_of(u);
	/* A snapshot holds the map too: still this process. */
	sfd = sm_snapshot(u, 0, NULL);
	ASSERT_LE(0, sfd);
	ASSERT_EQ(0, close(u));

	RUN(r, "ls", "--all", "--json");
	EXPECT_STATUS(0, r);
	v = JSON(r);
	m = item_of_id(v, uid_id);
	ASSERT_TRUE(m != NULL);
	EXPECT_EQ(J_NULL, jget(m, "name")->t);
	EXPECT_TRUE(is_bool(jget(m, "persistent"), false));
	EXPECT_TRUE(has_num(jget(m, "pids"), getpid()));
	EXPECT_EQ(1, jget(m, "pids")->n);
	m = item_of_id(v, id_of(self->fd));
	ASSERT_TRUE(m != NULL);
	EXPECT_STREQ(self->name, jstr(m, "name"));
	EXPECT_TRUE(has_num(jget(m, "pids"), getpid()));
	jfree(v);
	result_free(&r);

	RUN(r, "ls", "-a");
	EXPECT_STATUS(0, r);
	EXPECT_EQ(0, strncmp(r.out, "NAME ", 5));
	/* The unnamed map's line: no name, its id, mode, no P, this process. */
	found = false;
	for (m_line = r.out; m_line && *m_line; m_line = strchr(m_line, '\n')) {
		char name[80], owner[80], pids[80], p;
		unsigned long long id;
		unsigned int mode;

		m_line += *m_line == '\n';
		if (sscanf(m_line, "%79s %llu %79s %o %c %79s", name, &id, owner,
			   &mode, &p, pids) != 6 || id != uid_id)
			continue;
		found = true;
		EXPECT_STREQ("-", name);
		EXPECT_EQ(0600, mode);
		EXPECT_EQ('-', p);
		snprintf(line, sizeof(line), "%d", (int)getpid());
		EXPECT_STREQ(line, pids);
	}
	EXPECT_TRUE(found) {
		TH_LOG("map %llu not in: %s", (unsigned long long)uid_id,
		       r.out);
	}
	result_free(&r);

	/*
	 * Another user: not root's unnamed map, root's named one without
	 * its holders, which /proc does not show it.
	 */
	RUN_AS(r, OTHER_UID, "ls", "--all", "--json");
	EXPECT_STATUS(0, r);
	v = JSON(r);
	ASSERT_TRUE(v && v->t == J_ARR);
	EXPECT_TRUE(item_of_id(v, uid_id) == NULL);
	m = item_of_id(v, id_of(self->fd));
	ASSERT_TRUE(m != NULL);
	EXPECT_EQ(0, jget(m, "pids")->n);
	jfree(v);
	result_free(&r);

	/* info counts the snapshot. */
	ASSERT_EQ(0, close(sfd));
	sfd = sm_snapshot(self->fd, 0, NULL);
	ASSERT_LE(0, sfd);
	RUN(r, "info", "--json", self->name);
	EXPECT_STATUS(0, r);
	v = JSON(r);
	EXPECT_EQ(1, jnum(v, "snapshots"));
	EXPECT_EQ(0, jnum(v, "stale_snapshots"));
	EXPECT_EQ(0, jnum(v, "invalidated"));
	EXPECT_EQ(0, jnum(v, "pinned_bytes"));
	jfree(v);
	result_free(&r);
	RUN(r, "info", self->name);
	EXPECT_HAS(r.out, "snapshots:    1 open, 0 stale; 0 invalidated in all\n");
	result_free(&r);
	ASSERT_EQ(0, close(sfd));
}

/* Expect a JSON dump to hold exactly the sample, versions included. */
static void expect_sample_dump(struct __test_metadata *_metadata, int fd,
			       const struct jval *v)
{
	const struct jval *recs = jget(v, "records");
	unsigned char *k, *val, got[VALUE_MAX];
	size_t i, klen, vlen;
	__u32 glen;
	__u64 ver;

	ASSERT_TRUE(recs && recs->t == J_ARR);
	EXPECT_EQ(N_SAMPLE, recs->n);
	EXPECT_EQ(N_SAMPLE, jnum(v, "count"));
	for (i = 0; i < recs->n; i++) {
		k = jbytes(recs->items[i], "key", &klen);
		val = jbytes(recs->items[i], "value", &vlen);
		ASSERT_TRUE(k && val);
		ASSERT_EQ(0, sm_get(fd, k, klen, got, sizeof(got), &glen,
				    &ver));
		EXPECT_EQ(glen, vlen);
		EXPECT_EQ(0, memcmp(got, val, vlen));
		EXPECT_EQ(ver, jnum(recs->items[i], "version"));
		free(k);
		free(val);
	}
}

TEST_F(ctl, dump)
{
	struct snapmap_info info;
	struct result r;
	struct jval *v;
	char line[256], *p;
	int lines = 0;

	RUN(r, "dump", "--json", self->name);
	EXPECT_STATUS(0, r);
	v = JSON(r);
	EXPECT_EQ(0, jnum(v, "count"));
	EXPECT_EQ(0, jget(v, "records")->n);
	jfree(v);
	result_free(&r);

	fill_sample(self->fd);
	ASSERT_EQ(0, sm_info(self->fd, &info));

	RUN(r, "dump", self->name);
	EXPECT_STATUS(0, r);
	snprintf(line, sizeof(line), "# map '%s': ATOMIC snapshot at version ",
		 self->name);
	EXPECT_EQ(0, strncmp(r.out, line, strlen(line)));
	snprintf(line, sizeof(line), ", %d entries\n", N_SAMPLE);
	EXPECT_HAS(r.out, line);
	EXPECT_HAS(r.out, "\nalpha\tone\n");
	EXPECT_HAS(r.out, "\nbin\\x00key\t\\x00\\x01\\xff\\n\n");
	EXPECT_HAS(r.out, "\ntab\\there\t\n");
	EXPECT_HAS(r.out, "\n\xc3\xa9t\xc3\xa9\tcaf\xc3\xa9\n");
	EXPECT_HAS(r.out, "\nback\\\\slash\tline\\nbreak\n");
	for (p = r.out; *p; p++)
		lines += *p == '\n';
	EXPECT_EQ(N_SAMPLE + 1, lines);
	result_free(&r);

	RUN(r, "dump", "--json", self->name);
	EXPECT_STATUS(0, r);
	v = JSON(r);
	EXPECT_STREQ("atomic", jstr(v, "snapshot"));
	EXPECT_STREQ(self->name, jstr(v, "map"));
	EXPECT_LT(info.out_version, jnum(v, "version"));
	EXPECT_EQ(N_SAMPLE, jnum(v, "entries"));
	expect_sample_dump(_metadata, self->fd, v);
	jfree(v);
	result_free(&r);

	/* -x: everything in hex, in JSON too. */
	RUN(r, "dump", "-x", "--json", self->name);
	v = JSON(r);
	EXPECT_STREQ("hex", jstr(jget(v, "records")->items[0],
				 "key_encoding"));
	expect_sample_dump(_metadata, self->fd, v);
	jfree(v);
	result_free(&r);
	RUN(r, "dump", "-x", "--no-header", self->name);
	EXPECT_HAS(r.out, "616c706861\t6f6e65\n");
	EXPECT_NE('#', r.out[0]);
	result_free(&r);

	RUN(r, "dump", "--weak", "--versions", self->name);
	EXPECT_STATUS(0, r);
	EXPECT_HAS(r.out, "WEAK");
	EXPECT_HAS(r.out, "\talpha\tone\n");
	result_free(&r);
	RUN(r, "dump", "--weak", "--json", self->name);
	v = JSON(r);
	EXPECT_STREQ("weak", jstr(v, "snapshot"));
	EXPECT_EQ(J_NULL, jget(v, "version")->t);
	expect_sample_dump(_metadata, self->fd, v);
	jfree(v);
	result_free(&r);

	RUN(r, "dump", "ctl-no-such-map");
	EXPECT_STATUS(ST_NOT_FOUND, r);
	EXPECT_HAS(r.err, "no such map");
	result_free(&r);
}

TEST_F(ctl, create_hold)
{
	char line[512], pidfile[64], buf[32];
	struct snapmap_info info;
	struct result r;
	struct jval *v;
	pid_t pid;
	int fd;

	pid = SPAWN_HOLD(line, "create", self->other, "--max-entries", "7",
			 "--max-key-len", "1K", "--mode", "0644", "--hold");
	ASSERT_LT(0, pid);
	EXPECT_STREQ("ready\n", line);
	fd = sm_open(self->ctl, self->other, SNAPMAP_OPEN_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(7, info.out_max_entries);
	EXPECT_EQ(1024, info.out_max_key_len);
	EXPECT_EQ(0644, info.out_mode);
	close(fd);
	/* Taken: a second create fails and says why. */
	RUN(r, "create", self->other, "--hold");
	EXPECT_STATUS(ST_ERROR, r);
	EXPECT_HAS(r.err, "a map of that name exists");
	result_free(&r);
	EXPECT_EQ(0, stop_hold(pid));
	EXPECT_FALSE(map_exists(self->ctl, self->other, false));

	/* --json: the ready line is a JSON document. */
	pid = SPAWN_HOLD(line, "create", "--json", self->other, "--hold");
	ASSERT_LT(0, pid);
	v = jparse(line, strlen(line));
	ASSERT_TRUE(v != NULL);
	EXPECT_STREQ(self->other, jstr(v, "map"));
	EXPECT_EQ((unsigned long long)pid, jnum(v, "pid"));
	EXPECT_NE(~0ULL, jnum(v, "max_entries"));
	jfree(v);
	EXPECT_EQ(0, stop_hold(pid));
	EXPECT_FALSE(map_exists(self->ctl, self->other, false));

	/* --background: the holder's pid, on stdout and in the pid file. */
	snprintf(pidfile, sizeof(pidfile), TMP "/pid");
	RUN(r, "create", self->other, "--background", "--pid-file", pidfile);
	EXPECT_STATUS(0, r);
	pid = atoi(r.out);
	EXPECT_LT(1, pid);
	fd = open(pidfile, O_RDONLY);
	ASSERT_LE(0, fd);
	memset(buf, 0, sizeof(buf));
	EXPECT_LT(0, read(fd, buf, sizeof(buf) - 1));
	close(fd);
	EXPECT_STREQ(r.out, buf);
	result_free(&r);
	EXPECT_TRUE(map_exists(self->ctl, self->other, true));
	EXPECT_EQ(0, kill(pid, SIGTERM));
	EXPECT_FALSE(map_exists(self->ctl, self->other, false));

	/* -- COMMAND: held while it runs; its exit status is ours. */
	RUN(r, "create", self->other, "--", "snapmapctl", "put", self->other,
	    "k", "v");
	EXPECT_STATUS(0, r);
	result_free(&r);
	EXPECT_FALSE(map_exists(self->ctl, self->other, false));
	RUN(r, "create", self->other, "--", "snapmapctl", "get", self->other,
	    "k");
	EXPECT_EQ(ST_NOT_FOUND, r.status);
	EXPECT_HAS(r.err, "no such key");
	result_free(&r);
	RUN(r, "create", self->other, "--", "/nonexistent/program");
	EXPECT_EQ(127, r.status);
	EXPECT_HAS(r.err, "cannot run");
	result_free(&r);

	/* A limit above the module's cap. */
	RUN(r, "create", self->other, "--max-key-len", "1G", "--hold");
	EXPECT_STATUS(ST_ERROR, r);
	EXPECT_HAS(r.err, "invalid");
	result_free(&r);
}

TEST_F(ctl, clone)
{
	struct snapmap_info info;
	char line[512];
	struct jval *v;
	pid_t pid;
	int fd;

	fill_sample(self->fd);
	pid = SPAWN_HOLD(line, "clone", "--json", self->name, self->other,
			 "--hold");
	ASSERT_LT(0, pid);
	v = jparse(line, strlen(line));
	ASSERT_TRUE(v != NULL) {
		TH_LOG("%s", line);
	}
	EXPECT_STREQ(self->other, jstr(v, "map"));
	EXPECT_EQ(N_SAMPLE, jnum(v, "entries"));
	EXPECT_NE(~0ULL, jnum(v, "version"));
	jfree(v);
	fd = sm_open(self->ctl, self->other, SNAPMAP_OPEN_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_TRUE(holds_exactly(fd, sample, N_SAMPLE));
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(0640, info.out_mode);
	EXPECT_EQ(KEY_MAX, info.out_max_key_len);
	close(fd);
	EXPECT_EQ(0, stop_hold(pid));
	EXPECT_FALSE(map_exists(self->ctl, self->other, false));
}

TEST_F_TIMEOUT(ctl, save_load, 120)
{
	char file[64], path[64], line[512];
	struct snapmap_info info, info2;
	struct result r, r2;
	struct sfbuf f, f2;
	struct stat st;
	struct jval *v;
	pid_t pid;
	int fd;

	fill_sample(self->fd);
	ASSERT_EQ(0, sm_info(self->fd, &info));
	snprintf(file, sizeof(file), TMP "/saved");

	RUN(r, "save", "--json", self->name, file);
	EXPECT_STATUS(0, r);
	v = JSON(r);
	EXPECT_EQ(N_SAMPLE, jnum(v, "records"));
	jfree(v);
	result_free(&r);

	/* The file, read by the format's description. */
	ASSERT_EQ(0, read_file(file, &f));
	ASSERT_LT(160 + 12, f.len);
	EXPECT_EQ(0, memcmp(f.b, "\x89SNAPMAP", 8));
	EXPECT_EQ(1, rd32(f.b + 8));
	EXPECT_EQ(160, rd32(f.b + 12));
	EXPECT_EQ(0, rd32(f.b + 16));
	EXPECT_EQ(0640, rd32(f.b + 20));
	EXPECT_LT(info.out_version, rd64(f.b + 24));
	EXPECT_EQ(N_SAMPLE, rd64(f.b + 32));
	EXPECT_EQ(KEY_MAX, rd32(f.b + 40));
	EXPECT_EQ(VALUE_MAX, rd32(f.b + 44));
	EXPECT_EQ(ENTRIES_MAX, rd64(f.b + 48));
	EXPECT_EQ(info.out_max_bytes, rd64(f.b + 56));
	EXPECT_STREQ(self->name, (char *)f.b + 72);
	EXPECT_EQ(0, memcmp(f.b + f.len - 12, "\x89SNAPEND", 8));
	EXPECT_EQ(crc32c(f.b, f.len - 4), rd32(f.b + f.len - 4));
	/* No more readable than the map, within the umask; no temp left. */
	ASSERT_EQ(0, stat(file, &st));
	EXPECT_EQ(0640 & ~022, st.st_mode & 0777);
	snprintf(path, sizeof(path), TMP "/.saved.");
	{
		struct dirent *d;
		DIR *dir = opendir(TMP);

		while (dir && (d = readdir(dir)))
			EXPECT_EQ(0, !strncmp(d->d_name, ".saved.", 7));
		closedir(dir);
	}

	RUN(r, "load", "--check", file);
	EXPECT_STATUS(0, r);
	EXPECT_HAS(r.out, "records:      6\n");
	EXPECT_HAS(r.out, "valid");
	result_free(&r);
	RUN(r, "load", "--check", "--json", file);
	v = JSON(r);
	EXPECT_EQ(N_SAMPLE, jnum(v, "records"));
	EXPECT_EQ(rd64(f.b + 24), jnum(v, "version"));
	EXPECT_TRUE(jget(v, "valid") && jget(v, "valid")->b);
	jfree(v);
	result_free(&r);

	/* Into a new map: same contents, limits and mode; new versions. */
	pid = SPAWN_HOLD(line, "load", file, self->other, "--hold");
	ASSERT_LT(0, pid);
	EXPECT_STREQ("ready\n", line);
	fd = sm_open(self->ctl, self->other, SNAPMAP_OPEN_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_TRUE(holds_exactly(fd, sample, N_SAMPLE));
	ASSERT_EQ(0, sm_info(fd, &info2));
	EXPECT_EQ(info.out_max_key_len, info2.out_max_key_len);
	EXPECT_EQ(info.out_max_value_len, info2.out_max_value_len);
	EXPECT_EQ(info.out_max_entries, info2.out_max_entries);
	EXPECT_EQ(info.out_max_bytes, info2.out_max_bytes);
	EXPECT_EQ(info.out_mode, info2.out_mode);
	close(fd);

	/* Saved again from the loaded map: the same records. */
	snprintf(path, sizeof(path), TMP "/again");
	RUN(r, "save", self->other, path);
	EXPECT_STATUS(0, r);
	result_free(&r);
	EXPECT_EQ(0, stop_hold(pid));
	ASSERT_EQ(0, read_file(path, &f2));
	EXPECT_EQ(f.len, f2.len);
	free(f2.b);

	/* Into an existing empty map. */
	fd = sm_create(self->ctl, 0, 0, 0, 0, 0600, self->third);
	ASSERT_LE(0, fd);
	RUN(r, "load", "--json", "--into", self->third, file);
	EXPECT_STATUS(0, r);
	v = JSON(r);
	EXPECT_EQ(N_SAMPLE, jnum(v, "records"));
	jfree(v);
	result_free(&r);
	EXPECT_TRUE(holds_exactly(fd, sample, N_SAMPLE));
	/* Not empty any more: refused, unchanged. */
	ASSERT_EQ(0, sm_info(fd, &info));
	RUN(r, "load", "--into", self->third, file);
	EXPECT_STATUS(ST_ERROR, r);
	EXPECT_HAS(r.err, "not empty");
	result_free(&r);
	ASSERT_EQ(0, sm_info(fd, &info2));
	EXPECT_MAP_UNCHANGED(info, info2);
	close(fd);

	/* Through a pipe: save to stdout, load --check from stdin. */
	RUN(r, "save", self->name, "-");
	EXPECT_STATUS(0, r);
	EXPECT_EQ(f.len, r.out_len);
	RUN_IN(r2, r.out, r.out_len, "load", "--check", "-");
	EXPECT_STATUS(0, r2);
	result_free(&r2);
	result_free(&r);

	/* A name that is taken; a directory that does not exist. */
	RUN(r, "load", file, self->name, "--hold");
	EXPECT_STATUS(ST_ERROR, r);
	EXPECT_HAS(r.err, "exists");
	result_free(&r);
	RUN(r, "save", self->name, TMP "/no/such/dir");
	EXPECT_STATUS(ST_ERROR, r);
	result_free(&r);
	free(f.b);
}

/*
 * Expect loading @f to fail with a message holding @msg, into a new map
 * and into an empty one, and either way to change nothing.
 */
static void expect_refused(struct __test_metadata *_metadata,
			   FIXTURE_DATA(ctl) *self, int empty_fd,
			   const struct sfbuf *f, const char *msg,
			   const char *what)
{
	struct snapmap_info before, after;
	struct result r;

	ASSERT_EQ(0, write_file(TMP "/bad", f->b, f->len));
	ASSERT_EQ(0, sm_info(empty_fd, &before));
	RUN(r, "load", "--into", self->third, TMP "/bad");
	EXPECT_STATUS(ST_ERROR, r);
	EXPECT_TRUE(strstr(r.err, msg) != NULL) {
		TH_LOG("%s: '%s' not in: %s", what, msg, r.err);
	}
	EXPECT_HAS(r.err, "nothing was changed");
	result_free(&r);
	ASSERT_EQ(0, sm_info(empty_fd, &after));
	EXPECT_MAP_UNCHANGED(before, after);
	EXPECT_EQ(0, after.out_entries);

	RUN(r, "load", TMP "/bad", self->other, "--", "true");
	EXPECT_STATUS(ST_ERROR, r);
	EXPECT_HAS(r.err, msg);
	result_free(&r);
	EXPECT_FALSE(map_exists(self->ctl, self->other, false));
}

TEST_F_TIMEOUT(ctl, load_refuses_damage, 300)
{
	static const struct {
		size_t off;	/* from the end if above the file's length */
		const char *msg;
		const char *what;
	} flips[] = {
		{ 0, "not a snapmap save file", "magic" },
		{ 8, "format version", "format version" },
		{ 12, "checksum mismatch", "header size" },
		{ 16, "checksum mismatch", "flags" },
		{ 20, "checksum mismatch", "mode" },
		{ 24, "checksum mismatch", "snapshot version" },
		{ 32, "truncated or corrupt", "record count" },
		{ 40, "checksum mismatch", "max key length" },
		{ 48, "checksum mismatch", "max entries" },
		{ 64, "checksum mismatch", "saved at" },
		{ 72, "checksum mismatch", "name" },
		{ 150, "checksum mismatch", "reserved" },
		{ 160, "corrupt", "first record's key length" },
		{ 164, "corrupt", "first record's value length" },
		{ 168, "checksum mismatch", "first record's version" },
		{ 176, "checksum mismatch", "first key" },
		{ 178, "checksum mismatch", "first value" },
		{ ~0UL - 13, "checksum mismatch", "last value" },
		{ ~0UL - 11, "checksum mismatch", "end magic" },
		{ ~0UL - 1, "checksum mismatch", "checksum" },
	};
	static const size_t cuts[] = { 0, 5, 8, 100, 159, 160, 171, 175, 180 };
	struct sfbuf good, f;
	struct result r;
	size_t i, off;
	int empty;

	good = sf_build(sample, N_SAMPLE, "saved");
	/* The file built from the documentation is one the tool takes. */
	ASSERT_EQ(0, write_file(TMP "/good", good.b, good.len));
	RUN(r, "load", "--check", TMP "/good");
	ASSERT_EQ(0, r.status) {
		TH_LOG("%s", r.err);
	}
	result_free(&r);

	empty = sm_create(self->ctl, 0, 0, 0, 0, 0600, self->third);
	ASSERT_LE(0, empty);
	f.b = malloc(2 * good.len + 16);

	for (i = 0; i < ARRAY_SIZE(flips); i++) {
		off = flips[i].off > good.len ? good.len - (~0UL - flips[i].off)
					      : flips[i].off;
		memcpy(f.b, good.b, good.len);
		f.len = good.len;
		f.b[off] ^= 0x40;
		expect_refused(_metadata, self, empty, &f, flips[i].msg,
			       flips[i].what);
	}
	for (i = 0; i < ARRAY_SIZE(cuts); i++) {
		memcpy(f.b, good.b, good.len);
		f.len = cuts[i];
		expect_refused(_metadata, self, empty, &f, "truncated", "cut");
	}
	/* Cut inside the records and inside the trailer. */
	for (off = good.len - 40; off < good.len; off += 7) {
		memcpy(f.b, good.b, good.len);
		f.len = off;
		expect_refused(_metadata, self, empty, &f, "truncated", "cut");
	}
	/* Trailing data: a byte, a whole second copy. */
	memcpy(f.b, good.b, good.len);
	f.b[good.len] = '\n';
	f.len = good.len + 1;
	expect_refused(_metadata, self, empty, &f, "trailing data", "+1");
	memcpy(f.b + good.len, good.b, good.len);
	f.len = 2 * good.len;
	expect_refused(_metadata, self, empty, &f, "trailing data", "x2");
	/* Another kind of file; a newer format. */
	memcpy(f.b, good.b, good.len);
	memcpy(f.b, "GARBAGE!", 8);
	f.len = good.len;
	expect_refused(_metadata, self, empty, &f, "not a snapmap save file",
		       "magic");
	memcpy(f.b, good.b, good.len);
	le32(f.b + 8, 2);
	sf_fix_crc(&f);
	expect_refused(_metadata, self, empty, &f, "format version 2", "v2");

	/*
	 * Files whose checksum is right but whose contents are not: each
	 * check behind the checksum.
	 */
	memcpy(f.b, good.b, good.len);
	le32(f.b + 16, 1);
	sf_fix_crc(&f);
	expect_refused(_metadata, self, empty, &f, "unknown flags", "flags");
	memcpy(f.b, good.b, good.len);
	f.b[150] = 1;
	sf_fix_crc(&f);
	expect_refused(_metadata, self, empty, &f, "reserved", "reserved");
	memcpy(f.b, good.b, good.len);
	le32(f.b + 40, 4);
	sf_fix_crc(&f);
	expect_refused(_metadata, self, empty, &f, "key length", "key > max");
	memcpy(f.b, good.b, good.len);
	le32(f.b + 44, 3);
	sf_fix_crc(&f);
	expect_refused(_metadata, self, empty, &f, "value length",
		       "value > max");
	memcpy(f.b, good.b, good.len);
	le64(f.b + 32, N_SAMPLE + 1);
	sf_fix_crc(&f);
	expect_refused(_metadata, self, empty, &f, "the file holds",
		       "count + 1");
	memcpy(f.b, good.b, good.len);
	le64(f.b + 32, N_SAMPLE - 1);
	sf_fix_crc(&f);
	expect_refused(_metadata, self, empty, &f, "between the last",
		       "count - 1");
	memcpy(f.b, good.b, good.len);
	le64(f.b + 48, 2);
	sf_fix_crc(&f);
	expect_refused(_metadata, self, empty, &f, "over the map's limit",
		       "count > max entries");
	memcpy(f.b, good.b, good.len);
	memcpy(f.b + good.len - 12, "\x89SNAPENX", 8);
	sf_fix_crc(&f);
	expect_refused(_metadata, self, empty, &f, "end marker", "end magic");
	memcpy(f.b, good.b, good.len);
	le32(f.b + 160, 0);
	le32(f.b + 164, 3 + 5);
	sf_fix_crc(&f);
	expect_refused(_metadata, self, empty, &f, "key length 0", "empty key");
	{
		const struct tkv dup[] = {
			{ "same", 4, "1", 1 }, { "other", 5, "2", 1 },
			{ "same", 4, "3", 1 },
		};
		struct sfbuf d = sf_build(dup, 3, "saved");

		expect_refused(_metadata, self, empty, &d, "repeats the key",
			       "duplicate");
		free(d.b);
	}
	free(f.b);
	free(good.b);
	close(empty);
}

TEST_F_TIMEOUT(ctl, load_undoes_on_failure, 120)
{
	struct snapmap_info info, before, after;
	char bytes[32];
	struct tkv kv[10];
	char keys[10][8];
	struct sfbuf f;
	struct result r;
	int scratch, small, i;
	__u64 per_entry;

	for (i = 0; i < 10; i++) {
		snprintf(keys[i], sizeof(keys[i]), "key%03d", i);
		kv[i] = (struct tkv){ keys[i], 6, "value-of-same-size", 18 };
	}
	f = sf_build(kv, 10, "saved");
	ASSERT_EQ(0, write_file(TMP "/ten", f.b, f.len));

	/* What one of these entries costs the map. */
	scratch = sm_create(self->ctl, 0, 0, 0, 0, 0600, NULL);
	ASSERT_LE(0, scratch);
	ASSERT_EQ(0, sm_put(scratch, 0, kv[0].key, 6, kv[0].value, 18, 0,
			    NULL));
	ASSERT_EQ(0, sm_info(scratch, &info));
	per_entry = info.out_bytes;
	close(scratch);
	ASSERT_LT(0, per_entry);

	/* Room for 3.5 entries: the fourth PUT fails with ENOSPC. */
	small = sm_create(self->ctl, 0, 0, 0, per_entry * 7 / 2, 0600,
			  self->third);
	ASSERT_LE(0, small);
	ASSERT_EQ(0, sm_info(small, &before));
	RUN(r, "load", "--into", self->third, TMP "/ten");
	EXPECT_STATUS(ST_ERROR, r);
	EXPECT_HAS(r.err, "no space left");
	EXPECT_HAS(r.err, "at record 4 of 10");
	EXPECT_HAS(r.err, "the 3 records written were removed");
	result_free(&r);
	ASSERT_EQ(0, sm_info(small, &after));
	EXPECT_EQ(0, after.out_entries);
	EXPECT_EQ(0, after.out_bytes);
	EXPECT_EQ(before.out_puts + 3, after.out_puts);
	EXPECT_EQ(before.out_dels + 3, after.out_dels);
	close(small);

	/* A new map too small: dropped, its name never appears. */
	snprintf(bytes, sizeof(bytes), "%llu",
		 (unsigned long long)per_entry * 7 / 2);
	RUN(r, "load", TMP "/ten", self->other, "--max-bytes", bytes, "--",
	    "true");
	EXPECT_STATUS(ST_ERROR, r);
	EXPECT_HAS(r.err, "no space left");
	EXPECT_HAS(r.err, "nothing was changed");
	result_free(&r);
	EXPECT_FALSE(map_exists(self->ctl, self->other, false));

	/* Too few entries, known before writing: refused up front. */
	small = sm_create(self->ctl, 0, 0, 3, 0, 0600, self->third);
	ASSERT_LE(0, small);
	RUN(r, "load", "--into", self->third, TMP "/ten");
	EXPECT_STATUS(ST_ERROR, r);
	EXPECT_HAS(r.err, "do not fit");
	result_free(&r);
	ASSERT_EQ(0, sm_info(small, &after));
	EXPECT_EQ(0, after.out_puts);
	close(small);
	RUN(r, "load", TMP "/ten", self->other, "--max-entries", "3", "--",
	    "true");
	EXPECT_STATUS(ST_ERROR, r);
	EXPECT_HAS(r.err, "do not fit");
	result_free(&r);
	EXPECT_FALSE(map_exists(self->ctl, self->other, false));

	/* Limits above the module's caps: said so, nothing made. */
	RUN(r, "load", TMP "/ten", self->other, "--max-key-len", "1G", "--",
	    "true");
	EXPECT_STATUS(ST_ERROR, r);
	EXPECT_HAS(r.err, "above the module's cap");
	result_free(&r);
	EXPECT_FALSE(map_exists(self->ctl, self->other, false));

	/* Keys longer than the target allows: refused up front. */
	small = sm_create(self->ctl, 4, 0, 0, 0, 0600, self->third);
	ASSERT_LE(0, small);
	RUN(r, "load", "--into", self->third, TMP "/ten");
	EXPECT_STATUS(ST_ERROR, r);
	EXPECT_HAS(r.err, "over the limit of 4");
	result_free(&r);
	ASSERT_EQ(0, sm_info(small, &after));
	EXPECT_EQ(0, after.out_puts);
	close(small);
	free(f.b);
}

/*
 * A signal in the middle of load --into: the writes so far are undone and
 * the exit status says which signal.  If the load is over before the
 * signal comes, there is nothing to check.
 */
TEST_F_TIMEOUT(ctl, load_undoes_on_signal, 300)
{
	const int n = 20000;
	struct snapmap_info info;
	char (*keys)[12];
	struct tkv *kv;
	struct sfbuf f;
	int i, fd, status;
	pid_t pid;

	keys = calloc(n, sizeof(*keys));
	kv = calloc(n, sizeof(*kv));
	ASSERT_TRUE(keys && kv);
	for (i = 0; i < n; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%07d", i);
		kv[i] = (struct tkv){ keys[i], 8, keys[i], 8 };
	}
	f = sf_build(kv, n, "saved");
	le64(f.b + 48, n);
	sf_fix_crc(&f);
	ASSERT_EQ(0, write_file(TMP "/many", f.b, f.len));
	free(f.b);
	fd = sm_create(self->ctl, 0, 0, 0, 0, 0600, self->third);
	ASSERT_LE(0, fd);

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (!pid) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execl(ctl_path(), "snapmapctl", "load", "--into", self->third,
		      TMP "/many", NULL);
		_exit(126);
	}
	for (i = 0; i < 100000; i++) {
		ASSERT_EQ(0, sm_info(fd, &info));
		if (info.out_entries)
			break;
		usleep(100);
	}
	kill(pid, SIGINT);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	if (WEXITSTATUS(status) == 0) {
		TH_LOG("the load was over before the signal");
	} else {
		EXPECT_EQ(128 + SIGINT, WEXITSTATUS(status));
		ASSERT_EQ(0, sm_info(fd, &info));
		EXPECT_EQ(0, info.out_entries);
	}
	close(fd);
	free(keys);
	free(kv);
}

/*
 * The progress line: never when stderr is not a terminal; on a terminal,
 * cleared at the end when it was drawn at all.
 */
TEST_F_TIMEOUT(ctl, progress, 300)
{
	struct snapmap_batch_op ops[256];
	char keys[256][16], *name, buf[65536];
	int master, slave, i, j, status, fd;
	struct result r;
	ssize_t n, got = 0;
	pid_t pid;

	/* More records than the fixture's map may hold. */
	fd = sm_create(self->ctl, 0, 0, 0, 0, 0600, self->other);
	ASSERT_LE(0, fd);
	for (j = 0; j < 8; j++) {
		for (i = 0; i < 256; i++) {
			snprintf(keys[i], sizeof(keys[i]), "k%d-%d", j, i);
			memset(&ops[i], 0, sizeof(ops[i]));
			ops[i].opcode = SNAPMAP_BATCH_PUT;
			ops[i].key = SM_PTR(keys[i]);
			ops[i].key_len = strlen(keys[i]);
			ops[i].value = SM_PTR(keys[i]);
			ops[i].value_len = strlen(keys[i]);
		}
		ASSERT_EQ(0, sm_batch(fd, 0, ops, 256, NULL));
	}
	RUN(r, "dump", "--no-header", self->other);
	EXPECT_STATUS(0, r);
	EXPECT_EQ(0, strlen(r.err));
	result_free(&r);

	if (access("/dev/pts/ptmx", F_OK)) {
		mkdir("/dev/pts", 0755);
		mount("devpts", "/dev/pts", "devpts", 0, "ptmxmode=0666");
	}
	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) || unlockpt(master))
		SKIP(return, "no pseudo-terminal");
	name = ptsname(master);
	slave = open(name, O_RDWR | O_NOCTTY);
	ASSERT_LE(0, slave);
	pid = fork();
	if (!pid) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 1);
		dup2(slave, 2);
		execl(ctl_path(), "snapmapctl", "save", self->other,
		      TMP "/progress", NULL);
		_exit(126);
	}
	close(slave);
	for (;;) {
		n = read(master, buf + got, sizeof(buf) - 1 - got);
		if (n <= 0)
			break;
		got += n;
	}
	buf[got] = '\0';
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	if (got) {
		TH_LOG("progress was drawn (%zd bytes)", got);
		EXPECT_TRUE(strstr(buf, "records") != NULL);
		/* The last thing on the terminal clears the line. */
		EXPECT_GE(got, 4);
		EXPECT_EQ(0, strcmp(buf + got - 4, "\r\033[K"));
	}
	close(master);
	close(fd);
}

/*
 * watch: a header, then each change as a line as it happens, a
 * transaction's writes after its count; --changes ends it, counting a
 * transaction once.
 */
TEST_F(ctl, watch)
{
	struct snapmap_txn_op op = {
		.opcode = SNAPMAP_TXN_PUT, .key_len = 1, .value_len = 1,
		.key = SM_PTR("b"), .value = SM_PTR("2"),
	};
	struct snapmap_txn t = {
		.size = sizeof(t), .cond_size = sizeof(struct snapmap_txn_cond),
		.op_count = 1, .op_size = sizeof(op), .ops = SM_PTR(&op),
	};
	char line[256], want[512], got[512] = "";
	unsigned long long start;
	__u64 v1, v2;
	int out, n;
	pid_t pid;

	pid = SPAWN_STREAM(&out, "watch", "--changes", "3", self->name);
	ASSERT_LT(0, pid);
	ASSERT_LT(0, read_line(out, line, sizeof(line)));
	snprintf(want, sizeof(want), "# map '%s': changes above version ",
		 self->name);
	ASSERT_EQ(0, strncmp(line, want, strlen(want))) TH_LOG("%s", line);
	start = strtoull(line + strlen(want), NULL, 10);

	ASSERT_EQ(0, sm_put(self->fd, 0, "a", 1, "1", 1, 0, &v1));
	ASSERT_EQ(0, sm_del(self->fd, 0, "a", 1, 0, &v2));
	ASSERT_EQ(0, ioctl(self->fd, SNAPMAP_IOC_TXN, &t));
	EXPECT_LT(start, v1);
	while ((n = read_line(out, line, sizeof(line))) > 0)
		strncat(got, line, sizeof(got) - strlen(got) - 1);
	snprintf(want, sizeof(want),
		 "%llu\tput\ta\t1\n%llu\tdel\ta\n%llu\ttxn\t1\n%llu\tput\tb\t2\n",
		 (unsigned long long)v1, (unsigned long long)v2,
		 (unsigned long long)t.out_version,
		 (unsigned long long)t.out_version);
	EXPECT_STREQ(want, got);
	EXPECT_EQ(0, reap(pid));
	close(out);
}

/* watch --since replays, as JSON lines; and its errors. */
TEST_F(ctl, watch_since_json)
{
	struct jval *v;
	struct result r;
	char since[32];
	__u64 start = 0, v1;
	int wfd;

	/* A watch of the test's own keeps the changes since its start. */
	wfd = sm_watch(self->fd, 0, 0, NULL, 0, 0, &start, NULL);
	ASSERT_LE(0, wfd);
	ASSERT_EQ(0, sm_put(self->fd, 0, "k", 1, "v", 1, 0, &v1));
	ASSERT_EQ(0, sm_put(self->fd, 0, "other", 5, "w", 1, 0, NULL));
	snprintf(since, sizeof(since), "%llu", (unsigned long long)start);
	RUN(r, "watch", "--json", "--changes", "1", "--prefix", "k", "--since",
	    since, self->name);
	EXPECT_STATUS(0, r);
	v = JSON(r);
	if (v) {
		EXPECT_EQ(v1, jnum(v, "version"));
		EXPECT_STREQ("put", jstr(v, "op"));
		EXPECT_STREQ("k", jstr(v, "key"));
		EXPECT_STREQ("v", jstr(v, "value"));
		jfree(v);
	}
	EXPECT_EQ(0, strchr(r.out, '\n') - r.out + 1 - (long)r.out_len);
	result_free(&r);
	EXPECT_EQ(0, close(wfd));

	/* A version the map has not reached; no such map. */
	RUN(r, "watch", "--since", "999999999", self->name);
	EXPECT_STATUS(ST_ERROR, r);
	EXPECT_HAS(r.err, "invalid version");
	result_free(&r);
	RUN(r, "watch", "no-such-map");
	EXPECT_STATUS(ST_NOT_FOUND, r);
	result_free(&r);
	RUN(r, "watch", "--changes", "0", self->name);
	EXPECT_STATUS(ST_USAGE, r);
	result_free(&r);
}

/*
 * The number on the line @key of the fdinfo of the watch fd process @pid
 * holds; ~0ULL if it holds none.
 */
static unsigned long long watch_fdinfo(pid_t pid, const char *key)
{
	char path[320], link[64], line[256];
	unsigned long long v = ~0ULL;
	size_t len = strlen(key);
	struct dirent *d;
	ssize_t n;
	FILE *f;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	while (dir && (d = readdir(dir))) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%s", (int)pid,
			 d->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n < 0)
			continue;
		link[n] = '\0';
		if (strcmp(link, "anon_inode:[snapmap-watch]"))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", (int)pid,
			 d->d_name);
		f = fopen(path, "re");
		while (f && fgets(line, sizeof(line), f)) {
			if (!strncmp(line, key, len) && line[len] == ':') {
				v = strtoull(line + len + 1, NULL, 10);
				break;
			}
		}
		if (f)
			fclose(f);
		break;
	}
	if (dir)
		closedir(dir);
	return v;
}

/*
 * watch --wakeup-bytes: the watch asks the module for it, and changes too
 * few to wake it still all come, --wakeup-ms late at most; a wakeup the
 * module refuses.
 */
TEST_F(ctl, watch_wakeup)
{
	char line[256], want[512], got[512] = "", half[32];
	unsigned long long def = 0;
	struct result r;
	__u64 v1, v2;
	int out;
	pid_t pid;

	/* The default --wakeup-ms, 100. */
	pid = SPAWN_STREAM(&out, "watch", "--wakeup-bytes", "64K", "--changes",
			   "2", self->name);
	ASSERT_LT(0, pid);
	/* The header comes once the watch is open. */
	ASSERT_LT(0, read_line(out, line, sizeof(line)));
	EXPECT_EQ('#', line[0]) TH_LOG("%s", line);
	EXPECT_EQ(64 * 1024, watch_fdinfo(pid, "watch_wakeup"));
	ASSERT_EQ(0, sm_put(self->fd, 0, "a", 1, "1", 1, 0, &v1));
	ASSERT_EQ(0, sm_put(self->fd, 0, "b", 1, "2", 1, 0, &v2));
	while (read_line(out, line, sizeof(line)) > 0)
		strncat(got, line, sizeof(got) - strlen(got) - 1);
	snprintf(want, sizeof(want), "%llu\tput\ta\t1\n%llu\tput\tb\t2\n",
		 (unsigned long long)v1, (unsigned long long)v2);
	EXPECT_STREQ(want, got);
	EXPECT_EQ(0, reap(pid));
	close(out);

	/* A bound of its own. */
	pid = SPAWN_STREAM(&out, "watch", "--wakeup-bytes", "4096",
			   "--wakeup-ms", "20", "--changes", "1", self->name);
	ASSERT_LT(0, pid);
	ASSERT_LT(0, read_line(out, line, sizeof(line)));
	EXPECT_EQ(4096, watch_fdinfo(pid, "watch_wakeup"));
	ASSERT_EQ(0, sm_put(self->fd, 0, "c", 1, "3", 1, 0, &v1));
	ASSERT_LT(0, read_line(out, line, sizeof(line)));
	snprintf(want, sizeof(want), "%llu\tput\tc\t3\n",
		 (unsigned long long)v1);
	EXPECT_STREQ(want, line);
	EXPECT_EQ(0, reap(pid));
	close(out);

	/* Above half the watch's buffer, the module's default one. */
	ASSERT_EQ(0, sm_param("watch_buffer_bytes", &def));
	if (def < SNAPMAP_WATCH_MIN_BUFFER)
		def = SNAPMAP_WATCH_MIN_BUFFER;
	snprintf(half, sizeof(half), "%llu", def / 2 + 1);
	RUN(r, "watch", "--wakeup-bytes", half, self->name);
	EXPECT_STATUS(ST_ERROR, r);
	EXPECT_HAS(r.err, "--wakeup-bytes");
	EXPECT_EQ(0, r.out_len);
	result_free(&r);
}

/*
 * mirror: the other map is cleared, loaded with a snapshot of the first,
 * and follows its changes, a transaction as one.
 */
TEST_F(ctl, mirror)
{
	struct snapmap_txn_op ops[2] = {
		{ .opcode = SNAPMAP_TXN_PUT, .key_len = 1, .value_len = 1,
		  .key = SM_PTR("y"), .value = SM_PTR("2") },
		{ .opcode = SNAPMAP_TXN_DEL, .key_len = 5,
		  .key = SM_PTR("alpha") },
	};
	struct snapmap_txn t = {
		.size = sizeof(t), .cond_size = sizeof(struct snapmap_txn_cond),
		.op_count = 2, .op_size = sizeof(ops[0]), .ops = SM_PTR(ops),
	};
	struct tkv want[N_SAMPLE + 2];
	char line[256];
	int dst, out, i, n = 0;
	pid_t pid;

	fill_sample(self->fd);
	dst = sm_create(self->ctl, KEY_MAX, VALUE_MAX, ENTRIES_MAX, 0, 0600,
			self->other);
	ASSERT_LE(0, dst);
	ASSERT_EQ(0, sm_put(dst, 0, "stale", 5, "gone", 4, 0, NULL));
	pid = SPAWN_STREAM(&out, "mirror", "--changes", "3", self->name,
			   self->other);
	ASSERT_LT(0, pid);
	ASSERT_LT(0, read_line(out, line, sizeof(line)));
	EXPECT_HAS(line, "loaded");

	ASSERT_EQ(0, sm_put(self->fd, 0, "x", 1, "1", 1, 0, NULL));
	ASSERT_EQ(0, ioctl(self->fd, SNAPMAP_IOC_TXN, &t));
	ASSERT_EQ(0, sm_del(self->fd, 0, "beta", 4, 0, NULL));
	EXPECT_EQ(0, reap(pid));
	close(out);

	for (i = 0; i < N_SAMPLE; i++)
		if (strcmp(sample[i].key, "alpha") &&
		    strcmp(sample[i].key, "beta"))
			want[n++] = sample[i];
	want[n++] = (struct tkv){ "x", 1, "1", 1 };
	want[n++] = (struct tkv){ "y", 1, "2", 1 };
	EXPECT_TRUE(holds_exactly(self->fd, want, n));
	EXPECT_TRUE(holds_exactly(dst, want, n));
	EXPECT_EQ(0, close(dst));
}

/* With --json, a failure prints one error document on stdout. */
TEST_F(ctl, error_json)
{
	struct result r;

	fill_sample(self->fd);
	RUN(r, "--json", "get", self->name, "nokey");
	EXPECT_ERROR_DOC(r, "get", ST_NOT_FOUND, ENOENT, "ENOENT",
			 "key 'nokey': no such key");
	result_free(&r);
	RUN(r, "del", self->name, "nokey", "-j");
	EXPECT_ERROR_DOC(r, "del", ST_NOT_FOUND, ENOENT, "ENOENT",
			 "no such key");
	result_free(&r);
	RUN(r, "-j", "info", "ctl-no-such-map");
	EXPECT_ERROR_DOC(r, "info", ST_NOT_FOUND, ENOENT, "ENOENT",
			 "map 'ctl-no-such-map': no such map");
	result_free(&r);
	RUN(r, "-j", "put", "--no-replace", self->name, "alpha", "x");
	EXPECT_ERROR_DOC(r, "put", ST_CANCELED, EEXIST, "EEXIST",
			 "key exists");
	result_free(&r);
	RUN_AS(r, OTHER_UID, "-j", "dump", self->name);
	EXPECT_ERROR_DOC(r, "dump", ST_ERROR, EACCES, "EACCES",
			 "permission denied");
	result_free(&r);

	/* Usage errors too, wherever -j stands, the command known or not. */
	RUN(r, "-j", "get", self->name);
	EXPECT_ERROR_DOC(r, "get", ST_USAGE, EINVAL, "EINVAL",
			 "missing arguments");
	result_free(&r);
	RUN(r, "frobnicate", "--json");
	EXPECT_ERROR_DOC(r, NULL, ST_USAGE, EINVAL, "EINVAL",
			 "unknown command 'frobnicate'");
	result_free(&r);
	RUN(r, "put", "-qj", "--hex", self->name, "zz", "v");
	EXPECT_ERROR_DOC(r, "put", ST_USAGE, EINVAL, "EINVAL",
			 "is not hexadecimal");
	result_free(&r);

	/* A failure with no errno of its own: 0 and null. */
	ASSERT_EQ(0, write_file(TMP "/junk", "{\"records\": 1}", 14));
	RUN(r, "-j", "load", "--check", TMP "/junk");
	EXPECT_ERROR_DOC(r, "load", ST_ERROR, EINVAL, "EINVAL",
			 "no \"records\" array");
	result_free(&r);
	RUN(r, "-j", "load", "--into", self->name, TMP "/no-such-file");
	EXPECT_ERROR_DOC(r, "load", ST_ERROR, ENOENT, "ENOENT",
			 "cannot open");
	result_free(&r);
	/* A stream (an object a line) that fails: the error document. */
	RUN(r, "-p", "watch", "--since", "999999999", self->name);
	EXPECT_ERROR_DOC(r, "watch", ST_ERROR, EINVAL, "EINVAL",
			 "invalid version");
	EXPECT_EQ(1, count_lines(r.out));
	result_free(&r);
	RUN_TXN(r, "if-present nokey\nput a b\n", "-j", self->name);
	EXPECT_ERROR_DOC(r, "txn", ST_CANCELED, ECANCELED, "ECANCELED",
			 "condition 1 of 1 does not hold");
	result_free(&r);

	/* Without -j, stdout stays empty. */
	RUN(r, "get", self->name, "nokey");
	EXPECT_STATUS(ST_NOT_FOUND, r);
	EXPECT_EQ(0, r.out_len);
	result_free(&r);
}

/*
 * One exit status per meaning, whatever the command: 1 for a map or key
 * that does not exist, 4 for a module that does not exist.
 */
TEST_F(ctl, exit_statuses)
{
	static const char *const no_map[][6] = {
		{ "info", "ctl-no-such-map" },
		{ "get", "ctl-no-such-map", "k" },
		{ "mget", "ctl-no-such-map", "k" },
		{ "put", "ctl-no-such-map", "k", "v" },
		{ "del", "ctl-no-such-map", "k" },
		{ "clear", "ctl-no-such-map" },
		{ "dump", "ctl-no-such-map" },
		{ "txn", "ctl-no-such-map", TMP "/txn" },
		{ "clone", "ctl-no-such-map", "ctl-x", "--", "true" },
		{ "save", "ctl-no-such-map", TMP "/save" },
		{ "watch", "ctl-no-such-map" },
		{ "mirror", "ctl-no-such-map", "ctl-x" },
	};
	struct result r;
	size_t i;

	ASSERT_EQ(0, write_file(TMP "/txn", "put a b\n", 8));
	for (i = 0; i < ARRAY_SIZE(no_map); i++) {
		run_v(&r, NULL, 0, 0, no_map[i]);
		EXPECT_STATUS(ST_NOT_FOUND, r);
		EXPECT_HAS(r.err, "no such map");
		result_free(&r);
	}
	ASSERT_EQ(0, write_file(TMP "/empty", "{\"records\": []}", 15));
	RUN(r, "load", "--into", "ctl-no-such-map", TMP "/empty");
	EXPECT_STATUS(ST_NOT_FOUND, r);
	result_free(&r);
	RUN(r, "mget", self->name, "nokey");
	EXPECT_STATUS(ST_NOT_FOUND, r);
	result_free(&r);

	/* No module: an error, not "not found", for every command. */
	child_hook = hide_dev;
	for (i = 0; i < ARRAY_SIZE(no_map); i++) {
		run_v(&r, NULL, 0, 0, no_map[i]);
		EXPECT_STATUS(ST_ERROR, r);
		EXPECT_HAS(r.err, "is the snapmap module loaded?");
		result_free(&r);
	}
	RUN(r, "-j", "ls");
	EXPECT_ERROR_DOC(r, "ls", ST_ERROR, ENOENT, "ENOENT",
			 "cannot open /dev/snapmap");
	result_free(&r);
	RUN(r, "version");
	EXPECT_STATUS(ST_ERROR, r);
	result_free(&r);
	child_hook = NULL;

	/* Another failure: a full map. */
	RUN(r, "create", self->name, "--hold");
	EXPECT_STATUS(ST_ERROR, r);
	EXPECT_HAS(r.err, "exists");
	result_free(&r);
}

/* --version needs no module; it names the module's ABI when there is one. */
TEST_F(ctl, version_offline)
{
	struct result r;
	struct jval *v;

	child_hook = hide_dev;
	RUN(r, "--version");
	EXPECT_STATUS(0, r);
	EXPECT_HAS(r.out, "snapmapctl ");
	EXPECT_HAS(r.out, "libsnapmap ");
	EXPECT_HAS(r.out, "snapmap module: not available");
	result_free(&r);
	RUN(r, "-j", "--version");
	EXPECT_STATUS(0, r);
	v = JSON(r);
	EXPECT_TRUE(jstr(v, "snapmapctl") != NULL);
	EXPECT_TRUE(jstr(v, "libsnapmap") != NULL);
	EXPECT_EQ(SNAPMAP_ABI_VERSION, jnum(v, "tool_abi_version"));
	ASSERT_TRUE(jget(v, "abi_version") != NULL);
	EXPECT_EQ(J_NULL, jget(v, "abi_version")->t);
	jfree(v);
	result_free(&r);
	child_hook = NULL;

	RUN(r, "-V", "--json");
	EXPECT_STATUS(0, r);
	v = JSON(r);
	EXPECT_EQ(SNAPMAP_ABI_VERSION, jnum(v, "abi_version"));
	jfree(v);
	result_free(&r);
	RUN(r, "--version");
	EXPECT_HAS(r.out, "snapmap module: ABI version ");
	result_free(&r);
}

/* Whether JSON @a is @b with blanks added outside strings. */
static bool same_but_blanks(const char *a, const char *b)
{
	bool in_str = false;

	for (; *a; a++) {
		if (*a == '"' && a[-1] != '\\')
			in_str = !in_str;
		if (!in_str && (*a == ' ' || *a == '\n') && *a != *b)
			continue;
		if (*a != *b++)
			return false;
	}
	return !*b;
}

/* -p: the same document as -j, indented. */
TEST_F(ctl, pretty)
{
	struct result r, rj;
	struct jval *v;

	fill_sample(self->fd);
	RUN(rj, "-j", "info", self->name);
	RUN(r, "-p", "info", self->name);
	EXPECT_STATUS(0, r);
	v = JSON(r);
	EXPECT_STREQ(self->name, jstr(v, "name"));
	EXPECT_EQ(N_SAMPLE, jnum(v, "entries"));
	jfree(v);
	EXPECT_EQ(0, strncmp(r.out, "{\n    \"name\": \"", 15)) {
		TH_LOG("%s", r.out);
	}
	EXPECT_GT(r.out_len, rj.out_len);
	EXPECT_TRUE(same_but_blanks(r.out, rj.out));
	result_free(&r);
	result_free(&rj);

	RUN(r, "dump", "--pretty", self->name);
	v = JSON(r);
	expect_sample_dump(_metadata, self->fd, v);
	jfree(v);
	EXPECT_HAS(r.out, "\n        {\n            \"key\": ");
	result_free(&r);

	/* An error document, pretty too. */
	RUN(r, "-p", "get", self->name, "nokey");
	EXPECT_ERROR_DOC(r, "get", ST_NOT_FOUND, ENOENT, "ENOENT",
			 "no such key");
	EXPECT_HAS(r.out, "{\n    \"error\": {\n        \"command\": \"get\",\n");
	result_free(&r);
}

/* The array of batch --json: its elements, checked and counted. */
static const struct jval *batch_element(struct __test_metadata *_metadata,
					const struct jval *v, size_t i,
					unsigned int line, int status)
{
	const struct jval *e;

	if (!v || v->t != J_ARR || i >= v->n)
		return NULL;
	e = v->items[i];
	EXPECT_EQ(line, jnum(e, "line"));
	EXPECT_EQ(status, jnum(e, "status"));
	return jget(e, "output");
}

TEST_F(ctl, batch)
{
	char text[1024];
	const struct jval *out, *cmd;
	unsigned char got[VALUE_MAX];
	struct result r;
	struct jval *v;
	__u32 glen;

	/* Comments, blank lines, quotes, escapes, a continued line. */
	snprintf(text, sizeof(text),
		 "# a batch\n"
		 "\n"
		 "put %s 'two words' \"say \\\"hi\\\"\"   # a comment\n"
		 "  put -e %s 'bin\\x00key' 'a\\tb'\n"
		 "put %s back\\\\slash with\\ space\n"
		 "put %s \\\n"
		 "   continued '#not a comment'\n"
		 "get %s 'two words'\n",
		 self->name, self->name, self->name, self->name, self->name);
	ASSERT_EQ(0, write_file(TMP "/ok", text, strlen(text)));
	RUN(r, "batch", TMP "/ok");
	EXPECT_STATUS(0, r);
	EXPECT_STREQ("say \"hi\"\n", r.out);
	result_free(&r);
	ASSERT_EQ(0, sm_get(self->fd, "bin\0key", 7, got, sizeof(got), &glen,
			    NULL));
	EXPECT_EQ(3, glen);
	EXPECT_EQ(0, memcmp(got, "a\tb", 3));
	ASSERT_EQ(0, sm_get(self->fd, "back\\slash", 10, got, sizeof(got),
			    &glen, NULL));
	EXPECT_EQ(10, glen);
	EXPECT_EQ(0, memcmp(got, "with space", 10));
	ASSERT_EQ(0, sm_get(self->fd, "continued", 9, got, sizeof(got),
			    &glen, NULL));
	EXPECT_EQ(14, glen);
	EXPECT_EQ(0, memcmp(got, "#not a comment", 14));

	/* --json: an array, an element per command line. */
	RUN_IN(r, text, strlen(text), "-j", "batch", "-");
	EXPECT_STATUS(0, r);
	v = JSON(r);
	ASSERT_TRUE(v && v->t == J_ARR);
	EXPECT_EQ(5, v->n);
	out = batch_element(_metadata, v, 0, 3, 0);
	EXPECT_STREQ("two words", jstr(out, "key"));
	cmd = jget(v->items[0], "command");
	ASSERT_TRUE(cmd && cmd->t == J_ARR && cmd->n == 4);
	EXPECT_STREQ("say \"hi\"", cmd->items[3]->s);
	out = batch_element(_metadata, v, 3, 6, 0);
	EXPECT_STREQ("continued", jstr(out, "key"));
	out = batch_element(_metadata, v, 4, 8, 0);
	EXPECT_STREQ("say \"hi\"", jstr(out, "value"));
	jfree(v);
	result_free(&r);

	/* The first failing line stops the batch, with its status. */
	snprintf(text, sizeof(text),
		 "put %s a 1\n"
		 "# the next one fails\n"
		 "get %s nokey\n"
		 "put %s b 2\n",
		 self->name, self->name, self->name);
	ASSERT_EQ(0, write_file(TMP "/fail", text, strlen(text)));
	RUN(r, "batch", TMP "/fail");
	EXPECT_STATUS(ST_NOT_FOUND, r);
	EXPECT_HAS(r.err, "get: map '");
	EXPECT_HAS(r.err, "line 3 failed; 1 command before it ran");
	result_free(&r);
	EXPECT_EQ(-ENOENT, sm_get(self->fd, "b", 1, got, sizeof(got), &glen,
				  NULL));
	RUN(r, "--json", "batch", TMP "/fail");
	EXPECT_STATUS(ST_NOT_FOUND, r);
	v = JSON(r);
	ASSERT_TRUE(v && v->t == J_ARR);
	EXPECT_EQ(2, v->n);
	batch_element(_metadata, v, 0, 1, 0);
	out = jget(batch_element(_metadata, v, 1, 3, ST_NOT_FOUND), "error");
	EXPECT_STREQ("get", jstr(out, "command"));
	EXPECT_EQ(3, jnum(out, "line"));
	EXPECT_EQ(ENOENT, jnum(out, "errno"));
	jfree(v);
	result_free(&r);

	/* A line that cannot be split; a command not for batches. */
	ASSERT_EQ(0, write_file(TMP "/bad", "ls\nput x 'open\n", 15));
	RUN(r, "-j", "batch", TMP "/bad");
	EXPECT_STATUS(ST_USAGE, r);
	EXPECT_HAS(r.err, "line 2: a ' is not closed");
	v = JSON(r);
	out = jget(batch_element(_metadata, v, 1, 2, ST_USAGE), "error");
	EXPECT_STREQ("batch", jstr(out, "command"));
	jfree(v);
	result_free(&r);
	ASSERT_EQ(0, write_file(TMP "/bad", "watch x\n", 8));
	RUN(r, "batch", TMP "/bad");
	EXPECT_STATUS(ST_USAGE, r);
	result_free(&r);
	RUN(r, "-j", "batch", TMP "/no-such-file");
	EXPECT_ERROR_DOC(r, "batch", ST_ERROR, ENOENT, "ENOENT",
			 "cannot open");
	result_free(&r);
}

/* dump --json, loaded back: the same keys and values, bytes of any kind. */
TEST_F(ctl, load_dump_json)
{
	static const char *const dumps[][5] = {
		{ "dump", "--json" }, { "dump", "-p", "--hex" },
	};
	struct snapmap_info info;
	struct result r, d;
	char line[256];
	struct jval *v;
	size_t i;
	pid_t pid;
	int fd;

	fill_sample(self->fd);
	for (i = 0; i < ARRAY_SIZE(dumps); i++) {
		const char *args[] = { dumps[i][0], dumps[i][1], dumps[i][2],
				       self->name, NULL };

		if (!args[2]) {
			args[2] = self->name;
			args[3] = NULL;
		}
		run_v(&r, NULL, 0, 0, args);
		EXPECT_STATUS(0, r);
		ASSERT_EQ(0, write_file(TMP "/dump", r.out, r.out_len));
		result_free(&r);

		/* Into an empty map, from a file and from stdin. */
		fd = sm_create(self->ctl, 0, 0, 0, 0, 0600, self->third);
		ASSERT_LE(0, fd);
		RUN(r, "load", "--into", self->third, TMP "/dump");
		EXPECT_STATUS(0, r);
		result_free(&r);
		EXPECT_TRUE(holds_exactly(fd, sample, N_SAMPLE));
		close(fd);
		fd = sm_create(self->ctl, 0, 0, 0, 0, 0600, self->third);
		ASSERT_LE(0, fd);
		run_v(&d, NULL, 0, 0, args);
		RUN_IN(r, d.out, d.out_len, "load", "--into", self->third,
		       "-");
		result_free(&d);
		EXPECT_STATUS(0, r);
		result_free(&r);
		EXPECT_TRUE(holds_exactly(fd, sample, N_SAMPLE));
		close(fd);
	}

	/* Into a new map: the module's default limits, mode 0600. */
	pid = SPAWN_HOLD(line, "load", TMP "/dump", self->other, "--hold");
	ASSERT_LT(0, pid);
	EXPECT_STREQ("ready\n", line);
	fd = sm_open(self->ctl, self->other, SNAPMAP_OPEN_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_TRUE(holds_exactly(fd, sample, N_SAMPLE));
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(0600, info.out_mode);
	EXPECT_LT(KEY_MAX, info.out_max_key_len);
	close(fd);
	EXPECT_EQ(0, stop_hold(pid));

	RUN(r, "-j", "load", "--check", TMP "/dump");
	EXPECT_STATUS(0, r);
	v = JSON(r);
	EXPECT_STREQ("dump", jstr(v, "format"));
	EXPECT_EQ(N_SAMPLE, jnum(v, "records"));
	EXPECT_STREQ(self->name, jstr(v, "map"));
	jfree(v);
	result_free(&r);

	/* A dump that is not whole, or repeats a key: refused, unchanged. */
	fd = sm_create(self->ctl, 0, 0, 0, 0, 0600, self->third);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, write_file(TMP "/dump",
		"{\"records\":[],\"count\":0,\"error\":{\"errno\":116}}", 46));
	RUN(r, "load", "--into", self->third, TMP "/dump");
	EXPECT_STATUS(ST_ERROR, r);
	EXPECT_HAS(r.err, "not whole");
	result_free(&r);
	snprintf(line, sizeof(line),
		 "{\"records\":[{\"key\":\"a\",\"value\":\"1\"},{\"key\":\"61\",\"key_encoding\":\"hex\",\"value\":\"2\"}]}");
	ASSERT_EQ(0, write_file(TMP "/dump", line, strlen(line)));
	RUN(r, "load", "--into", self->third, TMP "/dump");
	EXPECT_STATUS(ST_ERROR, r);
	EXPECT_HAS(r.err, "repeats the key");
	result_free(&r);
	EXPECT_TRUE(holds_exactly(fd, NULL, 0));
	close(fd);
}

/*
 * Owner names through the C library: a passwd line with an empty field
 * names nobody else's uid.
 */
TEST_F(ctl, owner_names)
{
	static const char passwd[] =
		"ghost::1:0::/:/bin/sh\n"
		"root:x:0:0::/:/bin/sh\n";
	const struct jval *m;
	struct result r;
	struct jval *v;
	size_t i;

	ASSERT_EQ(0, write_file(TMP "/passwd", passwd, strlen(passwd)));
	child_hook = fake_passwd;
	RUN(r, "-j", "ls");
	child_hook = NULL;
	EXPECT_STATUS(0, r);
	v = JSON(r);
	ASSERT_TRUE(v && v->t == J_ARR);
	for (m = NULL, i = 0; i < v->n; i++)
		if (!strcmp(jstr(v->items[i], "name") ?: "", self->name))
			m = v->items[i];
	ASSERT_TRUE(m != NULL);
	EXPECT_EQ(0, jnum(m, "uid"));
	EXPECT_STREQ("root", jstr(m, "owner"));
	EXPECT_STREQ("root", jstr(m, "group"));
	jfree(v);
	result_free(&r);

	/* An id with no name: its number. */
	ASSERT_EQ(0, write_file(TMP "/passwd", "ghost::1:0::/:/bin/sh\n", 22));
	child_hook = fake_passwd;
	RUN(r, "info", self->name);
	child_hook = NULL;
	EXPECT_STATUS(0, r);
	EXPECT_HAS(r.out, "owner:        ? (uid 0)\n");
	result_free(&r);
}

TEST_HARNESS_MAIN
