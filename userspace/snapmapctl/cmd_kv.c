// SPDX-License-Identifier: GPL-2.0
/*
 * snapmapctl: commands on single keys: get, put, del, and clear.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libsnapmap.h"
#include "output.h"
#include "snapmapctl.h"

/* Largest value read from a file or stdin: the module's own cap is less. */
#define VALUE_READ_MAX (1ULL << 32)

/*
 * EMSGSIZE names no culprit: find which of the key and the value is over
 * its limit, and say so with the numbers.
 */
static void error_too_long(const struct opts *o, const char *name, int fd,
			   __u32 key_len, __u32 value_len)
{
	struct snapmap_info info;

	if (snapmap_info(fd, &info)) {
		error_map(o->cmd, name, EMSGSIZE, ERR_KEY);
		return;
	}
	if (key_len > info.out_max_key_len)
		error_errno(o->cmd, EMSGSIZE, ERR_KEY,
			    "map '%s': key of %u bytes is longer than the map's limit of %u",
			    name, key_len, info.out_max_key_len);
	else if (value_len > info.out_max_value_len)
		error_errno(o->cmd, EMSGSIZE, ERR_KEY,
			    "map '%s': value of %u bytes is longer than the map's limit of %u",
			    name, value_len, info.out_max_value_len);
	else
		error_map(o->cmd, name, EMSGSIZE, ERR_KEY);
}

static void key_error(const struct opts *o, const char *name, int fd,
		      const void *key, __u32 key_len, __u32 value_len,
		      int err)
{
	if (err == EMSGSIZE)
		error_too_long(o, name, fd, key_len, value_len);
	else if (err == ENOENT || err == EEXIST || err == ECANCELED)
		error_key(o->cmd, name, key, key_len, err);
	else
		error_map(o->cmd, name, err, ERR_KEY);
}

/* One JSON object about one key, for put, del and get. */
static void key_json(const struct opts *o, const char *name,
		     const void *key, __u32 key_len, const void *value,
		     __u32 value_len, bool has_value, __u64 version)
{
	bool hex = o->enc == ARG_HEX;
	struct json j;

	json_init(&j, stdout);
	json_open(&j, NULL, '{');
	json_str(&j, "map", name);
	json_bytes(&j, "key", key, key_len, hex);
	if (has_value)
		json_bytes(&j, "value", value, value_len, hex);
	json_u64(&j, "version", version);
	json_close(&j, '}');
	json_end(&j);
}

int cmd_get(struct opts *o, int argc, char **argv)
{
	const char *name = argv[0];
	__u32 key_len, size = 4096, len;
	void *key, *value = NULL, *bigger;
	__u64 version;
	int ret, fd, err;

	(void)argc;
	if (o->raw && (o->json || o->versions))
		return usage_error(o, "--raw writes the value alone: no --json or --versions");
	ret = check_map_name(o, name) ?: decode_key(o, argv[1], &key, &key_len);
	if (ret)
		return ret;
	fd = open_map(o, name, false);
	if (fd < 0) {
		free(key);
		return EXIT_FAIL;
	}
	/* The value may grow between two tries: loop until it fits. */
	for (;;) {
		bigger = realloc(value, size ? size : 1);
		if (!bigger) {
			err = -ENOMEM;
			break;
		}
		value = bigger;
		len = size;
		err = snapmap_get(fd, key, key_len, value, &len, &version);
		if (err != -ERANGE)
			break;
		size = len;
	}
	ret = EXIT_FAIL;
	if (err) {
		key_error(o, name, fd, key, key_len, 0, -err);
	} else if (o->json) {
		key_json(o, name, key, key_len, value, len, true, version);
		ret = EXIT_OK;
	} else if (o->raw) {
		fwrite(value, 1, len, stdout);
		ret = EXIT_OK;
	} else {
		if (o->versions)
			printf("%llu\t", (unsigned long long)version);
		put_human(stdout, value, len, o->enc == ARG_HEX);
		putchar('\n');
		ret = EXIT_OK;
	}
	close(fd);
	free(key);
	free(value);
	return ret;
}

/* The value of put: an argument, or the bytes of stdin or a file. */
static int get_value(const struct opts *o, int argc, char **argv,
		     void **value, __u32 *len)
{
	const char *file = o->value_file;
	size_t n;
	int fd, err;

	if (argc > 2 && file)
		return usage_error(o, "give the value as an argument or with --value-file, not both");
	if (argc < 3 && !file)
		return usage_error(o, "missing value (an argument, '-' for standard input, or --value-file)");
	if (!file && strcmp(argv[2], "-"))
		return decode_arg(o, "value", argv[2], value, len);
	if (!file || !strcmp(file, "-")) {
		fd = STDIN_FILENO;
		file = "standard input";
	} else {
		fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			error_errno(o->cmd, errno, ERR_OTHER,
				    "cannot open '%s': %s", file,
				    strerror(errno));
			return EXIT_FAIL;
		}
	}
	err = read_all(fd, value, &n, VALUE_READ_MAX - 1);
	if (fd != STDIN_FILENO)
		close(fd);
	if (err) {
		error_errno(o->cmd, -err, ERR_OTHER,
			    "cannot read '%s': %s", file,
			    err == -EFBIG ? "larger than any value can be" :
			    strerror(-err));
		return EXIT_FAIL;
	}
	*len = n;
	return 0;
}

int cmd_put(struct opts *o, int argc, char **argv)
{
	const char *name = argv[0];
	void *key, *value = NULL;
	__u32 key_len, value_len;
	__u64 version;
	int ret, fd, err;

	if (o->if_version && o->put_flags)
		return usage_error(o, "--if-version already means the key must exist");
	ret = check_map_name(o, name) ?: decode_key(o, argv[1], &key, &key_len);
	if (ret)
		return ret;
	ret = get_value(o, argc, argv, &value, &value_len);
	if (ret) {
		free(key);
		return ret;
	}
	fd = open_map(o, name, true);
	if (fd < 0) {
		free(key);
		free(value);
		return EXIT_FAIL;
	}
	if (o->if_version)
		err = snapmap_cas(fd, key, key_len, value, value_len,
				  o->version, &version);
	else
		err = snapmap_put(fd, key, key_len, value, value_len,
				  o->put_flags, &version);
	ret = EXIT_FAIL;
	if (err) {
		key_error(o, name, fd, key, key_len, value_len, -err);
	} else {
		if (o->json)
			key_json(o, name, key, key_len, NULL, 0, false,
				 version);
		else if (o->versions)
			printf("%llu\n", (unsigned long long)version);
		ret = EXIT_OK;
	}
	close(fd);
	free(key);
	free(value);
	return ret;
}

int cmd_del(struct opts *o, int argc, char **argv)
{
	const char *name = argv[0];
	__u32 key_len;
	__u64 version;
	int ret, fd, err;
	void *key;

	(void)argc;
	ret = check_map_name(o, name) ?: decode_key(o, argv[1], &key, &key_len);
	if (ret)
		return ret;
	fd = open_map(o, name, true);
	if (fd < 0) {
		free(key);
		return EXIT_FAIL;
	}
	if (o->if_version)
		err = snapmap_del_if(fd, key, key_len, o->version, &version);
	else
		err = snapmap_del(fd, key, key_len, &version);
	ret = EXIT_FAIL;
	if (err) {
		key_error(o, name, fd, key, key_len, 0, -err);
	} else {
		if (o->json)
			key_json(o, name, key, key_len, NULL, 0, false,
				 version);
		else if (o->versions)
			printf("%llu\n", (unsigned long long)version);
		ret = EXIT_OK;
	}
	close(fd);
	free(key);
	return ret;
}

int cmd_clear(struct opts *o, int argc, char **argv)
{
	const char *name = argv[0];
	__u64 version;
	struct json j;
	int ret, fd, err;

	(void)argc;
	ret = check_map_name(o, name);
	if (ret)
		return ret;
	fd = open_map(o, name, true);
	if (fd < 0)
		return EXIT_FAIL;
	err = snapmap_clear(fd, &version);
	close(fd);
	if (err) {
		error_map(o->cmd, name, -err, ERR_OTHER);
		return EXIT_FAIL;
	}
	if (o->json) {
		json_init(&j, stdout);
		json_open(&j, NULL, '{');
		json_str(&j, "map", name);
		json_u64(&j, "version", version);
		json_close(&j, '}');
		json_end(&j);
	} else if (o->versions) {
		printf("%llu\n", (unsigned long long)version);
	}
	return EXIT_OK;
}
