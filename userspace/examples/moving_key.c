// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * moving_key - what an ATOMIC snapshot sees that a walk does not
 *
 * A writer thread moves one key along: put(k + 1), then del(k), forever.
 * At every instant the map holds one or two consecutive keys, never zero.
 * The main thread takes snapshots meanwhile and counts the ones that show
 * a state the map was never in: no key at all, or keys that are not
 * neighbours.  ATOMIC snapshots must never show one; WEAK snapshots (a walk
 * of the live table) may.
 *
 * usage: moving_key [SNAPSHOTS]
 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/snapmap.h>

#define KEY_LEN 8

static atomic_bool stop;

static int map_write(int fd, unsigned long cmd, uint64_t k)
{
	char key[KEY_LEN];

	memcpy(key, &k, sizeof(k));
	if (cmd == SNAPMAP_IOC_PUT) {
		struct snapmap_put put = {
			.size = sizeof(put),
			.key_len = KEY_LEN,
			.key = (uintptr_t)key,
			.value = (uintptr_t)"v",
			.value_len = 1,
		};

		return ioctl(fd, cmd, &put);
	} else {
		struct snapmap_del del = {
			.size = sizeof(del),
			.key_len = KEY_LEN,
			.key = (uintptr_t)key,
		};

		return ioctl(fd, cmd, &del);
	}
}

static void *writer(void *arg)
{
	int fd = *(int *)arg;
	uint64_t k;

	for (k = 0; !atomic_load(&stop); k++) {
		if (map_write(fd, SNAPMAP_IOC_PUT, k + 1) ||
		    map_write(fd, SNAPMAP_IOC_DEL, k)) {
			perror("writer");
			exit(1);
		}
	}
	return NULL;
}

/*
 * Take one snapshot and read it one record per read(2), as slowly as a
 * real consumer might.  Returns 1 if it shows an impossible state.
 */
static int snapshot_is_impossible(int fd, uint32_t flags)
{
	struct snapmap_snapshot_arg arg = { .size = sizeof(arg),
					    .flags = flags };
	char buf[SNAPMAP_RECORD_SIZE(KEY_LEN, 1)];
	uint64_t keys[2], k;
	unsigned int n = 0;
	ssize_t len;
	int sfd;

	sfd = ioctl(fd, SNAPMAP_IOC_SNAPSHOT, &arg);
	if (sfd < 0) {
		perror("SNAPMAP_IOC_SNAPSHOT");
		exit(1);
	}
	while ((len = read(sfd, buf, sizeof(buf))) > 0) {
		memcpy(&k, buf + sizeof(struct snapmap_record), sizeof(k));
		if (n < 2)
			keys[n] = k;
		n++;
	}
	if (len < 0) {
		perror("read");
		exit(1);
	}
	close(sfd);

	if (n == 1)
		return 0;
	if (n == 2 && (keys[0] + 1 == keys[1] || keys[1] + 1 == keys[0]))
		return 0;
	return 1;
}

int main(int argc, char **argv)
{
	struct snapmap_create create = { .size = sizeof(create) };
	unsigned int i, snapshots = argc > 1 ? atoi(argv[1]) : 2000;
	unsigned int atomic_bad = 0, weak_bad = 0;
	pthread_t tid;
	int ctl, fd;

	ctl = open("/dev/snapmap", O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		perror("/dev/snapmap");
		return 1;
	}
	fd = ioctl(ctl, SNAPMAP_IOC_CREATE, &create);
	if (fd < 0 || map_write(fd, SNAPMAP_IOC_PUT, 0)) {
		perror("SNAPMAP_IOC_CREATE");
		return 1;
	}
	if (pthread_create(&tid, NULL, writer, &fd)) {
		fprintf(stderr, "cannot start the writer\n");
		return 1;
	}

	for (i = 0; i < snapshots; i++) {
		atomic_bad += snapshot_is_impossible(fd, 0);
		weak_bad += snapshot_is_impossible(fd, SNAPMAP_SNAPSHOT_WEAK);
	}
	atomic_store(&stop, true);
	pthread_join(tid, NULL);

	printf("moving key, one writer, %u snapshots of each kind:\n",
	       snapshots);
	printf("  ATOMIC snapshots showing an impossible state: %u (%.1f%%)\n",
	       atomic_bad, 100.0 * atomic_bad / snapshots);
	printf("  WEAK walks showing an impossible state:       %u (%.1f%%)\n",
	       weak_bad, 100.0 * weak_bad / snapshots);
	close(fd);
	close(ctl);
	return atomic_bad ? 1 : 0;
}
