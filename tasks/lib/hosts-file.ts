// Seed step 7's file work, pure: a marked block in a hosts file that maps the machine to its
// address, every other byte kept as it was (comments, CRLF line ends, a missing final newline).

const begin = (machine: string) => `# BEGIN execd-builder ${machine}`;
const end = (machine: string) => `# END execd-builder ${machine}`;

/** The hosts text with the machine's block holding `address name`, added at the end if absent. */
export function withHostsEntry(text: string, machine: string, address: string): string {
  const newline = text.includes('\r\n') ? '\r\n' : '\n';
  const block = [begin(machine), `${address} ${machine}`, end(machine)].join(newline);
  const start = text.indexOf(begin(machine));
  if (start >= 0) {
    const stop = text.indexOf(end(machine), start);
    if (stop >= 0) return text.slice(0, start) + block + text.slice(stop + end(machine).length);
  }
  const separator = text === '' || text.endsWith('\n') ? '' : newline;
  return `${text}${separator}${block}${newline}`;
}

/** The address the hosts text gives a name, the way the resolver reads it (first match wins). */
export function lookupHost(text: string, name: string): string | undefined {
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const [address, ...names] = line.split(/\s+/);
    if (address && names.includes(name)) return address;
  }
  return undefined;
}
