// The part of a task's output a report shows: its first and last lines, with how many were left
// out between. Bounded memory whatever the task prints (debootstrap prints thousands of lines).

export class OutputExcerpt {
  static readonly headLines = 10;
  static readonly tailLines = 20;
  readonly head: string[] = [];
  #tail: string[] = [];
  /** Every line seen. */
  total = 0;

  add(line: string): void {
    this.total++;
    if (this.head.length < OutputExcerpt.headLines) {
      this.head.push(line);
      return;
    }
    this.#tail.push(line);
    // One more than is shown: cutting a single line would save nothing ("… 1 lines …").
    if (this.#tail.length > OutputExcerpt.tailLines + 1) this.#tail.shift();
  }

  /** Lines were left out between the first and the last. */
  get cut(): boolean {
    return this.total > this.head.length + this.#tail.length;
  }

  /** The lines to show: all of them, or the first and last with "… N lines …" between. */
  lines(): string[] {
    if (!this.cut) return [...this.head, ...this.#tail];
    const last = this.#tail.slice(-OutputExcerpt.tailLines);
    return [...this.head, `… ${this.total - this.head.length - last.length} lines …`, ...last];
  }
}
