// Helpers for long activities: wait while heartbeating, so the server knows the worker is
// alive and a cancellation (the object was deleted) reaches the wait.
import { Context } from '@temporalio/activity';

/**
 * A wait heartbeats only once its attempt has run this long, or half its heartbeatTimeout when
 * that is longer. Each heartbeat that reaches the server is a billed action, and most waits end
 * within seconds (a machine's whole boot to a Ready Node is ~12 s on the demo profile); the waits
 * stub's heartbeatTimeout (30 s) still catches a dead worker (the first heartbeat at 15 s, then
 * the SDK's every 24 s), and a cancellation reaches a wait at its first heartbeat, at most this
 * late. An observer (heartbeatTimeout 2 min) that returns within a minute never heartbeats.
 */
export const HEARTBEAT_AFTER_MS = 15_000;

/** How long an attempt runs before its first heartbeat. */
export function heartbeatAfterMs(heartbeatTimeoutMs: number | undefined): number {
  return Math.max(HEARTBEAT_AFTER_MS, (heartbeatTimeoutMs ?? 0) / 2);
}

/** Heartbeats `details` unless the attempt is younger than heartbeatAfterMs (the SDK throttles the rest). */
export function heartbeat(details?: unknown): void {
  const ctx = Context.current();
  if (Date.now() - ctx.info.currentAttemptScheduledTimestampMs < heartbeatAfterMs(ctx.info.heartbeatTimeoutMs)) return;
  ctx.heartbeat(details);
}

/** Sleeps `ms` (cancellable) and heartbeats `details`. */
export async function pause(ms: number, details?: unknown): Promise<void> {
  heartbeat(details);
  await Context.current().sleep(ms);
}

/** Milliseconds since the first attempt of this activity was scheduled (survives retries). */
export function elapsedSinceFirstAttemptMs(): number {
  return Date.now() - Context.current().info.scheduledTimestampMs;
}
