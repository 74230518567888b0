/* Loading libdelivery_print_extra.so (lib/print/extra.h) on first use, and the library's
 * stand-ins for what it holds: dlv__pdf_render and the cups: printer backend.
 *
 * Where the module is looked for, first match wins:
 *   1. $DLV_PRINT_EXTRA, a path to the module (the build tree's tests and benchmarks use it: an
 *      executable that links the library's objects has no library folder of its own);
 *   2. the folder of the object this code is in (dladdr): next to libdelivery.so or to the
 *      plugin;
 *   3. that folder's delivery/ subfolder: libdelivery.so in the library folder finds the module
 *      installed in the plugin's private folder beside it (debian/libdelivery1.install);
 *   4. the folder it is installed in (DLV_PRINT_EXTRA_INSTALL_DIR, lib/print/deps.cmake), for a
 *      program that links libdelivery.a.
 * The module is loaded once per process and never unloaded; a module that is absent stays
 * absent for the life of the process (the error names the file and dlerror's reason). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* dladdr */
#endif
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "print/extra.h"
#include "print/printer_impl.h"

/* lib/print/deps.cmake defines it for the library; a build that compiles these sources on its
 * own (the fuzz targets) looks in the usual place. */
#ifndef DLV_PRINT_EXTRA_INSTALL_DIR
#define DLV_PRINT_EXTRA_INSTALL_DIR "/usr/local/lib/delivery"
#endif

static const dlv__print_extra_host host = {
    1,                       /* version */
    DLV__PRINT_EXTRA_ABI,    /* abi */
    DLV__PRINT_EXTRA_SIZES,  /* sizes */
    dlv__malloc,             /* malloc */
    dlv__free,               /* free */
    dlv__error_set,          /* error_set */
    dlv__out_append,         /* out_append */
    dlv__column_widths,      /* column_widths */
    dlv__printer_timeout_ms, /* printer_timeout_ms */
    dlv_printer_uri,         /* printer_uri */
    dlv_printer_target,      /* printer_target */
    dlv_printer_option,      /* printer_option */
    dlv_printer_job_data,    /* job_data */
    dlv_printer_job_format,  /* job_format */
    dlv_printer_job_title,   /* job_title */
    dlv_printer_job_done,    /* job_done */
};

static uv_once_t load_once = UV_ONCE_INIT;
static const dlv__print_extra_api *loaded;
static char load_error[DLV_ERROR_MESSAGE_MAX];

/* dlopen of `path`; on failure appends the reason to load_error. */
static void *try_open(const char *path)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        size_t n = strlen(load_error);
        snprintf(load_error + n, sizeof load_error - n, "%s%s", n ? "; " : "", why ? why : path);
    }
    return h;
}

static void *find_module(void)
{
    const char *env = getenv("DLV_PRINT_EXTRA");
    if (env && *env)
        return try_open(env);
    Dl_info info;
    if (!dladdr((void *)&host, &info) || !info.dli_fname)
        return try_open(DLV_PRINT_EXTRA_INSTALL_DIR "/" DLV__PRINT_EXTRA_FILE);
    const char *slash = strrchr(info.dli_fname, '/');
    size_t dir = slash ? (size_t)(slash - info.dli_fname) + 1 : 0;
    static const char *const subdirs[] = {"", "delivery/"};
    for (size_t i = 0; i < sizeof subdirs / sizeof *subdirs; i++) {
        char path[4096];
        int n = snprintf(path, sizeof path, "%.*s%s%s", (int)dir, info.dli_fname, subdirs[i],
                         DLV__PRINT_EXTRA_FILE);
        if (n < 0 || (size_t)n >= sizeof path)
            continue;
        void *h = try_open(path); /* no folder at all: the dynamic loader's search path */
        if (h)
            return h;
    }
    return try_open(DLV_PRINT_EXTRA_INSTALL_DIR "/" DLV__PRINT_EXTRA_FILE);
}

static void load(void)
{
    void *h = find_module();
    if (!h)
        return;
    dlv__print_extra_init_fn init;
    /* POSIX's sanctioned way to turn dlsym's object pointer into a function pointer. */
    *(void **)&init = dlsym(h, DLV__PRINT_EXTRA_ENTRY);
    if (!init) {
        snprintf(load_error, sizeof load_error, "no %s in it", DLV__PRINT_EXTRA_ENTRY);
        return; /* left loaded: dlclose of a module that ran no code buys nothing */
    }
    loaded = init(&host, load_error, sizeof load_error);
}

const dlv__print_extra_api *dlv__print_extra(const char *what, dlv_error *err)
{
    uv_once(&load_once, load);
    if (!loaded)
        dlv__error_set(err, DLV_ENOTSUP, "%s is not installed: %s (%s)", what,
                       DLV__PRINT_EXTRA_FILE, load_error[0] ? load_error : "not found");
    return loaded;
}

int dlv__pdf_render(dlv__doc *const *docs, size_t count, int width, const char *title,
                    dlv__print_out *out, dlv_error *err)
{
    const dlv__print_extra_api *api = dlv__print_extra("PDF rendering", err);
    return api ? api->pdf_render(docs, count, width, title, out, err) : DLV_ENOTSUP;
}

/* ---- cups: a stand-in that loads the module at open and forwards to its backend ---- */

/* Room for the module's printer object (cups_printer in lib/print/extra/printer_cups.c, about
 * 400 bytes), allocated before the module is loaded; open checks that it fits. */
#define CUPS_PRIV_SIZE 2048

static const dlv_printer_methods *cups_real(void)
{
    return loaded ? loaded->cups : NULL;
}

static int cups_open(dlv_printer *p, dlv_error *err)
{
    const dlv__print_extra_api *api = dlv__print_extra("CUPS printing", err);
    if (!api)
        return DLV_ENOTSUP;
    if (api->cups->priv_size > CUPS_PRIV_SIZE)
        return dlv__error_set(err, DLV_ENOTSUP, "%s: its cups backend needs %zu bytes, not %d",
                              DLV__PRINT_EXTRA_FILE, api->cups->priv_size, CUPS_PRIV_SIZE);
    return api->cups->open(p, err);
}

static int cups_close(dlv_printer *p)
{
    /* A failed open may have left nothing to release (the module absent): zeroed memory. */
    return cups_real() ? cups_real()->close(p) : DLV_OK;
}

static int cups_submit(dlv_printer *p, dlv_printer_job *job)
{
    return cups_real()->submit(p, job);
}

static int cups_query(dlv_printer *p, dlv_printer_job *job)
{
    return cups_real()->query_status(p, job);
}

static int cups_ctl(dlv_printer *p, int op, void *arg)
{
    return cups_real()->ctl ? cups_real()->ctl(p, op, arg) : DLV_ENOTSUP;
}

const dlv_printer_methods dlv__printer_cups_methods = {
    DLV_PRINTER_METHODS_VERSION, /* version */
    "cups",                      /* scheme */
    CUPS_PRIV_SIZE,              /* priv_size */
    DLV_PRINTER_BLOCKING,        /* flags */
    cups_open,                   /* open */
    cups_close,                  /* close */
    cups_submit,                 /* submit */
    cups_query,                  /* query_status */
    cups_ctl,                    /* ctl */
};
