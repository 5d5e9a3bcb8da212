// Minimal DER (X.690 Distinguished Encoding Rules) encoder and reader: just what X.509
// certificates and PKCS#10 requests need. node:crypto signs and verifies but cannot build
// a certificate, so we assemble the bytes ourselves. Tag numbers are below 31 throughout
// (one identifier byte), which is all X.509 uses.

const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  T61_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;
export { TAG as DerTag };

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One TLV: identifier byte, definite length, contents. */
export function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);
}

export function sequence(...elements: Buffer[]): Buffer {
  return tlv(TAG.SEQUENCE, Buffer.concat(elements));
}

/** SET OF: DER requires the encodings in ascending byte order (X.690 11.6). */
export function set(...elements: Buffer[]): Buffer {
  return tlv(TAG.SET, Buffer.concat([...elements].sort(Buffer.compare)));
}

/**
 * INTEGER in minimal two's complement. A Buffer is read as an unsigned big-endian
 * magnitude (a serial number, an RSA modulus), so a leading 0x00 is added when its high
 * bit is set; otherwise the value would read as negative.
 */
export function integer(value: bigint | number | Buffer): Buffer {
  if (Buffer.isBuffer(value)) return tlv(TAG.INTEGER, unsignedIntegerBytes(value));
  const n = BigInt(value);
  if (n >= 0n) {
    let hex = n.toString(16);
    if (hex.length % 2) hex = '0' + hex;
    return tlv(TAG.INTEGER, unsignedIntegerBytes(Buffer.from(hex, 'hex')));
  }
  // Negative: the smallest byte count whose two's complement range holds n.
  let bytes = 1;
  while (n < -(1n << BigInt(8 * bytes - 1))) bytes++;
  let hex = ((1n << BigInt(8 * bytes)) + n).toString(16);
  hex = hex.padStart(bytes * 2, '0');
  return tlv(TAG.INTEGER, Buffer.from(hex, 'hex'));
}

function unsignedIntegerBytes(magnitude: Buffer): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.length === 0 ? Buffer.from([0]) : magnitude.subarray(start);
  return trimmed[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : Buffer.from(trimmed);
}

/** OBJECT IDENTIFIER from dotted form ("1.2.840.10045.4.3.2"). */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((arc) => {
    if (!/^\d+$/.test(arc)) throw new Error(`invalid OID ${JSON.stringify(dotted)}`);
    return BigInt(arc);
  });
  if (arcs.length < 2 || arcs[0]! > 2n || (arcs[0]! < 2n && arcs[1]! > 39n)) {
    throw new Error(`invalid OID ${JSON.stringify(dotted)}`);
  }
  const bytes: number[] = [];
  for (const arc of [arcs[0]! * 40n + arcs[1]!, ...arcs.slice(2)]) {
    // Base 128, most significant group first, continuation bit on all but the last.
    const groups: number[] = [Number(arc & 0x7fn)];
    for (let rest = arc >> 7n; rest > 0n; rest >>= 7n) groups.unshift(Number(rest & 0x7fn) | 0x80);
    bytes.push(...groups);
  }
  return tlv(TAG.OID, Buffer.from(bytes));
}

export function nullValue(): Buffer {
  return Buffer.from([TAG.NULL, 0]);
}

/** DER BOOLEAN TRUE is 0xff (BER allows any non-zero; DER does not). */
export function boolean(value: boolean): Buffer {
  return tlv(TAG.BOOLEAN, Buffer.from([value ? 0xff : 0x00]));
}

/** BIT STRING: the first content byte counts the unused bits in the last byte. */
export function bitString(bytes: Buffer, unusedBits = 0): Buffer {
  if (unusedBits < 0 || unusedBits > 7 || (bytes.length === 0 && unusedBits !== 0)) {
    throw new Error(`invalid BIT STRING unused bit count ${unusedBits}`);
  }
  return tlv(TAG.BIT_STRING, Buffer.concat([Buffer.from([unusedBits]), bytes]));
}

/**
 * A named-bit BIT STRING (KeyUsage): bit 0 is the most significant bit of the first byte,
 * and DER drops trailing zero bits (X.690 11.2.2).
 */
export function namedBitString(bitPositions: number[]): Buffer {
  if (bitPositions.length === 0) return bitString(Buffer.alloc(0));
  const highest = Math.max(...bitPositions);
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const bit of bitPositions) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  return bitString(bytes, 7 - (highest % 8));
}

export function octetString(bytes: Buffer): Buffer {
  return tlv(TAG.OCTET_STRING, bytes);
}

export function utf8String(text: string): Buffer {
  return tlv(TAG.UTF8_STRING, Buffer.from(text, 'utf8'));
}

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;
export function isPrintableString(text: string): boolean {
  return PRINTABLE.test(text);
}

export function printableString(text: string): Buffer {
  if (!isPrintableString(text)) throw new Error(`${JSON.stringify(text)} is not a PrintableString`);
  return tlv(TAG.PRINTABLE_STRING, Buffer.from(text, 'latin1'));
}

export function ia5String(text: string): Buffer {
  if (!/^[\x00-\x7f]*$/.test(text)) throw new Error(`${JSON.stringify(text)} is not an IA5String`);
  return tlv(TAG.IA5_STRING, Buffer.from(text, 'latin1'));
}

function digits(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function timeBody(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new Error('invalid Date');
  return (
    digits(date.getUTCMonth() + 1, 2) +
    digits(date.getUTCDate(), 2) +
    digits(date.getUTCHours(), 2) +
    digits(date.getUTCMinutes(), 2) +
    digits(date.getUTCSeconds(), 2) +
    'Z'
  );
}

/** UTCTime YYMMDDHHMMSSZ (seconds, always Zulu, as DER requires); years 1950–2049 only. */
export function utcTime(date: Date): Buffer {
  const year = date.getUTCFullYear();
  if (year < 1950 || year > 2049) throw new Error(`UTCTime cannot hold year ${year}`);
  return tlv(TAG.UTC_TIME, Buffer.from(digits(year % 100, 2) + timeBody(date), 'latin1'));
}

/** GeneralizedTime YYYYMMDDHHMMSSZ without fractional seconds (RFC 5280 4.1.2.5.2). */
export function generalizedTime(date: Date): Buffer {
  const year = date.getUTCFullYear();
  if (year < 0 || year > 9999) throw new Error(`GeneralizedTime cannot hold year ${year}`);
  return tlv(TAG.GENERALIZED_TIME, Buffer.from(digits(year, 4) + timeBody(date), 'latin1'));
}

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050 on. */
export function x509Time(date: Date): Buffer {
  const year = date.getUTCFullYear();
  return year >= 1950 && year <= 2049 ? utcTime(date) : generalizedTime(date);
}

/** [n] EXPLICIT: a constructed context tag wrapping the whole inner encoding. */
export function explicitTag(tagNumber: number, encoded: Buffer): Buffer {
  return tlv(0xa0 | checkTagNumber(tagNumber), encoded);
}

/**
 * [n] IMPLICIT: the context tag replaces the inner element's own tag, so this takes the
 * inner element's *contents*. `constructed` must match the replaced type (SEQUENCE/SET).
 */
export function implicitTag(tagNumber: number, contents: Buffer, constructed = false): Buffer {
  return tlv((constructed ? 0xa0 : 0x80) | checkTagNumber(tagNumber), contents);
}

function checkTagNumber(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 30) throw new Error(`tag number ${n} needs multi-byte tags`);
  return n;
}

// ---------------------------------------------------------------- reading

export interface DerElement {
  /** The identifier byte as is: class, constructed bit and tag number. */
  tag: number;
  contents: Buffer;
  /** The whole element: identifier, length and contents (what a signature covers). */
  raw: Buffer;
}

/** Reads one element at `offset`; throws on anything DER forbids that we would misread. */
export function readElement(buf: Buffer, offset = 0): DerElement {
  if (offset + 2 > buf.length) throw new Error('DER: truncated element');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new Error('DER: multi-byte tags are not supported');
  let length = buf[offset + 1]!;
  let headerLength = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0) throw new Error('DER: indefinite length is not DER');
    if (count > 4) throw new Error('DER: length too large');
    if (offset + 2 + count > buf.length) throw new Error('DER: truncated length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[offset + 2 + i]!;
    headerLength += count;
  }
  const end = offset + headerLength + length;
  if (end > buf.length) throw new Error('DER: element runs past the end of its container');
  return { tag, contents: buf.subarray(offset + headerLength, end), raw: buf.subarray(offset, end) };
}

/** Reads a whole buffer that must hold exactly one element. */
export function readSingle(buf: Buffer, expectedTag?: number): DerElement {
  const element = readElement(buf, 0);
  if (element.raw.length !== buf.length) throw new Error('DER: trailing bytes after element');
  if (expectedTag !== undefined) expectTag(element, expectedTag);
  return element;
}

/** The elements inside a constructed element (SEQUENCE, SET, explicit tag). */
export function readChildren(parent: DerElement): DerElement[] {
  if (!(parent.tag & 0x20)) throw new Error(`DER: tag 0x${parent.tag.toString(16)} is not constructed`);
  const children: DerElement[] = [];
  for (let offset = 0; offset < parent.contents.length; ) {
    const child = readElement(parent.contents, offset);
    children.push(child);
    offset += child.raw.length;
  }
  return children;
}

export function expectTag(element: DerElement, tag: number): DerElement {
  if (element.tag !== tag) {
    throw new Error(`DER: expected tag 0x${tag.toString(16)}, found 0x${element.tag.toString(16)}`);
  }
  return element;
}

export function readOid(element: DerElement): string {
  expectTag(element, TAG.OID);
  const bytes = element.contents;
  const arcs: bigint[] = [];
  let value = 0n;
  for (let i = 0; i < bytes.length; i++) {
    value = (value << 7n) | BigInt(bytes[i]! & 0x7f);
    if (!(bytes[i]! & 0x80)) {
      arcs.push(value);
      value = 0n;
    } else if (i === bytes.length - 1) {
      throw new Error('DER: truncated OID');
    }
  }
  if (arcs.length === 0) throw new Error('DER: empty OID');
  const first = arcs[0]!;
  const head = first < 80n ? [first / 40n, first % 40n] : [2n, first - 80n];
  return [...head, ...arcs.slice(1)].join('.');
}

/** BIT STRING contents without the unused-bits byte (whole-byte strings only). */
export function readBitStringBytes(element: DerElement): Buffer {
  expectTag(element, TAG.BIT_STRING);
  if (element.contents.length === 0 || element.contents[0] !== 0) {
    throw new Error('DER: expected a whole-byte BIT STRING');
  }
  return element.contents.subarray(1);
}

/** The directory-string types a certificate Name may use, decoded to text. */
export function readString(element: DerElement): string {
  switch (element.tag) {
    case TAG.UTF8_STRING:
      return element.contents.toString('utf8');
    case TAG.PRINTABLE_STRING:
    case TAG.IA5_STRING:
    case TAG.T61_STRING:
      return element.contents.toString('latin1');
    case TAG.BMP_STRING:
      return Buffer.from(element.contents).swap16().toString('utf16le');
    default:
      throw new Error(`DER: tag 0x${element.tag.toString(16)} is not a string type`);
  }
}

/** PEM armour with 64-column lines (RFC 7468). */
export function toPem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** The DER inside the first PEM block labelled `label`. */
export function fromPem(label: string, pem: string): Buffer {
  const match = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`).exec(pem);
  if (!match) throw new Error(`no "${label}" PEM block found`);
  return Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64');
}
