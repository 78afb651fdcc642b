#include "format.h"

#ifndef SEPARATOR
#define SEPARATOR "\t"
#endif

void print_counts(FILE *out, const struct counts *c) {
  fprintf(out, "%zu" SEPARATOR "%zu" SEPARATOR "%zu\n", c->lines, c->words, c->bytes);
}
