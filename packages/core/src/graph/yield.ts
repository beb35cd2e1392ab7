// Letting the host breathe during long synchronous work: a compiled graph on a synchronous backend would
// otherwise run every op in one macrotask, so timers (an `AbortSignal.timeout`), I/O and UI events wait
// for the whole run.

/**
 * Resolves after pending macrotasks (timers, messages, I/O callbacks) got a chance to run: `setImmediate`
 * in Node, a `MessageChannel` round trip in browsers, else `setTimeout(0)`.
 */
export function yieldToEventLoop(): Promise<void> {
  const g = globalThis as { setImmediate?: (f: () => void) => void; MessageChannel?: typeof MessageChannel };
  if (typeof g.setImmediate === 'function') return new Promise((r) => g.setImmediate!(r));
  if (typeof g.MessageChannel === 'function') {
    return new Promise((r) => {
      const ch = new g.MessageChannel!();
      ch.port1.onmessage = () => {
        ch.port1.close();
        r();
      };
      ch.port2.postMessage(0);
    });
  }
  return new Promise((r) => setTimeout(r, 0));
}
