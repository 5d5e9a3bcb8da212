// @peculiar/x509, loaded the one way this codebase uses it: after the Reflect metadata polyfill its
// container needs, with Node's WebCrypto as its crypto provider. Import the library from
// here, never directly, so that order holds.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

// The library finds `globalThis.crypto` on its own in Node 20; set it explicitly so a runtime
// without that global cannot leave it keyless.
x509.cryptoProvider.set(webcrypto);

export * from '@peculiar/x509';
