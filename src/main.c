/*
 * main — the one binary: starts libsodium, then hands the command line to the CLI
 * dispatcher (cli/cli.c), whose noun table also routes `latchkey serve`.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/secret.h"

int main(int argc, char **argv)
{
    if (!lk_secret_init()) {
        fputs("latchkey: cannot start the random number generator (libsodium)\n", stderr);
        return 3;
    }
    /* `serve` has its own options (config/config.c): hand it everything but the word */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--db") == 0) {
            i++;
            continue;
        }
        if (argv[i][0] == '-')
            continue;
        if (strcmp(argv[i], "serve") != 0)
            break;
        for (int k = i; k + 1 < argc; k++)
            argv[k] = argv[k + 1];
        return lk_serve_main(argc - 2, argv + 1);
    }
    return lk_cli_main(argc, argv);
}
