/* The shell's `svc`: init's services (qs/svc.h). */
#ifndef SHELL_SVCCMD_H
#define SHELL_SVCCMD_H

void cmd_svc(int argc, char **argv);

#endif
