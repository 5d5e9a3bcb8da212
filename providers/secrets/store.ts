// Where secrets live: cluster CAs, service-account keys, admin kubeconfigs, bootstrap data.
// Workflows only ever see a secret's namespace/name; activities read and write the data.
// A later issue moves this to Kubernetes Secrets in the management cluster; the interface
// is the one a Secret gives: a type and string data per key.
export interface StoredSecret {
  type: string;
  data: Record<string, string>;
  labels?: Record<string, string>;
}

export interface SecretStore {
  get(namespace: string, name: string): Promise<StoredSecret | undefined>;
  /** Creates the secret unless it exists; returns what is stored (the existing one wins). */
  create(namespace: string, name: string, secret: StoredSecret): Promise<StoredSecret>;
  put(namespace: string, name: string, secret: StoredSecret): Promise<void>;
  delete(namespace: string, name: string): Promise<void>;
  /** Secrets whose labels include every given label. */
  list(namespace: string, labels: Record<string, string>): Promise<{ name: string; secret: StoredSecret }[]>;
}
