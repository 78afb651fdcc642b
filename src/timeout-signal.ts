// An AbortSignal that follows a parent and also aborts after a delay. Hand-made because Node 20's
// AbortSignal.any() can let a composite signal be garbage-collected before its timer fires.

export interface TimeoutSignal {
  signal: AbortSignal;
  /** Stops the timer and the link to the parent. */
  dispose(): void;
}

export function timeoutSignal(parent: AbortSignal, ms: number | undefined): TimeoutSignal {
  if (!ms) return { signal: parent, dispose: () => {} };
  const controller = new AbortController();
  const onParentAbort = () => controller.abort(parent.reason);
  if (parent.aborted) onParentAbort();
  else parent.addEventListener('abort', onParentAbort, { once: true });
  const timer = setTimeout(() => controller.abort(new DOMException(`timed out after ${ms} ms`, 'TimeoutError')), ms);
  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      parent.removeEventListener('abort', onParentAbort);
    },
  };
}
