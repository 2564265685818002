/**
 * kind-style step lines on stderr. On a TTY a spinner runs while the step works and the line is replaced by
 * `✓ <step> (1.2s)` or `✗ <step> (0.3s)`; elsewhere only the final line is printed, so logs stay clean. A step's
 * detail lines are printed under its final line, so they never read as the previous step's.
 */

/** Lets a running step add a short detail to its final line, e.g. `✓ plan (0.0s): control-plane`. */
export interface StepHandle {
  detail(text: string): void;
}

export interface StatusReporter {
  /** Runs `fn` as the named step; prints its final line and rethrows a failure after printing the reason. */
  step<T>(name: string, fn: (handle: StepHandle) => Promise<T> | T): Promise<T>;
  /** A detail line under the current step (stderr), printed after the step's final line; at once outside a step. */
  info(message: string): void;
  /** A warning line (stderr). */
  warn(message: string): void;
}

export interface StatusStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

const SPINNER_FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const SPINNER_INTERVAL_MS = 80;
const CLEAR_LINE = '\r\x1b[2K';

function seconds(startedAt: bigint): string {
  return `${(Number(process.hrtime.bigint() - startedAt) / 1e9).toFixed(1)}s`;
}

const reportedErrors = new WeakSet<object>();

/** True when a step's ✗ line already showed this error's message, so the CLI need not repeat it. */
export function wasReported(error: unknown): boolean {
  return typeof error === 'object' && error !== null && reportedErrors.has(error);
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * `stream` defaults to stderr, which is opened on the first line printed: creating process.stderr builds a stream
 * (for a pipe a net.Socket), a cost `status` and `env`, which print no step, need not pay at start-up.
 */
export function createStatusReporter(to?: StatusStream): StatusReporter {
  let opened: StatusStream | undefined = to;
  const stream = { write: (chunk: string): unknown => (opened ??= process.stderr).write(chunk) };
  const isTTY = (): boolean => (opened ??= process.stderr).isTTY === true;
  let spinning: { name: string; frame: number } | undefined;
  /** The running step's detail lines, held until its final line is out. */
  let held: string[] | undefined;

  const redrawSpinner = (): void => {
    if (!spinning) return;
    stream.write(`${CLEAR_LINE}${SPINNER_FRAMES[spinning.frame % SPINNER_FRAMES.length]} ${spinning.name}`);
  };
  const clearSpinnerLine = (): void => {
    if (spinning) stream.write(CLEAR_LINE);
  };
  const printLine = (line: string): void => {
    clearSpinnerLine();
    stream.write(line + '\n');
    redrawSpinner();
  };

  return {
    async step<T>(name: string, fn: (handle: StepHandle) => Promise<T> | T): Promise<T> {
      const startedAt = process.hrtime.bigint();
      let detail = '';
      const handle: StepHandle = { detail: (text) => { detail = text; } };
      let timer: NodeJS.Timeout | undefined;
      if (isTTY()) {
        spinning = { name, frame: 0 };
        redrawSpinner();
        timer = setInterval(() => {
          if (spinning) spinning.frame += 1;
          redrawSpinner();
        }, SPINNER_INTERVAL_MS);
        timer.unref();
      }
      const outer = held;
      held = [];
      const finish = (mark: string, suffix: string): void => {
        if (timer) clearInterval(timer);
        clearSpinnerLine();
        spinning = undefined;
        const lines = held ?? [];
        held = outer;
        stream.write(`${mark} ${name} (${seconds(startedAt)})${suffix}\n`);
        for (const line of lines) printLine(line);
      };
      try {
        const result = await fn(handle);
        finish('✓', detail ? `: ${detail}` : '');
        return result;
      } catch (error) {
        finish('✗', `: ${reasonOf(error)}`);
        if (typeof error === 'object' && error !== null) reportedErrors.add(error);
        throw error;
      }
    },
    info(message: string): void {
      if (held) held.push(`  ${message}`);
      else printLine(`  ${message}`);
    },
    warn(message: string): void {
      if (held) held.push(`  ! ${message}`);
      else printLine(`  ! ${message}`);
    },
  };
}

/** A reporter that prints nothing; for commands whose output is machine-read. */
export function createSilentReporter(): StatusReporter {
  return {
    step: async (_name, fn) => fn({ detail: () => undefined }),
    info: () => undefined,
    warn: () => undefined,
  };
}
