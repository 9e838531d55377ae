/* test_mail_message — every template in both languages, and the RFC 5322 / MIME text
 * around them: headers, folding, RFC 2047 subjects, quoted-printable, injection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/secret.h"
#include "mail/message.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static const char *const LANGS[] = {"en", "de"};

static lk_mail_vars full_vars(void)
{
    return (lk_mail_vars){
        .recipient_name = "Grace Hopper",
        .link = "http://127.0.0.1:8080/console/#/set-password?token=abc123",
        .link_expires = "2026-11-27T23:17:27Z",
        .message = "Welcome aboard!\nSee you on Monday.",
        .actor_name = "Ada Lovelace (ada@example.com)",
        .subject_user = "grace@example.com",
        .expires_at = "2027-01-31T00:00:00Z",
        .days = 7,
        .console_url = "http://127.0.0.1:8080",
    };
}

static void expect_in(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("'%s' not found in:\n%s", needle, hay);
}

static void expect_not_in(const char *hay, const char *needle)
{
    if (strstr(hay, needle))
        fail_msg("'%s' unexpectedly found in:\n%s", needle, hay);
}

static lk_mail_content render(lk_arena *a, lk_mail_kind kind, const char *lang, const lk_mail_vars *v)
{
    lk_mail_content c = {0};
    assert_true(lk_mail_render(a, kind, lang, v, &c));
    assert_non_null(c.subject);
    assert_non_null(c.text);
    assert_non_null(c.html);
    assert_true(strlen(c.subject) > 5 && strlen(c.text) > 50 && strlen(c.html) > 200);
    /* every placeholder was expanded; the layout has no literal braces */
    expect_not_in(c.subject, "{");
    expect_not_in(c.text, "{");
    expect_not_in(c.html, "{");
    expect_not_in(c.subject, "\n");
    return c;
}

/* ---- rendering ------------------------------------------------------------------------ */

static void renders_every_kind_in_both_languages(void **state)
{
    (void)state;
    lk_arena a = LK_ARENA_INIT;
    lk_mail_vars v = full_vars();
    for (size_t l = 0; l < 2; l++) {
        const bool de = l == 1;
        for (int k = 0; k < LK_MAIL_KIND_COUNT; k++) {
            for (int admin = 0; admin < 2; admin++) {
                if (admin && k != LK_MAIL_EXPIRY_NOTICE)
                    continue;
                v.to_admin = admin;
                lk_mail_content c = render(&a, (lk_mail_kind)k, LANGS[l], &v);
                expect_in(c.html, de ? "<html lang=\"de\">" : "<html lang=\"en\">");
                expect_in(c.text, "Grace Hopper");
                expect_in(c.html, "Grace Hopper");
                expect_in(c.text, de ? "Hallo Grace Hopper," : "Hello Grace Hopper,");
                expect_in(c.html, de ? "Nachricht von latchkey" : "automated message from latchkey");
                switch (k) {
                case LK_MAIL_INVITATION:
                case LK_MAIL_PASSWORD_RESET:
                    expect_in(c.text, v.link);
                    expect_in(c.html, "href=\"http://127.0.0.1:8080/console/#/set-password?token=abc123\"");
                    expect_in(c.text, de ? "27. November 2026 um 23:17 UTC" : "27 November 2026 at 23:17 UTC");
                    expect_in(c.text, de ? "nur einmal" : "only once");
                    expect_in(c.html, de ? "nur einmal" : "only once");
                    if (k == LK_MAIL_INVITATION) {
                        assert_string_equal(c.subject, de ? "Willkommen bei latchkey" : "Welcome to latchkey");
                        expect_in(c.text, "> Welcome aboard!\n> See you on Monday.\n");
                        expect_in(c.html, "Welcome aboard!<br>\nSee you on Monday.");
                        expect_in(c.html, de ? "Passwort festlegen" : "Set password");
                        expect_in(c.text, "Ada Lovelace (ada@example.com)");
                    } else {
                        expect_in(c.text, de ? "ignorieren Sie diese E-Mail" : "ignore this email");
                        expect_not_in(c.text, "Welcome aboard");
                    }
                    break;
                case LK_MAIL_EXPIRY_NOTICE:
                    expect_in(c.subject, de ? "in 7 Tagen" : "in 7 days");
                    expect_in(c.text, de ? "31. Januar 2027 um 00:00 UTC" : "31 January 2027 at 00:00 UTC");
                    expect_in(c.html, de ? "31. Januar 2027 um 00:00 UTC" : "31 January 2027 at 00:00 UTC");
                    if (admin) {
                        expect_in(c.subject, "grace@example.com");
                        expect_in(c.text, "grace@example.com");
                        expect_in(c.text, v.console_url);
                    } else {
                        expect_in(c.text, de ? "Ihr Zugang zu latchkey endet am" : "Your access to latchkey ends on");
                        expect_in(c.text, de ? "Administrator" : "administrator");
                    }
                    break;
                case LK_MAIL_ADMIN_ADDED:
                case LK_MAIL_ADMIN_REMOVED:
                    expect_in(c.subject, "grace@example.com");
                    expect_in(c.text, "grace@example.com");
                    expect_in(c.html, "<strong>grace@example.com</strong>");
                    expect_in(c.text, "Ada Lovelace (ada@example.com)");
                    expect_in(c.text, v.console_url);
                    expect_in(c.html, "href=\"http://127.0.0.1:8080\"");
                    expect_in(c.subject, k == LK_MAIL_ADMIN_ADDED ? (de ? "jetzt Administrator" : "is now")
                                                                  : (de ? "nicht mehr" : "no longer"));
                    break;
                }
            }
        }
    }
    lk_arena_free(&a);
}

static void escapes_every_variable_in_html(void **state)
{
    (void)state;
    lk_arena a = LK_ARENA_INIT;
    lk_mail_vars v = full_vars();
    v.recipient_name = "<script>alert(1)</script>";
    v.message = "Hi <script>x()</script> & \"quotes\" 'single'\r\nline two";
    v.actor_name = "Eve <img src=x onerror=y>";
    v.subject_user = "<b>mallory</b>@example.com";
    v.link = "http://x/\"><script>";
    v.console_url = "http://c/\"onmouseover=\"z";
    for (size_t l = 0; l < 2; l++) {
        for (int k = 0; k < LK_MAIL_KIND_COUNT; k++) {
            v.to_admin = k == LK_MAIL_EXPIRY_NOTICE;
            lk_mail_content c = render(&a, (lk_mail_kind)k, LANGS[l], &v);
            expect_not_in(c.html, "<script");
            expect_not_in(c.html, "<img");
            expect_not_in(c.html, "<b>");
            expect_not_in(c.html, "\"onmouseover");
            expect_in(c.html, "&lt;script&gt;alert(1)&lt;/script&gt;");
            if (k == LK_MAIL_INVITATION) {
                expect_in(c.html, "Hi &lt;script&gt;x()&lt;/script&gt; &amp; &quot;quotes&quot; &#39;single&#39;"
                                  "<br>\nline two");
                expect_in(c.html, "href=\"http://x/&quot;&gt;&lt;script&gt;\"");
                /* the text part carries the message as written, quoted, CRLF normalised */
                expect_in(c.text, "> Hi <script>x()</script> & \"quotes\" 'single'\n> line two\n");
            }
            if (k >= LK_MAIL_ADMIN_ADDED)
                expect_in(c.html, "&lt;b&gt;mallory&lt;/b&gt;@example.com");
            /* the title repeats the subject, escaped */
            if (k == LK_MAIL_ADMIN_ADDED)
                expect_in(c.html, "<title>&lt;b&gt;mallory");
        }
    }
    lk_arena_free(&a);
}

static void german_umlauts_survive(void **state)
{
    (void)state;
    lk_arena a = LK_ARENA_INIT;
    lk_mail_vars v = full_vars();
    v.recipient_name = "Jürgen Groß";
    v.message = "Grüße aus Köln – bis Montag!";
    v.expires_at = "2027-03-01T12:30:00+01:00";
    lk_mail_content c = render(&a, LK_MAIL_INVITATION, "de", &v);
    expect_in(c.text, "Hallo Jürgen Groß,");
    expect_in(c.html, "Hallo Jürgen Groß,");
    expect_in(c.text, "> Grüße aus Köln – bis Montag!");
    expect_in(c.html, "Grüße aus Köln – bis Montag!");
    expect_in(c.text, "gültig");
    expect_in(c.text, "Legen Sie über diesen Link Ihr Passwort fest");
    c = render(&a, LK_MAIL_EXPIRY_NOTICE, "de", &v);
    expect_in(c.text, "1. März 2027 um 11:30 UTC");
    expect_in(c.subject, "Ihr Zugang zu latchkey endet in 7 Tagen");
    lk_arena_free(&a);
}

static void optional_parts_and_fallbacks(void **state)
{
    (void)state;
    lk_arena a = LK_ARENA_INIT;
    lk_mail_vars v = {.link = "https://l/x"};
    lk_mail_content c = render(&a, LK_MAIL_INVITATION, "en", &v);
    expect_in(c.text, "Hello,\n");
    expect_in(c.text, "You have been invited to latchkey.");
    expect_not_in(c.text, "writes:");
    expect_not_in(c.html, "<blockquote");
    expect_in(c.text, "The link works only once.");
    expect_not_in(c.text, "sign in at");
    c = render(&a, LK_MAIL_INVITATION, "de", &v);
    expect_in(c.text, "Guten Tag,\n");
    expect_in(c.text, "Der Link kann nur einmal verwendet werden.");
    /* a message of blank lines counts as none */
    v.message = "\n  \n";
    c = render(&a, LK_MAIL_INVITATION, "en", &v);
    expect_not_in(c.text, "writes:");

    lk_mail_vars e = {.expires_at = "2027-01-31", .days = 1};
    c = render(&a, LK_MAIL_EXPIRY_NOTICE, "en", &e);
    assert_string_equal(c.subject, "Your latchkey access ends in 1 day");
    c = render(&a, LK_MAIL_EXPIRY_NOTICE, "de", &e);
    assert_string_equal(c.subject, "Ihr Zugang zu latchkey endet in 1 Tag");
    e.days = 0;
    c = render(&a, LK_MAIL_EXPIRY_NOTICE, "en", &e);
    assert_string_equal(c.subject, "Your latchkey access ends today");
    /* an unparsable instant is shown as given */
    e.expires_at = "soon";
    c = render(&a, LK_MAIL_EXPIRY_NOTICE, "en", &e);
    expect_in(c.text, "ends on soon");

    lk_mail_vars n = {.subject_user = "g@example.com"};
    c = render(&a, LK_MAIL_ADMIN_REMOVED, "de", &n);
    expect_not_in(c.text, "vorgenommen");
    expect_in(c.text, "in der Verwaltungskonsole.\n");
    /* a newline in a variable cannot break the subject */
    n.subject_user = "g@example.com\r\nBcc: x@y.z";
    c = render(&a, LK_MAIL_ADMIN_ADDED, "en", &n);
    expect_not_in(c.subject, "\r");
    lk_arena_free(&a);
}

static void languages_and_refusals(void **state)
{
    (void)state;
    lk_arena a = LK_ARENA_INIT;
    lk_mail_vars v = full_vars();
    lk_mail_content c = render(&a, LK_MAIL_PASSWORD_RESET, "fr", &v);
    assert_string_equal(c.subject, "Reset your latchkey password");
    c = render(&a, LK_MAIL_PASSWORD_RESET, NULL, &v);
    assert_string_equal(c.subject, "Reset your latchkey password");
    c = render(&a, LK_MAIL_PASSWORD_RESET, "de", &v);
    assert_string_equal(c.subject, "Passwort für latchkey zurücksetzen");

    lk_mail_content none = {0};
    assert_false(lk_mail_render(&a, LK_MAIL_KIND_COUNT, "en", &v, &none));
    assert_false(lk_mail_render(&a, (lk_mail_kind)-1, "en", &v, &none));
    assert_false(lk_mail_render(&a, LK_MAIL_INVITATION, "en", NULL, &none));
    lk_mail_vars missing = v;
    missing.link = "";
    assert_false(lk_mail_render(&a, LK_MAIL_INVITATION, "en", &missing, &none));
    assert_false(lk_mail_render(&a, LK_MAIL_PASSWORD_RESET, "en", &missing, &none));
    missing = v;
    missing.expires_at = NULL;
    assert_false(lk_mail_render(&a, LK_MAIL_EXPIRY_NOTICE, "en", &missing, &none));
    missing = v;
    missing.subject_user = NULL;
    assert_false(lk_mail_render(&a, LK_MAIL_ADMIN_ADDED, "en", &missing, &none));
    missing.to_admin = true;
    assert_false(lk_mail_render(&a, LK_MAIL_EXPIRY_NOTICE, "en", &missing, &none));
    missing.to_admin = false;
    assert_true(lk_mail_render(&a, LK_MAIL_EXPIRY_NOTICE, "en", &missing, &none));
    lk_arena_free(&a);
}

/* ---- decoding helpers for the formatted message -------------------------------------- */

/* the value of header name, unfolded ("" if absent), from the header block of msg */
static const char *header(lk_arena *a, const char *msg, const char *name)
{
    const char *end = strstr(msg, "\r\n\r\n");
    assert_non_null(end);
    size_t nl = strlen(name);
    for (const char *p = msg; p < end;) {
        const char *eol = strstr(p, "\r\n");
        if (strncmp(p, name, nl) == 0 && p[nl] == ':') {
            char *out = lk_arena_alloc(a, (size_t)(end - p) + 1);
            size_t o = 0;
            const char *q = p + nl + 1;
            while (*q == ' ')
                q++;
            for (;;) {
                eol = strstr(q, "\r\n");
                memcpy(out + o, q, (size_t)(eol - q));
                o += (size_t)(eol - q);
                if (eol[2] != ' ' && eol[2] != '\t')
                    break;
                q = eol + 2; /* unfolding: drop the CRLF, keep the white space */
            }
            out[o] = '\0';
            return out;
        }
        p = eol + 2;
    }
    return "";
}

/* RFC 2047: encoded words separated by white space decode to their concatenation */
static const char *decode_2047(lk_arena *a, const char *s)
{
    char *out = lk_arena_alloc(a, strlen(s) + 1);
    size_t o = 0;
    bool last_word = false;
    while (*s) {
        if (strncmp(s, "=?UTF-8?B?", 10) == 0) {
            const char *b = s + 10, *e = strstr(b, "?=");
            assert_non_null(e);
            size_t bin_len = 0;
            assert_int_equal(sodium_base642bin((unsigned char *)out + o, strlen(s), b, (size_t)(e - b), NULL,
                                               &bin_len, NULL, sodium_base64_VARIANT_ORIGINAL),
                             0);
            o += bin_len;
            s = e + 2;
            last_word = true;
            continue;
        }
        if (last_word && *s == ' ') {
            const char *q = s;
            while (*q == ' ')
                q++;
            if (strncmp(q, "=?", 2) == 0) {
                s = q;
                continue;
            }
        }
        out[o++] = *s++;
        last_word = false;
    }
    out[o] = '\0';
    return out;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    fail_msg("bad hex digit '%c'", c);
    return 0;
}

static const char *qp_decode(lk_arena *a, const char *s, size_t n)
{
    char *out = lk_arena_alloc(a, n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] == '=' && i + 2 < n + 1 && s[i + 1] == '\r' && s[i + 2] == '\n') {
            i += 3;
        } else if (s[i] == '=') {
            assert_true(i + 2 < n);
            out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 3;
        } else {
            assert_true((unsigned char)s[i] < 0x80);
            out[o++] = s[i++];
        }
    }
    out[o] = '\0';
    return out;
}

static const char *crlf(lk_arena *a, const char *s)
{
    char *out = lk_arena_alloc(a, 2 * strlen(s) + 1), *o = out;
    for (; *s; s++) {
        if (*s == '\n')
            *o++ = '\r';
        *o++ = *s;
    }
    *o = '\0';
    return out;
}

typedef struct parsed {
    const char *boundary;
    const char *raw[2];     /* the encoded bodies: text, html */
    const char *decoded[2];
    const char *part_head[2];
} parsed;

static parsed parse_message(lk_arena *a, const char *msg)
{
    parsed p = {0};
    const char *ct = header(a, msg, "Content-Type");
    const char *bq = strstr(ct, "boundary=\"");
    assert_non_null(bq);
    bq += 10;
    p.boundary = lk_arena_strndup(a, bq, strcspn(bq, "\""));
    const char *delim = lk_arena_printf(a, "\r\n--%s", p.boundary);
    const char *cur = strstr(msg, delim);
    assert_non_null(cur);
    for (int i = 0; i < 2; i++) {
        cur += strlen(delim);
        assert_memory_equal(cur, "\r\n", 2);
        const char *body = strstr(cur, "\r\n\r\n");
        assert_non_null(body);
        p.part_head[i] = lk_arena_strndup(a, cur + 2, (size_t)(body - cur - 2));
        body += 4;
        const char *next = strstr(body, delim);
        assert_non_null(next);
        p.raw[i] = lk_arena_strndup(a, body, (size_t)(next - body));
        p.decoded[i] = qp_decode(a, body, (size_t)(next - body));
        cur = next;
    }
    cur += strlen(delim);
    assert_string_equal(cur, "--\r\n");
    return p;
}

static void expect_wire_shape(const char *msg)
{
    size_t line = 0;
    for (const char *p = msg; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 0x80)
            fail_msg("non-ASCII byte at offset %zu", (size_t)(p - msg));
        if (c == '\r') {
            assert_int_equal(p[1], '\n');
            continue;
        }
        if (c == '\n') {
            if (p == msg || p[-1] != '\r')
                fail_msg("bare LF at offset %zu", (size_t)(p - msg));
            line = 0;
            continue;
        }
        if (++line > 78)
            fail_msg("line longer than 78 at offset %zu", (size_t)(p - msg));
    }
    assert_true(strlen(msg) >= 2 && strcmp(msg + strlen(msg) - 2, "\r\n") == 0);
}

/* ---- formatting ------------------------------------------------------------------------- */

static void formats_a_complete_message(void **state)
{
    (void)state;
    lk_arena a = LK_ARENA_INIT;
    lk_mail_vars v = full_vars();
    for (size_t l = 0; l < 2; l++) {
        for (int k = 0; k < LK_MAIL_KIND_COUNT; k++) {
            lk_mail_content c = render(&a, (lk_mail_kind)k, LANGS[l], &v);
            lk_mail_header h = {.from = "latchkey <no-reply@example.com>", .to = "grace@example.com",
                                .to_name = "Grace Hopper", .date = 1795821447, .message_id = "abc@example.com"};
            const char *msg = lk_mail_format(&a, &h, &c);
            assert_non_null(msg);
            expect_wire_shape(msg);
            assert_string_equal(header(&a, msg, "Date"), "Fri, 27 Nov 2026 23:17:27 +0000");
            assert_string_equal(header(&a, msg, "Message-ID"), "<abc@example.com>");
            assert_string_equal(header(&a, msg, "From"), "\"latchkey\" <no-reply@example.com>");
            assert_string_equal(header(&a, msg, "To"), "\"Grace Hopper\" <grace@example.com>");
            assert_string_equal(decode_2047(&a, header(&a, msg, "Subject")), c.subject);
            assert_string_equal(header(&a, msg, "MIME-Version"), "1.0");
            assert_string_equal(header(&a, msg, "Auto-Submitted"), "auto-generated");
            expect_in(header(&a, msg, "Content-Type"), "multipart/alternative;");
            assert_int_equal(strncmp(msg, "Date: ", 6), 0);

            parsed p = parse_message(&a, msg);
            assert_true(strlen(p.boundary) >= 20);
            assert_string_equal(p.part_head[0],
                                "Content-Type: text/plain; charset=UTF-8\r\n"
                                "Content-Transfer-Encoding: quoted-printable");
            assert_string_equal(p.part_head[1],
                                "Content-Type: text/html; charset=UTF-8\r\n"
                                "Content-Transfer-Encoding: quoted-printable");
            assert_string_equal(p.decoded[0], crlf(&a, c.text));
            assert_string_equal(p.decoded[1], crlf(&a, c.html));
            for (int i = 0; i < 2; i++) {
                expect_not_in(p.raw[i], p.boundary);
                expect_not_in(p.decoded[i], p.boundary);
            }
        }
    }
    lk_arena_free(&a);
}

static void subject_with_umlauts_is_encoded_and_folded(void **state)
{
    (void)state;
    lk_arena a = LK_ARENA_INIT;
    const char *subjects[] = {
        "Passwort für latchkey zurücksetzen",
        "Ihr Zugang zu latchkey endet in 7 Tagen – Grüße an Jürgen Groß, Müller, Schäfer und Öztürk aus "
        "Köln, Düsseldorf und Lübeck 🎉🎉🎉",
        "A plain ASCII subject that is long enough to need folding somewhere around the seventy-eighth "
        "column, and then some more words to fold again",
        "Looks =?UTF-8?B?encoded?= but is not",
        "x",
    };
    for (size_t i = 0; i < sizeof subjects / sizeof *subjects; i++) {
        lk_mail_content c = {.subject = subjects[i], .text = "t\n", .html = "<p>h</p>\n"};
        lk_mail_header h = {.from = "no-reply@example.com", .to = "grace@example.com", .date = 0};
        const char *msg = lk_mail_format(&a, &h, &c);
        assert_non_null(msg);
        expect_wire_shape(msg);
        const char *raw = header(&a, msg, "Subject");
        bool ascii = i >= 2;
        if (i == 3)
            expect_in(raw, "=?UTF-8?B?"); /* "=?" in plain text is encoded so it cannot be misread */
        else if (ascii)
            assert_string_equal(raw, subjects[i]);
        else
            assert_int_equal(strncmp(raw, "=?UTF-8?B?", 10), 0);
        assert_string_equal(decode_2047(&a, raw), subjects[i]);
        assert_string_equal(header(&a, msg, "Date"), "Thu, 01 Jan 1970 00:00:00 +0000");
        assert_string_equal(header(&a, msg, "From"), "no-reply@example.com");
        assert_string_equal(header(&a, msg, "To"), "grace@example.com");
    }
    /* the long ones were folded */
    lk_mail_content c = {.subject = subjects[1], .text = "", .html = ""};
    lk_mail_header h = {.from = "no-reply@example.com", .to = "grace@example.com"};
    const char *msg = lk_mail_format(&a, &h, &c);
    expect_in(msg, "?=\r\n =?UTF-8?B?");
    lk_arena_free(&a);
}

static void display_names_are_quoted_or_encoded(void **state)
{
    (void)state;
    lk_arena a = LK_ARENA_INIT;
    lk_mail_content c = {.subject = "s", .text = "t", .html = "h"};
    lk_mail_header h = {.from = "Jürgen Groß <jg@example.com>", .to = "ada@example.com",
                        .to_name = "Ada \"the Countess\" Lovelace"};
    const char *msg = lk_mail_format(&a, &h, &c);
    assert_non_null(msg);
    expect_wire_shape(msg);
    assert_string_equal(header(&a, msg, "To"), "\"Ada \\\"the Countess\\\" Lovelace\" <ada@example.com>");
    const char *from = header(&a, msg, "From");
    expect_in(from, "=?UTF-8?B?");
    assert_string_equal(decode_2047(&a, from), "Jürgen Groß <jg@example.com>");
    h.from = "\"latchkey server\" <no-reply@example.com>";
    h.to_name = "A very long display name that goes on and on and on, well past the fold limit";
    msg = lk_mail_format(&a, &h, &c);
    assert_non_null(msg);
    expect_wire_shape(msg);
    assert_string_equal(header(&a, msg, "From"), "\"latchkey server\" <no-reply@example.com>");
    assert_string_equal(decode_2047(&a, header(&a, msg, "To")), lk_arena_printf(&a, "%s <ada@example.com>", h.to_name));
    lk_arena_free(&a);
}

static void quoted_printable_round_trips(void **state)
{
    (void)state;
    lk_arena a = LK_ARENA_INIT;
    char long_line[600];
    for (size_t i = 0; i < sizeof long_line - 1; i++)
        long_line[i] = "ab=c.ü "[i % 8 == 7 ? 6 : i % 7]; /* mixes '=', '.', spaces and UTF-8 bytes */
    long_line[sizeof long_line - 1] = '\0';
    const char *text = lk_arena_printf(&a,
                                       "trailing space \nTrailing tab\t\n.leading dot\nFrom the start\n"
                                       "\n\n= equals =3D\n%s\nno newline at the end, but ümlauts: äöüß €",
                                       long_line);
    lk_mail_content c = {.subject = "QP", .text = text, .html = "<p>line one\r\nline two\rline three</p>"};
    lk_mail_header h = {.from = "no-reply@example.com", .to = "grace@example.com"};
    const char *msg = lk_mail_format(&a, &h, &c);
    assert_non_null(msg);
    expect_wire_shape(msg);
    parsed p = parse_message(&a, msg);
    assert_string_equal(p.decoded[0], crlf(&a, text));
    assert_string_equal(p.decoded[1], "<p>line one\r\nline two\r\nline three</p>");
    /* no encoded line ends in white space or starts with a dot or "From " */
    expect_not_in(p.raw[0], " \r\n");
    expect_not_in(p.raw[0], "\t\r\n");
    expect_not_in(p.raw[0], "\r\n.");
    expect_not_in(p.raw[0], "\r\nFrom ");
    expect_in(p.raw[0], "=\r\n"); /* soft breaks happened */
    lk_arena_free(&a);
}

static void header_injection_is_refused(void **state)
{
    (void)state;
    lk_arena a = LK_ARENA_INIT;
    lk_mail_content c = {.subject = "s", .text = "t", .html = "h"};
    const lk_mail_header ok = {.from = "no-reply@example.com", .to = "grace@example.com", .to_name = "Grace"};
    assert_non_null(lk_mail_format(&a, &ok, &c));

    lk_mail_header h = ok;
    h.to = "grace@example.com\r\nBcc: x@evil.example";
    assert_null(lk_mail_format(&a, &h, &c));
    h = ok;
    h.to = "grace@example.com\nBcc: x@evil.example";
    assert_null(lk_mail_format(&a, &h, &c));
    h = ok;
    h.to = "grace@example.com, x@evil.example";
    assert_null(lk_mail_format(&a, &h, &c));
    h = ok;
    h.to = "Grace <grace@example.com>";
    assert_null(lk_mail_format(&a, &h, &c));
    h = ok;
    h.to = "not-an-address";
    assert_null(lk_mail_format(&a, &h, &c));
    h = ok;
    h.to_name = "Grace\r\nBcc: x@evil.example";
    assert_null(lk_mail_format(&a, &h, &c));
    h = ok;
    h.from = "latchkey <no-reply@example.com>\r\nBcc: x@evil.example";
    assert_null(lk_mail_format(&a, &h, &c));
    h = ok;
    h.from = "latchkey <no-reply@example.com";
    assert_null(lk_mail_format(&a, &h, &c));
    h = ok;
    h.message_id = "abc@example.com>\r\nBcc: <x";
    assert_null(lk_mail_format(&a, &h, &c));
    h = ok;
    h.to = NULL;
    assert_null(lk_mail_format(&a, &h, &c));
    lk_mail_content bad = c;
    bad.subject = "hi\r\nBcc: x@evil.example";
    assert_null(lk_mail_format(&a, &ok, &bad));
    bad.subject = "hi\nthere";
    assert_null(lk_mail_format(&a, &ok, &bad));
    bad = c;
    bad.html = NULL;
    assert_null(lk_mail_format(&a, &ok, &bad));
    assert_null(lk_mail_format(&a, NULL, &c));
    lk_arena_free(&a);
}

static bool is_message_id(const char *id, const char *domain)
{
    for (int i = 0; i < 32; i++) {
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
            return false;
    }
    return id[32] == '@' && strcmp(id + 33, domain) == 0;
}

static void message_ids(void **state)
{
    (void)state;
    lk_arena a = LK_ARENA_INIT;
    const char *one = lk_mail_message_id(&a, "latchkey <no-reply@mail.example.com>");
    const char *two = lk_mail_message_id(&a, "no-reply@mail.example.com");
    assert_true(is_message_id(one, "mail.example.com"));
    assert_true(is_message_id(two, "mail.example.com"));
    assert_string_not_equal(one, two);
    assert_true(is_message_id(lk_mail_message_id(&a, "nonsense"), "localhost"));
    assert_true(is_message_id(lk_mail_message_id(&a, NULL), "localhost"));

    /* without one, lk_mail_format makes one */
    lk_mail_content c = {.subject = "s", .text = "t", .html = "h"};
    lk_mail_header h = {.from = "latchkey <no-reply@example.com>", .to = "grace@example.com"};
    const char *msg = lk_mail_format(&a, &h, &c);
    const char *mid = header(&a, msg, "Message-ID");
    assert_int_equal(mid[0], '<');
    assert_int_equal(mid[strlen(mid) - 1], '>');
    assert_true(is_message_id(lk_arena_strndup(&a, mid + 1, strlen(mid) - 2), "example.com"));
    /* and a fresh boundary each time */
    const char *msg2 = lk_mail_format(&a, &h, &c);
    assert_string_not_equal(header(&a, msg, "Content-Type"), header(&a, msg2, "Content-Type"));
    lk_arena_free(&a);
}

static int setup(void **state)
{
    (void)state;
    return lk_secret_init() ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(renders_every_kind_in_both_languages),
        cmocka_unit_test(escapes_every_variable_in_html),
        cmocka_unit_test(german_umlauts_survive),
        cmocka_unit_test(optional_parts_and_fallbacks),
        cmocka_unit_test(languages_and_refusals),
        cmocka_unit_test(formats_a_complete_message),
        cmocka_unit_test(subject_with_umlauts_is_encoded_and_folded),
        cmocka_unit_test(display_names_are_quoted_or_encoded),
        cmocka_unit_test(quoted_printable_round_trips),
        cmocka_unit_test(header_injection_is_refused),
        cmocka_unit_test(message_ids),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
