/* The shell's network commands (netcmd.c). */
#ifndef SHELL_NETCMD_H
#define SHELL_NETCMD_H

void cmd_ping(int argc, char **argv);
void cmd_net(int argc, char **argv);
void cmd_nodes(int argc, char **argv);

#endif
