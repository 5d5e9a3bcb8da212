// `capstan worker`: runs capstan's workflows and activities until SIGINT/SIGTERM.
import { NativeConnection } from '@temporalio/worker';
import { connectClient, temporalSettings } from '../client/temporal.js';
import { workerSettings } from './config.js';
import { missingSearchAttributes, missingSearchAttributesError } from './search-attributes-check.js';
import { createWorker } from './worker.js';

export async function runWorker(): Promise<void> {
  const temporal = temporalSettings();
  const settings = workerSettings();
  const connection = await NativeConnection.connect(temporal.connection);
  // A client of its own, for the activities that read visibility (MachineHealthChecks).
  const { client, connection: clientConnection } = await connectClient(temporal);
  try {
    const missing = await missingSearchAttributes(clientConnection, temporal.namespace);
    if (missing?.length) throw missingSearchAttributesError(temporal.namespace, missing);
    const worker = await createWorker({ settings, connection, namespace: temporal.namespace, client });
    console.error(`[capstan worker] polling task queue "${settings.taskQueue}" on ${temporal.address} (namespace ${temporal.namespace})`);
    // Worker.run() resolves after SIGINT/SIGTERM (the SDK's default shutdown signals) drain it.
    await worker.run();
  } finally {
    await connection.close();
    await clientConnection.close();
  }
}
