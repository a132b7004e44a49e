#define _GNU_SOURCE
#include "clinux.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <linux/fsverity.h>

int conary_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags) {
    return (int)syscall(SYS_renameat2, olddirfd, oldpath, newdirfd, newpath, flags);
}

int conary_syncfs(int fd) { return syncfs(fd); }

ssize_t conary_flistxattr(int fd, char *list, size_t size) { return flistxattr(fd, list, size); }

ssize_t conary_fgetxattr(int fd, const char *name, void *value, size_t size) {
    return fgetxattr(fd, name, value, size);
}

int conary_fsetxattr(int fd, const char *name, const void *value, size_t size) {
    return fsetxattr(fd, name, value, size, 0);
}

ssize_t conary_llistxattr(const char *path, char *list, size_t size) { return llistxattr(path, list, size); }

ssize_t conary_lgetxattr(const char *path, const char *name, void *value, size_t size) {
    return lgetxattr(path, name, value, size);
}

ssize_t conary_copy_file_range(int infd, int outfd, size_t len) {
    return copy_file_range(infd, NULL, outfd, NULL, len, 0);
}

void conary_crash_now(void) {
    kill(getpid(), SIGKILL);
    _exit(137); /* not reached */
}

int conary_private_mounts(void) {
    if (unshare(CLONE_NEWNS) != 0) return -1;
    return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
}

int conary_detach_mount(const char *path) {
    return umount2(path, MNT_DETACH);
}

int conary_rebind_read_only(int nsfd, const char *const *detach, int count, const char *usr) {
    pid_t child = fork();
    if (child < 0) return -1;
    if (child == 0) {
        /* Only system calls from here on: the parent has other threads. */
        if (setns(nsfd, CLONE_NEWNS) != 0) _exit(errno);
        for (int i = 0; i < count; i++) {
            while (umount2(detach[i], MNT_DETACH) == 0) { }
            if (errno != EINVAL && errno != ENOENT) _exit(errno);
        }
        if (mount(usr, usr, NULL, MS_BIND, NULL) != 0) _exit(errno);
        if (mount(NULL, usr, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) != 0) _exit(errno);
        _exit(0);
    }
    int status;
    while (waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) return -1;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
    errno = WIFEXITED(status) ? WEXITSTATUS(status) : ECHILD;
    return -1;
}

/* From <linux/fs.h>, which clashes with <sys/mount.h> in glibc 2.36. The kernel reads an int. */
#define CONARY_FS_IOC_GETFLAGS _IOR('f', 1, long)
#define CONARY_FS_IOC_SETFLAGS _IOW('f', 2, long)
#define CONARY_FS_IMMUTABLE_FL 0x00000010

int conary_clear_immutable(int fd) {
    int flags;
    if (ioctl(fd, CONARY_FS_IOC_GETFLAGS, &flags) != 0) return -1;
    if (!(flags & CONARY_FS_IMMUTABLE_FL)) return 0;
    flags &= ~CONARY_FS_IMMUTABLE_FL;
    return ioctl(fd, CONARY_FS_IOC_SETFLAGS, &flags);
}

int conary_enable_verity(int fd) {
    struct fsverity_enable_arg arg = {
        .version = 1, .hash_algorithm = FS_VERITY_HASH_ALG_SHA256, .block_size = 4096,
    };
    return ioctl(fd, FS_IOC_ENABLE_VERITY, &arg);
}

int conary_measure_verity(int fd, unsigned char *digest, size_t capacity) {
    /* Room for the largest digest fs-verity makes (SHA-512). */
    union { struct fsverity_digest header; unsigned char raw[sizeof(struct fsverity_digest) + 64]; } arg;
    arg.header.digest_size = 64;
    if (ioctl(fd, FS_IOC_MEASURE_VERITY, &arg) != 0) return -1;
    if (arg.header.digest_size > capacity) { errno = EOVERFLOW; return -1; }
    memcpy(digest, arg.header.digest, arg.header.digest_size);
    return arg.header.digest_size;
}

/* ---- The sandbox -------------------------------------------------------------------------
 * The parent prepares everything (strings, arrays, the output ring) and clones a child into
 * new namespaces; the child is PID 1 of its PID namespace and uses only system calls and
 * async-signal-safe string functions until execve, as the parent has other threads. */

#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#define SANDBOX_ROOT "/sandbox"

static const char *const sandbox_devices[] = {"null", "zero", "full", "random", "urandom", "tty"};
static const char *const sandbox_proc_read_only[] = {"sys", "sysrq-trigger", "irq", "bus"};
/* Where the staging tmpfs may go: any folder will do, it is left at once by pivot_root. */
static const char *const sandbox_staging[] = {"/tmp", "/mnt", "/run", "/dev"};
/* Capabilities the program loses unless administration is allowed: with them it could undo
 * the sandbox (remount a read-only bind writable, unmount an overlay), load kernel modules,
 * reboot, set the clock or reconfigure the host's network. */
static const int sandbox_dropped_capabilities[] = {
    21 /* SYS_ADMIN */, 16 /* SYS_MODULE */, 22 /* SYS_BOOT */, 25 /* SYS_TIME */, 17 /* SYS_RAWIO */,
    20 /* SYS_PACCT */, 34 /* SYSLOG */, 12 /* NET_ADMIN */, 33 /* MAC_ADMIN */, 38 /* PERFMON */, 39 /* BPF */,
};

const char *conary_sandbox_device(int index) {
    return index >= 0 && index < (int)(sizeof sandbox_devices / sizeof *sandbox_devices) ? sandbox_devices[index] : "?";
}

const char *conary_sandbox_proc_read_only(int index) {
    return index >= 0 && index < (int)(sizeof sandbox_proc_read_only / sizeof *sandbox_proc_read_only)
        ? sandbox_proc_read_only[index] : "?";
}

struct sandbox_report {
    int step, entry, detail, error;
    char path[1024];
};

/* Tells the parent which step failed (errno at the time of the call), then ends the child. */
static void __attribute__((noreturn)) sandbox_fail(int fd, int step, int entry, int detail, const char *path) {
    struct sandbox_report report;
    memset(&report, 0, sizeof report);
    report.error = errno;
    report.step = step;
    report.entry = entry;
    report.detail = detail;
    if (path) {
        size_t length = strlen(path);
        if (length >= sizeof report.path) length = sizeof report.path - 1;
        memcpy(report.path, path, length);
    }
    /* Smaller than PIPE_BUF, so one write delivers it whole. */
    ssize_t ignored = write(fd, &report, sizeof report);
    (void)ignored;
    _exit(127);
}

/* `out` = a + b + c (c may be NULL); -1 with ENAMETOOLONG if that does not fit PATH_MAX. */
static int sandbox_join(char *out, const char *a, const char *b, const char *c) {
    size_t la = strlen(a), lb = strlen(b), lc = c ? strlen(c) : 0;
    if (la + lb + lc >= PATH_MAX) { errno = ENAMETOOLONG; return -1; }
    memcpy(out, a, la);
    memcpy(out + la, b, lb);
    if (c) memcpy(out + la + lb, c, lc);
    out[la + lb + lc] = 0;
    return 0;
}

/* Creates what is missing of SANDBOX_ROOT/<relative>, writing that path to `path`. No
 * component may be a symlink, so a place never resolves outside the root. The last one
 * becomes a folder (S_IFDIR, with `mode` if new), an empty file (S_IFREG), or must be
 * missing (0, for a symlink). */
static int sandbox_place(char *path, const char *relative, mode_t want, mode_t mode) {
    size_t length = strlen(SANDBOX_ROOT);
    if (length + 1 + strlen(relative) >= PATH_MAX) { errno = ENAMETOOLONG; return -1; }
    memcpy(path, SANDBOX_ROOT, length + 1);
    const char *part = relative;
    while (*part) {
        const char *end = strchr(part, '/');
        if (!end) end = part + strlen(part);
        path[length++] = '/';
        memcpy(path + length, part, (size_t)(end - part));
        length += (size_t)(end - part);
        path[length] = 0;
        int last = *end == 0;
        struct stat st;
        if (lstat(path, &st) == 0) {
            if (S_ISLNK(st.st_mode)) { errno = ELOOP; return -1; }
            if (!last || want == S_IFDIR) {
                if (!S_ISDIR(st.st_mode)) { errno = ENOTDIR; return -1; }
            } else if (want == S_IFREG) {
                if (S_ISDIR(st.st_mode)) { errno = EISDIR; return -1; }
            } else {
                errno = EEXIST;
                return -1;
            }
        } else {
            if (errno != ENOENT) return -1;
            if (!last || want == S_IFDIR) {
                if (mkdir(path, last ? mode : 0755) != 0) return -1;
            } else if (want == S_IFREG) {
                int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
                if (fd < 0) return -1;
                close(fd);
            }
        }
        part = last ? end : end + 1;
    }
    return 0;
}

/* Read-only all the way down (mount_setattr, Linux 5.12); older kernels: the top mount only. */
static int sandbox_read_only(const char *path) {
    struct { uint64_t set, clear, propagation, userns; } attr = {MOUNT_ATTR_RDONLY, 0, 0, 0};
    if (syscall(SYS_mount_setattr, AT_FDCWD, path, AT_RECURSIVE, &attr, sizeof attr) == 0) return 0;
    if (errno != ENOSYS) return -1;
    return mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL);
}

static void sandbox_mount_entry(const struct conary_sandbox_entry *entry, int index, int report) {
    char path[PATH_MAX], other[PATH_MAX];
    mode_t want = entry->kind == CONARY_SANDBOX_SYMLINK ? 0 : entry->kind == CONARY_SANDBOX_BIND && entry->file ? S_IFREG : S_IFDIR;
    if (entry->kind == CONARY_SANDBOX_OVERLAY && entry->layer) {
        /* The overlay's top folder shows the upper folder's mode and owner: the lower one's. */
        if (mkdir(entry->layer, 0700) != 0 || sandbox_join(other, entry->layer, "/upper", NULL) != 0
            || mkdir(other, 0700) != 0 || chown(other, entry->uid, entry->gid) != 0 || chmod(other, entry->mode & 07777) != 0
            || sandbox_join(other, entry->layer, "/work", NULL) != 0 || mkdir(other, 0700) != 0)
            sandbox_fail(report, CONARY_SANDBOX_LAYER, index, -1, NULL);
    }
    if (sandbox_place(path, entry->target, want, entry->kind == CONARY_SANDBOX_DIRECTORY ? entry->mode : 0755) != 0)
        sandbox_fail(report, CONARY_SANDBOX_TARGET, index, -1, NULL);
    switch (entry->kind) {
    case CONARY_SANDBOX_DIRECTORY:
        break;
    case CONARY_SANDBOX_SYMLINK:
        if (symlink(entry->source, path) != 0) sandbox_fail(report, CONARY_SANDBOX_TARGET, index, -1, NULL);
        break;
    case CONARY_SANDBOX_TMPFS:
        if (mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, entry->source) != 0)
            sandbox_fail(report, CONARY_SANDBOX_MOUNT, index, -1, NULL);
        break;
    case CONARY_SANDBOX_BIND:
        if (mount(entry->source, path, NULL, MS_BIND | MS_REC, NULL) != 0) sandbox_fail(report, CONARY_SANDBOX_MOUNT, index, -1, NULL);
        if (!entry->writable && sandbox_read_only(path) != 0) sandbox_fail(report, CONARY_SANDBOX_READ_ONLY, index, -1, NULL);
        break;
    case CONARY_SANDBOX_OVERLAY:
        if (mount("overlay", path, "overlay", 0, entry->source) != 0) sandbox_fail(report, CONARY_SANDBOX_MOUNT, index, -1, NULL);
        break;
    case CONARY_SANDBOX_PROC:
        if (mount("proc", path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
            sandbox_fail(report, CONARY_SANDBOX_MOUNT, index, -1, NULL);
        /* The kernel's knobs are global, not the namespace's: they stay as they are. */
        for (int i = 0; i < (int)(sizeof sandbox_proc_read_only / sizeof *sandbox_proc_read_only); i++) {
            if (sandbox_join(other, path, "/", sandbox_proc_read_only[i]) != 0) sandbox_fail(report, CONARY_SANDBOX_READ_ONLY, index, i, NULL);
            if (mount(other, other, NULL, MS_BIND | MS_REC, NULL) != 0) {
                if (errno == ENOENT) continue;
                sandbox_fail(report, CONARY_SANDBOX_READ_ONLY, index, i, NULL);
            }
            if (sandbox_read_only(other) != 0) sandbox_fail(report, CONARY_SANDBOX_READ_ONLY, index, i, NULL);
        }
        break;
    case CONARY_SANDBOX_SYS:
        if (mount("sysfs", path, "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
            sandbox_fail(report, CONARY_SANDBOX_MOUNT, index, -1, NULL);
        break;
    case CONARY_SANDBOX_DEV: {
        if (mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755") != 0) sandbox_fail(report, CONARY_SANDBOX_MOUNT, index, -1, NULL);
        for (int i = 0; i < (int)(sizeof sandbox_devices / sizeof *sandbox_devices); i++) {
            char source[PATH_MAX];
            if (sandbox_join(other, path, "/", sandbox_devices[i]) != 0
                || sandbox_join(source, CONARY_SANDBOX_HOST, "/dev/", sandbox_devices[i]) != 0)
                sandbox_fail(report, CONARY_SANDBOX_DEVICE, index, i, NULL);
            int fd = open(other, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
            if (fd < 0) sandbox_fail(report, CONARY_SANDBOX_DEVICE, index, i, NULL);
            close(fd);
            if (mount(source, other, NULL, MS_BIND, NULL) != 0) sandbox_fail(report, CONARY_SANDBOX_DEVICE, index, i, NULL);
        }
        static const char *const links[][2] = {
            {"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"},
        };
        for (int i = 0; i < 4; i++) {
            if (sandbox_join(other, path, "/", links[i][0]) != 0 || symlink(links[i][1], other) != 0)
                sandbox_fail(report, CONARY_SANDBOX_MOUNT, index, -1, NULL);
        }
        if (sandbox_join(other, path, "/shm", NULL) != 0 || mkdir(other, 01777) != 0) sandbox_fail(report, CONARY_SANDBOX_MOUNT, index, -1, NULL);
        break;
    }
    default:
        errno = EINVAL;
        sandbox_fail(report, CONARY_SANDBOX_MOUNT, index, -1, NULL);
    }
}

static void sandbox_drop_capabilities(int report) {
    struct { uint32_t version; int pid; } header = {0x20080522 /* _LINUX_CAPABILITY_VERSION_3 */, 0};
    struct { uint32_t effective, permitted, inheritable; } data[2];
    int count = (int)(sizeof sandbox_dropped_capabilities / sizeof *sandbox_dropped_capabilities);
    for (int i = 0; i < count; i++) {
        /* EINVAL: a capability this kernel does not know. */
        if (prctl(PR_CAPBSET_DROP, sandbox_dropped_capabilities[i], 0, 0, 0) != 0 && errno != EINVAL)
            sandbox_fail(report, CONARY_SANDBOX_CAPABILITIES, -1, sandbox_dropped_capabilities[i], NULL);
    }
    /* An inheritable capability would come back at execve, the bounding set notwithstanding. */
    if (syscall(SYS_capget, &header, data) != 0) sandbox_fail(report, CONARY_SANDBOX_CAPABILITIES, -1, -1, NULL);
    for (int i = 0; i < count; i++) {
        int cap = sandbox_dropped_capabilities[i];
        data[cap / 32].inheritable &= ~(1u << (cap % 32));
    }
    if (syscall(SYS_capset, &header, data) != 0) sandbox_fail(report, CONARY_SANDBOX_CAPABILITIES, -1, -1, NULL);
}

/* execve, searching `search_path` when the program has no slash, like execvp but without
 * its allocations; reports the most telling failure. */
static void __attribute__((noreturn)) sandbox_exec(const struct conary_sandbox *sandbox, int report) {
    const char *program = sandbox->argv[0];
    char *const *argv = (char *const *)sandbox->argv;
    char *const *envp = (char *const *)sandbox->envp;
    struct stat st;
    if (strchr(program, '/')) {
        execve(program, argv, envp);
        int error = errno;
        int exists = error == ENOENT && stat(program, &st) == 0;
        errno = error;
        sandbox_fail(report, CONARY_SANDBOX_EXEC, -1, exists, program);
    }
    char candidate[PATH_MAX], denied[PATH_MAX];
    denied[0] = 0;
    const char *directory = sandbox->search_path;
    while (1) {
        const char *end = strchr(directory, ':');
        if (!end) end = directory + strlen(directory);
        size_t length = (size_t)(end - directory);
        if (length == 0) { candidate[0] = '.'; length = 1; } else if (length < PATH_MAX) memcpy(candidate, directory, length);
        if (length + 1 + strlen(program) < PATH_MAX) {
            candidate[length] = '/';
            memcpy(candidate + length + 1, program, strlen(program) + 1);
            execve(candidate, argv, envp);
            int error = errno;
            if (error == EACCES) {
                if (!denied[0]) memcpy(denied, candidate, strlen(candidate) + 1);
            } else if (error == ENOENT) {
                if (stat(candidate, &st) == 0) { errno = error; sandbox_fail(report, CONARY_SANDBOX_EXEC, -1, 1, candidate); }
            } else if (error != ENOTDIR && error != ELOOP && error != ENAMETOOLONG) {
                errno = error;
                sandbox_fail(report, CONARY_SANDBOX_EXEC, -1, 0, candidate);
            }
        }
        if (!*end) break;
        directory = end + 1;
    }
    errno = denied[0] ? EACCES : ENOENT;
    sandbox_fail(report, CONARY_SANDBOX_EXEC, -1, 0, denied[0] ? denied : NULL);
}

static void __attribute__((noreturn)) sandbox_child(const struct conary_sandbox *sandbox, int report, int output) {
    /* Dies with the thread that waits for it, and with it the whole namespace. */
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    /* Standard input, output and error are replaced at the end; the report must outlive that. */
    if (report < 3 && (report = fcntl(report, F_DUPFD_CLOEXEC, 3)) < 0) _exit(127);
    struct sigaction standard;
    memset(&standard, 0, sizeof standard);
    standard.sa_handler = SIG_DFL;
    for (int signal = 1; signal < NSIG; signal++) {
        if (signal != SIGKILL && signal != SIGSTOP) sigaction(signal, &standard, NULL);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    setsid();
    umask(0);

    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) sandbox_fail(report, CONARY_SANDBOX_PRIVATE, -1, -1, NULL);
    /* A tmpfs to build in, with the host's root moved under it: host paths stay reachable
     * (under CONARY_SANDBOX_HOST) whatever folder the tmpfs covers. */
    int staged = -1;
    for (int i = 0; i < (int)(sizeof sandbox_staging / sizeof *sandbox_staging) && staged < 0; i++) {
        if (mount("conary-sandbox", sandbox_staging[i], "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") == 0) staged = i;
    }
    if (staged < 0) sandbox_fail(report, CONARY_SANDBOX_STAGING, -1, -1, NULL);
    if (chdir(sandbox_staging[staged]) != 0 || mkdir("." CONARY_SANDBOX_HOST, 0700) != 0 || mkdir("." SANDBOX_ROOT, 0755) != 0
        || mkdir("." CONARY_SANDBOX_LAYERS, 0700) != 0)
        sandbox_fail(report, CONARY_SANDBOX_STAGING, -1, -1, NULL);
    if (syscall(SYS_pivot_root, ".", "." CONARY_SANDBOX_HOST) != 0 || chdir("/") != 0)
        sandbox_fail(report, CONARY_SANDBOX_HOST_ASIDE, -1, -1, NULL);
    if (mount("conary-root", SANDBOX_ROOT, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0)
        sandbox_fail(report, CONARY_SANDBOX_ROOT, -1, -1, NULL);
    for (int i = 0; i < sandbox->entry_count; i++) sandbox_mount_entry(&sandbox->entries[i], i, report);

    /* The new root becomes "/" and the staging tmpfs, with the host's root under it, goes. */
    if (chdir(SANDBOX_ROOT) != 0 || syscall(SYS_pivot_root, ".", ".") != 0 || umount2(".", MNT_DETACH) != 0 || chdir("/") != 0)
        sandbox_fail(report, CONARY_SANDBOX_ENTER, -1, -1, NULL);
    if (sandbox->hostname && sethostname(sandbox->hostname, strlen(sandbox->hostname)) != 0)
        sandbox_fail(report, CONARY_SANDBOX_HOSTNAME, -1, -1, NULL);
    if (!sandbox->administration) sandbox_drop_capabilities(report);
    if (chdir(sandbox->directory) != 0) sandbox_fail(report, CONARY_SANDBOX_CHDIR, -1, -1, NULL);

    /* Above 2 first, so that no descriptor is overwritten before it is copied. */
    int input = fcntl(sandbox->input_fd, F_DUPFD_CLOEXEC, 3), log = fcntl(output, F_DUPFD_CLOEXEC, 3);
    if (input < 0 || log < 0 || dup2(input, 0) != 0 || dup2(log, 1) != 1 || dup2(log, 2) != 2)
        sandbox_fail(report, CONARY_SANDBOX_STDIO, -1, -1, NULL);
    /* Whatever else is open (the report pipe included) closes at execve. */
    if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
        struct rlimit limit;
        int highest = getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < 65536 ? (int)limit.rlim_cur : 65536;
        for (int fd = 3; fd < highest; fd++) fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    umask(022);
    sandbox_exec(sandbox, report);
}

static int sandbox_read(int fd, void *buffer, size_t size) {
    ssize_t count;
    do { count = read(fd, buffer, size); } while (count < 0 && errno == EINTR);
    return (int)count;
}

int conary_sandbox_run(const struct conary_sandbox *sandbox, struct conary_sandbox_outcome *outcome) {
    memset(outcome, 0, sizeof *outcome);
    outcome->failed_entry = -1;
    int output[2], report[2];
    if (pipe2(output, O_CLOEXEC) != 0) return -1;
    if (pipe2(report, O_CLOEXEC) != 0) {
        int error = errno;
        close(output[0]);
        close(output[1]);
        errno = error;
        return -1;
    }
    size_t capacity = sandbox->output_capacity;
    char *ring = capacity ? malloc(capacity) : NULL;
    char chunk[16384];
    if (capacity && !ring) {
        close(output[0]); close(output[1]); close(report[0]); close(report[1]);
        errno = ENOMEM;
        return -1;
    }
    int flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | (sandbox->network ? 0 : CLONE_NEWNET);
    /* A bare clone, like fork without the atfork handlers: the child runs on a copy of this stack. */
    pid_t child = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
    if (child == 0) {
        close(output[0]);
        close(report[0]);
        sandbox_child(sandbox, report[1], output[1]);
    }
    int clone_error = errno;
    close(output[1]);
    close(report[1]);
    if (child < 0) {
        close(output[0]);
        close(report[0]);
        free(ring);
        outcome->failed_step = CONARY_SANDBOX_CLONE;
        outcome->failed_errno = clone_error;
        return 0;
    }

    /* The report pipe closes at execve, or brings the step that failed. */
    struct sandbox_report failure;
    size_t received = 0;
    int count;
    while ((count = sandbox_read(report[0], (char *)&failure + received, sizeof failure - received)) > 0) {
        received += (size_t)count;
        if (received == sizeof failure) break;
    }
    close(report[0]);

    /* The last `capacity` bytes of the output, kept in a ring. */
    size_t start = 0, length = 0;
    while ((count = sandbox_read(output[0], chunk, sizeof chunk)) > 0) {
        outcome->output_total += (unsigned long long)count;
        if (!capacity) continue;
        const char *data = chunk;
        size_t size = (size_t)count;
        if (size >= capacity) { data += size - capacity; size = capacity; }
        size_t end = (start + length) % capacity;
        size_t first = capacity - end < size ? capacity - end : size;
        memcpy(ring + end, data, first);
        memcpy(ring, data + first, size - first);
        if (length + size > capacity) {
            start = (start + length + size - capacity) % capacity;
            length = capacity;
        } else {
            length += size;
        }
    }
    close(output[0]);
    for (size_t i = 0; i < length; i++) sandbox->output[i] = ring[(start + i) % capacity];
    outcome->output_length = length;
    free(ring);

    int status;
    while (waitpid(child, &status, 0) < 0) {
        /* ECHILD: something else reaped it (SIGCHLD ignored), so its status is unknown. */
        if (errno != EINTR) return -1;
    }
    outcome->wait_status = status;
    if (received == sizeof failure) {
        outcome->failed_step = failure.step;
        outcome->failed_entry = failure.entry;
        outcome->failed_detail = failure.detail;
        outcome->failed_errno = failure.error;
        memcpy(outcome->failed_path, failure.path, sizeof failure.path);
    }
    return 0;
}
