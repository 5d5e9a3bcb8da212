// Key generation, key formats, and the bridge from node:crypto keys (what the PEM files and
// Secrets hold) to the WebCrypto keys @peculiar/x509 signs with.
import { createPrivateKey, createPublicKey, generateKeyPairSync, webcrypto, type KeyObject } from 'node:crypto';

/** kubeadm's `encryptionAlgorithm` names (ECDSA-P384 is not supported here). */
export type KeyAlgorithm = 'ECDSA-P256' | 'RSA-2048' | 'RSA-3072' | 'RSA-4096';
export const DEFAULT_KEY_ALGORITHM: KeyAlgorithm = 'ECDSA-P256';

export interface KeyPairPem {
  /** SEC1 "EC PRIVATE KEY" for EC, PKCS#1 "RSA PRIVATE KEY" for RSA: what kubeadm writes. */
  keyPem: string;
  /** SubjectPublicKeyInfo "PUBLIC KEY" (the format of kubeadm's sa.pub). */
  publicKeyPem: string;
}

export function generateKeyPair(algorithm: KeyAlgorithm = DEFAULT_KEY_ALGORITHM): KeyPairPem {
  if (algorithm === 'ECDSA-P256') {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    return { keyPem: privateKeyToPem(privateKey), publicKeyPem: publicKeyToPem(publicKey) };
  }
  const bits = { 'RSA-2048': 2048, 'RSA-3072': 3072, 'RSA-4096': 4096 }[algorithm];
  if (!bits) throw new Error(`unsupported key algorithm ${JSON.stringify(algorithm)}`);
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return { keyPem: privateKeyToPem(privateKey), publicKeyPem: publicKeyToPem(publicKey) };
}

/** Private key PEM in the format kubeadm writes: SEC1 for EC, PKCS#1 for RSA. */
export function privateKeyToPem(key: KeyObject): string {
  const type = key.asymmetricKeyType === 'ec' ? 'sec1' : key.asymmetricKeyType === 'rsa' ? 'pkcs1' : undefined;
  if (!type) throw new Error(`unsupported private key type ${key.asymmetricKeyType}`);
  return key.export({ type, format: 'pem' }).toString();
}

export function publicKeyToPem(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

/** A public KeyObject from a public or private key (PEM or KeyObject). */
export function toPublicKey(key: KeyObject | string): KeyObject {
  if (typeof key === 'string') return createPublicKey(key);
  return key.type === 'public' ? key : createPublicKey(key);
}

export function toPrivateKey(key: KeyObject | string): KeyObject {
  // createPrivateKey's own error on a public-key PEM is an opaque OpenSSL decoder code.
  if (typeof key === 'string' && !/-----BEGIN (EC |RSA |ENCRYPTED )?PRIVATE KEY-----/.test(key)) {
    throw new Error('a private key PEM is required to sign (got no PRIVATE KEY block)');
  }
  const object = typeof key === 'string' ? createPrivateKey(key) : key;
  if (object.type !== 'private') throw new Error('a private key is required to sign');
  return object;
}

/** SubjectPublicKeyInfo DER, as embedded in certificates and CSRs. */
export function spkiDer(key: KeyObject | string): Buffer {
  return toPublicKey(key).export({ type: 'spki', format: 'der' });
}

/**
 * The WebCrypto algorithm a key signs with: ECDSA over P-256 with SHA-256 (ecdsa-with-SHA256)
 * or RSASSA-PKCS1-v1_5 with SHA-256 (sha256WithRSAEncryption), as Go's crypto/x509 picks.
 */
function webCryptoAlgorithm(key: KeyObject): webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams {
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve !== 'prime256v1') throw new Error(`only P-256 EC keys are supported, got ${curve}`);
    return { name: 'ECDSA', namedCurve: 'P-256' };
  }
  if (key.asymmetricKeyType === 'rsa') return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  throw new Error(`unsupported key type ${key.asymmetricKeyType} (use EC P-256 or RSA)`);
}

export interface SigningKey {
  privateKey: webcrypto.CryptoKey;
  publicKey: webcrypto.CryptoKey;
  /** Name and hash, as `sign` and @peculiar/x509's `signingAlgorithm` take it. */
  algorithm: webcrypto.EcdsaParams | webcrypto.RsaHashedImportParams;
}

/** The signing key as WebCrypto wants it, and the algorithm (with hash) to sign with. */
export async function toSigningKey(key: KeyObject | string): Promise<SigningKey> {
  const privateObject = toPrivateKey(key);
  const algorithm = webCryptoAlgorithm(privateObject);
  const subtle = webcrypto.subtle;
  const pkcs8 = privateObject.export({ type: 'pkcs8', format: 'der' });
  const privateKey = await subtle.importKey('pkcs8', pkcs8, algorithm, false, ['sign']);
  const publicKey = await subtle.importKey('spki', spkiDer(privateObject), algorithm, true, ['verify']);
  return { privateKey, publicKey, algorithm: { name: algorithm.name, hash: 'SHA-256' } };
}
