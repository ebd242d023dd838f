// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The agent runs `replicast apply -` and `replicast stats --json` exactly as
 * an operator would, through cli_run() in a forked child: one code path for
 * both, and the child's exit takes every resource the command held. Input
 * and output go through memfds, so no pipe can fill up and stall. */
#define _GNU_SOURCE	/* memfd_create() */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "agent.h"

static char *slurp(int fd)
{
	struct stat st;
	char *p;
	ssize_t n;
	size_t got = 0;

	if (fstat(fd, &st) || lseek(fd, 0, SEEK_SET) < 0)
		return NULL;
	p = malloc((size_t)st.st_size + 1);
	while (p && got < (size_t)st.st_size) {
		n = read(fd, p + got, (size_t)st.st_size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (p)
		p[got] = '\0';
	return p;
}

static int write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return lseek(fd, 0, SEEK_SET) < 0 ? -1 : 0;
}

int agent_run_cli(const struct cli *cli, char **argv, const char *input, size_t len,
		  char **out, char **err)
{
	int in_fd = memfd_create("replicast-in", MFD_CLOEXEC);
	int out_fd = memfd_create("replicast-out", MFD_CLOEXEC);
	int err_fd = memfd_create("replicast-err", MFD_CLOEXEC);
	int status = 0, argc = 0, saved;
	pid_t pid = -1;

	*out = *err = NULL;
	if (in_fd < 0 || out_fd < 0 || err_fd < 0 || write_all(in_fd, input, len))
		goto fail;
	while (argv[argc])
		argc++;
	/* Nothing buffered here may come out twice, once from each process. */
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		goto fail;
	if (pid == 0) {
		struct cli each = *cli;
		int ret;

		/* An apply, once started, runs to its end: a SIGTERM meant for
		 * the agent (systemd signals the whole unit) must not cut it
		 * between two groups, nor make a system call fail with EINTR. */
		signal(SIGTERM, SIG_IGN);
		signal(SIGINT, SIG_IGN);
		if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
			_exit(EXIT_FAIL);
		ret = cli_run(&each, argc, argv);
		fflush(stdout);
		fflush(stderr);
		_exit(ret);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	*out = slurp(out_fd);
	*err = slurp(err_fd);
	close(in_fd);
	close(out_fd);
	close(err_fd);
	if (!*out || !*err) {
		free(*out);
		free(*err);
		*out = *err = NULL;
		errno = ENOMEM;
		return -1;
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return EXIT_FAIL;	/* killed by a signal: a failure all the same */
fail:
	saved = errno;
	if (in_fd >= 0)
		close(in_fd);
	if (out_fd >= 0)
		close(out_fd);
	if (err_fd >= 0)
		close(err_fd);
	errno = saved;
	return -1;
}
