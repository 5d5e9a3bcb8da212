// How capstan reaches Temporal: the same environment variables as Temporal's own tools
// (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*), so the dev
// server, a self-hosted cluster and Temporal Cloud differ only in environment.
import { readFileSync } from 'node:fs';
import { Client, Connection, type TLSConfig } from '@temporalio/client';

export const TASK_QUEUE = process.env.CAPSTAN_TASK_QUEUE ?? 'capstan';

/** Options both Connection (client) and NativeConnection (worker) accept. */
export interface ConnectionSettings {
  address: string;
  tls?: TLSConfig;
  apiKey?: string;
}

export interface TemporalSettings {
  address: string;
  namespace: string;
  connection: ConnectionSettings;
}

export function temporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const address = env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  const namespace = env.TEMPORAL_NAMESPACE ?? 'default';
  const apiKey = env.TEMPORAL_API_KEY || undefined;
  const certPath = env.TEMPORAL_TLS_CLIENT_CERT_PATH;
  const keyPath = env.TEMPORAL_TLS_CLIENT_KEY_PATH;
  const caPath = env.TEMPORAL_TLS_SERVER_CA_CERT_PATH;
  const tlsWanted = env.TEMPORAL_TLS === 'true' || !!apiKey || !!certPath;
  const connection: ConnectionSettings = { address };
  if (tlsWanted) {
    connection.tls = {
      ...(certPath && keyPath ? { clientCertPair: { crt: readFileSync(certPath), key: readFileSync(keyPath) } } : {}),
      ...(caPath ? { serverRootCACertificate: readFileSync(caPath) } : {}),
      ...(env.TEMPORAL_TLS_SERVER_NAME ? { serverNameOverride: env.TEMPORAL_TLS_SERVER_NAME } : {}),
    };
  }
  if (apiKey) connection.apiKey = apiKey;
  return { address, namespace, connection };
}

export async function connectClient(settings = temporalSettings()): Promise<{ client: Client; connection: Connection }> {
  let connection: Connection;
  try {
    connection = await Connection.connect(settings.connection);
  } catch (err) {
    // The SDK says only "Failed to connect before the deadline": say where, and what to do.
    throw new Error(
      `cannot reach Temporal at ${settings.address} (TEMPORAL_ADDRESS): ${(err as Error).message}. ` +
        'Is it running? `capstan dev` (or `npm start`) runs a local one; for a Temporal cluster or Temporal Cloud set TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and TEMPORAL_API_KEY or TEMPORAL_TLS_*',
      { cause: err },
    );
  }
  return { client: new Client({ connection, namespace: settings.namespace }), connection };
}
