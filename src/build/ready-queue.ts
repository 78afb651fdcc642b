// The ready tasks waiting for a slot: the highest priority first among those whose pool has room.
// A binary heap, so that a wide graph (hundreds ready at once) costs log n a start, not n; a task
// whose pool is full waits aside, per pool, until that pool frees a slot.

export interface Ready {
  name: string;
  /** Higher starts first (the longest remaining chain). */
  priority: number;
  /** The task's pool, if it has one. */
  pool?: { name: string; depth: number };
  start: () => void;
  /** Set by the queue: arrival order, so that equal priorities start in the order they became ready. */
  arrival?: number;
}

export class ReadyQueue {
  readonly #heap: Ready[] = [];
  readonly #blocked = new Map<string, Ready[]>();
  readonly #poolsBusy = new Map<string, number>();
  #arrivals = 0;

  push(task: Ready): void {
    task.arrival = this.#arrivals++;
    this.#heapPush(task);
  }

  /** The best task whose pool has room (taking its pool slot), or undefined. */
  take(): Ready | undefined {
    for (;;) {
      const best = this.#heapPop();
      if (best === undefined) return undefined;
      const { pool } = best;
      if (pool && (this.#poolsBusy.get(pool.name) ?? 0) >= pool.depth) {
        const aside = this.#blocked.get(pool.name);
        if (aside) aside.push(best);
        else this.#blocked.set(pool.name, [best]);
        continue;
      }
      if (pool) this.#poolsBusy.set(pool.name, (this.#poolsBusy.get(pool.name) ?? 0) + 1);
      return best;
    }
  }

  /** The highest priority waiting, whether its pool has room or not; undefined when none waits. */
  bestPriority(): number | undefined {
    return this.#heap[0]?.priority;
  }

  /** A task of this pool finished: the tasks waiting for it compete again. */
  release(pool: { name: string } | undefined): void {
    if (!pool) return;
    this.#poolsBusy.set(pool.name, this.#poolsBusy.get(pool.name)! - 1);
    const aside = this.#blocked.get(pool.name);
    if (!aside) return;
    this.#blocked.delete(pool.name);
    for (const task of aside) this.#heapPush(task);
  }

  #before(a: Ready, b: Ready): boolean {
    return a.priority !== b.priority ? a.priority > b.priority : a.arrival! < b.arrival!;
  }

  #heapPush(task: Ready): void {
    const heap = this.#heap;
    heap.push(task);
    for (let i = heap.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!this.#before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  #heapPop(): Ready | undefined {
    const heap = this.#heap;
    if (heap.length === 0) return undefined;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      for (let i = 0; ; ) {
        const left = 2 * i + 1;
        const right = left + 1;
        let best = i;
        if (left < heap.length && this.#before(heap[left]!, heap[best]!)) best = left;
        if (right < heap.length && this.#before(heap[right]!, heap[best]!)) best = right;
        if (best === i) break;
        [heap[i], heap[best]] = [heap[best]!, heap[i]!];
        i = best;
      }
    }
    return top;
  }
}
