// An AbortSignal that follows a parent and also aborts after a delay. Hand-made because Node 20's
// AbortSignal.any() can let a composite signal be garbage-collected before its timer fires.
import { Interrupted } from '../base/errors.ts';

export interface TimeoutSignal {
  signal: AbortSignal;
  /** Stops the timer and the link to the parent. */
  dispose(): void;
}

/** `limit` names the limit in the abort reason's message ("exec's timeout option"), so a report can say which one it was. */
export function timeoutSignal(parent: AbortSignal, ms: number | undefined, limit?: string): TimeoutSignal {
  if (!ms) return { signal: parent, dispose: () => {} };
  const controller = new AbortController();
  const onParentAbort = () => controller.abort(parent.reason);
  if (parent.aborted) onParentAbort();
  else parent.addEventListener('abort', onParentAbort, { once: true });
  const timer = setTimeout(() => controller.abort(new DOMException(`timed out after ${ms} ms${limit ? ` (${limit})` : ''}`, 'TimeoutError')), ms);
  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      parent.removeEventListener('abort', onParentAbort);
    },
  };
}

/** Resolves or rejects with the work, or rejects as soon as the signal aborts (a `run` or clean step that ignores it). */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Interrupted('interrupted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Interrupted('interrupted'));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
