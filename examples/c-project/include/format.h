#ifndef FORMAT_H
#define FORMAT_H
#include <stdio.h>
#include "common.h"

/* Prints counts as "LINES WORDS BYTES" and a newline. */
void print_counts(FILE *out, const struct counts *c);

#endif
