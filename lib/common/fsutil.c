/* File-system helpers: atomic replacement of a file (write, flush, rename, flush the folder)
 * with a failure-injection hook for tests, and mkdir -p. */
#include "common/fsutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#if defined(_WIN32)
#include <io.h>
#include <windows.h>
#else
#include <fcntl.h>
#include <unistd.h>
#endif

static int injected_step;

void dlv__fs_inject_failure(int step)
{
    injected_step = step;
}

static bool injected(int step)
{
    if (injected_step == step) {
        errno = EIO;
        return true;
    }
    return false;
}

#if !defined(_WIN32)
static void fsync_parent(const char *path)
{
    char *dir = dlv__strdup(path);
    if (!dir)
        return;
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        strcpy(dir, ".");
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    dlv__free(dir);
}
#endif

#if !defined(_WIN32)
/* Where the bytes of `path` live: a symbolic link is followed to its target, so that the file
 * the link points at is the one replaced and the link stays a link. *exists tells whether that
 * file exists (a first start writes a new one); *st is its status then. */
static int resolve_target(const char *path, char **target, bool *exists, struct stat *st,
                          dlv_error *err)
{
    struct stat lst;
    *exists = false;
    *target = NULL;
    if (lstat(path, &lst) != 0) {
        if (errno != ENOENT)
            return dlv__error_set(err, DLV_EIO, "%s: cannot read the file's status: %s", path,
                                  strerror(errno));
        *target = dlv__strdup(path);
        return *target ? DLV_OK : dlv__error_set(err, DLV_ENOMEM, "%s: out of memory", path);
    }
    if (S_ISLNK(lst.st_mode)) {
        char *real = realpath(path, NULL);
        if (!real)
            return dlv__error_set(err, DLV_EIO,
                                  "%s: is a symbolic link whose target cannot be reached (%s); "
                                  "point it at the configuration file",
                                  path, strerror(errno));
        *target = dlv__strdup(real);
        free(real);
        if (!*target)
            return dlv__error_set(err, DLV_ENOMEM, "%s: out of memory", path);
        if (stat(*target, st) != 0)
            return dlv__error_set(err, DLV_EIO, "%s: cannot read the status of %s: %s", path,
                                  *target, strerror(errno));
    } else {
        *st = lst;
        *target = dlv__strdup(path);
        if (!*target)
            return dlv__error_set(err, DLV_ENOMEM, "%s: out of memory", path);
    }
    if (!S_ISREG(st->st_mode))
        return dlv__error_set(err, DLV_EIO, "%s: is not a regular file", path);
    *exists = true;
    /* Read-only means read-only for us too: root passes access(W_OK) on a file that nobody may
     * write, so a file without any write bit is refused as well. */
    if (access(*target, W_OK) != 0 || (st->st_mode & 0222) == 0)
        return dlv__error_set(err, DLV_EPERM,
                              "%s: the file may not be changed (no write permission); allow "
                              "writing to it, or write the element yourself",
                              path);
    return DLV_OK;
}
#endif

int dlv__write_file_atomic(const char *path, const void *data, size_t len, dlv_error *err)
{
#if !defined(_WIN32)
    char *target = NULL;
    bool exists = false;
    struct stat st;
    int rrc = resolve_target(path, &target, &exists, &st, err);
    if (rrc != DLV_OK) {
        dlv__free(target);
        return rrc;
    }
    const char *display = path;
    path = target;
#endif
    char *tmp = dlv__asprintf("%s.tmp-XXXXXX", path);
    if (!tmp) {
        int nomem = dlv__error_set(err, DLV_ENOMEM, "%s: out of memory", path);
#if !defined(_WIN32)
        dlv__free(target);
#endif
        return nomem;
    }
    int rc = DLV_OK;
#if defined(_WIN32)
    /* _mktemp_s + exclusive create; MoveFileEx replaces and flushes through. */
    int fd = -1;
    if (_mktemp_s(tmp, strlen(tmp) + 1) == 0 && !injected(1))
        fd = _open(tmp, _O_CREAT | _O_EXCL | _O_WRONLY | _O_BINARY, _S_IREAD | _S_IWRITE);
#else
    int fd = injected(1) ? -1 : mkstemp(tmp);
#endif
    if (fd < 0) {
        rc = dlv__error_set(err, DLV_EIO, "%s: cannot create a temporary file beside it: %s", path,
                            strerror(errno));
        dlv__free(tmp);
#if !defined(_WIN32)
        dlv__free(target);
#endif
        return rc;
    }
#if !defined(_WIN32)
    /* The new file takes the old one's mode and owner (mkstemp made it 0600, ours). An owner we
     * may not give it (not root) stays ours; the mode is kept either way. */
    if (exists) {
        if (fchown(fd, st.st_uid, st.st_gid) != 0 && fchown(fd, (uid_t)-1, st.st_gid) != 0) {
            /* not permitted: the file keeps our owner and group */
        }
        if (fchmod(fd, st.st_mode & 07777) != 0)
            rc = dlv__error_set(err, DLV_EIO, "%s: cannot keep the file's permissions: %s", path,
                                strerror(errno));
    }
#endif
    const char *p = data;
    size_t left = len;
    while (left > 0 && rc == DLV_OK) {
#if defined(_WIN32)
        int n = injected(2) ? -1 : _write(fd, p, (unsigned)left);
#else
        ssize_t n = injected(2) ? -1 : write(fd, p, left);
#endif
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            rc = dlv__error_set(err, DLV_EIO, "%s: cannot write the new contents: %s", path,
                                strerror(errno));
        else {
            p += n;
            left -= (size_t)n;
        }
    }
#if defined(_WIN32)
    if (rc == DLV_OK && (injected(3) || _commit(fd) != 0))
#else
    if (rc == DLV_OK && (injected(3) || fsync(fd) != 0))
#endif
        rc = dlv__error_set(err, DLV_EIO, "%s: cannot flush the new contents to disk: %s", path,
                            strerror(errno));
#if defined(_WIN32)
    _close(fd);
    if (rc == DLV_OK &&
        (injected(4) ||
         !MoveFileExA(tmp, path, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)))
#else
    close(fd);
    if (rc == DLV_OK && (injected(4) || rename(tmp, path) != 0))
#endif
        rc = dlv__error_set(err, DLV_EIO, "%s: cannot replace the file: %s", path, strerror(errno));
    if (rc != DLV_OK)
        remove(tmp);
#if !defined(_WIN32)
    else
        fsync_parent(path);
#endif
    dlv__free(tmp);
#if !defined(_WIN32)
    if (rc != DLV_OK && err && strcmp(display, path) != 0 && err->message[0]) {
        /* Name the link the operator configured as well as the file it points at. */
        size_t used = strlen(err->message);
        int n = snprintf(err->message + used, sizeof err->message - used, " (through the link %s)",
                         display);
        (void)n; /* a long path is cut: the message stays a valid, shorter one */
    }
    dlv__free(target);
#endif
    return rc;
}

int dlv__mkdir_p(const char *path, dlv_error *err)
{
    char *copy = dlv__strdup(path);
    if (!copy)
        return dlv__error_set(err, DLV_ENOMEM, "out of memory");
    int rc = DLV_OK;
    for (char *p = copy + 1;; p++) {
        if (*p == '/' || *p == '\\' || *p == '\0') {
            char saved = *p;
            *p = '\0';
#if defined(_WIN32)
            int made = _mkdir(copy);
#else
            int made = mkdir(copy, 0755);
#endif
            if (made != 0 && errno != EEXIST) {
                rc = dlv__error_set(err, DLV_EIO, "%s: cannot create folder: %s", copy,
                                    strerror(errno));
                break;
            }
            *p = saved;
            if (saved == '\0')
                break;
        }
    }
    dlv__free(copy);
    return rc;
}
