// Generated names, as Kubernetes' generateName: a base plus five characters from an alphabet
// without vowels or look-alikes. `random` is the workflow's deterministic Math.random.
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/**
 * `taken` names the caller already uses: a suffix is drawn again until the name is free (27^5
 * suffixes, so among a set's 1,000 machines two draws collide about once in 30 sets; the
 * apiserver refuses such a name for Kubernetes' generateName, the server a workflow ID here).
 */
export function generateName(base: string, random: () => number, taken: (name: string) => boolean = () => false): string {
  for (;;) {
    let suffix = '';
    for (let i = 0; i < 5; i++) suffix += ALPHABET[Math.floor(random() * ALPHABET.length)];
    // Object names are at most 253 characters, but a Node name derived from it must stay a
    // DNS label: keep base + '-' + suffix within 63.
    const name = `${base.slice(0, 57)}-${suffix}`;
    if (!taken(name)) return name;
  }
}
