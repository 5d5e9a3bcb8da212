// Temporal's `action` counter (what it bills by), read from the dev server's metrics endpoint,
// by action type; shared by the benchmarks.

/** The server's action counters of the `default` namespace, by action type. */
export async function actions(metricsUrl: string): Promise<Map<string, number>> {
  const text = await (await fetch(metricsUrl)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^action\{([^}]*)\} ([0-9.e+]+)$/.exec(line);
    if (!m || !m[1]!.includes('namespace="default"')) continue;
    const type = /action_type="([^"]+)"/.exec(m[1]!)?.[1] ?? 'unknown';
    out.set(type, (out.get(type) ?? 0) + Number(m[2]));
  }
  return out;
}

/** What grew between two readings, by type. */
export function diff(after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of after) {
    const d = v - (before.get(k) ?? 0);
    if (d > 0) out.set(k, d);
  }
  return out;
}
