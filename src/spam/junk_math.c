/* junk_math.c: the junk filter's arithmetic (junk_int.h): Robinson's token
 * probability, Fisher's inverse chi-square combining as in bogofilter and mox, and
 * the choice of the most significant tokens. Pure functions, unit-tested with known
 * values (tests/unit/spam/test_junk.c). */
#include "junk_int.h"

#include <math.h>
#include <stdlib.h>

#define ROBINSON_S 1.0
#define ROBINSON_X 0.5

double junk_robinson(int64_t nspam_w, int64_t nham_w, int64_t nspam, int64_t nham)
{
	if (nspam_w + nham_w <= 0)
		return ROBINSON_X;
	double b = nspam > 0 ? (double)nspam_w / (double)nspam : 0;
	double g = nham > 0 ? (double)nham_w / (double)nham : 0;
	if (b > 1)
		b = 1;
	if (g > 1)
		g = 1;
	if (b + g <= 0)
		return ROBINSON_X;
	double p = b / (b + g);
	double n = (double)(nspam_w + nham_w);
	return (ROBINSON_S * ROBINSON_X + n * p) / (ROBINSON_S + n);
}

double junk_chi2q(double x, unsigned v)
{
	double m = x / 2.0;
	double term = exp(-m), sum = term;
	for (unsigned i = 1; i < v / 2; i++) {
		term *= m / i;
		sum += term;
	}
	return sum < 1.0 ? sum : 1.0;
}

double junk_fisher(const double *f, size_t n)
{
	if (n == 0)
		return 0.5;
	double ln_spam = 0, ln_ham = 0;
	for (size_t i = 0; i < n; i++) {
		double p = f[i];
		/* keep the logarithms finite */
		if (p < 1e-6)
			p = 1e-6;
		if (p > 1 - 1e-6)
			p = 1 - 1e-6;
		ln_spam += log(p);
		ln_ham += log(1 - p);
	}
	double h = junk_chi2q(-2.0 * ln_spam, 2 * (unsigned)n); /* near 1 when tokens are spammy */
	double s = junk_chi2q(-2.0 * ln_ham, 2 * (unsigned)n);  /* near 1 when tokens are hammy */
	return (1.0 + h - s) / 2.0;
}

static int by_deviation(const void *a, const void *b)
{
	double da = fabs(*(const double *)a - 0.5), db = fabs(*(const double *)b - 0.5);
	return da < db ? 1 : da > db ? -1 : 0;
}

size_t junk_significant(double *f, size_t n, size_t max)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (fabs(f[i] - 0.5) > JUNK_MIN_DEV)
			f[k++] = f[i];
	}
	qsort(f, k, sizeof(*f), by_deviation);
	return k < max ? k : max;
}
