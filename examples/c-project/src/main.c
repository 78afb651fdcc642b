/* wordcount: lines, words and bytes of standard input. */
#include "count.h"
#include "format.h"

int main(void) {
  struct counts c = count_stream(stdin);
  print_counts(stdout, &c);
  return ferror(stdin) ? 1 : 0;
}
