/* Burns CPU until killed: the scheduler must still preempt it. */
int
main(void)
{
	volatile unsigned long n = 0;
	for (;;)
		n++;
}
