#ifndef COUNT_H
#define COUNT_H
#include <stdio.h>
#include "common.h"

/* Counts lines, words and bytes of a stream, as wc does. */
struct counts count_stream(FILE *in);

#endif
