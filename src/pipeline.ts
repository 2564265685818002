import { ModeFallback, type Context } from './context.js';
import type { StatusReporter } from './ui/status.js';

type Step = { run(ctx: Context): Promise<void> | void };

async function runStep(status: StatusReporter, name: string, step: Step, ctx: Context): Promise<void> {
  await status.step(name, () => step.run(ctx));
}

/** plan → fakes → launch → wait, once per mode, moving down the fallback chain on a diagnosed fatal start. */
export async function bringUp(ctx: Context): Promise<void> {
  const { status } = ctx;
  const planStep = await import('./steps/plan.js');
  const fakesStep = await import('./steps/fakes.js');
  const launchStep = await import('./steps/launch.js');
  const waitStep = await import('./steps/wait.js');
  await status.step('plan', (handle) => {
    planStep.run(ctx);
    handle.detail(ctx.plan?.mode ?? '');
  });
  for (;;) {
    await runStep(status, 'fakes', fakesStep, ctx);
    await runStep(status, 'launch', launchStep, ctx);
    if (!ctx.options.wait) return;
    try {
      await runStep(status, 'wait', waitStep, ctx);
      return;
    } catch (error) {
      if (!(error instanceof ModeFallback) || !ctx.facts) throw error;
      status.warn(error.message);
      const facts = ctx.facts;
      const fallback = error.to;
      await status.step('plan', (handle) => {
        ctx.plan = planStep.planFor(facts, { ...ctx.config, mode: fallback }, ctx.paths);
        handle.detail(`${fallback} (fallback)`);
      });
    }
  }
}

/**
 * The `up` pipeline after config: probe → plan → fakes → launch → wait (→ fallback) → publish → report.
 * Steps are imported on demand so that commands which never reach them start faster.
 */
export async function up(ctx: Context): Promise<void> {
  await runStep(ctx.status, 'probe', await import('./steps/probe.js'), ctx);
  await bringUp(ctx);
  if (ctx.options.wait) await runStep(ctx.status, 'publish', await import('./steps/publish.js'), ctx);
  await (await import('./steps/report.js')).run(ctx);
}
