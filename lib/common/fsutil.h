/* File-system helpers with the durability the terminal's files need. */
#ifndef DLV__COMMON_FSUTIL_H
#define DLV__COMMON_FSUTIL_H

#include "common/internal.h"

/* Replaces `path` with `data` atomically: a temporary file in the same folder is written,
 * flushed to disk, renamed over `path`, and the folder is flushed. On any failure the original
 * file is left intact, the temporary file removed, and `err` says which step failed. */
int dlv__write_file_atomic(const char *path, const void *data, size_t len, dlv_error *err);

/* Test hook: make step N of the next atomic writes fail (1 create, 2 write, 3 flush,
 * 4 rename); 0 turns it off. */
void dlv__fs_inject_failure(int step);

/* Creates a folder and its parents (like mkdir -p). */
int dlv__mkdir_p(const char *path, dlv_error *err);

#endif
