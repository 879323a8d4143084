/* The shell's transaction command, `tx`. */
#ifndef SHELL_TXCMD_H
#define SHELL_TXCMD_H

void cmd_tx(int argc, char **argv);
void cmd_log(int argc, char **argv);

#endif
