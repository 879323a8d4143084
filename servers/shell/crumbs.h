/* The shell's `crumbs` command (crumbs.c). */
#ifndef SHELL_CRUMBS_H
#define SHELL_CRUMBS_H

void cmd_crumbs(int argc, char **argv);

#endif
