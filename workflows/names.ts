// Generated names, as Kubernetes' generateName: a base plus five characters from an alphabet
// without vowels or look-alikes. `random` is the workflow's deterministic Math.random.
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export function generateName(base: string, random: () => number): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += ALPHABET[Math.floor(random() * ALPHABET.length)];
  // Object names are at most 253 characters, but a Node name derived from it must stay a
  // DNS label: keep base + '-' + suffix within 63.
  return `${base.slice(0, 57)}-${suffix}`;
}
