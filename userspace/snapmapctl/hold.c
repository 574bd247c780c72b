// SPDX-License-Identifier: GPL-2.0
/*
 * snapmapctl: keeping a new map alive.
 *
 * A map lives only while something holds an fd of it, and the tool's own
 * fds go when it exits: a map made by create, clone or load would die the
 * moment the command returned.  So those commands hold the map in one of
 * three ways:
 *
 * --hold        in the foreground, printing "ready" once the map is
 *               complete, until SIGTERM, SIGINT or SIGHUP;
 * --background  in a child process that detaches from the terminal; the
 *               command prints the child's pid and returns;
 * -- COMMAND    while COMMAND runs, returning its exit status, as flock(1)
 *               and unshare(1) do.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "output.h"
#include "snapmapctl.h"

int hold_check(const struct opts *o)
{
	if (o->hold == HOLD_NONE)
		return usage_error(o,
				   "the new map would die when snapmapctl exits: give --hold, --background or -- COMMAND");
	return 0;
}

/* The pid file's path, made absolute: the background holder does chdir. */
static char pid_path[PATH_MAX];

static int write_pid_file(const struct opts *o, pid_t pid)
{
	char cwd[PATH_MAX];
	FILE *f;

	if (!o->pid_file)
		return 0;
	if (o->pid_file[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		cwd[0] = '\0';
	if ((size_t)snprintf(pid_path, sizeof(pid_path), "%s%s%s", cwd,
			     cwd[0] ? "/" : "", o->pid_file) >=
	    sizeof(pid_path)) {
		errorf(o->cmd, "pid file '%s': %s", o->pid_file,
		       strerror(ENAMETOOLONG));
		pid_path[0] = '\0';
		return -1;
	}
	f = fopen(pid_path, "we");
	if (!f || fprintf(f, "%d\n", (int)pid) < 0 || fclose(f)) {
		error_errno(o->cmd, errno, ERR_OTHER,
			    "cannot write pid file '%s': %s", o->pid_file,
			    strerror(errno));
		pid_path[0] = '\0';
		return -1;
	}
	return 0;
}

static void remove_pid_file(void)
{
	if (pid_path[0])
		unlink(pid_path);
}

static void print_ready(const struct opts *o, const char *name, pid_t pid,
			bool background,
			void (*ready_json)(struct json *j, void *arg),
			void *arg)
{
	struct json j;

	if (o->json) {
		json_init(&j, stdout);
		json_open(&j, NULL, '{');
		json_str(&j, "map", name);
		json_u64(&j, "pid", pid);
		if (ready_json)
			ready_json(&j, arg);
		json_close(&j, '}');
		json_end(&j);
	} else if (background) {
		printf("%d\n", (int)pid);
	} else {
		printf("ready\n");
	}
	fflush(stdout);
}

/* Until SIGTERM, SIGINT or SIGHUP: the caller has them blocked. */
static void wait_for_signal(const sigset_t *set)
{
	int sig;

	while (sigwait(set, &sig))
		;
}

static int hold_foreground(const struct opts *o, const char *name,
			   void (*ready_json)(struct json *j, void *arg),
			   void *arg)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (write_pid_file(o, getpid()))
		return EXIT_FAIL;
	print_ready(o, name, getpid(), false, ready_json, arg);
	if (!o->quiet && isatty(STDERR_FILENO))
		fprintf(stderr,
			"snapmapctl: holding map '%s' until interrupted (Ctrl-C) or sent SIGTERM\n",
			name);
	wait_for_signal(&set);
	remove_pid_file();
	return EXIT_OK;
}

static int hold_background(const struct opts *o, const char *name,
			   void (*ready_json)(struct json *j, void *arg),
			   void *arg)
{
	sigset_t set;
	pid_t pid;
	int null;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		error_errno(o->cmd, errno, ERR_OTHER,
			    "cannot fork: %s", strerror(errno));
		return EXIT_FAIL;
	}
	if (!pid) {
		/*
		 * The holder: out of the caller's session and away from its
		 * terminal and pipes, so that $(snapmapctl ...) returns.
		 */
		sigprocmask(SIG_BLOCK, &set, NULL);
		setsid();
		null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
			if (null > STDERR_FILENO)
				close(null);
		}
		if (chdir("/"))
			_exit(EXIT_FAIL);
		wait_for_signal(&set);
		remove_pid_file();
		_exit(EXIT_OK);
	}
	if (write_pid_file(o, pid)) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
		return EXIT_FAIL;
	}
	print_ready(o, name, pid, true, ready_json, arg);
	return EXIT_OK;
}

static volatile sig_atomic_t child;

static void forward_signal(int sig)
{
	if (child > 0)
		kill(child, sig);
}

static int hold_command(const struct opts *o, int map_fd)
{
	struct sigaction sa = { .sa_handler = forward_signal };
	int status, err;
	pid_t pid;

	if (write_pid_file(o, getpid()))
		return EXIT_FAIL;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		error_errno(o->cmd, errno, ERR_OTHER,
			    "cannot fork: %s", strerror(errno));
		remove_pid_file();
		return EXIT_FAIL;
	}
	if (!pid) {
		/* The map fd is close-on-exec: only the parent holds it. */
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		execvp(o->hold_argv[0], o->hold_argv);
		err = errno;
		error_errno(o->cmd, err, ERR_OTHER,
			    "cannot run '%s': %s", o->hold_argv[0],
			    strerror(err));
		/* The shell's conventions: 127 not found, 126 not runnable. */
		_exit(err == ENOENT ? 127 : 126);
	}
	child = pid;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	child = 0;
	close(map_fd);
	remove_pid_file();
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int hold_map(const struct opts *o, int map_fd, const char *name,
	     void (*ready_json)(struct json *j, void *arg), void *arg)
{
	int ret = EXIT_FAIL;

	switch (o->hold) {
	case HOLD_FOREGROUND:
		ret = hold_foreground(o, name, ready_json, arg);
		break;
	case HOLD_BACKGROUND:
		ret = hold_background(o, name, ready_json, arg);
		break;
	case HOLD_COMMAND:
		return hold_command(o, map_fd);
	case HOLD_NONE:
		break;
	}
	close(map_fd);
	return ret;
}
