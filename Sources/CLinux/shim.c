#define _GNU_SOURCE
#include "clinux.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

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
