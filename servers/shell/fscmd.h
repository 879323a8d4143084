/* The shell's file commands (fscmd.c). */
#ifndef SHELL_FSCMD_H
#define SHELL_FSCMD_H

void cmd_ls(int argc, char **argv);
void cmd_cat(int argc, char **argv);
void cmd_write(int argc, char **argv);
void cmd_rm(int argc, char **argv);
void cmd_mkdir(int argc, char **argv);
void cmd_df(int argc, char **argv);

#endif
