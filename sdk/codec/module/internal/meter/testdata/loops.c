/* Loops for the meter's tests: built with clang -O0 for wasm32, no libc. */
__attribute__((export_name("count"))) int count(int n)
{
	volatile int s = 0;
	for (int i = 0; i < n; i++)
		s += i;
	return s;
}

__attribute__((export_name("nested"))) int nested(int n)
{
	volatile int s = 0;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++)
			s += i ^ j;
	return s;
}

__attribute__((export_name("forever"))) int forever(void)
{
	volatile int x = 1;
	while (x)
		;
	return 0;
}

static int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

/* Recursion, no loop: the meter leaves it to the stack limit. */
__attribute__((export_name("recurse"))) int recurse(int n) { return fib(n); }
