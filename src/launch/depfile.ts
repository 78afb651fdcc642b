// Makefile-style dependency files, as gcc and clang write them with `-MMD -MF FILE` (ninja's
// `deps = gcc`): `obj/a.o: src/a.c include/a.h \` with escaped spaces, `$$`, line
// continuations, several targets, and -MP's empty rules (`include/a.h:`). What a task needs of
// one is the files it names as prerequisites: its discovered inputs.
import fs from 'node:fs';

/**
 * The prerequisites a depfile names, each once, in order. Escapes follow ninja's parser: `\ ` and
 * `\#` are the character itself; 2N+1 backslashes before a space are N backslashes and a space
 * within the name, 2N are N backslashes ending it; `$$` is `$`; a backslash before a line end
 * continues the line; any other backslash is itself (a Windows path). A word ending in `:`
 * (followed by a space or the line's end) closes a rule's targets.
 */
export function parseDepfile(text: string): string[] {
  const found: string[] = [];
  const seen = new Set<string>();
  let inTargets = true;
  let word = '';
  let hasWord = false;
  const endWord = () => {
    if (!hasWord) return;
    if (word.endsWith(':') && inTargets) {
      // `a.o:` or `a.o :`: the targets end here.
      inTargets = false;
    } else if (!inTargets && !seen.has(word)) {
      seen.add(word);
      found.push(word);
    }
    word = '';
    hasWord = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\') {
      let n = 1;
      while (text[i + n] === '\\') n++;
      const next = text[i + n];
      if (next === '\n' || (next === '\r' && text[i + n + 1] === '\n')) {
        // Continuation: the backslashes before the last one belong to the word.
        word += '\\'.repeat(n - 1);
        hasWord ||= n > 1;
        endWord();
        i += n + (next === '\r' ? 1 : 0);
        continue;
      }
      if (next === ' ') {
        word += '\\'.repeat(Math.floor(n / 2));
        hasWord = true;
        if (n % 2 === 1) {
          word += ' ';
          i += n;
        } else {
          i += n - 1;
        }
        continue;
      }
      if (next === '#' && n === 1) {
        word += '#';
        hasWord = true;
        i += 1;
        continue;
      }
      word += '\\'.repeat(n);
      hasWord = true;
      i += n - 1;
      continue;
    }
    if (c === '$' && text[i + 1] === '$') {
      word += '$';
      hasWord = true;
      i += 1;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      endWord();
      continue;
    }
    if (c === '\n') {
      endWord();
      // A line end outside a continuation ends the rule.
      inTargets = true;
      continue;
    }
    if (c === ':' && inTargets && hasWord && (text[i + 1] === undefined || /\s/.test(text[i + 1]!))) {
      // `obj/a.o: ...`: the colon closes the targets (a colon inside a word, `C:\x`, does not).
      word = '';
      hasWord = false;
      inTargets = false;
      continue;
    }
    if (c === ':' && inTargets && !hasWord) {
      // `a.o : b.c`: the colon stands alone.
      inTargets = false;
      continue;
    }
    word += c;
    hasWord = true;
  }
  endWord();
  return found;
}

/**
 * Reads a depfile the task's command wrote, then removes it, as ninja does with `deps = gcc`: its
 * contents go to the state store, and a stale one left beside the objects could be mistaken for
 * the current one. Undefined when there is none.
 */
export function takeDepfile(file: string): string[] | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const found = parseDepfile(text);
  fs.rmSync(file, { force: true });
  return found;
}
