/*
 * main — the one binary: starts libsodium, then hands the command line to the CLI
 * dispatcher (cli/cli.c), whose noun table also routes `latchkey serve`.
 */
#include <stdio.h>

#include "cli/cli.h"
#include "core/secret.h"

int main(int argc, char **argv)
{
    if (!lk_secret_init()) {
        fputs("latchkey: cannot start the random number generator (libsodium)\n", stderr);
        return 3;
    }
    return lk_cli_main(argc, argv);
}
