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
/* fs-verity (Sources/ConarySupport/FSVerity.swift). conary_enable_verity seals the file open
 * read-only at `fd` with SHA-256 over 4096-byte blocks and no salt; 0, or -1 with errno.
 * conary_measure_verity writes the file's fs-verity digest into `digest` (room for
 * `capacity` bytes) and returns its length, or -1 with errno (ENODATA: not sealed). */
int conary_enable_verity(int fd);
int conary_measure_verity(int fd, unsigned char *digest, size_t capacity);
/* Kills the calling process with SIGKILL: a crash that runs no cleanup at all. */
void conary_crash_now(void);

/* The sandbox (Sources/ConaryDeploy/Sandbox.swift): one program in fresh mount, PID, UTS, IPC and (unless
 * network is allowed) network namespaces, in a root built on a tmpfs from `entries`, in order.
 * While the root is built the host's root is seen under CONARY_SANDBOX_HOST, so every host
 * path the caller passes (bind sources, overlay folders) carries that prefix, and the
 * discarded layer of overlay entry N lives in CONARY_SANDBOX_LAYERS/N. */
#define CONARY_SANDBOX_HOST "/host"
#define CONARY_SANDBOX_LAYERS "/layers"

#define CONARY_SANDBOX_DIRECTORY 1 /* a folder, `mode` */
#define CONARY_SANDBOX_SYMLINK 2   /* a symlink whose text is `source` */
#define CONARY_SANDBOX_TMPFS 3     /* a tmpfs; `source` holds its mount options */
#define CONARY_SANDBOX_BIND 4      /* `source` (a host path), recursively, read-only unless `writable` */
#define CONARY_SANDBOX_OVERLAY 5   /* an overlay; `source` holds its mount options */
#define CONARY_SANDBOX_PROC 6      /* a proc of the new PID namespace; sys, sysrq-trigger, irq, bus read-only */
#define CONARY_SANDBOX_SYS 7       /* a sysfs of the sandbox's network namespace, read-only */
#define CONARY_SANDBOX_DEV 8       /* a tmpfs with the host's null, zero, full, random, urandom, tty */

struct conary_sandbox_entry {
    int kind;
    int writable;        /* BIND: stays writable */
    int file;            /* BIND: the source is not a folder */
    unsigned int mode;   /* DIRECTORY; OVERLAY with a layer: the mode, uid and gid of its upper folder */
    unsigned int uid, gid;
    const char *target;  /* in the sandbox, relative to its root: no "." or "..", "" for the root */
    const char *source;
    const char *layer;   /* OVERLAY whose writes are discarded: CONARY_SANDBOX_LAYERS/N, else NULL */
};

struct conary_sandbox {
    const struct conary_sandbox_entry *entries;
    int entry_count;
    const char *const *argv;    /* NULL-terminated */
    const char *const *envp;    /* NULL-terminated, the program's whole environment */
    const char *search_path;    /* where to look for argv[0] when it has no slash */
    const char *hostname;
    const char *directory;      /* working directory, in the sandbox */
    int network;                /* nonzero: stay in the host's network namespace */
    int administration;         /* nonzero: keep CAP_SYS_ADMIN, CAP_SYS_MODULE and the like */
    int input_fd;               /* becomes standard input */
    char *output;               /* receives the last output_capacity bytes of stdout and stderr */
    size_t output_capacity;
};

/* The step of the setup that failed; the program did not run. */
#define CONARY_SANDBOX_OK 0
#define CONARY_SANDBOX_CLONE 1        /* creating the namespaces */
#define CONARY_SANDBOX_PRIVATE 2      /* making every mount private */
#define CONARY_SANDBOX_STAGING 3      /* mounting the tmpfs the root is built in */
#define CONARY_SANDBOX_HOST_ASIDE 4   /* pivot_root to CONARY_SANDBOX_HOST */
#define CONARY_SANDBOX_ROOT 5         /* mounting the root tmpfs */
#define CONARY_SANDBOX_TARGET 6       /* creating the place of an entry */
#define CONARY_SANDBOX_MOUNT 7        /* mounting an entry */
#define CONARY_SANDBOX_READ_ONLY 8    /* making an entry read-only; detail: proc path or -1 */
#define CONARY_SANDBOX_LAYER 9        /* creating the discarded layer of an overlay */
#define CONARY_SANDBOX_DEVICE 10      /* binding device node `detail` */
#define CONARY_SANDBOX_ENTER 11       /* pivot_root into the new root */
#define CONARY_SANDBOX_HOSTNAME 12
#define CONARY_SANDBOX_CAPABILITIES 13
#define CONARY_SANDBOX_CHDIR 14
#define CONARY_SANDBOX_STDIO 15
#define CONARY_SANDBOX_EXEC 16        /* detail 1: `path` exists, its interpreter or loader does not */

struct conary_sandbox_outcome {
    int wait_status;                 /* of the program, when failed_step is CONARY_SANDBOX_OK */
    size_t output_length;            /* bytes in sandbox->output */
    unsigned long long output_total; /* bytes the program wrote */
    int failed_step;
    int failed_entry;                /* index into entries, or -1 */
    int failed_detail;
    int failed_errno;
    char failed_path[1024];          /* EXEC: the file execve failed on */
};

/* Runs the program and waits for it: 0 with `outcome` filled, or -1 with errno when the
 * parent's side (pipes, memory, waitpid) failed. Nothing stays mounted: every mount lives in the
 * namespace, which ends with the program (and everything it started: it is PID 1). */
int conary_sandbox_run(const struct conary_sandbox *sandbox, struct conary_sandbox_outcome *outcome);
/* The device node `index` of a DEV entry, or path `index` of a PROC entry made read-only. */
const char *conary_sandbox_device(int index);
const char *conary_sandbox_proc_read_only(int index);

#endif
