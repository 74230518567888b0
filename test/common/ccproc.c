#define _GNU_SOURCE
#include "ccproc.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

const char *cc_proc_binary(void)
{
    const char *bin = getenv("DLV_CALLCENTER");
#ifdef DLV_TEST_BINARY_DIR
    static char fallback[1024];
    if (!bin) {
        snprintf(fallback, sizeof fallback, "%s/examples/callcenter/delivery-callcenter",
                 DLV_TEST_BINARY_DIR);
        bin = fallback;
    }
#endif
    return bin;
}

int cc_proc_start(cc_proc *cc, const char *db, const char *const *extra_args)
{
    memset(cc, 0, sizeof *cc);
    snprintf(cc->db, sizeof cc->db, "%s", db);
    const char *bin = cc_proc_binary();
    char port_file[600];
    snprintf(port_file, sizeof port_file, "%s.port", db);
    unlink(port_file);
    const char *argv[64] = {bin, "--listen", "127.0.0.1:0", "--db", db, "--port-file", port_file};
    int argc = 7;
    for (int i = 0; extra_args && extra_args[i] && argc < 62; i++)
        argv[argc++] = extra_args[i];
    argv[argc] = NULL;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, 1);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    cc->pid = pid;
    for (int i = 0; i < 500; i++) { /* up to 5 s */
        FILE *f = fopen(port_file, "r");
        if (f) {
            int port = 0;
            if (fscanf(f, "%d", &port) == 1 && port > 0) {
                fclose(f);
                cc->port = port;
                snprintf(cc->base, sizeof cc->base, "http://127.0.0.1:%d/resto", port);
                return 0;
            }
            fclose(f);
        }
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            cc->pid = 0;
            return -1;
        }
        sleep_ms(10);
    }
    cc_proc_stop(cc);
    return -1;
}

int cc_proc_stop(cc_proc *cc)
{
    if (cc->pid <= 0)
        return -1;
    kill(cc->pid, SIGTERM);
    int status = 0;
    for (int i = 0; i < 500; i++) {
        if (waitpid(cc->pid, &status, WNOHANG) == cc->pid) {
            cc->pid = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        }
        sleep_ms(10);
    }
    kill(cc->pid, SIGKILL);
    waitpid(cc->pid, &status, 0);
    cc->pid = 0;
    return -1;
}

typedef struct buf {
    char *data;
    size_t len;
} buf;

static size_t on_body(char *ptr, size_t size, size_t n, void *arg)
{
    buf *b = arg;
    size_t add = size * n;
    char *grown = realloc(b->data, b->len + add + 1);
    if (!grown)
        return 0;
    b->data = grown;
    memcpy(b->data + b->len, ptr, add);
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

static size_t on_header(char *ptr, size_t size, size_t n, void *arg)
{
    http_result *r = arg;
    size_t len = size * n;
    if (len > 12 && strncasecmp(ptr, "Retry-After:", 12) == 0) {
        size_t i = 12;
        while (i < len && ptr[i] == ' ')
            i++;
        size_t j = 0;
        while (i < len && ptr[i] != '\r' && ptr[i] != '\n' && j < sizeof r->retry_after - 1)
            r->retry_after[j++] = ptr[i++];
        r->retry_after[j] = '\0';
    }
    return len;
}

int http_call(const char *method, const char *url, const char *const *headers, const char *body,
              long timeout_ms, http_result *out)
{
    memset(out, 0, sizeof *out);
    CURL *h = curl_easy_init();
    if (!h)
        return -1;
    struct curl_slist *list = NULL;
    bool has_ctype = false;
    for (int i = 0; headers && headers[i]; i++) {
        list = curl_slist_append(list, headers[i]);
        has_ctype |= strncasecmp(headers[i], "Content-Type:", 13) == 0;
    }
    if (body && !has_ctype)
        list = curl_slist_append(list, "Content-Type: application/json");
    buf b = {0};
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    out->curl_code = (int)curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
    curl_easy_getinfo(h, CURLINFO_TOTAL_TIME, &out->seconds);
    out->body = b.data ? b.data : strdup("");
    out->json = cJSON_Parse(out->body);
    curl_slist_free_all(list);
    curl_easy_cleanup(h);
    return out->curl_code;
}

void http_result_free(http_result *r)
{
    free(r->body);
    cJSON_Delete(r->json);
    memset(r, 0, sizeof *r);
}

int cc_admin(const cc_proc *cc, const char *method, const char *path, const char *body,
             http_result *out)
{
    char url[512];
    snprintf(url, sizeof url, "%s/admin/%s", cc->base, path);
    return http_call(method, url, NULL, body, 10000, out);
}
