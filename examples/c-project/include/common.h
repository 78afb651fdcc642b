#ifndef COMMON_H
#define COMMON_H
#include <stddef.h>

/* What the counter finds in its input; shared by every part of the program. */
struct counts {
  size_t lines;
  size_t words;
  size_t bytes;
};

#endif
