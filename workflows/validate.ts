// Re-validation inside workflows: an Update carries objects the client validated, but a
// workflow trusts no input, so each is checked again with its schema (api/kinds.ts) and a bad
// one is refused with the field path, before anything changes.
import { ApplicationFailure } from '@temporalio/workflow';
import { validateDocument } from '../api/kinds.js';

/** Refuses (non-retryable InvalidSpec) when any object fails its schema, naming kind, name and path. */
export function assertValid(objects: unknown[]): void {
  const problems: string[] = [];
  for (const o of objects) {
    const r = validateDocument(o);
    if (!r.ok) {
      const what = `${r.kind ?? 'object'} "${r.name ?? ''}"`;
      for (const e of r.errors) problems.push(`${what}: ${e.path}: ${e.message}`);
    }
  }
  if (problems.length) {
    throw ApplicationFailure.create({ type: 'InvalidSpec', nonRetryable: true, message: problems.join('; ') });
  }
}
