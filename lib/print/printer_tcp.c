/* tcp://HOST[:PORT]: a raw ESC/POS socket (JetDirect port 9100), on the loop.
 *
 * One connection per job. Before a job the printer is asked its state (DLE EOT 1, 2, 4); a
 * printer that is not ready gets none of the job's bytes and the job fails with the reason.
 * After the job one more DLE EOT 1 is sent: printers answer real-time commands as they receive
 * them, in order, so its answer confirms that every byte before it arrived. A connection that
 * ends before that is reported as DLV_EPRINTER "connection closed after N of M bytes" and never
 * resent here.
 *
 * The socket is driven with uv_poll and send(MSG_NOSIGNAL) rather than uv_write: libuv writes
 * with writev(), which raises SIGPIPE when the printer has gone, and a library must not kill its
 * host or change its signal handlers. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "print/printer_impl.h"

#define DEFAULT_PORT "9100"
#define LINGER_MS 2000

typedef enum phase {
    PH_RESOLVING,
    PH_CONNECTING,
    PH_STATUS, /* asked DLE EOT 1/2/4, waiting for 3 bytes */
    PH_SENDING,
    PH_ACK,   /* sent the job and DLE EOT 1, waiting for 1 byte */
    PH_LINGER /* no status: sent the job and FIN, waiting for the printer to close */
} phase;

typedef struct tcp_printer tcp_printer;

typedef struct tcp_job {
    tcp_printer *tp;
    dlv_printer_job *job;
    bool query;
    phase ph;
    uv_getaddrinfo_t gai;
    bool gai_active;
    uv_poll_t poll;
    bool poll_init;
    int fd;
    uv_timer_t timer;
    int open_handles;
    const unsigned char *out; /* bytes still to send in this phase */
    size_t out_len;
    const unsigned char *data; /* the job */
    size_t total, sent;
    unsigned char answer[8];
    size_t answer_len;
    bool finished;
    int result;
    unsigned flags;
    char msg[DLV_ERROR_MESSAGE_MAX];
} tcp_job;

struct tcp_printer {
    dlv_printer base;
    char host[256];
    char port[8];
    long timeout_ms;
    bool status_check;
    bool closing;
    tcp_job *job;
    dlv_printer_counters counters;
};

static void on_poll(uv_poll_t *h, int status, int events);

static const unsigned char status_query[] = {0x10, 0x04, 1, 0x10, 0x04, 2, 0x10, 0x04, 4};
static const unsigned char ack_query[] = {0x10, 0x04, 1};

static int tcp_open(dlv_printer *p, dlv_error *err)
{
    tcp_printer *tp = (tcp_printer *)p;
    const char *t = dlv_printer_target(p);
    size_t n = strlen(t);
    while (n > 0 && t[n - 1] == '/')
        n--;
    const char *host = t, *port = NULL;
    size_t hl = n;
    if (n > 0 && t[0] == '[') {
        const char *close = memchr(t, ']', n);
        if (!close)
            return dlv__error_set(err, DLV_EINVAL, "tcp printer: unbalanced [ in \"%s\"", t);
        host = t + 1;
        hl = (size_t)(close - host);
        if ((size_t)(close + 1 - t) < n) {
            if (close[1] != ':')
                return dlv__error_set(err, DLV_EINVAL, "tcp printer: bad address \"%s\"", t);
            port = close + 2;
        }
    } else {
        const char *colon = memchr(t, ':', n);
        if (colon) {
            hl = (size_t)(colon - t);
            port = colon + 1;
        }
    }
    size_t pl = port ? n - (size_t)(port - t) : 0;
    if (hl == 0 || hl >= sizeof tp->host)
        return dlv__error_set(err, DLV_EINVAL,
                              "tcp printer: expected tcp://HOST[:PORT], got \"%s\"", t);
    memcpy(tp->host, host, hl);
    tp->host[hl] = '\0';
    if (port) {
        long v = 0;
        for (size_t i = 0; i < pl; i++)
            v = (port[i] >= '0' && port[i] <= '9' && v < 100000) ? v * 10 + (port[i] - '0') : -1;
        if (pl == 0 || v < 1 || v > 65535)
            return dlv__error_set(err, DLV_EINVAL, "tcp printer: bad port in \"%s\"", t);
        snprintf(tp->port, sizeof tp->port, "%ld", v);
    } else {
        snprintf(tp->port, sizeof tp->port, "%s", DEFAULT_PORT);
    }
    tp->timeout_ms = dlv__printer_timeout_ms(p, DLV__PRINTER_DEFAULT_TIMEOUT_MS);
    tp->status_check = dlv__printer_flag(p, "status", true);
    return DLV_OK;
}

static void job_free(tcp_job *j)
{
    tcp_printer *tp = j->tp;
    dlv_printer_job_done(j->job, j->result, j->flags, j->msg);
    tp->job = NULL;
    dlv__free(j);
    if (tp->closing)
        dlv_printer_closed(&tp->base);
}

static void on_handle_closed(uv_handle_t *h)
{
    tcp_job *j = h->data;
    if (h == (uv_handle_t *)&j->poll && j->fd >= 0) {
        close(j->fd);
        j->fd = -1;
    }
    if (--j->open_handles == 0 && !j->gai_active)
        job_free(j);
}

/* Decides the job's outcome once and tears the connection down; the job completes when every
 * handle has closed. */
static void finish(tcp_job *j, int result, unsigned flags, const char *fmt, ...) DLV__PRINTF(4, 5);
static void finish(tcp_job *j, int result, unsigned flags, const char *fmt, ...)
{
    if (j->finished)
        return;
    j->finished = true;
    j->result = result;
    j->flags |= flags;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->msg, sizeof j->msg, fmt, ap);
    va_end(ap);
    if (result == DLV_OK && !j->query) {
        j->tp->counters.jobs++;
        j->tp->counters.bytes += j->total;
    }
    if (j->gai_active)
        uv_cancel((uv_req_t *)&j->gai); /* its callback still runs, then we go on */
    uv_timer_stop(&j->timer);
    uv_close((uv_handle_t *)&j->timer, on_handle_closed);
    if (j->poll_init) {
        uv_poll_stop(&j->poll);
        uv_close((uv_handle_t *)&j->poll, on_handle_closed);
    } else if (j->fd >= 0) {
        close(j->fd);
        j->fd = -1;
    }
}

static void on_timeout(uv_timer_t *t);

static void arm_timer(tcp_job *j, long ms)
{
    uv_timer_start(&j->timer, on_timeout, (uint64_t)ms, 0);
}

static const char *where(const tcp_job *j)
{
    static _Thread_local char buf[300];
    snprintf(buf, sizeof buf, "%s:%s", j->tp->host, j->tp->port);
    return buf;
}

/* The job's fate when the connection ends or stalls in the current phase. */
static void connection_lost(tcp_job *j, const char *why, bool timed_out)
{
    switch (j->ph) {
    case PH_RESOLVING:
    case PH_CONNECTING:
        finish(j, DLV_EOFFLINE, 0, "printer %s unreachable: %s (nothing sent)", where(j), why);
        break;
    case PH_STATUS:
        finish(j, timed_out ? DLV_ETIMEDOUT : DLV_EOFFLINE, 0,
               "printer %s did not answer the status query: %s (nothing sent)", where(j), why);
        break;
    case PH_SENDING:
    case PH_ACK:
        if (j->query)
            finish(j, DLV_EPRINTER, 0, "printer %s: %s", where(j), why);
        else if (j->sent == 0 && j->ph == PH_SENDING)
            finish(j, timed_out ? DLV_ETIMEDOUT : DLV_EOFFLINE, 0,
                   "printer %s took none of the job: %s (nothing sent)", where(j), why);
        else
            finish(j, DLV_EPRINTER, 0,
                   "connection closed after %zu of %zu bytes (%s): the document may be partly "
                   "printed",
                   j->sent, j->total, why);
        break;
    case PH_LINGER:
        /* Everything was handed over and FIN sent; the printer just keeps the line open. */
        finish(j, DLV_OK, 0, "sent %zu bytes", j->total);
        break;
    }
}

static void on_timeout(uv_timer_t *t)
{
    tcp_job *j = t->data;
    char why[64];
    snprintf(why, sizeof why, "no progress within %ld ms", j->tp->timeout_ms);
    connection_lost(j, why, true);
}

static void update_events(tcp_job *j)
{
    if (j->finished || !j->poll_init)
        return;
    int ev = UV_READABLE | (j->out_len ? UV_WRITABLE : 0);
    uv_poll_start(&j->poll, ev, on_poll);
}

static void send_bytes(tcp_job *j, const unsigned char *b, size_t n)
{
    j->out = b;
    j->out_len = n;
    update_events(j);
}

static void start_job_bytes(tcp_job *j)
{
    j->ph = PH_SENDING;
    arm_timer(j, j->tp->timeout_ms);
    if (j->total == 0) {
        finish(j, DLV_OK, 0, "empty job");
        return;
    }
    send_bytes(j, j->data, j->total);
}

/* All of the current phase's bytes went out. */
static void phase_sent(tcp_job *j)
{
    if (j->ph == PH_SENDING && j->out == j->data + j->total) {
        if (j->tp->status_check) {
            j->ph = PH_ACK;
            j->answer_len = 0;
            arm_timer(j, j->tp->timeout_ms);
            send_bytes(j, ack_query, sizeof ack_query);
        } else {
            j->ph = PH_LINGER;
            shutdown(j->fd, SHUT_WR);
            arm_timer(j, j->tp->timeout_ms < LINGER_MS ? j->tp->timeout_ms : LINGER_MS);
            update_events(j);
        }
    }
}

static void got_answer(tcp_job *j)
{
    if (j->ph == PH_STATUS && j->answer_len >= 3) {
        unsigned flags;
        if (dlv_printer_escpos_status(j->answer, &flags) != DLV_OK) {
            finish(j, DLV_ENOTSUP, 0,
                   "printer %s answered 0x%02x 0x%02x 0x%02x to DLE EOT: not ESC/POS status "
                   "(nothing sent; set status=0 for printers that cannot report it)",
                   where(j), j->answer[0], j->answer[1], j->answer[2]);
            return;
        }
        j->flags = flags;
        if (j->query) {
            finish(j, DLV_OK, 0, "status 0x%02x 0x%02x 0x%02x", j->answer[0], j->answer[1],
                   j->answer[2]);
            return;
        }
        const char *why;
        int rc = dlv_printer_status_error(flags, &why);
        if (rc != DLV_OK) {
            finish(j, rc, 0, "%s (printer %s; nothing sent, the job is kept)", why, where(j));
            return;
        }
        start_job_bytes(j);
    } else if (j->ph == PH_ACK && j->answer_len >= 1) {
        unsigned flags = DLV_PRINTER_STATUS_KNOWN;
        if ((j->answer[0] & 0x93) == 0x12 && (j->answer[0] & 0x08))
            flags |= DLV_PRINTER_STATUS_OFFLINE;
        finish(j, DLV_OK, flags, "sent %zu bytes, confirmed by the printer", j->total);
    }
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    tcp_job *j = h->data;
    if (j->finished)
        return;
    if (status < 0) {
        connection_lost(j, uv_strerror(status), false);
        return;
    }
    if (j->ph == PH_CONNECTING && (events & (UV_WRITABLE | UV_READABLE))) {
        int e = 0;
        socklen_t len = sizeof e;
        if (getsockopt(j->fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0)
            e = errno;
        if (e != 0) {
            connection_lost(j, strerror(e), false);
            return;
        }
        int one = 1;
        setsockopt(j->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        arm_timer(j, j->tp->timeout_ms);
        if (j->query || j->tp->status_check) {
            j->ph = PH_STATUS;
            send_bytes(j, status_query, sizeof status_query);
        } else {
            start_job_bytes(j);
        }
        return;
    }
    if (events & UV_READABLE) {
        for (;;) {
            unsigned char buf[256];
            ssize_t n = recv(j->fd, buf, sizeof buf, 0);
            if (n > 0) {
                bool waiting = j->ph == PH_STATUS || j->ph == PH_ACK;
                for (ssize_t i = 0; waiting && i < n && j->answer_len < sizeof j->answer; i++)
                    j->answer[j->answer_len++] = buf[i];
                if (waiting)
                    got_answer(j);
                if (j->finished)
                    return;
                continue;
            }
            if (n == 0) {
                connection_lost(j, "the printer closed the connection", false);
                return;
            }
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            connection_lost(j, strerror(errno), false);
            return;
        }
    }
    if ((events & UV_WRITABLE) && j->out_len > 0) {
        while (j->out_len > 0) {
            ssize_t n = send(j->fd, j->out, j->out_len, MSG_NOSIGNAL);
            if (n > 0) {
                if (j->ph == PH_SENDING)
                    j->sent += (size_t)n;
                j->out += n;
                j->out_len -= (size_t)n;
                arm_timer(j, j->tp->timeout_ms);
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                break;
            connection_lost(j, n < 0 ? strerror(errno) : "send failed", false);
            return;
        }
        if (j->out_len == 0)
            phase_sent(j);
        update_events(j);
    }
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    tcp_job *j = req->data;
    j->gai_active = false;
    if (j->finished) {
        uv_freeaddrinfo(res);
        if (j->open_handles == 0)
            job_free(j);
        return;
    }
    if (status < 0 || !res) {
        connection_lost(j, status < 0 ? uv_strerror(status) : "no address", false);
        uv_freeaddrinfo(res);
        return;
    }
    j->ph = PH_CONNECTING;
    j->fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (j->fd < 0) {
        connection_lost(j, strerror(errno), false);
        uv_freeaddrinfo(res);
        return;
    }
    int rc = connect(j->fd, res->ai_addr, res->ai_addrlen);
    int e = errno;
    uv_freeaddrinfo(res);
    if (rc != 0 && e != EINPROGRESS) {
        connection_lost(j, strerror(e), false);
        return;
    }
    if (uv_poll_init_socket(dlv_printer_loop(&j->tp->base), &j->poll, j->fd) != 0) {
        connection_lost(j, "cannot watch the socket", false);
        return;
    }
    j->poll.data = j;
    j->poll_init = true;
    j->open_handles++;
    arm_timer(j, j->tp->timeout_ms);
    uv_poll_start(&j->poll, UV_WRITABLE, on_poll);
}

static int tcp_start(dlv_printer *p, dlv_printer_job *job, bool query)
{
    tcp_printer *tp = (tcp_printer *)p;
    if (tp->job)
        return DLV_EBUSY;
    tcp_job *j = dlv__calloc(1, sizeof *j);
    if (!j)
        return DLV_ENOMEM;
    uv_loop_t *loop = dlv_printer_loop(p);
    j->tp = tp;
    j->job = job;
    j->query = query;
    j->fd = -1;
    j->data = dlv_printer_job_data(job, &j->total);
    uv_timer_init(loop, &j->timer);
    j->timer.data = j;
    j->open_handles = 1;
    tp->job = j;
    j->gai.data = j;
    j->ph = PH_RESOLVING;
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    arm_timer(j, tp->timeout_ms);
    int rc = uv_getaddrinfo(loop, &j->gai, on_resolved, tp->host, tp->port, &hints);
    if (rc != 0) {
        connection_lost(j, uv_strerror(rc), false);
        return DLV_OK; /* completes through finish() */
    }
    j->gai_active = true;
    return DLV_OK;
}

static int tcp_submit(dlv_printer *p, dlv_printer_job *job)
{
    return tcp_start(p, job, false);
}

static int tcp_query(dlv_printer *p, dlv_printer_job *job)
{
    return tcp_start(p, job, true);
}

static int tcp_close(dlv_printer *p)
{
    tcp_printer *tp = (tcp_printer *)p;
    if (!tp->job)
        return DLV_OK;
    tp->closing = true;
    tcp_job *j = tp->job;
    if (j->sent > 0)
        finish(j, DLV_EPRINTER, 0,
               "printer closed after %zu of %zu bytes: the document may be partly printed", j->sent,
               j->total);
    else
        finish(j, DLV_ESTOPPED, 0, "the printer was closed before the job was sent");
    return DLV_PRINTER_CLOSING;
}

static int tcp_ctl(dlv_printer *p, int op, void *arg)
{
    tcp_printer *tp = (tcp_printer *)p;
    switch (op) {
    case DLV_PRINTER_CTL_SET_TIMEOUT: {
        long ms = arg ? *(const long *)arg : 0;
        if (ms < 1 || ms > 600000)
            return DLV_EINVAL;
        tp->timeout_ms = ms;
        return DLV_OK;
    }
    case DLV_PRINTER_CTL_COUNTERS:
        if (!arg)
            return DLV_EINVAL;
        *(dlv_printer_counters *)arg = tp->counters;
        return DLV_OK;
    default:
        return DLV_ENOTSUP;
    }
}

const dlv_printer_methods dlv__printer_tcp_methods = {
    DLV_PRINTER_METHODS_VERSION, /* version */
    "tcp",                       /* scheme */
    sizeof(tcp_printer),         /* priv_size */
    0,                           /* flags */
    tcp_open,                    /* open */
    tcp_close,                   /* close */
    tcp_submit,                  /* submit */
    tcp_query,                   /* query_status */
    tcp_ctl,                     /* ctl */
};
