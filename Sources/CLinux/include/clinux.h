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
/* Kills the calling process with SIGKILL: a crash that runs no cleanup at all. */
void conary_crash_now(void);

#endif
