/* test_mail_templates — the operator's template folder (mail_templates): the built-in
 * templates exported and read back render the same mail; an override replaces what
 * it names and nothing else; every faulty folder is refused with a reason naming the
 * file and what is wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/secret.h"
#include "mail/message.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static void write_file(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void remove_file(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(unlink(path), 0);
}

static int make_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/lk-tpl-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] != '.')
            remove_file(e->d_name);
    }
    if (d)
        closedir(d);
    rmdir(dir);
    return 0;
}

static lk_mail_vars vars(void)
{
    return (lk_mail_vars){
        .recipient_name = "Grace Hopper",
        .link = "http://127.0.0.1:8080/invite#abc123",
        .link_expires = "2026-11-27T23:17:27Z",
        .message = "Welcome aboard!",
        .actor_name = "Ada Lovelace (ada@example.com)",
        .subject_user = "grace@example.com",
        .expires_at = "2027-01-31T00:00:00Z",
        .days = 7,
        .console_url = "http://127.0.0.1:8080",
    };
}

static void same(const lk_mail_content *a, const lk_mail_content *b)
{
    assert_string_equal(a->subject, b->subject);
    assert_string_equal(a->text, b->text);
    assert_string_equal(a->html, b->html);
}

static void exported_templates_render_as_the_built_in_ones(void **state)
{
    (void)state;
    char err[600] = "";
    assert_true(lk_mail_tplset_export(dir, err, sizeof err));
    lk_mail_tplset *set = lk_mail_tplset_load(dir, err, sizeof err);
    if (!set)
        fail_msg("%s", err);
    lk_arena a = LK_ARENA_INIT;
    static const char *const langs[] = {"en", "de"};
    lk_mail_vars v = vars();
    for (int l = 0; l < 2; l++) {
        for (int k = 0; k < LK_MAIL_KIND_COUNT; k++) {
            for (int admin = 0; admin < 2; admin++) {
                v.to_admin = admin;
                lk_mail_content built_in, from_files;
                assert_true(lk_mail_render(&a, (lk_mail_kind)k, langs[l], &v, &built_in));
                assert_true(lk_mail_render_with(set, &a, (lk_mail_kind)k, langs[l], &v, &from_files));
                same(&built_in, &from_files);
            }
        }
    }
    /* exporting again never overwrites */
    assert_false(lk_mail_tplset_export(dir, err, sizeof err));
    assert_non_null(strstr(err, "File exists"));
    lk_mail_tplset_free(set);
    lk_arena_free(&a);
}

static void an_override_replaces_what_it_names(void **state)
{
    (void)state;
    write_file("invitation.en.subject", "Welcome to Acme's API portal\n");
    write_file("invitation.en.txt", "Hello {name}, Acme invites you: {link}\n");
    write_file("invitation.en.html", "<p>Hello {name}, Acme invites you: <a href=\"{link}\">{link}</a></p>");
    write_file("layout.en.html", "<html lang=\"{lang}\"><title>{subject}</title><body>{body}<p>Acme Inc.</p></body></html>");
    char err[600] = "";
    lk_mail_tplset *set = lk_mail_tplset_load(dir, err, sizeof err);
    if (!set)
        fail_msg("%s", err);
    lk_arena a = LK_ARENA_INIT;
    lk_mail_vars v = vars();
    v.recipient_name = "Grace <Hopper>";
    lk_mail_content c;
    assert_true(lk_mail_render_with(set, &a, LK_MAIL_INVITATION, "en", &v, &c));
    assert_string_equal(c.subject, "Welcome to Acme's API portal");
    assert_non_null(strstr(c.text, "Hello Grace <Hopper>, Acme invites you: http://127.0.0.1:8080/invite#abc123"));
    /* the built-in footer stays, the variables are escaped in HTML whatever the file says */
    assert_non_null(strstr(c.text, "automated message from latchkey"));
    assert_non_null(strstr(c.html, "Hello Grace &lt;Hopper&gt;, Acme invites you"));
    assert_non_null(strstr(c.html, "<title>Welcome to Acme&#39;s API portal</title>"));
    assert_non_null(strstr(c.html, "<p>Acme Inc.</p>"));
    /* German and the other kinds keep the built-in templates */
    lk_mail_content de, builtin_de, reset, builtin_reset;
    assert_true(lk_mail_render_with(set, &a, LK_MAIL_INVITATION, "de", &v, &de));
    assert_true(lk_mail_render(&a, LK_MAIL_INVITATION, "de", &v, &builtin_de));
    same(&de, &builtin_de);
    assert_true(lk_mail_render_with(set, &a, LK_MAIL_PASSWORD_RESET, "en", &v, &reset));
    assert_true(lk_mail_render(&a, LK_MAIL_PASSWORD_RESET, "en", &v, &builtin_reset));
    assert_string_equal(reset.subject, builtin_reset.subject);
    assert_string_equal(reset.text, builtin_reset.text);
    assert_non_null(strstr(reset.html, "<p>Acme Inc.</p>")); /* the English layout is the operator's */
    lk_mail_tplset_free(set);
    lk_arena_free(&a);
}

/* loading dir fails with a reason containing each of want */
static void refused(const char *want1, const char *want2)
{
    char err[600] = "";
    lk_mail_tplset *set = lk_mail_tplset_load(dir, err, sizeof err);
    if (set) {
        lk_mail_tplset_free(set);
        fail_msg("loaded, but expected a refusal naming '%s'", want1);
    }
    if (!strstr(err, want1) || (want2 && !strstr(err, want2)))
        fail_msg("reason '%s' does not name '%s' / '%s'", err, want1, want2 ? want2 : "");
}

static void faulty_folders_are_refused(void **state)
{
    (void)state;
    write_file("admin_added.en.subject", "{user} is an admin\n");
    write_file("admin_added.en.txt", "{user} was made an administrator.\n");
    write_file("admin_added.en.html", "<p>{user} was made an administrator.</p>\n");
    char err[600] = "";
    lk_mail_tplset *ok = lk_mail_tplset_load(dir, err, sizeof err);
    assert_non_null(ok);
    lk_mail_tplset_free(ok);

    write_file("admin_added.en.txt", "Hello {nam}\n");
    refused("admin_added.en.txt", "unknown variable {nam}");
    write_file("admin_added.en.txt", "{?user}open section\n");
    refused("admin_added.en.txt", "not closed");
    write_file("admin_added.en.txt", "closes nothing {/}\n");
    refused("admin_added.en.txt", "closes no");
    write_file("admin_added.en.txt", "a { brace\n");
    refused("admin_added.en.txt", "without its '}'");
    write_file("admin_added.en.txt", "{body} in a template\n");
    refused("admin_added.en.txt", "unknown variable {body}");
    write_file("admin_added.en.txt", "{user} was made an administrator.\n");

    write_file("admin_added.en.subject", "two\nlines\n");
    refused("admin_added.en.subject", "one line");
    write_file("admin_added.en.subject", "{user} is an admin\n");

    remove_file("admin_added.en.html");
    refused("admin_added.en.html is missing", NULL);
    write_file("admin_added.en.html", "<p>{user} was made an administrator.</p>\n");

    write_file("invitaton.en.txt", "typo in the name {link}\n");
    refused("unknown file invitaton.en.txt", NULL);
    remove_file("invitaton.en.txt");
    write_file("invitation.fr.txt", "{link}\n");
    refused("unknown file invitation.fr.txt", NULL);
    remove_file("invitation.fr.txt");

    write_file("invitation.en.subject", "Welcome\n");
    write_file("invitation.en.txt", "Welcome, {name}: ask your admin for the link.\n");
    write_file("invitation.en.html", "<p>{link}</p>\n");
    refused("invitation.en.txt does not insert {link}", NULL);
    remove_file("invitation.en.subject");
    remove_file("invitation.en.txt");
    remove_file("invitation.en.html");

    write_file("layout.de.html", "<html>{subject}</html>\n");
    refused("layout.de.html does not insert {body}", NULL);
    write_file("layout.de.html", "<html>{subject}{body}</html>\n");

    write_file("footer.en.txt", "bad \xff byte\n");
    refused("footer.en.txt is not UTF-8", NULL);
    remove_file("footer.en.txt");

    /* dotfiles (an editor's) are left alone */
    write_file(".admin_added.en.txt.swp", "anything {nam}");
    lk_mail_tplset *again = lk_mail_tplset_load(dir, err, sizeof err);
    if (!again)
        fail_msg("%s", err);
    lk_mail_tplset_free(again);

    assert_null(lk_mail_tplset_load("/nonexistent/folder", err, sizeof err));
    assert_non_null(strstr(err, "cannot open the folder /nonexistent/folder"));
}

static int setup(void **state)
{
    (void)state;
    return lk_secret_init() ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(exported_templates_render_as_the_built_in_ones, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(an_override_replaces_what_it_names, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(faulty_folders_are_refused, make_dir, remove_dir),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
