/*
 * mail/message — one rendered email as RFC 5322 / MIME text. Invariants of the output:
 * CRLF line endings only, no line over 78 characters (headers folded, bodies
 * quoted-printable with soft breaks at 76), only ASCII, and no header value from the
 * caller that could start a header of its own (control characters are refused).
 */
#include "mail/internal.h"
#include "core/secret.h"
#include "util/text.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define LINE_MAX_CHARS 78
#define QP_LINE 76
#define WORD_BYTES 39 /* bytes per encoded word: 12 + 52 base64 characters */

static bool has_control(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7F)
            return true;
    }
    return false;
}

/* one bare addr-spec in printable ASCII, without what would make it more than one */
static bool address_ok(const char *s, size_t n)
{
    if (n == 0 || n > 254)
        return false;
    size_t at = 0, ats = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7F || strchr("<>()[],;:\"\\", c))
            return false;
        if (c == '@') {
            at = i;
            ats++;
        }
    }
    return ats == 1 && at > 0 && at < n - 1;
}

static bool printable_ascii(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7E)
            return false;
    }
    return true;
}

/* ---- header output with a column count, for folding ----------------------------- */

typedef struct hdr {
    lk_strbuf *b;
    size_t col;
} hdr;

static void h_put(hdr *h, const char *s, size_t n)
{
    lk_strbuf_putn(h->b, s, n);
    h->col += n;
}

static void h_start(hdr *h, const char *name)
{
    h->col = 0;
    h_put(h, name, strlen(name));
    h_put(h, ": ", 2);
}

static void h_fold(hdr *h)
{
    lk_strbuf_puts(h->b, "\r\n");
    h->col = 0;
}

static void h_end(hdr *h)
{
    lk_strbuf_puts(h->b, "\r\n");
    h->col = 0;
}

/* " word", folded first if it would not fit */
static void h_word(hdr *h, const char *s, size_t n, bool space)
{
    if (space && h->col + 1 + n > LINE_MAX_CHARS)
        h_fold(h);
    if (space)
        h_put(h, " ", 1);
    h_put(h, s, n);
}

/* RFC 2047 B encoded words of whole UTF-8 characters, one per line after the first */
static void h_encoded(hdr *h, const char *s, bool space)
{
    size_t n = strlen(s), i = 0;
    do {
        size_t end = i;
        while (end < n) {
            size_t seq = lk_utf8_seqn(s + end, n - end);
            if (seq == 0)
                seq = 1; /* not UTF-8: carried byte by byte */
            if (end + seq - i > WORD_BYTES)
                break;
            end += seq;
        }
        char b64[sodium_base64_ENCODED_LEN(WORD_BYTES, sodium_base64_VARIANT_ORIGINAL)];
        sodium_bin2base64(b64, sizeof b64, (const unsigned char *)s + i, end - i,
                          sodium_base64_VARIANT_ORIGINAL);
        char word[96];
        size_t wn = (size_t)snprintf(word, sizeof word, "=?UTF-8?B?%s?=", b64);
        if (i > 0)
            h_fold(h);
        h_word(h, word, wn, space || i > 0);
        i = end;
    } while (i < n);
}

static bool needs_encoding(const char *s)
{
    if (!printable_ascii(s) || strstr(s, "=?"))
        return true;
    size_t run = 0; /* a word too long to fold around */
    for (; *s; s++) {
        run = *s == ' ' ? 0 : run + 1;
        if (run > 70)
            return true;
    }
    return false;
}

/* unstructured text (Subject): ASCII folded at spaces, anything else encoded */
static void h_text(hdr *h, const char *s)
{
    if (needs_encoding(s)) {
        h_encoded(h, s, false);
        return;
    }
    bool first = true;
    for (;;) {
        const char *sp = strchr(s, ' ');
        size_t n = sp ? (size_t)(sp - s) : strlen(s);
        h_word(h, s, n, !first);
        first = false;
        if (!sp)
            break;
        s = sp + 1;
    }
}

/* a display name and its address: "Name" <addr>, =?UTF-8?B?...?= <addr> or addr */
static void h_mailbox(hdr *h, const char *name, const char *addr, size_t addr_n)
{
    bool space = false;
    if (name && *name) {
        lk_strbuf q;
        lk_strbuf_init(&q, h->b->a);
        lk_strbuf_putc(&q, '"');
        for (const char *p = name; *p; p++) {
            if (*p == '"' || *p == '\\')
                lk_strbuf_putc(&q, '\\');
            lk_strbuf_putc(&q, *p);
        }
        lk_strbuf_putc(&q, '"');
        if (!printable_ascii(name) || strstr(name, "=?") || h->col + q.len > LINE_MAX_CHARS)
            h_encoded(h, name, false);
        else
            h_put(h, q.p, q.len);
        space = true;
    }
    char angle[260];
    size_t an = (size_t)snprintf(angle, sizeof angle, space ? "<%.*s>" : "%.*s", (int)addr_n, addr);
    h_word(h, angle, an, space);
}

/* "Name <addr>", "\"Name\" <addr>" or "addr": the address and the name (or NULL) */
static bool split_from(lk_arena *a, const char *from, const char **name, const char **addr, size_t *addr_n)
{
    const char *lt = strrchr(from, '<');
    size_t n = strlen(from);
    if (!lt) {
        *name = NULL;
        *addr = from;
        *addr_n = n;
        return address_ok(from, n);
    }
    if (n < 2 || from[n - 1] != '>')
        return false;
    *addr = lt + 1;
    *addr_n = (size_t)(from + n - 1 - *addr);
    const char *s = from, *e = lt;
    while (s < e && *s == ' ')
        s++;
    while (e > s && e[-1] == ' ')
        e--;
    if (e - s >= 2 && *s == '"' && e[-1] == '"') {
        s++;
        e--;
    }
    *name = e > s ? lk_arena_strndup(a, s, (size_t)(e - s)) : NULL;
    return address_ok(*addr, *addr_n);
}

/* ---- quoted-printable (RFC 2045 6.7) ------------------------------------------------- */

static void qp_encode(lk_strbuf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    while (*s) {
        size_t n = strcspn(s, "\r\n");
        size_t col = 0;
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)s[i];
            bool last = i + 1 == n;
            bool enc = c == '=' || c > 0x7E || (c < 0x20 && c != '\t') || ((c == ' ' || c == '\t') && last) ||
                       (i == 0 && c == 'F' && strncmp(s, "From ", 5) == 0);
            size_t tok = enc || c == '.' ? 3 : 1;
            if (col + tok > (last ? QP_LINE : QP_LINE - 1)) {
                lk_strbuf_puts(b, "=\r\n");
                col = 0;
            }
            if (c == '.' && col == 0)
                enc = true; /* no line starts with a dot, whatever the transport does */
            if (enc) {
                char e[3] = {'=', hex[c >> 4], hex[c & 15]};
                lk_strbuf_putn(b, e, 3);
                col += 3;
            } else {
                lk_strbuf_putc(b, (char)c);
                col++;
            }
        }
        s += n;
        if (*s == '\r' && s[1] == '\n')
            s += 2;
        else if (*s)
            s++;
        else
            break;
        lk_strbuf_puts(b, "\r\n");
    }
}

/* ---- the message -------------------------------------------------------------------- */

static const char *domain_of(const char *from)
{
    const char *name, *addr;
    size_t n;
    lk_arena tmp = LK_ARENA_INIT;
    bool ok = from && split_from(&tmp, from, &name, &addr, &n);
    lk_arena_free(&tmp);
    if (!ok)
        return NULL;
    const char *at = memchr(addr, '@', n);
    return at ? at + 1 : NULL;
}

const char *lk_mail_address(lk_arena *a, const char *from)
{
    const char *name, *addr;
    size_t n;
    if (!from || !split_from(a, from, &name, &addr, &n))
        return NULL;
    return lk_arena_strndup(a, addr, n);
}

const char *lk_mail_message_id(lk_arena *a, const char *from)
{
    char uuid[LK_UUID_LEN + 1], hex[33];
    lk_secret_uuid(uuid);
    size_t o = 0;
    for (const char *p = uuid; *p && o < 32; p++) {
        if (*p != '-')
            hex[o++] = *p;
    }
    hex[o] = '\0';
    const char *domain = domain_of(from);
    if (!domain)
        return lk_arena_printf(a, "%s@localhost", hex);
    size_t dn = strcspn(domain, ">");
    return lk_arena_printf(a, "%s@%.*s", hex, (int)dn, domain);
}

static void date_header(hdr *h, int64_t t)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm))
        memset(&tm, 0, sizeof tm);
    char buf[64];
    int n = snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7], tm.tm_mday,
                     months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    h_start(h, "Date");
    h_put(h, buf, (size_t)n);
    h_end(h);
}

static bool message_id_ok(const char *id)
{
    return address_ok(id, strlen(id));
}

static void part(lk_strbuf *b, const char *boundary, const char *type, const char *body)
{
    lk_strbuf_puts(b, "\r\n--");
    lk_strbuf_puts(b, boundary);
    lk_strbuf_puts(b, "\r\nContent-Type: ");
    lk_strbuf_puts(b, type);
    lk_strbuf_puts(b, "; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n");
    qp_encode(b, body);
}

const char *lk_mail_format(lk_arena *a, const lk_mail_header *h, const lk_mail_content *c)
{
    if (!h || !c || !h->from || !h->to || !c->subject || !c->text || !c->html)
        return NULL;
    if (has_control(h->from) || has_control(h->to) || (h->to_name && has_control(h->to_name)) ||
        (h->message_id && has_control(h->message_id)) || has_control(c->subject))
        return NULL;
    const char *from_name, *from_addr;
    size_t from_n;
    if (!split_from(a, h->from, &from_name, &from_addr, &from_n) || !address_ok(h->to, strlen(h->to)))
        return NULL;
    const char *id = h->message_id ? h->message_id : lk_mail_message_id(a, h->from);
    if (!message_id_ok(id))
        return NULL;

    char boundary[5 + 24 + 1] = "=_lk_";
    lk_secret_alnum(boundary + 5, 24);

    lk_strbuf b;
    lk_strbuf_init(&b, a);
    hdr hw = {&b, 0};
    date_header(&hw, h->date);
    h_start(&hw, "Message-ID");
    h_word(&hw, "<", 1, false);
    h_put(&hw, id, strlen(id));
    h_put(&hw, ">", 1);
    h_end(&hw);
    h_start(&hw, "From");
    h_mailbox(&hw, from_name, from_addr, from_n);
    h_end(&hw);
    h_start(&hw, "To");
    h_mailbox(&hw, h->to_name, h->to, strlen(h->to));
    h_end(&hw);
    h_start(&hw, "Subject");
    h_text(&hw, c->subject);
    h_end(&hw);
    lk_strbuf_puts(&b, "MIME-Version: 1.0\r\n"
                     "Auto-Submitted: auto-generated\r\n"
                     "Content-Type: multipart/alternative;\r\n boundary=\"");
    lk_strbuf_puts(&b, boundary);
    lk_strbuf_puts(&b, "\"\r\n\r\nThis is a multi-part message in MIME format.\r\n");
    part(&b, boundary, "text/plain", c->text);
    part(&b, boundary, "text/html", c->html);
    lk_strbuf_puts(&b, "\r\n--");
    lk_strbuf_puts(&b, boundary);
    lk_strbuf_puts(&b, "--\r\n");
    return lk_strbuf_str(&b);
}
