#define _GNU_SOURCE
#include "faultserver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct fault_server {
    int listen_fd;
    int port;
    pthread_t thread;
    atomic_bool stop;
    atomic_int mode, status, retry_after, connections, serving;
};

typedef struct conn_job {
    fault_server *fs;
    int fd;
} conn_job;

/* Waits up to `ms` unless the server is stopping; returns false when stopping. */
static int pause_ms(fault_server *fs, int ms)
{
    for (int waited = 0; waited < ms; waited += 20) {
        if (atomic_load(&fs->stop))
            return 0;
        usleep(20000);
    }
    return 1;
}

static void read_request(int fd)
{
    char buf[8192];
    size_t got = 0;
    struct pollfd p = {fd, POLLIN, 0};
    while (got < sizeof buf - 1 && poll(&p, 1, 2000) > 0) {
        ssize_t n = recv(fd, buf + got, sizeof buf - 1 - got, 0);
        if (n <= 0)
            return;
        got += (size_t)n;
        buf[got] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (end) {
            char *cl = strcasestr(buf, "Content-Length:");
            size_t body = cl ? (size_t)atol(cl + 15) : 0;
            if (got >= (size_t)(end + 4 - buf) + body)
                return;
        }
    }
}

static int send_all(int fd, const char *s)
{
    size_t len = strlen(s);
    while (len > 0) {
        ssize_t n = send(fd, s, len, MSG_NOSIGNAL);
        if (n <= 0)
            return 0;
        s += n;
        len -= (size_t)n;
    }
    return 1;
}

static void serve(fault_server *fs, int fd)
{
    char buf[512];
    read_request(fd);
    switch ((fault_mode)atomic_load(&fs->mode)) {
    case FAULT_OK_JSON:
        send_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11"
                     "\r\nConnection: close\r\n\r\n{\"ok\":true}");
        break;
    case FAULT_HTML:
        send_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 30\r\n"
                     "Connection: close\r\n\r\n<html><body>iikoRMS</body></h>");
        break;
    case FAULT_ENDLESS:
        send_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close"
                     "\r\n\r\n[");
        memset(buf, '1', sizeof buf - 1);
        buf[sizeof buf - 1] = '\0';
        for (int i = 0; i < 200000 && !atomic_load(&fs->stop); i++) {
            if (send(fd, buf, sizeof buf - 1, MSG_NOSIGNAL) <= 0)
                break;
        }
        break;
    case FAULT_REDIRECT:
        send_all(fd, "HTTP/1.1 302 Found\r\nLocation: ftp://127.0.0.1/resto\r\n"
                     "Content-Length: 0\r\nConnection: close\r\n\r\n");
        break;
    case FAULT_TRICKLE:
        send_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                     "1000\r\nConnection: close\r\n\r\n");
        for (int i = 0; i < 30 && pause_ms(fs, 2000) && send_all(fd, " "); i++)
            ;
        break;
    case FAULT_RESET: {
        struct linger lg = {1, 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        break;
    }
    case FAULT_EMPTY:
        break;
    case FAULT_IDLE:
        pause_ms(fs, 20000);
        break;
    case FAULT_SHORT:
        send_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100"
                     "\r\nConnection: close\r\n\r\n{\"orders\":");
        break;
    case FAULT_STATUS: {
        const char *body = "{\"error\":\"ServiceUnavailable\",\"description\":\"busy\"}";
        snprintf(buf, sizeof buf,
                 "HTTP/1.1 %d Injected\r\nContent-Type: application/json\r\nRetry-After: %d\r\n"
                 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                 atomic_load(&fs->status), atomic_load(&fs->retry_after), strlen(body), body);
        send_all(fd, buf);
        break;
    }
    }
    close(fd);
}

static void *conn_main(void *arg)
{
    conn_job *job = arg;
    serve(job->fs, job->fd);
    atomic_fetch_sub(&job->fs->serving, 1);
    free(job);
    return NULL;
}

static void *server_main(void *arg)
{
    fault_server *fs = arg;
    while (!atomic_load(&fs->stop)) {
        struct pollfd p = {fs->listen_fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0)
            continue;
        int fd = accept(fs->listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        atomic_fetch_add(&fs->connections, 1);
        /* One thread a connection, so a stalled one never holds up the next test. */
        conn_job *job = malloc(sizeof *job);
        job->fs = fs;
        job->fd = fd;
        atomic_fetch_add(&fs->serving, 1);
        pthread_t t;
        if (pthread_create(&t, NULL, conn_main, job) == 0)
            pthread_detach(t);
        else {
            atomic_fetch_sub(&fs->serving, 1);
            close(fd);
            free(job);
        }
    }
    return NULL;
}

fault_server *fault_server_start(void)
{
    fault_server *fs = calloc(1, sizeof *fs);
    fs->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fs->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    if (bind(fs->listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        listen(fs->listen_fd, 16) != 0 ||
        getsockname(fs->listen_fd, (struct sockaddr *)&addr, &len) != 0) {
        close(fs->listen_fd);
        free(fs);
        return NULL;
    }
    fs->port = ntohs(addr.sin_port);
    pthread_create(&fs->thread, NULL, server_main, fs);
    return fs;
}

int fault_server_port(const fault_server *fs)
{
    return fs->port;
}

void fault_server_set(fault_server *fs, fault_mode mode, int status, int retry_after)
{
    atomic_store(&fs->mode, (int)mode);
    atomic_store(&fs->status, status);
    atomic_store(&fs->retry_after, retry_after);
}

int fault_server_connections(const fault_server *fs)
{
    return atomic_load(&((fault_server *)fs)->connections);
}

void fault_server_stop(fault_server *fs)
{
    if (!fs)
        return;
    atomic_store(&fs->stop, true);
    pthread_join(fs->thread, NULL);
    for (int i = 0; i < 500 && atomic_load(&fs->serving) > 0; i++)
        usleep(10000); /* every behaviour checks `stop` at least every 20 ms */
    close(fs->listen_fd);
    free(fs);
}
