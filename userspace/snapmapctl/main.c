// SPDX-License-Identifier: GPL-2.0
/*
 * snapmapctl - command-line tool for snapmap maps
 *
 * main.c: the commands, their options and their help.  Options go before
 * or after the command; each command accepts those its table entry names.
 */

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libsnapmap.h"
#include "output.h"
#include "snapmapctl.h"

enum opt_id {
	O_JSON, O_PRETTY, O_QUIET, O_HELP, O_HEX, O_ESCAPED,
	O_RAW, O_VERSIONS, O_WEAK, O_NO_HEADER,
	O_MAX_KEY, O_MAX_VALUE, O_MAX_ENTRIES, O_MAX_BYTES, O_MODE,
	O_HOLD, O_BACKGROUND, O_PID_FILE,
	O_VALUE_FILE, O_NO_REPLACE, O_REPLACE_ONLY, O_IF_VERSION,
	O_INTO, O_CHECK, O_SINCE, O_PREFIX, O_CHANGES, O_VERSION,
	O_PERSISTENT, O_ALL, O_WAKEUP_BYTES, O_WAKEUP_MS,
	O_COUNT
};

/* A command's options are a mask of BIT(id) in an unsigned int. */
_Static_assert(O_COUNT <= 32, "more options than bits in a mask");

#define BIT(id) (1U << (id))
/* Every command takes these. */
#define O_COMMON (BIT(O_JSON) | BIT(O_PRETTY) | BIT(O_QUIET) | BIT(O_HELP))
#define O_ENCODING (BIT(O_HEX) | BIT(O_ESCAPED))
#define O_LIMITS (BIT(O_MAX_KEY) | BIT(O_MAX_VALUE) | BIT(O_MAX_ENTRIES) | \
		  BIT(O_MAX_BYTES))
#define O_HOLDING (BIT(O_HOLD) | BIT(O_BACKGROUND) | BIT(O_PID_FILE))

/* Long options only get getopt values past any character. */
#define LONG_ONLY 256

struct optdef {
	const char *name;
	char short_name;
	const char *arg;
	const char *help;
};

static const struct optdef optdefs[O_COUNT] = {
	[O_JSON] = { "json", 'j', NULL, "print JSON (one document)" },
	[O_QUIET] = { "quiet", 'q', NULL, "no progress line or hints on the terminal" },
	[O_HELP] = { "help", 'h', NULL, "show this help" },
	[O_HEX] = { "hex", 'x', NULL, "KEY and VALUE arguments, and output bytes, in hex" },
	[O_ESCAPED] = { "escaped", 'e', NULL, "KEY and VALUE arguments use \\\\ \\t \\n \\r \\xNN" },
	[O_RAW] = { "raw", 'r', NULL, "write the value's bytes as they are, no newline" },
	[O_VERSIONS] = { "versions", 0, NULL, "show entry versions" },
	[O_WEAK] = { "weak", 'w', NULL, "WEAK walk instead of an ATOMIC snapshot" },
	[O_NO_HEADER] = { "no-header", 'H', NULL, "no '#' header line" },
	[O_MAX_KEY] = { "max-key-len", 0, "N", "longest key in bytes" },
	[O_MAX_VALUE] = { "max-value-len", 0, "N", "longest value in bytes" },
	[O_MAX_ENTRIES] = { "max-entries", 0, "N", "most keys" },
	[O_MAX_BYTES] = { "max-bytes", 0, "N", "most memory, per-entry overhead included" },
	[O_MODE] = { "mode", 'm', "MODE", "permission bits, octal" },
	[O_HOLD] = { "hold", 0, NULL, "hold the map in the foreground until a signal" },
	[O_BACKGROUND] = { "background", 'b', NULL, "hold the map in a detached process; print its pid" },
	[O_PID_FILE] = { "pid-file", 0, "FILE", "write the holder's pid to FILE" },
	[O_VALUE_FILE] = { "value-file", 'f', "FILE", "read the value from FILE ('-': standard input)" },
	[O_NO_REPLACE] = { "no-replace", 'n', NULL, "only insert: fail if the key exists" },
	[O_REPLACE_ONLY] = { "replace-only", 0, NULL, "only replace: fail if the key is absent" },
	[O_IF_VERSION] = { "if-version", 0, "V", "only if the entry's version is V" },
	[O_INTO] = { "into", 0, "NAME", "load into the existing empty map NAME" },
	[O_CHECK] = { "check", 0, NULL, "only check FILE and show its header" },
	[O_SINCE] = { "since", 0, "V", "start at version V: the changes above it" },
	[O_PREFIX] = { "prefix", 0, "P", "only keys that start with P (and CLEARs)" },
	[O_CHANGES] = { "changes", 0, "N", "stop after N changes, a transaction as one" },
	[O_PRETTY] = { "pretty", 'p', NULL, "print JSON, indented (implies --json)" },
	[O_VERSION] = { "version", 'V', NULL, "show the versions of snapmapctl, libsnapmap and the module" },
	[O_PERSISTENT] = { "persistent", 0, NULL, "keep the map with no holder, until snapmapctl rm" },
	[O_ALL] = { "all", 'a', NULL, "unnamed maps too, and the pids that hold each map" },
	[O_WAKEUP_BYTES] = { "wakeup-bytes", 0, "N", "wake up once N bytes of changes are ready" },
	[O_WAKEUP_MS] = { "wakeup-ms", 0, "MS", "with it, show a change at most MS ms late (100)" },
};

struct command {
	const char *name;
	int (*fn)(struct opts *o, int argc, char **argv);
	int min_args;
	int max_args;
	unsigned int opts;
	bool holds;		/* takes -- COMMAND */
	const char *args;
	const char *summary;
	const char *details;
};

#define HOLD_TEXT							\
	"\nA map lives only while something holds it: give --hold (print\n"	\
	"\"ready\" and hold until SIGTERM, SIGINT or SIGHUP), --background\n"	\
	"(hold in a detached process, print its pid), or -- COMMAND (hold\n"	\
	"while COMMAND runs, exit with its status).\n"

static const struct command commands[] = {
	{ "create", cmd_create, 1, 1,
	  O_LIMITS | BIT(O_MODE) | O_HOLDING | BIT(O_PERSISTENT), true,
	  "NAME [LIMITS] (--persistent | --hold | --background | -- COMMAND...)",
	  "create a named map and hold it",
	  "Limits not given are the module's defaults; sizes take K, M, G, T\n"
	  "(powers of 1024).  The mode defaults to 0600.\n" HOLD_TEXT
	  "--persistent: the map stays with no holder, until snapmapctl rm;\n"
	  "a holding option may hold it as well.\n" },
	{ "ls", cmd_ls, 0, 0, BIT(O_ALL), false, "",
	  "list the named maps",
	  "ENTRIES and BYTES are '-' for maps you may not read.\n"
	  "--all: the unnamed maps you own too (every map, for root), with\n"
	  "each map's ID, P for a persistent map, and the PIDS of the\n"
	  "processes whose fds hold it, of those /proc lets you see.\n" },
	{ "rm", cmd_rm, 1, INT_MAX, 0, false, "NAME...",
	  "delete maps' names: a persistent map goes, others live on unnamed",
	  "Only a map's owner, or root, may.  Fds still open keep a map,\n"
	  "unnamed, until they close.  Exit status 1 if a name could not be\n"
	  "deleted; the others are deleted all the same.\n" },
	{ "info", cmd_info, 1, 1, 0, false, "NAME",
	  "show a map's limits, usage, counters, owner and mode", "" },
	{ "get", cmd_get, 2, 2, O_ENCODING | BIT(O_RAW) | BIT(O_VERSIONS),
	  false, "NAME KEY",
	  "print a key's value",
	  "Exit status 1 if the key is absent.\n" },
	{ "mget", cmd_mget, 2, INT_MAX,
	  O_ENCODING | BIT(O_VERSIONS) | BIT(O_NO_HEADER), false,
	  "NAME KEY...",
	  "print several keys' values, all read at one version",
	  "A '#' line with the version, then one line per key present:\n"
	  "KEY<tab>VALUE, escaped.  --json: one object with a \"records\" array.\n"
	  "At most 4096 keys.  Exit status 1 if a key is absent.\n" },
	{ "put", cmd_put, 2, 3,
	  O_ENCODING | BIT(O_VALUE_FILE) | BIT(O_NO_REPLACE) |
	  BIT(O_REPLACE_ONLY) | BIT(O_IF_VERSION) | BIT(O_VERSIONS), false,
	  "NAME KEY (VALUE | - | --value-file FILE)",
	  "insert or replace a key",
	  "VALUE '-' reads the value from standard input; --hex and --escaped\n"
	  "do not apply to values read from a file or standard input.\n" },
	{ "del", cmd_del, 2, 2,
	  O_ENCODING | BIT(O_IF_VERSION) | BIT(O_VERSIONS), false, "NAME KEY",
	  "delete a key",
	  "Exit status 1 if the key is absent.\n" },
	{ "txn", cmd_txn, 1, 2, O_ENCODING, false, "NAME [FILE]",
	  "check conditions and, if all hold, write keys at one version",
	  "FILE ('-' or none: standard input) holds one transaction, as text,\n"
	  "one entry a line, conditions first:\n"
	  "  if-version KEY V | if-present KEY | if-absent KEY | if-value KEY VALUE\n"
	  "  put KEY VALUE | del KEY\n"
	  "or as JSON, {\"if\": [...], \"then\": [...]} (see snapmapctl(8)).\n"
	  "Prints the version of the writes.  Exit status 3 if a condition\n"
	  "does not hold; then nothing was written.\n" },
	{ "clear", cmd_clear, 1, 1, BIT(O_VERSIONS), false, "NAME",
	  "delete every key, at one version", "" },
	{ "dump", cmd_dump, 1, 1,
	  O_ENCODING | BIT(O_VERSIONS) | BIT(O_WEAK) | BIT(O_NO_HEADER), false,
	  "NAME",
	  "print every record of an ATOMIC snapshot",
	  "One record per line: KEY<tab>VALUE, escaped, after a '#' line with\n"
	  "the snapshot's version.  --json: one object with a \"records\" array.\n" },
	{ "clone", cmd_clone, 2, 2, BIT(O_MODE) | O_HOLDING, true,
	  "SRC DST (--hold | --background | -- COMMAND...)",
	  "copy a map, as an ATOMIC snapshot sees it, into a new map",
	  "The new map has SRC's limits and, unless --mode, its mode.\n"
	  HOLD_TEXT },
	{ "save", cmd_save, 2, 2, 0, false, "NAME FILE",
	  "write an ATOMIC snapshot to a file ('-': standard output)",
	  "FILE is replaced atomically: written next to it, then renamed.\n" },
	{ "load", cmd_load, 1, 2,
	  O_LIMITS | BIT(O_MODE) | O_HOLDING | BIT(O_INTO) | BIT(O_CHECK), true,
	  "FILE NAME (--hold | --background | -- COMMAND...)\n"
	  "       snapmapctl load [OPTIONS] --into NAME FILE\n"
	  "       snapmapctl load [OPTIONS] --check FILE",
	  "restore a saved file into a new map or an empty one",
	  "The whole file is checked before anything is written.  A new map\n"
	  "gets the file's limits and mode unless given, and appears only\n"
	  "once complete.  --into undoes its writes if one fails.  Entry\n"
	  "versions are not kept: the map gives new ones.\n" HOLD_TEXT },
	{ "watch", cmd_watch, 1, 1,
	  O_ENCODING | BIT(O_SINCE) | BIT(O_PREFIX) | BIT(O_CHANGES) |
	  BIT(O_NO_HEADER) | BIT(O_WAKEUP_BYTES) | BIT(O_WAKEUP_MS), false,
	  "NAME",
	  "print a map's changes as they happen, in version order",
	  "One line per change: VERSION<tab>put<tab>KEY<tab>VALUE,\n"
	  "VERSION<tab>del<tab>KEY, VERSION<tab>clear, and VERSION<tab>txn<tab>N\n"
	  "before the N changes of a transaction; keys and values escaped.\n"
	  "--json: one JSON object per line.  Runs until a signal, or N changes\n"
	  "with --changes.  Exit status 4 if the watch falls behind.\n"
	  "--wakeup-bytes: fewer wake-ups for a busy map.  The module wakes\n"
	  "the watch only once N bytes of changes are ready (at most half the\n"
	  "watch's buffer: 512K with the module's defaults), and the changes\n"
	  "are shown in bursts, each at most --wakeup-ms milliseconds late.\n" },
	{ "mirror", cmd_mirror, 2, 2, BIT(O_CHANGES), false, "SRC DST",
	  "keep the existing map DST a copy of SRC",
	  "DST is cleared and loaded with an ATOMIC snapshot of SRC, then\n"
	  "follows SRC's changes, a transaction as one; if it falls behind, it\n"
	  "is cleared and loaded again.  Runs until a signal, or N changes\n"
	  "with --changes.  Versions are DST's own.\n" },
	{ "version", cmd_version, 0, 0, 0, false, "",
	  "show the loaded module's ABI version, features and ioctls",
	  "Fails if the module is not loaded; --version does not.\n" },
	{ "batch", cmd_batch, 1, 1, 0, false, "FILE",
	  "run the commands of FILE ('-': standard input), one a line",
	  "Each line is a command line without \"snapmapctl\": options, the\n"
	  "command, its arguments, split at blanks.  '...' and \"...\" quote,\n"
	  "a backslash takes the next character as it is (in \"...\" only\n"
	  "before \" and \\), a backslash at the end of a line joins the next,\n"
	  "and # starts a comment.  The options given to batch apply to\n"
	  "every line.  Stops at the first line that fails, with its exit\n"
	  "status.  --json: one array, an object per command line.  No\n"
	  "watch, mirror, batch or help inside a batch.\n" },
};

#define N_COMMANDS ARRAY_SIZE(commands)

static void print_options(FILE *f, unsigned int mask)
{
	char left[64];
	int id;

	for (id = 0; id < O_COUNT; id++) {
		const struct optdef *d = &optdefs[id];

		if (!(mask & BIT(id)))
			continue;
		snprintf(left, sizeof(left), "%c%c%s--%s%s%s",
			 d->short_name ? '-' : ' ',
			 d->short_name ? d->short_name : ' ',
			 d->short_name ? ", " : "  ", d->name,
			 d->arg ? " " : "", d->arg ? d->arg : "");
		fprintf(f, "  %-24s %s\n", left, d->help);
	}
}

static int print_usage(void)
{
	FILE *f = stdout;
	size_t i;

	fprintf(f,
		"usage: snapmapctl [OPTIONS] COMMAND [ARGS]\n"
		"\n"
		"Commands:\n");
	for (i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-9s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(f, "\nOptions for every command:\n");
	print_options(f, O_COMMON);
	fprintf(f,
		"  -V, --version            show the versions of snapmapctl, libsnapmap\n"
		"                           and the module, if loaded\n"
		"\n"
		"Run 'snapmapctl COMMAND --help' for a command's arguments and\n"
		"options; see snapmapctl(8).  Exit status: 0 success, 1 no such\n"
		"map or key, 2 usage error, 3 a condition does not hold, 4 any\n"
		"other failure.\n");
	return EXIT_OK;
}

static int command_help(const struct command *c)
{
	printf("usage: snapmapctl %s%s%s\n\n%c%s.\n", c->name,
	       c->opts ? " [OPTIONS] " : " ", c->args,
	       c->summary[0] - 'a' + 'A', c->summary + 1);
	if (c->details[0])
		printf("\n%s", c->details);
	printf("\nOptions:\n");
	print_options(stdout, c->opts | O_COMMON);
	return EXIT_OK;
}

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < N_COMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/* getopt_long's tables for the options in @mask. */
static void build_getopt(unsigned int mask, bool stop, struct option *longs,
			 char *shorts)
{
	int id, n = 0;
	char *s = shorts;

	/* '+': stop at the command; ':': tell a missing argument apart. */
	if (stop)
		*s++ = '+';
	*s++ = ':';
	for (id = 0; id < O_COUNT; id++) {
		const struct optdef *d = &optdefs[id];

		if (!(mask & BIT(id)))
			continue;
		longs[n].name = d->name;
		longs[n].has_arg = d->arg ? required_argument : no_argument;
		longs[n].flag = NULL;
		longs[n].val = d->short_name ? d->short_name : LONG_ONLY + id;
		n++;
		if (d->short_name) {
			*s++ = d->short_name;
			if (d->arg)
				*s++ = ':';
		}
	}
	memset(&longs[n], 0, sizeof(longs[n]));
	*s = '\0';
}

static int opt_id_of(int val)
{
	int id;

	if (val >= LONG_ONLY)
		return val - LONG_ONLY;
	for (id = 0; id < O_COUNT; id++)
		if (optdefs[id].short_name == val)
			return id;
	return -1;
}

static int set_u32_limit(struct opts *o, const char *name, const char *arg,
			 __u32 *v)
{
	__u64 n;

	if (parse_u64(arg, &n, true) || !n || n > 0xffffffffULL)
		return usage_error(o, "--%s: '%s' is not a size from 1 to 4G-1",
				   name, arg);
	*v = n;
	return 0;
}

static int set_u64_limit(struct opts *o, const char *name, const char *arg,
			 __u64 *v)
{
	if (parse_u64(arg, v, true) || !*v)
		return usage_error(o, "--%s: '%s' is not a positive number",
				   name, arg);
	return 0;
}

/* Apply one option; a usage error's exit status, or 0. */
static int apply_option(struct opts *o, int id, const char *arg)
{
	const char *name = optdefs[id].name;
	__u64 n;

	switch (id) {
	case O_JSON:
		o->json = true;
		break;
	case O_PRETTY:
		o->json = true;
		o->pretty = true;
		break;
	case O_QUIET:
		o->quiet = true;
		break;
	case O_HEX:
	case O_ESCAPED:
		if (o->enc != ARG_RAW &&
		    o->enc != (id == O_HEX ? ARG_HEX : ARG_ESCAPED))
			return usage_error(o, "--hex and --escaped do not go together");
		o->enc = id == O_HEX ? ARG_HEX : ARG_ESCAPED;
		break;
	case O_RAW:
		o->raw = true;
		break;
	case O_VERSIONS:
		o->versions = true;
		break;
	case O_WEAK:
		o->weak = true;
		break;
	case O_NO_HEADER:
		o->no_header = true;
		break;
	case O_MAX_KEY:
		return set_u32_limit(o, name, arg, &o->limits.max_key_len);
	case O_MAX_VALUE:
		return set_u32_limit(o, name, arg, &o->limits.max_value_len);
	case O_MAX_ENTRIES:
		return set_u64_limit(o, name, arg, &o->limits.max_entries);
	case O_MAX_BYTES:
		return set_u64_limit(o, name, arg, &o->limits.max_bytes);
	case O_MODE:
		if (parse_mode(arg, &o->mode) || !o->mode)
			return usage_error(o, "--mode: '%s' is not an octal mode from 1 to 0777",
					   arg);
		break;
	case O_HOLD:
	case O_BACKGROUND:
		if (o->hold != HOLD_NONE)
			return usage_error(o, "--hold, --background and -- COMMAND do not go together");
		o->hold = id == O_HOLD ? HOLD_FOREGROUND : HOLD_BACKGROUND;
		break;
	case O_PID_FILE:
		o->pid_file = arg;
		break;
	case O_VALUE_FILE:
		o->value_file = arg;
		break;
	case O_NO_REPLACE:
	case O_REPLACE_ONLY:
		if (o->put_flags)
			return usage_error(o, "--no-replace and --replace-only do not go together");
		o->put_flags = id == O_NO_REPLACE ? SNAPMAP_PUT_NOEXIST :
						    SNAPMAP_PUT_EXIST;
		break;
	case O_IF_VERSION:
		if (parse_u64(arg, &o->version, false))
			return usage_error(o, "--if-version: '%s' is not a version",
					   arg);
		o->if_version = true;
		break;
	case O_INTO:
		o->into = arg;
		break;
	case O_CHECK:
		o->check = true;
		break;
	case O_SINCE:
		if (parse_u64(arg, &o->since, false))
			return usage_error(o, "--since: '%s' is not a version",
					   arg);
		o->has_since = true;
		break;
	case O_PREFIX:
		o->prefix = arg;
		break;
	case O_CHANGES:
		if (parse_u64(arg, &o->changes, false) || !o->changes)
			return usage_error(o, "--changes: '%s' is not a positive number",
					   arg);
		break;
	case O_PERSISTENT:
		o->persistent = true;
		break;
	case O_ALL:
		o->all = true;
		break;
	case O_WAKEUP_BYTES:
		return set_u64_limit(o, name, arg, &o->wakeup_bytes);
	case O_WAKEUP_MS:
		if (parse_u64(arg, &n, false) || !n || n > INT_MAX)
			return usage_error(o, "--%s: '%s' is not a number of milliseconds from 1 to %d",
					   name, arg, INT_MAX);
		o->wakeup_ms = n;
		break;
	}
	return 0;
}

/*
 * Parse @argv[1..] with the options of @mask; @argv[0] is the program or
 * command name.  Leaves optind at the first argument that is not an
 * option.  With @stop, stops at the first such argument.  Sets @help[0]
 * for --help and @help[1] for --version.
 */
static int parse_options(struct opts *o, int argc, char **argv,
			 unsigned int mask, bool stop, bool help[2])
{
	struct option longs[O_COUNT + 1];
	char shorts[2 * O_COUNT + 3];
	int c, id, ret;

	build_getopt(mask, stop, longs, shorts);
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		if (c == ':')
			return usage_error(o, "option '%s' needs an argument",
					   argv[optind - 1]);
		if (c == '?' && optopt && optopt < LONG_ONLY)
			return usage_error(o, "unknown option '-%c'", optopt);
		if (c == '?')
			return usage_error(o, "unknown option '%s'",
					   argv[optind - 1]);
		id = opt_id_of(c);
		if (id == O_HELP || id == O_VERSION) {
			help[id == O_VERSION] = true;
			continue;
		}
		ret = apply_option(o, id, optarg);
		if (ret)
			return ret;
	}
	return 0;
}

/* Commands that print a line per event, not one document. */
static bool is_stream(const struct command *c)
{
	return c && (c->fn == cmd_watch || c->fn == cmd_mirror);
}

/*
 * Whether the command line asks for JSON, for a usage error found before
 * its options were all read: -j, -p and their long forms, alone or among
 * other short options that take no argument, before any "--".
 */
static void scan_json(struct opts *o, int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && argv[i] && strcmp(argv[i], "--"); i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--json") || !strcmp(a, "--pretty")) {
			o->json = true;
			o->pretty |= a[2] == 'p';
			continue;
		}
		if (a[0] != '-' || a[1] == '-' ||
		    a[strspn(a + 1, "jpqhxerwHbn") + 1])
			continue;
		o->json |= strpbrk(a, "jp") != NULL;
		o->pretty |= strchr(a, 'p') != NULL;
	}
}

/* Parse one command line and run its command, *@cp once it is known. */
static int parse_command(struct opts *o, int argc, char **argv,
			 unsigned int line, const struct command **cp)
{
	const struct command *c;
	bool help[2] = { false, false };
	int ret, cargc, i, nargs;
	char **cargv;

	/* Options before the command: those every command takes. */
	ret = parse_options(o, argc, argv,
			    O_COMMON | O_ENCODING | BIT(O_VERSION), true, help);
	if (ret)
		return ret;
	json_style.pretty = o->pretty;
	if (help[1])
		return print_version(o);
	if (optind >= argc) {
		if (help[0] && !line)
			return print_usage();
		return usage_error(o, "missing command");
	}
	cargc = argc - optind;
	cargv = argv + optind;
	if (line && (help[0] || !strcmp(cargv[0], "help")))
		return usage_error(o, "no help inside a batch");
	if (!strcmp(cargv[0], "help")) {
		if (cargc < 2)
			return print_usage();
		c = find_command(cargv[1]);
		if (!c)
			return usage_error(o, "unknown command '%s'", cargv[1]);
		return command_help(c);
	}
	c = find_command(cargv[0]);
	if (!c)
		return usage_error(o, "unknown command '%s'", cargv[0]);
	*cp = c;
	o->cmd = c->name;
	if (line && (is_stream(c) || c->fn == cmd_batch))
		return usage_error(o, "runs on its own, not inside a batch");

	/* -- COMMAND: everything after the first "--" is the command. */
	if (c->holds) {
		for (i = 1; i < cargc; i++) {
			if (strcmp(cargv[i], "--"))
				continue;
			if (i + 1 == cargc)
				return usage_error(o, "missing command after '--'");
			if (o->hold != HOLD_NONE)
				return usage_error(o, "--hold, --background and -- COMMAND do not go together");
			o->hold = HOLD_COMMAND;
			o->hold_argv = cargv + i + 1;
			cargv[i] = NULL;
			cargc = i;
			break;
		}
	}
	ret = parse_options(o, cargc, cargv, c->opts | O_COMMON, false, help);
	if (ret)
		return ret;
	if (help[0] && line)
		return usage_error(o, "no help inside a batch");
	if (help[0])
		return command_help(c);
	/* Streams print an object a line, even with --pretty. */
	json_style.pretty = o->pretty && !is_stream(c);
	if (o->pid_file && o->hold == HOLD_NONE)
		return usage_error(o, "--pid-file goes with --hold, --background or -- COMMAND");
	nargs = cargc - optind;
	if (nargs < c->min_args)
		return usage_error(o, "missing arguments: %s", c->args);
	if (nargs > c->max_args)
		return usage_error(o, "unexpected argument '%s'",
				   cargv[optind + c->max_args]);
	return c->fn(o, nargs, cargv + optind);
}

/*
 * Parse and run one command line, @argv[0] being the program or "batch";
 * its exit status.  A command that failed with EXIT_FAIL gets the status
 * its message says (not found, condition, error); with --json, a failure
 * that printed no document prints the error document.
 */
int run_command(const struct opts *base, int argc, char **argv,
		unsigned int line)
{
	const struct command *c = NULL;
	unsigned long docs = json_style.docs;
	struct opts o = *base;
	int ret;

	o.cmd = NULL;
	ret = parse_command(&o, argc, argv, line, &c);
	if (ret == EXIT_FAIL && report_failed())
		ret = report_status();
	if (ret && report_failed()) {
		if (!o.json)
			scan_json(&o, argc, argv);
		json_style.pretty = o.pretty && !is_stream(c);
		if (o.json && (json_style.docs == docs || is_stream(c)))
			report_json(ret, line);
	}
	if (finish_stdout(&o) && !ret)
		ret = EXIT_ERROR;
	return ret;
}

int main(int argc, char **argv)
{
	struct opts o = { .cmd = NULL };

	return run_command(&o, argc, argv, 0);
}
