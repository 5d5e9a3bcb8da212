// Helpers for long activities: wait while heartbeating, so the server knows the worker is
// alive and a cancellation (the object was deleted) reaches the wait.
import { Context } from '@temporalio/activity';

/** Sleeps `ms` (cancellable) and heartbeats `details`. */
export async function pause(ms: number, details?: unknown): Promise<void> {
  const ctx = Context.current();
  ctx.heartbeat(details);
  await ctx.sleep(ms);
}

/** Milliseconds since the first attempt of this activity was scheduled (survives retries). */
export function elapsedSinceFirstAttemptMs(): number {
  return Date.now() - Context.current().info.scheduledTimestampMs;
}
