/* The standby factory of a run server: it makes the server's standbys (see standby.py).
 *
 * A standby is a child that waits, already in a run's cgroups, until the server tells it what
 * to execute. Executing a waiting shell for each one cost a second exec per run (0.5 ms of CPU
 * on the VMs of benchmarks/), and a fork of the Python server copies its page tables and then
 * every page either side writes. This process is small: a fork of it costs little.
 *
 * The server starts it once with posix_spawn: descriptor 3 is a Unix stream socket to the
 * server. Each request is one byte (1: the standby becomes nobody before it executes) with four
 * descriptors attached: the standby's stdin, stdout, stderr and the pipe it waits on. The
 * factory makes the standby with clone(CLONE_PARENT), so the standby is the server's child:
 * the server reaps it, and until then its pid cannot be reused. The reply is 4 bytes, little
 * endian: the pid, or minus errno.
 *
 * A standby: its own process group, the four descriptors as 0-3 and no other, then it waits
 * for its command on 3 (the server sets its rlimits first): a 4-byte little-endian length,
 * then two 4-byte counts (environment entries, arguments) and NUL-terminated strings: the
 * working directory, the environment (NAME=value each), the arguments. It becomes nobody if
 * asked, changes to the directory and executes the program with exactly that environment,
 * searching PATH as sh does for a name without a slash. Exit status 127 if the program is not
 * found or the command is malformed, 126 if it cannot be executed, as sh.
 *
 * The factory is not dumpable: a program of the same user can neither trace it nor read or
 * write its memory. It can signal it or change its rlimits; the server then replaces it
 * (standby.py). The factory ends when the server closes the socket.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#define SERVER 3
#define FILES 4
#define NOBODY 65534
#define NOT_FOUND 127
#define NOT_EXECUTABLE 126
#define LARGEST_COMMAND (16u << 20)
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static int read_exactly(int fd, char *buffer, size_t size) {
    while (size > 0) {
        ssize_t got = read(fd, buffer, size);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return -1;
        buffer += got;
        size -= (size_t)got;
    }
    return 0;
}

static uint32_t little_endian(const unsigned char *bytes) {
    return (uint32_t)bytes[0] | (uint32_t)bytes[1] << 8 | (uint32_t)bytes[2] << 16 |
           (uint32_t)bytes[3] << 24;
}

/* The next NUL-terminated string of [*cursor, end), or NULL if there is none. */
static char *next_string(char **cursor, char *end) {
    char *start = *cursor;
    char *nul = memchr(start, '\0', (size_t)(end - start));
    if (nul == NULL)
        return NULL;
    *cursor = nul + 1;
    return start;
}

static void close_all_from(unsigned int first) {
#ifdef SYS_close_range
    if (syscall(SYS_close_range, first, ~0u, 0) == 0)
        return;
#endif
    long last = sysconf(_SC_OPEN_MAX);
    for (long fd = first; fd < last; fd++)
        close((int)fd);
}

/* execve, or for a name without a slash each directory of the environment's PATH in turn. */
static void execute(char **argv, char **environment) {
    const char *name = argv[0];
    if (strchr(name, '/') != NULL) {
        execve(name, argv, environment);
        _exit(errno == ENOENT || errno == ENOTDIR ? NOT_FOUND : NOT_EXECUTABLE);
    }
    const char *path = DEFAULT_PATH;
    for (char **entry = environment; *entry != NULL; entry++)
        if (strncmp(*entry, "PATH=", 5) == 0)
            path = *entry + 5;
    int status = NOT_FOUND;
    size_t name_length = strlen(name);
    char *candidate = malloc(strlen(path) + name_length + 2);
    if (candidate == NULL)
        _exit(NOT_FOUND);
    for (;;) {
        const char *colon = strchrnul(path, ':');
        size_t length = (size_t)(colon - path);
        if (length == 0) { /* an empty entry is the working directory */
            candidate[0] = '.';
            length = 1;
        } else {
            memcpy(candidate, path, length);
        }
        candidate[length] = '/';
        memcpy(candidate + length + 1, name, name_length + 1);
        execve(candidate, argv, environment);
        if (errno != ENOENT && errno != ENOTDIR)
            status = NOT_EXECUTABLE;
        if (*colon == '\0')
            break;
        path = colon + 1;
    }
    _exit(status);
}

static void standby(const int files[FILES], int as_nobody) {
    setpgid(0, 0);
    for (int number = 0; number < FILES; number++)
        if (dup2(files[number], number) < 0)
            _exit(NOT_FOUND);
    close_all_from(FILES);
    unsigned char header[4];
    if (read_exactly(SERVER, (char *)header, sizeof header) != 0)
        _exit(NOT_FOUND); /* discarded before it ran */
    uint32_t size = little_endian(header);
    if (size < 8 || size > LARGEST_COMMAND)
        _exit(NOT_FOUND);
    char *body = malloc(size);
    if (body == NULL || read_exactly(SERVER, body, size) != 0)
        _exit(NOT_FOUND);
    close(SERVER);
    uint32_t variables = little_endian((unsigned char *)body);
    uint32_t arguments = little_endian((unsigned char *)body + 4);
    if (arguments == 0 || variables > size || arguments > size)
        _exit(NOT_FOUND);
    char **environment = calloc((size_t)variables + 1, sizeof(char *));
    char **argv = calloc((size_t)arguments + 1, sizeof(char *));
    if (environment == NULL || argv == NULL)
        _exit(NOT_FOUND);
    char *cursor = body + 8, *end = body + size;
    char *directory = next_string(&cursor, end);
    for (uint32_t index = 0; index < variables; index++)
        if ((environment[index] = next_string(&cursor, end)) == NULL)
            _exit(NOT_FOUND);
    for (uint32_t index = 0; index < arguments; index++)
        if ((argv[index] = next_string(&cursor, end)) == NULL)
            _exit(NOT_FOUND);
    if (directory == NULL)
        _exit(NOT_FOUND);
    if (as_nobody && (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0))
        _exit(NOT_FOUND);
    if (chdir(directory) != 0)
        _exit(NOT_FOUND);
    execute(argv, environment);
}

static void reply(int32_t value) {
    unsigned char bytes[4];
    uint32_t word = (uint32_t)value;
    for (int index = 0; index < 4; index++)
        bytes[index] = (unsigned char)(word >> (8 * index));
    if (write(SERVER, bytes, sizeof bytes) != (ssize_t)sizeof bytes)
        _exit(1);
}

int main(void) {
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        return 1;
    for (;;) {
        char flag;
        struct iovec data = {.iov_base = &flag, .iov_len = 1};
        union {
            char buffer[CMSG_SPACE(FILES * sizeof(int))];
            struct cmsghdr align;
        } control;
        struct msghdr message = {
            .msg_iov = &data,
            .msg_iovlen = 1,
            .msg_control = control.buffer,
            .msg_controllen = sizeof control.buffer,
        };
        ssize_t got = recvmsg(SERVER, &message, MSG_CMSG_CLOEXEC);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return 0; /* the server closed the socket */
        struct cmsghdr *header = CMSG_FIRSTHDR(&message);
        if (header == NULL || header->cmsg_level != SOL_SOCKET ||
            header->cmsg_type != SCM_RIGHTS || header->cmsg_len != CMSG_LEN(FILES * sizeof(int)))
            return 1; /* not the server's protocol */
        int files[FILES];
        memcpy(files, CMSG_DATA(header), sizeof files);
        long pid = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
        if (pid == 0)
            standby(files, flag == 1);
        int error = errno;
        for (int number = 0; number < FILES; number++)
            close(files[number]);
        reply(pid > 0 ? (int32_t)pid : -(int32_t)error);
    }
}
