#include <ctype.h>
#include "count.h"

struct counts count_stream(FILE *in) {
  struct counts c = {0, 0, 0};
  int in_word = 0;
  for (int ch; (ch = getc(in)) != EOF;) {
    c.bytes++;
    if (ch == '\n') c.lines++;
    if (isspace(ch)) {
      in_word = 0;
    } else if (!in_word) {
      in_word = 1;
      c.words++;
    }
  }
  return c;
}
