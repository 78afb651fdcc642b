// spawn-helper: starts the build's commands for the `task` CLI with posix_spawn.
//
// Why a helper: Node starts a child by fork()ing its whole process, which costs milliseconds
// a command when the engine holds a large heap; posix_spawn from this small process does not
// copy anything. One helper serves one `task` run; it exits when its standard input closes.
//
// Requests (standard input), NUL-separated fields:
//   "S" id cwd argc arg... envc change...  start a command in a session and process group of
//                                          its own (pgid = pid), with the helper's environment
//                                          changed: "NAME=value" sets, "NAME" removes
//   "K" id signo                           signal the command's process group, unless the
//                                          command has been reported exited
// When standard input closes, every command still running gets SIGKILL and the helper exits.
// Replies (standard output), a text header line, then for "O" that many bytes:
//   "F id errno\n"            could not start (errno of the failed pipe, chdir or exec)
//   "O id fd length\n" bytes  output on fd 1 or 2
//   "X id status pid utime stime maxrss\n"
//                             exited (a waitpid status) and both output pipes reached end of file;
//                             with its rusage from wait4 (its own and its waited-for descendants'):
//                             user and system CPU in microseconds, peak resident memory in KiB
//   "P id pid\n"              started; only when it could not be written to the pid file
// Started commands are not replied to: a reply would wake the engine once more per command,
// which costs it CPU the commands need. Instead "id pid\n" is written to the regular file open
// on fd 3, which the engine reads only if the helper dies (to stop what it started, and not to
// start it a second time another way). Without that file, or if a write to it fails, "P" says it.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct child {
  long id;
  pid_t pid;
  int out[2];   // read ends of stdout and stderr; -1 once at end of file
  int exited;
  int status;
  struct rusage usage;
};

extern char **environ;

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

static int pid_file = -1;  // fd 3 when the engine passed one: "id pid" lines of started commands

static void reply(const char *fmt, long a, long b, long c) {
  char line[96];
  int n = snprintf(line, sizeof line, fmt, a, b, c);
  write_all(line, (size_t)n);
}

static long long microseconds(struct timeval t) {
  return (long long)t.tv_sec * 1000000 + t.tv_usec;
}

static void finish_if_done(size_t i) {
  struct child *c = &children[i];
  if (!c->exited || c->out[0] >= 0 || c->out[1] >= 0) return;
  char line[160];
  int n = snprintf(line, sizeof line, "X %ld %ld %ld %lld %lld %ld\n", c->id, (long)c->status, (long)c->pid,
                   microseconds(c->usage.ru_utime), microseconds(c->usage.ru_stime), (long)c->usage.ru_maxrss);
  write_all(line, (size_t)n);
  children[i] = children[--nchildren];
  // Nothing runs: the pids written so far are of no use any more; keep the file small.
  if (nchildren == 0 && pid_file >= 0 && ftruncate(pid_file, 0) == 0) lseek(pid_file, 0, SEEK_SET);
}

// A count field of a request; anything else is a bug in the engine, which then sees the helper
// exit and starts commands through Node instead.
static size_t count(const char *text, long least) {
  char *end;
  long n = strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || n < least || n > 1000000) {
    fprintf(stderr, "spawn-helper: bad request count '%s'\n", text);
    exit(65);
  }
  return (size_t)n;
}

// Parses one complete request at inbuf[0..], returns its length, or 0 when more bytes are needed.
static size_t parse_request(char ***fields_out, size_t *nfields_out) {
  static char **fields;
  static size_t capfields;
  size_t nfields = 0, pos = 0, expect = 4;  // S id cwd argc, then args, envc, changes; K id signo
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
    if (nfields == 1 && fields[0][0] == 'K') {
      expect = 3;
      stage = 3;
    } else if (stage == 0 && nfields == 4) {
      expect = 4 + count(fields[3], 1) + 1;  // the args, then envc
      stage = 1;
    } else if (stage == 1 && nfields == expect) {
      expect += count(fields[nfields - 1], 0);
      stage = 2;
    }
  }
  *fields_out = fields;
  *nfields_out = nfields;
  return pos;
}

// The file posix_spawnp would run for `name`, looked up in `path` as execvp does; NULL if none.
static char *resolve(const char *name, const char *path, const char *cwd) {
  if (strchr(name, '/')) return strdup(name);
  for (const char *p = path; p && *p;) {
    const char *colon = strchr(p, ':');
    size_t len = colon ? (size_t)(colon - p) : strlen(p);
    char *candidate = NULL;
    if (len == 0) {
      if (asprintf(&candidate, "%s/%s", cwd, name) < 0) candidate = NULL;
    } else if (p[0] == '/') {
      if (asprintf(&candidate, "%.*s/%s", (int)len, p, name) < 0) candidate = NULL;
    } else if (asprintf(&candidate, "%s/%.*s/%s", cwd, (int)len, p, name) < 0) {
      candidate = NULL;
    }
    if (candidate && access(candidate, X_OK) == 0) return candidate;
    free(candidate);
    p = colon ? colon + 1 : p + len;
  }
  return NULL;
}

static int spawn_command(pid_t *pid, char **argv, char **envp, const char *cwd, int out, int err) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out, 1);
  posix_spawn_file_actions_adddup2(&fa, err, 2);
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

  // posix_spawnp looks the program up in this process's PATH: make it the command's own (unset
  // when the command has none, so that the C library's default path applies, as for execvp).
  const char *command_path = NULL;
  for (char **e = envp; *e; e++)
    if (strncmp(*e, "PATH=", 5) == 0) command_path = *e + 5;
  char *saved_path = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
  if (command_path) setenv("PATH", command_path, 1); else unsetenv("PATH");
  int result = posix_spawnp(pid, argv[0], &fa, &attr, argv, envp);
  if (result == ENOEXEC) {
    // A script without a #! line: execvp (and so Node) runs it with /bin/sh; posix_spawnp does not.
    char *file = resolve(argv[0], command_path ? command_path : "/bin:/usr/bin", cwd);
    size_t argc = 0;
    while (argv[argc]) argc++;
    char **shell_argv = calloc(argc + 2, sizeof *shell_argv);
    if (file && shell_argv) {
      shell_argv[0] = "sh";
      shell_argv[1] = file;
      for (size_t k = 1; k < argc; k++) shell_argv[k + 1] = argv[k];
      result = posix_spawn(pid, "/bin/sh", &fa, &attr, shell_argv, envp);
    }
    free(shell_argv);
    free(file);
  }
  if (saved_path) setenv("PATH", saved_path, 1); else unsetenv("PATH");
  free(saved_path);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  return result;
}

// Length of the name in "NAME=value" (or of all of "NAME").
static size_t name_length(const char *entry) {
  const char *equals = strchr(entry, '=');
  return equals ? (size_t)(equals - entry) : strlen(entry);
}

// The helper's own environment (the engine's, as it was when it started the helper) with the
// request's changes applied; the entries point into environ and the request.
static char **command_environment(char **changes, size_t nchanges) {
  size_t n = 0;
  while (environ[n]) n++;
  char **envp = calloc(n + nchanges + 1, sizeof *envp);
  if (!envp) die("calloc");
  memcpy(envp, environ, n * sizeof *envp);
  for (size_t k = 0; k < nchanges; k++) {
    size_t len = name_length(changes[k]);
    size_t at = 0;
    while (at < n && !(name_length(envp[at]) == len && strncmp(envp[at], changes[k], len) == 0)) at++;
    if (changes[k][len] == '=') {
      envp[at] = changes[k];
      if (at == n) n++;
    } else if (at < n) {
      envp[at] = envp[--n];
    }
    envp[n] = NULL;
  }
  return envp;
}

static struct child *find_child(long id) {
  for (size_t i = 0; i < nchildren; i++)
    if (children[i].id == id) return &children[i];
  return NULL;
}

// Until a command is reported exited its group is signalled, even once its first process has
// exited: what else of it runs (a background child holding its output open) must stop too.
// Once reported, it is forgotten, and the engine signals the group itself if need be.
static void signal_command(char **fields) {
  struct child *c = find_child(atol(fields[1]));
  if (c) kill(-c->pid, atoi(fields[2]));
}

static void start(char **fields, size_t nfields) {
  long id = atol(fields[1]);
  const char *cwd = fields[2];
  size_t argc = count(fields[3], 1);
  size_t envc = count(fields[4 + argc], 0);
  if (nfields < 5 + argc + envc) die("request");
  char **argv = calloc(argc + 1, sizeof *argv);
  if (!argv) die("calloc");
  for (size_t k = 0; k < argc; k++) argv[k] = fields[4 + k];
  char **envp = command_environment(fields + 5 + argc, envc);

  int outp[2] = {-1, -1}, errp[2] = {-1, -1};
  pid_t pid;
  int err = 0;
  // Out of file descriptors fails this command only, as it would through Node.
  if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) err = errno;
  else err = spawn_command(&pid, argv, envp, cwd, outp[1], errp[1]);
  // The write ends belong to the child now; the read ends are ours, unless it never started.
  int *ends[] = {&outp[1], &errp[1], &outp[0], &errp[0]};
  for (int k = 0; k < (err != 0 ? 4 : 2); k++)
    if (*ends[k] >= 0) close(*ends[k]);
  free(argv);
  free(envp);
  if (err != 0) {
    reply("F %ld %ld %ld\n", id, (long)err, 0);
    return;
  }
  if (nchildren == capchildren) {
    capchildren = capchildren ? capchildren * 2 : 16;
    children = realloc(children, capchildren * sizeof *children);
    if (!children) die("realloc");
  }
  children[nchildren++] = (struct child){.id = id, .pid = pid, .out = {outp[0], errp[0]}};
  char line[64];
  int n = snprintf(line, sizeof line, "%ld %ld\n", id, (long)pid);
  if (pid_file < 0 || write(pid_file, line, (size_t)n) != n) reply("P %ld %ld\n", id, (long)pid, 0);
}

static void read_requests(void) {
  if (incap - inlen < 65536) {
    incap = incap ? incap * 2 : 131072;
    inbuf = realloc(inbuf, incap);
    if (!inbuf) die("realloc");
  }
  ssize_t n = read(0, inbuf + inlen, incap - inlen);
  if (n < 0 && errno == EINTR) return;
  if (n <= 0) {
    // The engine is gone (it ended, or was killed): stop what it started, as its second Ctrl-C
    // would; a command it never learnt the pid of would otherwise outlive it.
    for (size_t i = 0; i < nchildren; i++)
      if (!children[i].exited) kill(-children[i].pid, SIGKILL);
    exit(0);
  }
  inlen += (size_t)n;
  for (;;) {
    char **fields;
    size_t nfields;
    size_t used = parse_request(&fields, &nfields);
    if (used == 0) break;
    if (fields[0][0] == 'S') start(fields, nfields);
    else if (fields[0][0] == 'K') signal_command(fields);
    memmove(inbuf, inbuf + used, inlen - used);
    inlen -= used;
  }
}

static void reap(int sfd) {
  struct signalfd_siginfo info;
  while (read(sfd, &info, sizeof info) > 0) {}
  int status;
  pid_t pid;
  struct rusage usage;
  // wait4, not waitpid: the command's CPU time and peak memory come with its exit.
  while ((pid = wait4(-1, &status, WNOHANG, &usage)) > 0) {
    for (size_t i = 0; i < nchildren; i++) {
      if (children[i].pid != pid) continue;
      children[i].exited = 1;
      children[i].status = status;
      children[i].usage = usage;
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
  // Before any descriptor of the helper's own can take the number 3.
  struct stat pid_file_stat;
  if (fstat(3, &pid_file_stat) == 0 && S_ISREG(pid_file_stat.st_mode) && fcntl(3, F_SETFD, FD_CLOEXEC) == 0) pid_file = 3;
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
