/**
 * A coalescing work queue with bounded concurrency, shaped like client-go's workqueue: a key added any number of
 * times while it waits is handled once; a key added while it is being handled is handled again afterwards (with the
 * newest state, which the handler reads from the informer's cache); at most `concurrency` keys are handled at once,
 * and a key is never handled twice at the same time. A handler that throws is retried with exponential backoff.
 */

export interface WorkQueueOptions {
  concurrency: number;
  handle: (key: string) => Promise<void>;
  /** Called when a handler throws; the key is retried after `retryInMs`. */
  onError?: (key: string, error: unknown, retryInMs: number) => void;
  baseRetryMs?: number;
  maxRetryMs?: number;
}

export class WorkQueue {
  private readonly waiting = new Set<string>();
  private readonly active = new Set<string>();
  /** Keys added again while being handled. */
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private draining = false;
  private scheduled = false;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly options: WorkQueueOptions) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
      throw new Error(`work queue concurrency must be a positive integer, not ${options.concurrency}`);
    }
  }

  /** Keys waiting or being handled. */
  get length(): number {
    return this.waiting.size + this.active.size;
  }

  add(key: string): void {
    if (this.draining) return;
    if (this.active.has(key)) {
      this.dirty.add(key);
      return;
    }
    this.waiting.add(key);
    this.schedule();
  }

  /** Adds the key once `delayMs` has passed (one timer per call: used for the few pods that complete). */
  addAfter(key: string, delayMs: number): void {
    if (this.draining) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.add(key);
    }, delayMs);
    this.timers.add(timer);
  }

  /** Stops taking keys and resolves once the handlers in flight have finished. */
  async drain(): Promise<void> {
    this.draining = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.waiting.clear();
    this.dirty.clear();
    await this.idle();
  }

  /** Resolves when nothing waits and nothing is being handled. */
  idle(): Promise<void> {
    if (this.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Starts handlers on the next turn of the event loop, so a burst of adds made in one synchronous run (an
   * informer's initial list) is all recorded before the first handler runs.
   */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    for (const key of this.waiting) {
      if (this.active.size >= this.options.concurrency) break;
      this.waiting.delete(key);
      this.run(key);
    }
  }

  private run(key: string): void {
    this.active.add(key);
    this.options
      .handle(key)
      .then(
        () => this.failures.delete(key),
        (error: unknown) => {
          const attempt = (this.failures.get(key) ?? 0) + 1;
          this.failures.set(key, attempt);
          const retryInMs = Math.min((this.options.baseRetryMs ?? 200) * 2 ** (attempt - 1), this.options.maxRetryMs ?? 30_000);
          this.options.onError?.(key, error, retryInMs);
          this.addAfter(key, retryInMs);
        },
      )
      .finally(() => {
        this.active.delete(key);
        if (this.dirty.delete(key)) this.waiting.add(key);
        this.pump();
        if (this.length === 0) {
          const waiters = this.idleWaiters;
          this.idleWaiters = [];
          for (const resolve of waiters) resolve();
        }
      });
  }
}
