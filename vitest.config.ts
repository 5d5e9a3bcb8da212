import { defineConfig } from 'vitest/config';

// Unit tests run in parallel; tests that start real servers (Temporal, kube-apiserver, the
// simulated cloud) set their own, longer timeouts and run one file at a time (see scripts/test.sh).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'api/**/*.test.ts', 'workflows/**/*.test.ts', 'providers/**/*.test.ts', 'activities/**/*.test.ts', 'client/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 120_000,
  },
});
