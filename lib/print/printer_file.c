/* file:PATH, dev:PATH and null: — the printers that are a file descriptor, or nothing.
 *
 * file: raw and text jobs are appended to PATH (flushed to disk before the job counts as sent);
 *       a PDF job becomes one file per document: PATH itself when it ends in ".pdf" (replaced
 *       atomically), otherwise a new "<title>-<n>.pdf" in the folder PATH. A PATH that is a
 *       character device is written like dev:.
 * dev:  a serial or USB printer (/dev/usb/lp0, /dev/ttyUSB0): opened without blocking and
 *       written with a timeout, so an unplugged or stuck printer fails instead of hanging a
 *       worker. With status=1 (two-way serial links) the state is asked before the job.
 * Both run in the loop's thread pool (DLV_PRINTER_BLOCKING). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "print/doc.h"
#include "print/printer_impl.h"

typedef struct fd_printer {
    dlv_printer base;
    long timeout_ms;
    bool status_check;
    bool is_dev;
    uv_mutex_t lock; /* counters: written by the worker, read by ctl on the loop */
    bool lock_init;
    dlv_printer_counters counters;
} fd_printer;

static long elapsed_ms(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)((now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000);
}

int dlv__fd_write_all(int fd, const unsigned char *data, size_t len, long timeout_ms,
                      size_t *written)
{
    *written = 0;
    struct timespec last;
    clock_gettime(CLOCK_MONOTONIC, &last);
    while (*written < len) {
        ssize_t n = write(fd, data + *written, len - *written);
        if (n > 0) {
            *written += (size_t)n;
            clock_gettime(CLOCK_MONOTONIC, &last);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return -errno;
        long left = timeout_ms - elapsed_ms(&last);
        if (left <= 0)
            return -ETIMEDOUT;
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        int pr = poll(&pfd, 1, (int)left);
        if (pr < 0 && errno != EINTR)
            return -errno;
        if (pr > 0 && (pfd.revents & (POLLERR | POLLHUP | POLLNVAL)) && !(pfd.revents & POLLOUT))
            return -EIO;
    }
    return 0;
}

/* Reads exactly n bytes within timeout_ms. 0 or -errno. */
static int read_exact(int fd, unsigned char *buf, size_t n, long timeout_ms)
{
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    size_t got = 0;
    while (got < n) {
        long left = timeout_ms - elapsed_ms(&start);
        if (left <= 0)
            return -ETIMEDOUT;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int pr = poll(&pfd, 1, (int)left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0)
            return -errno;
        if (pr == 0)
            return -ETIMEDOUT;
        ssize_t r = read(fd, buf + got, n - got);
        if (r > 0)
            got += (size_t)r;
        else if (r == 0)
            return -EIO;
        else if (errno != EINTR && errno != EAGAIN)
            return -errno;
    }
    return 0;
}

static int fd_open(dlv_printer *p, dlv_error *err)
{
    fd_printer *fp = (fd_printer *)p;
    const char *path = dlv_printer_target(p);
    if (!path || !*path)
        return dlv__error_set(err, DLV_EINVAL, "%s: expected a path after the scheme",
                              dlv_printer_uri(p));
    fp->is_dev = strcmp(p->methods->scheme, "dev") == 0;
    fp->timeout_ms = dlv__printer_timeout_ms(p, DLV__PRINTER_DEFAULT_TIMEOUT_MS);
    fp->status_check = dlv__printer_flag(p, "status", false);
    if (uv_mutex_init(&fp->lock) != 0)
        return dlv__error_set(err, DLV_ENOMEM, "cannot create a mutex");
    fp->lock_init = true;
    return DLV_OK;
}

static int fd_close(dlv_printer *p)
{
    fd_printer *fp = (fd_printer *)p;
    if (fp->lock_init)
        uv_mutex_destroy(&fp->lock);
    return DLV_OK;
}

static void count(fd_printer *fp, size_t bytes)
{
    uv_mutex_lock(&fp->lock);
    fp->counters.jobs++;
    fp->counters.bytes += bytes;
    uv_mutex_unlock(&fp->lock);
}

static int open_error(int e)
{
    return e == ENOENT || e == ENODEV || e == ENXIO || e == EBUSY || e == EIO ? DLV_EOFFLINE
                                                                              : DLV_EPRINTER;
}

/* Asks a two-way device its state (DLE EOT 1, 2, 4). 0 and *flags, or an error with msg. */
static int device_status(fd_printer *fp, int fd, unsigned *flags, char *msg, size_t msz)
{
    static const unsigned char q[] = {0x10, 0x04, 1, 0x10, 0x04, 2, 0x10, 0x04, 4};
    const char *path = dlv_printer_target(&fp->base);
    if (isatty(fd))
        tcflush(fd, TCIFLUSH);
    size_t w;
    int rc = dlv__fd_write_all(fd, q, sizeof q, fp->timeout_ms, &w);
    unsigned char a[3];
    if (rc == 0)
        rc = read_exact(fd, a, sizeof a, fp->timeout_ms);
    if (rc != 0) {
        snprintf(msg, msz, "%s did not answer the status query: %s (nothing sent)", path,
                 strerror(-rc));
        return rc == -ETIMEDOUT ? DLV_ETIMEDOUT : DLV_EOFFLINE;
    }
    if (dlv_printer_escpos_status(a, flags) != DLV_OK) {
        snprintf(msg, msz,
                 "%s answered 0x%02x 0x%02x 0x%02x to DLE EOT: not ESC/POS status (nothing sent)",
                 path, a[0], a[1], a[2]);
        return DLV_ENOTSUP;
    }
    return DLV_OK;
}

/* Writes a job to a device (or a file that is one): non-blocking, with a timeout. */
static void device_write(fd_printer *fp, dlv_printer_job *job, bool query)
{
    const char *path = dlv_printer_target(&fp->base);
    char msg[DLV_ERROR_MESSAGE_MAX];
    int fd = open(path, (fp->status_check || query ? O_RDWR : O_WRONLY) | O_NONBLOCK | O_NOCTTY |
                            O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(msg, sizeof msg, "cannot open printer %s: %s (nothing sent)", path, strerror(e));
        dlv_printer_job_done(job, open_error(e), 0, msg);
        return;
    }
    unsigned flags = 0;
    if (fp->status_check || query) {
        int rc = device_status(fp, fd, &flags, msg, sizeof msg);
        if (rc == DLV_OK && query) {
            close(fd);
            dlv_printer_job_done(job, DLV_OK, flags, "status");
            return;
        }
        const char *why = NULL;
        if (rc == DLV_OK)
            rc = dlv_printer_status_error(flags, &why);
        if (rc != DLV_OK) {
            if (why)
                snprintf(msg, sizeof msg, "%s (printer %s; nothing sent, the job is kept)", why,
                         path);
            close(fd);
            dlv_printer_job_done(job, rc, flags, msg);
            return;
        }
    }
    size_t len, written;
    const unsigned char *data = dlv_printer_job_data(job, &len);
    int rc = dlv__fd_write_all(fd, data, len, fp->timeout_ms, &written);
    close(fd);
    if (rc == 0) {
        count(fp, len);
        dlv_printer_job_done(job, DLV_OK, flags, NULL);
    } else if (written == 0) {
        snprintf(msg, sizeof msg, "printer %s took none of the job: %s (nothing sent)", path,
                 strerror(-rc));
        dlv_printer_job_done(job, rc == -ETIMEDOUT ? DLV_ETIMEDOUT : DLV_EOFFLINE, flags, msg);
    } else {
        snprintf(msg, sizeof msg,
                 "printer %s stopped after %zu of %zu bytes (%s): the document may be partly "
                 "printed",
                 path, written, len, strerror(-rc));
        dlv_printer_job_done(job, DLV_EPRINTER, flags, msg);
    }
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

/* A file name from a job title: whole UTF-8 characters, no separators or control characters. */
static void safe_name(const char *title, char *out, size_t size)
{
    size_t k = 0, n = strlen(title);
    while (n > 0) {
        uint32_t cp;
        size_t len = dlv__utf8_decode(title, n, &cp);
        if (k + len + 1 > size)
            break;
        if (cp < 0x20 || cp == 0x7F || cp == '/' || cp == '\\' || cp == ':' || cp == ' ' ||
            cp == 0xFFFD)
            out[k++] = '_';
        else
            memcpy(out + k, title, len), k += len;
        title += len;
        n -= len;
    }
    out[k] = '\0';
    if (k == 0 || out[0] == '.')
        snprintf(out, size, "document");
}

static void write_pdf(fd_printer *fp, dlv_printer_job *job)
{
    const char *path = dlv_printer_target(&fp->base);
    size_t len;
    const unsigned char *data = dlv_printer_job_data(job, &len);
    dlv_error err = {0};
    char *file = NULL;
    int rc;
    if (ends_with(path, ".pdf")) {
        file = dlv__strdup(path);
        rc = file ? DLV_OK : DLV_ENOMEM;
    } else {
        rc = dlv__mkdir_p(path, &err);
        char name[96];
        safe_name(dlv_printer_job_title(job), name, sizeof name);
        for (int n = 1; rc == DLV_OK && n < 100000; n++) {
            dlv__free(file);
            file = dlv__asprintf("%s/%s-%d.pdf", path, name, n);
            if (!file) {
                rc = DLV_ENOMEM;
                break;
            }
            /* Claim the name, then fill it atomically. */
            int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
            if (fd >= 0) {
                close(fd);
                break;
            }
            if (errno != EEXIST)
                rc = dlv__error_set(&err, DLV_EIO, "%s: %s", file, strerror(errno));
        }
    }
    if (rc == DLV_OK)
        rc = dlv__write_file_atomic(file, data, len, &err);
    if (rc == DLV_OK) {
        count(fp, len);
        char msg[DLV_ERROR_MESSAGE_MAX];
        snprintf(msg, sizeof msg, "written to %s", file);
        dlv_printer_job_done(job, DLV_OK, 0, msg);
    } else {
        dlv_printer_job_done(job, rc == DLV_ENOMEM ? DLV_ENOMEM : DLV_EIO, 0,
                             err.message[0] ? err.message : dlv_strerror(rc));
    }
    dlv__free(file);
}

static void append_file(fd_printer *fp, dlv_printer_job *job)
{
    const char *path = dlv_printer_target(&fp->base);
    char msg[DLV_ERROR_MESSAGE_MAX];
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0644);
    if (fd < 0) {
        snprintf(msg, sizeof msg, "cannot open %s: %s (nothing written)", path, strerror(errno));
        dlv_printer_job_done(job, DLV_EIO, 0, msg);
        return;
    }
    size_t len, written;
    const unsigned char *data = dlv_printer_job_data(job, &len);
    int rc = dlv__fd_write_all(fd, data, len, fp->timeout_ms, &written);
    if (rc == 0 && fdatasync(fd) != 0 && errno != EINVAL && errno != EROFS)
        rc = -errno;
    close(fd);
    if (rc == 0) {
        count(fp, len);
        dlv_printer_job_done(job, DLV_OK, 0, NULL);
        return;
    }
    snprintf(msg, sizeof msg, "writing %s failed after %zu of %zu bytes: %s", path, written, len,
             strerror(-rc));
    dlv_printer_job_done(job, written ? DLV_EPRINTER : DLV_EIO, 0, msg);
}

static int file_submit(dlv_printer *p, dlv_printer_job *job)
{
    fd_printer *fp = (fd_printer *)p;
    struct stat st;
    bool chardev = stat(dlv_printer_target(p), &st) == 0 && S_ISCHR(st.st_mode);
    if (fp->is_dev || chardev)
        device_write(fp, job, false);
    else if (dlv_printer_job_format(job) == DLV_PRINT_PDF)
        write_pdf(fp, job);
    else
        append_file(fp, job);
    return DLV_OK;
}

static int dev_query(dlv_printer *p, dlv_printer_job *job)
{
    device_write((fd_printer *)p, job, true);
    return DLV_OK;
}

static int fd_ctl(dlv_printer *p, int op, void *arg)
{
    fd_printer *fp = (fd_printer *)p;
    switch (op) {
    case DLV_PRINTER_CTL_SET_TIMEOUT: {
        long ms = arg ? *(const long *)arg : 0;
        if (ms < 1 || ms > 600000)
            return DLV_EINVAL;
        fp->timeout_ms = ms; /* read by the next job's worker, which starts after this call */
        return DLV_OK;
    }
    case DLV_PRINTER_CTL_COUNTERS:
        if (!arg)
            return DLV_EINVAL;
        uv_mutex_lock(&fp->lock);
        *(dlv_printer_counters *)arg = fp->counters;
        uv_mutex_unlock(&fp->lock);
        return DLV_OK;
    default:
        return DLV_ENOTSUP;
    }
}

const dlv_printer_methods dlv__printer_file_methods = {
    DLV_PRINTER_METHODS_VERSION, /* version */
    "file",                      /* scheme */
    sizeof(fd_printer),          /* priv_size */
    DLV_PRINTER_BLOCKING,        /* flags */
    fd_open,                     /* open */
    fd_close,                    /* close */
    file_submit,                 /* submit */
    NULL,                        /* query_status: a file cannot tell */
    fd_ctl,                      /* ctl */
};

const dlv_printer_methods dlv__printer_dev_methods = {
    DLV_PRINTER_METHODS_VERSION, /* version */
    "dev",                       /* scheme */
    sizeof(fd_printer),          /* priv_size */
    DLV_PRINTER_BLOCKING,        /* flags */
    fd_open,                     /* open */
    fd_close,                    /* close */
    file_submit,                 /* submit */
    dev_query,                   /* query_status: answers only on two-way links */
    fd_ctl,                      /* ctl */
};

/* ---- null: ---- */

typedef struct null_printer {
    dlv_printer base;
    dlv_printer_counters counters;
} null_printer;

static int null_open(dlv_printer *p, dlv_error *err)
{
    return DLV_OK;
}

static int null_close(dlv_printer *p)
{
    return DLV_OK;
}

static int null_submit(dlv_printer *p, dlv_printer_job *job)
{
    null_printer *np = (null_printer *)p;
    size_t len;
    dlv_printer_job_data(job, &len);
    np->counters.jobs++;
    np->counters.bytes += len;
    dlv_printer_job_done(job, DLV_OK, 0, "discarded");
    return DLV_OK;
}

static int null_query(dlv_printer *p, dlv_printer_job *job)
{
    dlv_printer_job_done(job, DLV_OK, DLV_PRINTER_STATUS_KNOWN, "always ready");
    return DLV_OK;
}

static int null_ctl(dlv_printer *p, int op, void *arg)
{
    if (op != DLV_PRINTER_CTL_COUNTERS)
        return DLV_ENOTSUP;
    if (!arg)
        return DLV_EINVAL;
    *(dlv_printer_counters *)arg = ((null_printer *)p)->counters;
    return DLV_OK;
}

const dlv_printer_methods dlv__printer_null_methods = {
    DLV_PRINTER_METHODS_VERSION, /* version */
    "null",                      /* scheme */
    sizeof(null_printer),        /* priv_size */
    0,                           /* flags */
    null_open,                   /* open */
    null_close,                  /* close */
    null_submit,                 /* submit */
    null_query,                  /* query_status */
    null_ctl,                    /* ctl */
};
