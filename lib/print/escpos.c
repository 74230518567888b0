/* ESC/POS output and status bytes, and the UTF-8 text preview of the same lines.
 *
 * Text goes out in CP866 selected with `ESC t n` (n from the printer's profile: 17 on Epson,
 * 7, 10, 11 or 12 on others), converted with iconv; a character CP866 lacks becomes a close
 * one-byte look-alike (quotes, dashes, Ukrainian І) or '?', so every code point stays one column
 * and raw UTF-8 never reaches the printer. */
#include <errno.h>
#include <iconv.h>
#include <string.h>

#include "common/dynbuf.h"
#include "print/doc.h"

#define ESC 0x1B
#define GS 0x1D

int dlv__out_append(dlv__print_out *out, const void *data, size_t len)
{
    DLV__ASSERT(out && (data || len == 0) && out->len <= out->cap);
    if (len == 0)
        return DLV_OK;
    if (len > SIZE_MAX - out->len || DLV__DYNARR_RESERVE(out->data, out->cap, out->len + len, 1024,
                                                         DLV__DYNARR_NOLIMIT) != DLV_OK)
        return DLV_ENOMEM;
    memcpy(out->data + out->len, data, len);
    out->len += len;
    return DLV_OK;
}

void dlv__print_out_free(dlv__print_out *out)
{
    if (!out)
        return;
    dlv__free(out->data);
    memset(out, 0, sizeof *out);
}

/* One-byte stand-ins for characters CP866 lacks. */
static int fallback(uint32_t cp)
{
    switch (cp) {
    case 0x00AB: /* « */
    case 0x00BB: /* » */
    case 0x201C:
    case 0x201D:
    case 0x201E:
        return '"';
    case 0x2018:
    case 0x2019:
    case 0x201A:
        return '\'';
    case 0x2010:
    case 0x2011:
    case 0x2012:
    case 0x2013:
    case 0x2014:
    case 0x2212:
        return '-';
    case 0x2026: /* … */
        return '.';
    case 0x0406: /* І */
        return 'I';
    case 0x0456: /* і */
        return 'i';
    default:
        return '?';
    }
}

/* Converts UTF-8 to CP866 and appends it. */
static int to_cp866(iconv_t cd, const char *s, dlv__print_out *out)
{
    char *in = (char *)s;
    size_t inleft = strlen(s);
    int rc = DLV_OK;
    while (inleft > 0 && rc == DLV_OK) {
        char buf[256];
        char *o = buf;
        size_t oleft = sizeof buf;
        size_t r = iconv(cd, &in, &inleft, &o, &oleft);
        int e = errno;
        rc = dlv__out_append(out, buf, (size_t)(o - buf));
        if (r == (size_t)-1 && rc == DLV_OK) {
            if (e == E2BIG)
                continue;
            uint32_t cp;
            size_t k = dlv__utf8_decode(in, inleft, &cp);
            unsigned char c = (unsigned char)fallback(cp);
            rc = dlv__out_append(out, &c, 1);
            in += k;
            inleft -= k;
            iconv(cd, NULL, NULL, NULL, NULL);
        }
    }
    return rc;
}

int dlv__escpos_begin(const dlv__print_profile *profile, dlv__print_out *out, dlv_error *err)
{
    /* ESC @: initialize; ESC t n: the code page table of CP866. */
    unsigned char init[] = {ESC, '@', ESC, 't', (unsigned char)profile->codepage};
    if (dlv__out_append(out, init, sizeof init) != DLV_OK)
        return dlv__error_set(err, DLV_ENOMEM, "out of memory");
    return DLV_OK;
}

static unsigned char size_byte(int size)
{
    /* GS ! n: bits 0-2 height multiple - 1, bits 4-6 width multiple - 1. */
    return size == 2 ? 0x11 : size == 1 ? 0x01 : 0x00;
}

int dlv__escpos_copy(const dlv__mlines *lines, const dlv__print_profile *profile,
                     dlv__print_out *out, dlv_error *err)
{
    iconv_t cd = iconv_open("CP866", "UTF-8");
    if (cd == (iconv_t)-1)
        return dlv__error_set(err, DLV_EIO, "iconv cannot convert UTF-8 to CP866: %s",
                              strerror(errno));
    int rc = DLV_OK;
    int size = 0;
    bool bold = false;
    unsigned char reset[] = {GS, '!', 0, ESC, 'E', 0};
    rc = dlv__out_append(out, reset, sizeof reset);
    bool ends_cut = false;
    for (size_t i = 0; i < lines->count && rc == DLV_OK; i++) {
        const dlv__mline *l = &lines->lines[i];
        ends_cut = l->cut;
        if (l->cut) {
            if (profile->cut) {
                /* GS V 66 0: feed to the cutter and cut (partial). */
                unsigned char cut[] = {GS, 'V', 66, 0};
                rc = dlv__out_append(out, cut, sizeof cut);
            } else {
                unsigned char feed[] = {ESC, 'd', 4};
                rc = dlv__out_append(out, feed, sizeof feed);
            }
            continue;
        }
        if (l->size != size) {
            unsigned char cmd[] = {GS, '!', size_byte(l->size)};
            rc = dlv__out_append(out, cmd, sizeof cmd);
            size = l->size;
        }
        for (size_t r = 0; r < l->count && rc == DLV_OK; r++) {
            if (l->runs[r].bold != bold) {
                unsigned char cmd[] = {ESC, 'E', l->runs[r].bold ? 1 : 0};
                rc = dlv__out_append(out, cmd, sizeof cmd);
                bold = l->runs[r].bold;
            }
            if (rc == DLV_OK)
                rc = to_cp866(cd, l->runs[r].text, out);
        }
        if (rc == DLV_OK)
            rc = dlv__out_append(out, "\n", 1);
    }
    if (rc == DLV_OK && (size != 0 || bold))
        rc = dlv__out_append(out, reset, sizeof reset);
    if (rc == DLV_OK && !ends_cut) {
        /* Every copy ends cut off, so copies come out as separate slips. */
        if (profile->cut) {
            unsigned char cut[] = {GS, 'V', 66, 0};
            rc = dlv__out_append(out, cut, sizeof cut);
        } else {
            unsigned char feed[] = {ESC, 'd', 4};
            rc = dlv__out_append(out, feed, sizeof feed);
        }
    }
    iconv_close(cd);
    if (rc != DLV_OK)
        return dlv__error_set(err, rc, "out of memory");
    return DLV_OK;
}

/* The preview shows what the printer prints: text through CP866 and back, so a character the
 * printer cannot print shows as its stand-in or '?' here too. */
static int preview_text(iconv_t to866, iconv_t from866, const char *s, dlv__print_out *out)
{
    dlv__print_out tmp = {0};
    int rc = to_cp866(to866, s, &tmp);
    char *in = (char *)tmp.data;
    size_t inleft = tmp.len;
    while (rc == DLV_OK && inleft > 0) {
        char buf[512];
        char *o = buf;
        size_t oleft = sizeof buf;
        size_t r = iconv(from866, &in, &inleft, &o, &oleft);
        rc = dlv__out_append(out, buf, (size_t)(o - buf));
        if (r == (size_t)-1 && errno != E2BIG)
            break; /* cannot happen: every CP866 byte has a code point */
    }
    dlv__print_out_free(&tmp);
    return rc;
}

static int cut_mark(int width, dlv__print_out *out)
{
    int rc = dlv__out_append(out, "8<", 2);
    for (int k = 2; k < width && rc == DLV_OK; k++)
        rc = dlv__out_append(out, "-", 1);
    return rc == DLV_OK ? dlv__out_append(out, "\n", 1) : rc;
}

int dlv__text_copy(const dlv__mlines *lines, int width, dlv__print_out *out, dlv_error *err)
{
    iconv_t to866 = iconv_open("CP866", "UTF-8");
    iconv_t from866 = iconv_open("UTF-8", "CP866");
    if (to866 == (iconv_t)-1 || from866 == (iconv_t)-1) {
        if (to866 != (iconv_t)-1)
            iconv_close(to866);
        if (from866 != (iconv_t)-1)
            iconv_close(from866);
        return dlv__error_set(err, DLV_EIO, "iconv cannot convert between UTF-8 and CP866");
    }
    int rc = DLV_OK;
    bool ends_cut = false;
    for (size_t i = 0; i < lines->count && rc == DLV_OK; i++) {
        const dlv__mline *l = &lines->lines[i];
        ends_cut = l->cut;
        if (l->cut) {
            rc = cut_mark(width, out);
            continue;
        }
        for (size_t r = 0; r < l->count && rc == DLV_OK; r++)
            rc = preview_text(to866, from866, l->runs[r].text, out);
        if (rc == DLV_OK)
            rc = dlv__out_append(out, "\n", 1);
    }
    if (rc == DLV_OK && !ends_cut)
        rc = cut_mark(width, out);
    iconv_close(to866);
    iconv_close(from866);
    if (rc != DLV_OK)
        return dlv__error_set(err, rc, "out of memory");
    return DLV_OK;
}

/* ---- status bytes (DLE EOT n) ---- */

DLV_EXTERN int dlv_printer_escpos_status(const unsigned char bytes[3], unsigned *flags)
{
    if (!bytes || !flags)
        return DLV_EINVAL;
    for (int i = 0; i < 3; i++)
        if ((bytes[i] & 0x93) != 0x12) /* bits 1 and 4 set, 0 and 7 clear in every answer */
            return DLV_EPRINTER;
    unsigned f = DLV_PRINTER_STATUS_KNOWN;
    if (bytes[0] & 0x08)
        f |= DLV_PRINTER_STATUS_OFFLINE;
    if (bytes[1] & 0x04)
        f |= DLV_PRINTER_STATUS_COVER_OPEN;
    if ((bytes[1] & 0x20) || (bytes[2] & 0x60))
        f |= DLV_PRINTER_STATUS_PAPER_OUT;
    if (bytes[2] & 0x0C)
        f |= DLV_PRINTER_STATUS_PAPER_LOW;
    if (bytes[1] & 0x40)
        f |= DLV_PRINTER_STATUS_ERROR;
    *flags = f;
    return DLV_OK;
}

DLV_EXTERN int dlv_printer_status_error(unsigned flags, const char **message)
{
    const char *m = NULL;
    int rc = DLV_OK;
    if (flags & DLV_PRINTER_STATUS_PAPER_OUT) {
        rc = DLV_EPAPEROUT;
        m = "the printer is out of paper: load a new roll";
    } else if (flags & DLV_PRINTER_STATUS_COVER_OPEN) {
        rc = DLV_ECOVEROPEN;
        m = "the printer's cover is open: close it";
    } else if (flags & DLV_PRINTER_STATUS_ERROR) {
        rc = DLV_EOFFLINE;
        m = "the printer reports an error (cutter, head temperature): check it";
    } else if (flags & DLV_PRINTER_STATUS_OFFLINE) {
        rc = DLV_EOFFLINE;
        m = "the printer is offline: check it is switched on and ready";
    }
    if (message)
        *message = m;
    return rc;
}
