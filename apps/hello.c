/* The smallest program: proves spawning, arguments and console output. */
#include <stdio.h>
#include <qs/sys.h>

int
main(int argc, char **argv)
{
	printf("hello from pid %d\n", qs_getpid());
	for (int i = 1; i < argc; i++)
		printf("hello: argv[%d] = %s\n", i, argv[i]);
	return 0;
}
