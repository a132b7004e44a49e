#ifndef CONARY_CLINUX_H
#define CONARY_CLINUX_H

#include <sys/types.h>
#include <stddef.h>

/* Thin wrappers so Swift sees one stable signature whatever the glibc headers declare. */

/* Flags for renameat2(2). */
#define CONARY_RENAME_NOREPLACE (1u << 0)
#define CONARY_RENAME_EXCHANGE (1u << 1)

int conary_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags);
int conary_syncfs(int fd);
ssize_t conary_flistxattr(int fd, char *list, size_t size);
ssize_t conary_fgetxattr(int fd, const char *name, void *value, size_t size);
int conary_fsetxattr(int fd, const char *name, const void *value, size_t size);
ssize_t conary_llistxattr(const char *path, char *list, size_t size);
ssize_t conary_lgetxattr(const char *path, const char *name, void *value, size_t size);
ssize_t conary_copy_file_range(int infd, int outfd, size_t len);
/* Mount namespaces, for a /usr that the boot mounted over (Deploy/UsrMount.swift).
 * conary_private_mounts: the calling thread gets its own mount namespace, with every mount
 * private so nothing done there reaches the host. */
int conary_private_mounts(void);
int conary_detach_mount(const char *path);
/* In a child process that enters the mount namespace `nsfd` (a multithreaded process cannot):
 * detaches whatever is mounted on each of `detach[0..count)`, then binds `usr` onto itself
 * read-only. Returns 0, or -1 with errno from the child. */
int conary_rebind_read_only(int nsfd, const char *const *detach, int count, const char *usr);
/* Clears FS_IMMUTABLE_FL (efivarfs sets it on most variables). 0, or -1 with errno
 * (ENOTTY where the filesystem has no such flags). */
int conary_clear_immutable(int fd);
/* Kills the calling process with SIGKILL: a crash that runs no cleanup at all. */
void conary_crash_now(void);

#endif
