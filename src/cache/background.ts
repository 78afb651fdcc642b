// Work the build does not wait for while it runs (uploads to the remote cache, lookups ahead of
// a task's turn): at most `limit` jobs at once, the rest queued in order; `settled()` resolves
// once every job added has ended. A job never rejects here: its own catch reports its failure.

export class Background {
  readonly #limit: number;
  #running = 0;
  readonly #queue: Array<() => Promise<void>> = [];
  #idle: Array<() => void> = [];

  constructor(limit: number) {
    this.#limit = Math.max(1, limit);
  }

  /** Jobs started or waiting. */
  get pending(): number {
    return this.#running + this.#queue.length;
  }

  /** Queues a job; its result, once it has run (rejections are the caller's to catch). */
  add<T>(job: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push(() => job().then(resolve, reject));
      this.#next();
    });
  }

  #next(): void {
    while (this.#running < this.#limit && this.#queue.length > 0) {
      const job = this.#queue.shift()!;
      this.#running++;
      void job().finally(() => {
        this.#running--;
        this.#next();
        if (this.pending === 0) for (const resolve of this.#idle.splice(0)) resolve();
      });
    }
  }

  /** Resolves once nothing is running or queued. */
  settled(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }
}
