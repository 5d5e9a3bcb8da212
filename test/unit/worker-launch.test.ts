import { describe, expect, it } from 'vitest';
import { DEFAULT_WORKER_HEAP_MB, workerHeapFlag } from '../../workers/launch.js';

describe('workerHeapFlag: the worker process heap limit from CAPSTAN_WORKER_HEAP_MB', () => {
  it('defaults, and takes a whole number of MiB', () => {
    expect(workerHeapFlag({})).toBe(`--max-old-space-size=${DEFAULT_WORKER_HEAP_MB}`);
    expect(workerHeapFlag({ CAPSTAN_WORKER_HEAP_MB: undefined })).toBe(`--max-old-space-size=${DEFAULT_WORKER_HEAP_MB}`);
    expect(workerHeapFlag({ CAPSTAN_WORKER_HEAP_MB: '1024' })).toBe('--max-old-space-size=1024');
  });

  it.each(['', '0', '-1', '512MiB', '1.5', ' 512', '512 --inspect'])('refuses %j, naming the setting', (v) => {
    expect(() => workerHeapFlag({ CAPSTAN_WORKER_HEAP_MB: v })).toThrow(`CAPSTAN_WORKER_HEAP_MB: ${JSON.stringify(v)} is not a whole number of MiB`);
  });
});
