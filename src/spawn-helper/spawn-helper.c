// spawn-helper: starts the build's commands for the `task` CLI with posix_spawn.
//
// Why a helper: Node starts a child by fork()ing its whole process, which costs milliseconds
// a command when the engine holds a large heap; posix_spawn from this small process does not
// copy anything. One helper serves one `task` run; it exits when its standard input closes.
//
// Requests (standard input), NUL-separated fields:
//   "S" id cwd argc arg... envc env...      start a command; envc entries "NAME=value"
// Replies (standard output), a text header line, then for "O" that many bytes:
//   "P id pid\n"              started, in a session and process group of its own (pgid = pid)
//   "F id errno\n"            could not start (errno of the failed exec or chdir)
//   "O id fd length\n" bytes  output on fd 1 or 2
//   "X id status\n"           exited (a waitpid status) and both output pipes reached end of file
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

struct child {
  long id;
  pid_t pid;
  int out[2];   // read ends of stdout and stderr; -1 once at end of file
  int exited;
  int status;
};

static struct child *children;
static size_t nchildren, capchildren;
static char *inbuf;
static size_t inlen, incap;

static void die(const char *what) {
  perror(what);
  exit(70);
}

static void write_all(const void *data, size_t len) {
  const char *p = data;
  while (len > 0) {
    ssize_t n = write(1, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      exit(0);  // The engine is gone: nothing is left to report to.
    }
    p += n;
    len -= (size_t)n;
  }
}

static void reply(const char *fmt, long a, long b) {
  char line[96];
  int n = snprintf(line, sizeof line, fmt, a, b);
  write_all(line, (size_t)n);
}

static void finish_if_done(size_t i) {
  struct child *c = &children[i];
  if (!c->exited || c->out[0] >= 0 || c->out[1] >= 0) return;
  reply("X %ld %ld\n", c->id, (long)c->status);
  children[i] = children[--nchildren];
}

// Parses one complete request at inbuf[0..], returns its length, or 0 when more bytes are needed.
static size_t parse_request(char ***fields_out, size_t *nfields_out) {
  static char **fields;
  static size_t capfields;
  size_t nfields = 0, pos = 0, expect = 4;  // S id cwd argc, then args, envc, envs
  int stage = 0;
  while (nfields < expect) {
    char *end = memchr(inbuf + pos, '\0', inlen - pos);
    if (!end) return 0;
    if (nfields + 1 > capfields) {
      capfields = capfields ? capfields * 2 : 64;
      fields = realloc(fields, capfields * sizeof *fields);
      if (!fields) die("realloc");
    }
    fields[nfields++] = inbuf + pos;
    pos = (size_t)(end - inbuf) + 1;
    if (stage == 0 && nfields == 4) {
      expect = 4 + (size_t)atol(fields[3]) + 1;  // the args, then envc
      stage = 1;
    } else if (stage == 1 && nfields == expect) {
      expect += (size_t)atol(fields[nfields - 1]);
      stage = 2;
    }
  }
  *fields_out = fields;
  *nfields_out = nfields;
  return pos;
}

static void start(char **fields, size_t nfields) {
  long id = atol(fields[1]);
  const char *cwd = fields[2];
  size_t argc = (size_t)atol(fields[3]);
  size_t envc = (size_t)atol(fields[4 + argc]);
  char **argv = calloc(argc + 1, sizeof *argv);
  char **envp = calloc(envc + 1, sizeof *envp);
  if (!argv || !envp || nfields < 5 + argc + envc) die("request");
  for (size_t k = 0; k < argc; k++) argv[k] = fields[4 + k];
  for (size_t k = 0; k < envc; k++) envp[k] = fields[5 + argc + k];

  int outp[2], errp[2];
  if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) die("pipe2");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
  posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
  posix_spawn_file_actions_addchdir_np(&fa, cwd);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);  // ignored signals (SIGINT here) must not carry over
  // A session of its own, as Node's `detached` gives: its process group (pgid = pid) lets a
  // stop reach its children, and without a terminal a command that opens /dev/tty fails
  // instead of being stopped by SIGTTIN in a background group, which would hang the build.
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSID);
  pid_t pid;
  // posix_spawnp searches PATH as execvp would: the PATH of the command's own environment.
  char *saved_path = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
  for (size_t k = 0; k < envc; k++)
    if (strncmp(envp[k], "PATH=", 5) == 0) setenv("PATH", envp[k] + 5, 1);
  int err = posix_spawnp(&pid, argv[0], &fa, &attr, argv, envp);
  if (saved_path) setenv("PATH", saved_path, 1); else unsetenv("PATH");
  free(saved_path);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  close(outp[1]);
  close(errp[1]);
  free(argv);
  free(envp);
  if (err != 0) {
    close(outp[0]);
    close(errp[0]);
    reply("F %ld %ld\n", id, (long)err);
    return;
  }
  if (nchildren == capchildren) {
    capchildren = capchildren ? capchildren * 2 : 16;
    children = realloc(children, capchildren * sizeof *children);
    if (!children) die("realloc");
  }
  children[nchildren++] = (struct child){id, pid, {outp[0], errp[0]}, 0, 0};
  reply("P %ld %ld\n", id, (long)pid);
}

static void read_requests(void) {
  if (incap - inlen < 65536) {
    incap = incap ? incap * 2 : 131072;
    inbuf = realloc(inbuf, incap);
    if (!inbuf) die("realloc");
  }
  ssize_t n = read(0, inbuf + inlen, incap - inlen);
  if (n < 0 && errno == EINTR) return;
  if (n <= 0) exit(0);  // The engine closed its end: this run is over.
  inlen += (size_t)n;
  for (;;) {
    char **fields;
    size_t nfields;
    size_t used = parse_request(&fields, &nfields);
    if (used == 0) break;
    if (fields[0][0] == 'S') start(fields, nfields);
    memmove(inbuf, inbuf + used, inlen - used);
    inlen -= used;
  }
}

static void reap(int sfd) {
  struct signalfd_siginfo info;
  while (read(sfd, &info, sizeof info) > 0) {}
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    for (size_t i = 0; i < nchildren; i++) {
      if (children[i].pid != pid) continue;
      children[i].exited = 1;
      children[i].status = status;
      finish_if_done(i);
      break;
    }
  }
}

static void forward_output(size_t i, int which) {
  static char data[65536];
  struct child *c = &children[i];
  ssize_t n = read(c->out[which], data, sizeof data);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    close(c->out[which]);
    c->out[which] = -1;
    finish_if_done(i);
    return;
  }
  char head[96];
  int h = snprintf(head, sizeof head, "O %ld %d %zd\n", c->id, which + 1, n);
  write_all(head, (size_t)h);
  write_all(data, (size_t)n);
}

int main(void) {
  // Ctrl-C, a closed terminal or a group-wide SIGTERM reach the helper too; the engine decides
  // what to stop, and needs the helper to report the exits. It ends when the engine does.
  signal(SIGINT, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  signal(SIGTERM, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) die("signalfd");

  struct pollfd *fds = NULL;
  size_t capfds = 0;
  for (;;) {
    size_t want = 2 + 2 * nchildren;
    if (want > capfds) {
      capfds = want * 2;
      fds = realloc(fds, capfds * sizeof *fds);
      if (!fds) die("realloc");
    }
    fds[0] = (struct pollfd){0, POLLIN, 0};
    fds[1] = (struct pollfd){sfd, POLLIN, 0};
    for (size_t i = 0; i < nchildren; i++) {
      fds[2 + 2 * i] = (struct pollfd){children[i].out[0], POLLIN, 0};
      fds[3 + 2 * i] = (struct pollfd){children[i].out[1], POLLIN, 0};
    }
    size_t polled = nchildren;
    if (poll(fds, 2 + 2 * polled, -1) < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    // Output first, so that a command's last bytes are sent before its exit; stdout before
    // stderr, the order a command that wrote to both most likely wrote them in.
    for (size_t i = polled; i-- > 0;) {
      for (int which = 0; which <= 1; which++) {
        struct pollfd *p = &fds[2 + 2 * i + which];
        if (p->fd >= 0 && (p->revents & (POLLIN | POLLHUP | POLLERR)) && i < nchildren && children[i].out[which] == p->fd)
          forward_output(i, which);
      }
    }
    if (fds[1].revents & POLLIN) reap(sfd);
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) read_requests();
  }
}
