/*
 * docgen_conf — the default configuration file an installation ships: every option
 * of `latchkey serve` (src/config/config.c) with its help line and its built-in
 * default, commented out, so that the file documents itself and changes nothing
 * until an operator uncomments a line.
 */
#include "tools/docgen.h"

#include <string.h>

#include "config/config.h"

void docgen_conf(FILE *f)
{
    fprintf(f,
            "# The configuration of `latchkey serve` (latchkey-serve(1)), generated from latchkey %s's\n"
            "# option table. Lines are `name = value`; '#' starts a comment. Every option is listed\n"
            "# with its built-in default, commented out. The environment variable LATCHKEY_<NAME>\n"
            "# and the flag --<name> override a line here. The CLI reads this file too (the\n"
            "# database, invitation and reset lifetimes, the mail language).\n"
            "#\n"
            "# Keep secrets (smtp_password) out of this world-readable file: the systemd unit also\n"
            "# reads latchkey.env next to it (mode 0600, root's) for lines such as\n"
            "# LATCHKEY_SMTP_PASSWORD=...\n",
            LK_VERSION);
    lk_config_doc d;
    for (size_t i = 0; lk_config_doc_at(i, &d); i++) {
        fprintf(f, "\n# %s", d.help);
        if (strcmp(d.kind, "N") == 0)
            fprintf(f, " (%lld to %lld)", (long long)d.min, (long long)d.max);
        fprintf(f, "\n#%s =%s%s\n", d.name, *d.def ? " " : "", d.def);
    }
}
