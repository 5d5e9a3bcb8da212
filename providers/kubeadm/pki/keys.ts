// Key generation, key formats and the signature algorithm for a key. Shared by certificate
// and CSR building so both pick the same algorithm identifier for the same key.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { nullValue, oid, sequence } from './der.js';

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

const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const SHA256_WITH_RSA = '1.2.840.113549.1.1.11';

/**
 * The AlgorithmIdentifier a key signs with: ecdsa-with-SHA256 (no parameters, RFC 5758)
 * for P-256, sha256WithRSAEncryption (NULL parameters, RFC 4055) for RSA.
 */
export function signatureAlgorithmFor(key: KeyObject): Buffer {
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve !== 'prime256v1') throw new Error(`only P-256 EC keys are supported, got ${curve}`);
    return sequence(oid(ECDSA_WITH_SHA256));
  }
  if (key.asymmetricKeyType === 'rsa') return sequence(oid(SHA256_WITH_RSA), nullValue());
  throw new Error(`unsupported key type ${key.asymmetricKeyType} (use EC P-256 or RSA)`);
}

/** Signs `data`; ECDSA signatures are DER (r, s) as X.509 wants, not IEEE P1363. */
export function signWith(key: KeyObject, data: Buffer): Buffer {
  return sign('sha256', data, key.asymmetricKeyType === 'ec' ? { key, dsaEncoding: 'der' } : key);
}

/** Which hash/key pair a signature AlgorithmIdentifier OID means; undefined if unsupported. */
export function describeSignatureOid(algorithmOid: string): { keyType: 'ec' | 'rsa' } | undefined {
  if (algorithmOid === ECDSA_WITH_SHA256) return { keyType: 'ec' };
  if (algorithmOid === SHA256_WITH_RSA) return { keyType: 'rsa' };
  return undefined;
}
