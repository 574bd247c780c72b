// SPDX-License-Identifier: GPL-2.0
/*
 * snapmapctl: batch, the commands of a file run one after the other in
 * one process, as bpftool's batch does.
 *
 * A line is split into words as a shell would, within limits: blanks
 * separate words, '...' takes everything to the next ' as it is, "..."
 * everything to the next " but for \" and \\, a backslash outside quotes
 * takes the next character as it is, a backslash at the end of a line
 * joins the next line, and # at the start of a word starts a comment.
 * Nothing else is special: no variables, globs or redirections.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "snapmapctl.h"

/* Most words on one command line. */
#define BATCH_MAX_WORDS 256

/*
 * struct cmdline - one command line of the file, split
 * @text: the line's bytes, continuations joined, the words cut out of it
 * @argv: "batch", then the words; NULL-terminated
 * @argc: words, "batch" included
 * @first: the line it starts on
 */
struct cmdline {
	char *text;
	size_t size;
	char *argv[BATCH_MAX_WORDS + 2];
	int argc;
	unsigned int first;
};

/*
 * Read the next command line, joining lines that end in a backslash;
 * *@lineno counts the lines read.  1 if there is one, 0 at the end of
 * the file, -errno if reading failed.
 */
static int read_cmdline(FILE *f, struct cmdline *cl, unsigned int *lineno)
{
	size_t len = 0, n;
	char *part = NULL;
	size_t part_size = 0;
	ssize_t r;

	cl->first = *lineno + 1;
	for (;;) {
		errno = 0;
		r = getline(&part, &part_size, f);
		if (r < 0) {
			free(part);
			if (errno)
				return -errno;
			/* A last line ending in a backslash: take it as is. */
			return len ? 1 : 0;
		}
		++*lineno;
		n = r;
		if (n && part[n - 1] == '\n')
			part[--n] = '\0';
		if (len + n + 2 > cl->size) {
			char *t = realloc(cl->text, len + n + 2);

			if (!t) {
				free(part);
				return -ENOMEM;
			}
			cl->text = t;
			cl->size = len + n + 2;
		}
		memcpy(cl->text + len, part, n + 1);
		len += n;
		/* An odd number of backslashes at the end joins the next. */
		for (n = len; n && cl->text[n - 1] == '\\'; n--)
			;
		if ((len - n) % 2 == 0)
			break;
		cl->text[--len] = '\0';
	}
	free(part);
	return 1;
}

/* Split @cl->text into words, in place; a message if it cannot be. */
static const char *split_words(struct cmdline *cl)
{
	char *in = cl->text, *out = cl->text;
	char quote;

	cl->argc = 1;
	for (;;) {
		in += strspn(in, " \t\r\f\v");
		if (!*in || *in == '#')
			break;
		if (cl->argc > BATCH_MAX_WORDS)
			return "too many words";
		cl->argv[cl->argc++] = out;
		/* One word: unquoted, quoted and escaped parts, joined. */
		while (*in && !strchr(" \t\r\f\v", *in)) {
			if (*in == '\\' && in[1]) {
				*out++ = in[1];
				in += 2;
			} else if (*in == '\'' || *in == '"') {
				quote = *in++;
				while (*in && *in != quote) {
					if (quote == '"' && *in == '\\' &&
					    (in[1] == '"' || in[1] == '\\'))
						in++;
					*out++ = *in++;
				}
				if (!*in)
					return quote == '"' ?
					       "a \" is not closed" :
					       "a ' is not closed";
				in++;
			} else {
				*out++ = *in++;
			}
		}
		/* @out never passes @in: the terminator fits. */
		if (*in)
			in++;
		*out++ = '\0';
	}
	cl->argv[cl->argc] = NULL;
	return NULL;
}

/* The array member of one command line: its number and its words. */
static void open_element(struct json *j, const struct cmdline *cl,
			 bool words)
{
	int i;

	json_open(j, NULL, '{');
	json_u64(j, "line", cl->first);
	if (words) {
		json_open(j, "command", '[');
		for (i = 1; i < cl->argc; i++)
			json_str(j, NULL, cl->argv[i]);
		json_close(j, ']');
	} else {
		json_null(j, "command");
	}
}

/* A line that cannot be split fails as a usage error of batch's. */
static int bad_line(const struct opts *o, struct json *j,
		    const struct cmdline *cl, const char *what)
{
	int ret = usage_error(o, "line %u: %s", cl->first, what);

	if (o->json) {
		open_element(j, cl, false);
		json_key(j, "output");
		json_style.in_array = true;
		json_style.indent = 2;
		report_json(ret, cl->first);
		json_style.in_array = false;
		json_u64(j, "status", ret);
		json_close(j, '}');
	}
	return ret;
}

int cmd_batch(struct opts *o, int argc, char **argv)
{
	/* What the options given to batch set, for every line. */
	const struct opts base = {
		.json = o->json, .pretty = o->pretty, .quiet = o->quiet,
		.enc = o->enc,
	};
	const char *path = argv[0];
	struct cmdline cl = { .text = NULL };
	unsigned int lineno = 0, ran = 0;
	unsigned long docs;
	const char *msg;
	struct json j;
	int ret = EXIT_OK, r;
	FILE *f;

	(void)argc;
	f = strcmp(path, "-") ? fopen(path, "re") : stdin;
	if (!f) {
		error_errno(o->cmd, errno, ERR_OTHER, "cannot open '%s': %s",
			    path, strerror(errno));
		return EXIT_FAIL;
	}
	if (o->json) {
		json_init(&j, stdout);
		json_open_lines(&j, NULL);
	}
	cl.argv[0] = "batch";
	while ((r = read_cmdline(f, &cl, &lineno)) > 0) {
		msg = split_words(&cl);
		if (msg) {
			ret = bad_line(o, &j, &cl, msg);
			break;
		}
		if (cl.argc == 1)
			continue;
		if (o->json) {
			open_element(&j, &cl, true);
			json_key(&j, "output");
			json_style.in_array = true;
			json_style.indent = 2;
		}
		docs = json_style.docs;
		report_reset();
		ret = run_command(&base, cl.argc, cl.argv, cl.first);
		if (o->json) {
			json_style.in_array = false;
			/* A command with nothing to say: null, not a gap. */
			if (json_style.docs == docs)
				fputs("null", stdout);
			json_style.pretty = o->pretty;
			json_u64(&j, "status", ret);
			json_close(&j, '}');
		}
		if (ret) {
			errorf(o->cmd, "'%s' line %u failed; %u command%s before it ran",
			       path, cl.first, ran, ran == 1 ? "" : "s");
			break;
		}
		ran++;
	}
	if (r < 0 && !ret) {
		error_errno(o->cmd, -r, ERR_OTHER, "cannot read '%s': %s", path,
			    strerror(-r));
		ret = EXIT_FAIL;
	}
	if (f != stdin)
		fclose(f);
	free(cl.text);
	if (o->json) {
		json_close(&j, ']');
		json_end(&j);
	}
	return ret;
}
