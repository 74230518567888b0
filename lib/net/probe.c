/* The doctor's blocking calls: curl easy, one call at a time (see probe.h). */
#include "net/probe.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    dlv__probe_result *r = arg;
    size_t len = size * n;
    DLV__ASSERT(r->body_len < sizeof r->body);
    size_t room = sizeof r->body - 1 - r->body_len;
    size_t take = len < room ? len : room;
    memcpy(r->body + r->body_len, p, take);
    r->body_len += take;
    r->body[r->body_len] = '\0';
    return len;
}

static dlv__probe_failure classify(CURLcode rc)
{
    switch (rc) {
    case CURLE_OK:
        return DLV__PROBE_OK;
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
        return DLV__PROBE_CONNECT;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CACERT_BADFILE:
        return DLV__PROBE_TLS;
    default:
        return DLV__PROBE_OTHER;
    }
}

void dlv__probe_call(const char *server_url, const dlv__proto_request *req, const char *terminal_id,
                     const char *token, long timeout_ms, const char *ca_file,
                     dlv__probe_result *out)
{
    out->status = 0;
    out->body_len = 0;
    out->body[0] = '\0';
    CURLcode rc = CURLE_OUT_OF_MEMORY;
    char *url = dlv__proto_url(server_url, req->path);
    CURL *h = url ? curl_easy_init() : NULL;
    if (h) {
        dlv__proto_headers hd;
        struct curl_slist *list = NULL;
        if (dlv__proto_headers_init(&hd, terminal_id, token, req->body != NULL) == DLV_OK)
            for (int i = 0; hd.list[i]; i++)
                list = curl_slist_append(list, hd.list[i]);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        if (ca_file)
            curl_easy_setopt(h, CURLOPT_CAINFO, ca_file);
        if (req->body)
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
        rc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
        curl_slist_free_all(list);
        curl_easy_cleanup(h);
    }
    dlv__free(url);
    out->failure = classify(rc);
    snprintf(out->error, sizeof out->error, "%s", curl_easy_strerror(rc));
}

static char *take(char *curl_text)
{
    char *copy = curl_text ? dlv__strdup(curl_text) : NULL;
    curl_free(curl_text);
    return copy;
}

void dlv__probe_url_split(const char *url, dlv__probe_url *out)
{
    memset(out, 0, sizeof *out);
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL, *scheme = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
        curl_url_get(u, CURLUPART_HOST, &host, 0);
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    }
    out->host = take(host);
    out->port = take(port);
    out->scheme = take(scheme);
    curl_url_cleanup(u);
}

void dlv__probe_url_free(dlv__probe_url *u)
{
    dlv__free(u->host);
    dlv__free(u->port);
    dlv__free(u->scheme);
    memset(u, 0, sizeof *u);
}
