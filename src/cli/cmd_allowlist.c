/*
 * cmd_allowlist — `latchkey allowlist show|add|remove|enable|disable`: the IP
 * allowlist of REST calls and token requests (core/allowlist.h). Every verb prints
 * a sentence, and with --json the document `show` prints, after the change.
 */
#include "cli/cli.h"

#include "core/allowlist.h"
#include "util/cidr.h"

typedef struct state {
    bool enabled;
    const char **cidrs;
    size_t n;
} state;

static lk_code read_state(lk_cli_cmd *c, state *s)
{
    return lk_allowlist_get(c->op, &s->enabled, &s->cidrs, &s->n);
}

static lk_code emit_state(const state *s)
{
    json_t *entries = json_array();
    for (size_t i = 0; i < s->n; i++)
        json_array_append_new(entries, lk_cli_json_str(s->cidrs[i]));
    json_t *doc = json_object();
    json_object_set_new(doc, "enabled", json_boolean(s->enabled));
    json_object_set_new(doc, "entries", entries);
    return lk_cli_emit(doc);
}

static lk_code allowlist_show(lk_cli_cmd *c)
{
    state s;
    lk_code code = read_state(c, &s);
    if (code != LK_OK)
        return code;
    if (c->json)
        return emit_state(&s);
    lk_cli_field(c, "Enabled", s.enabled ? "yes (REST calls only from the entries below)"
                                         : "no (REST calls from any address)");
    lk_cli_field(c, "Entries", s.n ? lk_cli_i64(c, (int64_t)s.n) : "none");
    for (size_t i = 0; i < s.n; i++)
        printf("  %s\n", lk_cli_clean(c->arena, s.cidrs[i], true));
    return LK_OK;
}

/* with --json the state after a change, else the sentence (and, after an add to a
 * disabled list, how to turn it on) */
static lk_code done(lk_cli_cmd *c, const char *sentence, bool added)
{
    state s;
    lk_code code = read_state(c, &s);
    if (code != LK_OK)
        return code;
    if (c->json)
        return emit_state(&s);
    printf("%s\n", sentence);
    if (added && !s.enabled)
        printf("The allowlist is disabled: it applies once 'latchkey allowlist enable' turns it on.\n");
    return LK_OK;
}

static lk_code allowlist_add(lk_cli_cmd *c)
{
    const char *canon = NULL;
    lk_code code = lk_allowlist_add(c->op, c->arg, &canon);
    if (code != LK_OK)
        return code;
    return done(c, lk_arena_printf(c->arena, "Added %s to the IP allowlist.", canon), true);
}

static lk_code allowlist_remove(lk_cli_cmd *c)
{
    lk_code code = lk_allowlist_remove(c->op, c->arg);
    if (code != LK_OK)
        return code;
    lk_cidr r;
    char canon[LK_CIDR_TEXT] = "";
    if (lk_cidr_parse(c->arg, &r, NULL))
        lk_cidr_format(&r, canon);
    return done(c, lk_arena_printf(c->arena, "Removed %s from the IP allowlist.", canon), false);
}

static lk_code switch_to(lk_cli_cmd *c, bool enabled)
{
    state before;
    lk_code code = read_state(c, &before);
    if (code == LK_OK)
        code = lk_allowlist_enable(c->op, enabled);
    if (code != LK_OK)
        return code;
    const char *what = enabled ? "enabled" : "disabled";
    if (before.enabled == enabled)
        return done(c, lk_arena_printf(c->arena, "The IP allowlist is %s already; nothing changed.", what),
                    false);
    if (!enabled)
        return done(c, "Disabled the IP allowlist: REST calls are accepted from any address.", false);
    return done(c, lk_arena_printf(c->arena,
                                   "Enabled the IP allowlist: REST calls and token requests are accepted "
                                   "only from its %zu %s.", before.n, before.n == 1 ? "entry" : "entries"),
                false);
}

static lk_code allowlist_enable(lk_cli_cmd *c)
{
    return switch_to(c, true);
}

static lk_code allowlist_disable(lk_cli_cmd *c)
{
    return switch_to(c, false);
}

static const lk_cli_verb verbs[] = {
    {.name = "show", .read_only = true, .run = allowlist_show,
     .summary = "show whether the allowlist is on, and its entries",
     .help = "Shows whether the IP allowlist is enabled and the addresses and ranges on it.\n"},
    {.name = "add", .arg = "CIDR", .run = allowlist_add,
     .summary = "allow an address or CIDR range",
     .help = "Adds an IPv4 or IPv6 address (192.0.2.7, 2001:db8::1) or CIDR range\n"
             "(10.0.0.0/8, 2001:db8::/32) to the allowlist. Bits beyond the prefix must\n"
             "be zero (10.0.0.1/8 is refused); an IPv4-mapped address (::ffff:192.0.2.7)\n"
             "is kept as the IPv4 one. Entries are stored and shown with their prefix.\n"},
    {.name = "remove", .arg = "CIDR", .run = allowlist_remove,
     .summary = "take an address or range off the allowlist",
     .help = "Removes an entry, written in any form that means the same range\n"
             "(192.0.2.7 removes 192.0.2.7/32). The last entry of an enabled allowlist\n"
             "cannot be removed: disable the allowlist first.\n"},
    {.name = "enable", .run = allowlist_enable,
     .summary = "accept REST calls only from the allowlist",
     .help = "Turns the allowlist on: REST calls and token requests from any other address\n"
             "are refused (REST calls with 603). An empty allowlist cannot be enabled.\n"},
    {.name = "disable", .run = allowlist_disable,
     .summary = "accept REST calls from any address",
     .help = "Turns the allowlist off; its entries are kept.\n"},
    {.name = NULL},
};

const lk_cli_noun lk_cli_noun_allowlist = {
    .name = "allowlist",
    .summary = "the IP allowlist of REST calls and token requests",
    .verbs = verbs,
};
