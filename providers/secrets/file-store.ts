// A SecretStore on the local disk: one JSON file per secret, mode 0600 in a 0700 directory,
// written atomically (temp file, fsync, rename) so a crash never leaves half a key.
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { SecretStore, StoredSecret } from './store.js';

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export class FileSecretStore implements SecretStore {
  constructor(private readonly dir: string) {}

  private path(namespace: string, name: string): string {
    if (!NAME.test(namespace) || !NAME.test(name)) throw new Error(`invalid secret name ${namespace}/${name}`);
    return join(this.dir, namespace, `${name}.json`);
  }

  async get(namespace: string, name: string): Promise<StoredSecret | undefined> {
    try {
      return JSON.parse(await readFile(this.path(namespace, name), 'utf8')) as StoredSecret;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async create(namespace: string, name: string, secret: StoredSecret): Promise<StoredSecret> {
    const existing = await this.get(namespace, name);
    if (existing) return existing;
    await this.write(namespace, name, secret, true);
    // Two creators racing: the one whose link won is the truth.
    return (await this.get(namespace, name))!;
  }

  async put(namespace: string, name: string, secret: StoredSecret): Promise<void> {
    await this.write(namespace, name, secret, false);
  }

  async delete(namespace: string, name: string): Promise<void> {
    await rm(this.path(namespace, name), { force: true });
  }

  async list(namespace: string, labels: Record<string, string>): Promise<{ name: string; secret: StoredSecret }[]> {
    let files: string[];
    try {
      files = await readdir(join(this.dir, namespace));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: { name: string; secret: StoredSecret }[] = [];
    for (const f of files.filter((f) => f.endsWith('.json')).sort()) {
      const name = f.slice(0, -5);
      const secret = await this.get(namespace, name);
      if (secret && Object.entries(labels).every(([k, v]) => secret.labels?.[k] === v)) out.push({ name, secret });
    }
    return out;
  }

  private async write(namespace: string, name: string, secret: StoredSecret, exclusive: boolean): Promise<void> {
    const dir = join(this.dir, namespace);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const target = this.path(namespace, name);
    const tmp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(JSON.stringify(secret));
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (exclusive) {
      // link() fails if the target exists: create-if-absent without a lock.
      try {
        await link(tmp, target);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      } finally {
        await rm(tmp, { force: true });
      }
      return;
    }
    await rename(tmp, target);
  }
}
