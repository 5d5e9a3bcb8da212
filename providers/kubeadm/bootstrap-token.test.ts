import { describe, expect, it } from 'vitest';
import { bootstrapTokenSecretManifest, generateBootstrapToken, isBootstrapTokenFormat, parseBootstrapToken, rfc3339, tokenNeedsRefresh } from './bootstrap-token.js';

const now = new Date('2030-01-01T00:00:00.250Z');

describe('bootstrap tokens', () => {
  it('have kubeadm\'s format and expire after the TTL', () => {
    const token = generateBootstrapToken({ now });
    expect(token.token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    expect(token.token).toBe(`${token.id}.${token.secret}`);
    expect(isBootstrapTokenFormat(token.token)).toBe(true);
    expect(token.expiresAt).toBe('2030-01-01T00:15:00Z'); // default 900 s, whole seconds
    expect(generateBootstrapToken({ now, ttlSeconds: 3600 }).expiresAt).toBe('2030-01-01T01:00:00Z');
    expect(() => generateBootstrapToken({ now, ttlSeconds: 0 })).toThrow(/TTL/);
  });

  it('recognizes only the exact format', () => {
    expect(isBootstrapTokenFormat('abcdef.0123456789abcdef')).toBe(true);
    for (const bad of ['ABCDEF.0123456789abcdef', 'abcde.0123456789abcdef', 'abcdef.0123456789abcde', 'abcdef0123456789abcdef', 'abcdef.0123456789abcdef\n', ' abcdef.0123456789abcdef', 'abc-ef.0123456789abcdef']) {
      expect(isBootstrapTokenFormat(bad)).toBe(false);
    }
    expect(parseBootstrapToken('abcdef.0123456789abcdef')).toEqual({ id: 'abcdef', secret: '0123456789abcdef' });
    expect(() => parseBootstrapToken('nope')).toThrow(/\[a-z0-9\]\{6\}/);
  });

  it('draws every character uniformly (no modulo bias)', () => {
    // With `byte % 36`, '0'..'3' would come up 8/256 instead of 7/256 of the time: 14% more.
    const counts = new Map<string, number>();
    for (let i = 0; i < 4000; i++) {
      for (const ch of generateBootstrapToken({ now }).token.replace('.', '')) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    }
    expect(counts.size).toBe(36);
    const total = 4000 * 22;
    const expected = total / 36;
    const chiSquare = [...counts.values()].reduce((sum, n) => sum + (n - expected) ** 2 / expected, 0);
    expect(chiSquare).toBeLessThan(90); // 35 degrees of freedom: p < 1e-6 above ~85
    const low = ['0', '1', '2', '3'].reduce((s, c) => s + counts.get(c)!, 0) / 4;
    const rest = [...counts.entries()].filter(([c]) => !'0123'.includes(c)).reduce((s, [, n]) => s + n, 0) / 32;
    expect(low / rest).toBeLessThan(1.06);
    expect(low / rest).toBeGreaterThan(0.94);
  });

  it('is never the same twice', () => {
    const tokens = new Set(Array.from({ length: 1000 }, () => generateBootstrapToken({ now }).token));
    expect(tokens.size).toBe(1000);
  });

  it('needs a refresh when less than a third of its TTL remains', () => {
    const expiresAt = '2030-01-01T00:15:00Z';
    const at = (iso: string) => new Date(iso);
    expect(tokenNeedsRefresh(expiresAt, at('2030-01-01T00:00:00Z'), 900)).toBe(false);
    expect(tokenNeedsRefresh(expiresAt, at('2030-01-01T00:10:00Z'), 900)).toBe(false); // exactly 1/3 left
    expect(tokenNeedsRefresh(expiresAt, at('2030-01-01T00:10:01Z'), 900)).toBe(true);
    expect(tokenNeedsRefresh(expiresAt, at('2030-01-01T00:20:00Z'), 900)).toBe(true); // expired
    expect(tokenNeedsRefresh(expiresAt, at('2030-01-01T00:10:01Z'))).toBe(true); // default TTL 900
    expect(() => tokenNeedsRefresh('soon', now, 900)).toThrow(/not a timestamp/);
  });
});

describe('bootstrapTokenSecretManifest', () => {
  it('is the Secret the bootstrap authenticator reads', () => {
    const token = { id: 'abcdef', secret: '0123456789abcdef', expiresAt: rfc3339(new Date('2030-01-01T00:15:00Z')) };
    expect(bootstrapTokenSecretManifest(token, { description: 'capstan join token' })).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'bootstrap-token-abcdef', namespace: 'kube-system' },
      type: 'bootstrap.kubernetes.io/token',
      stringData: {
        description: 'capstan join token',
        'token-id': 'abcdef',
        'token-secret': '0123456789abcdef',
        expiration: '2030-01-01T00:15:00Z',
        'usage-bootstrap-signing': 'true',
        'usage-bootstrap-authentication': 'true',
        'auth-extra-groups': 'system:bootstrappers:kubeadm:default-node-token',
      },
    });
  });

  it('takes usages and groups, and rejects groups the API server would refuse', () => {
    const token = generateBootstrapToken({ now });
    const secret = bootstrapTokenSecretManifest(token, { usages: ['authentication'], extraGroups: ['system:bootstrappers:a', 'system:bootstrappers:b:c'] });
    expect(secret.stringData['usage-bootstrap-signing']).toBeUndefined();
    expect(secret.stringData['auth-extra-groups']).toBe('system:bootstrappers:a,system:bootstrappers:b:c');
    expect(secret.stringData.description).toBeUndefined();
    expect(() => bootstrapTokenSecretManifest(token, { extraGroups: ['system:masters'] })).toThrow(/system:bootstrappers/);
    expect(() => bootstrapTokenSecretManifest({ ...token, id: 'BAD' })).toThrow(/form/);
  });
});
