/*
 * docgen — what the build generates from latchkey's own tables, so that none of it
 * can drift from the binary: a manual page per command group (the CLI's nouns, verbs
 * and options in src/cli/, the server's options in src/config/config.c), the bash
 * completion, and the default configuration file.
 *
 *   latchkey-docgen man OUTDIR PAGE...   every page; PAGE... are the names meson
 *                                        expects, checked against the nouns
 *   latchkey-docgen bash FILE            the bash completion
 *   latchkey-docgen conf FILE            the default configuration file
 */
#ifndef LK_TOOLS_DOCGEN_H
#define LK_TOOLS_DOCGEN_H

#include <stdio.h>

#include "cli/cli.h"

/* roff text: backslashes, minus signs and line-leading dots escaped */
void docgen_roff(FILE *f, const char *s);

/* the page of one noun ("latchkey-user.1"), or of latchkey itself (noun NULL) */
void docgen_man_page(FILE *f, const lk_cli_noun *noun);

void docgen_bash(FILE *f);
void docgen_conf(FILE *f);

#endif
