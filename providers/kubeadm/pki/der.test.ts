import { describe, expect, it } from 'vitest';
import {
  bitString,
  boolean,
  explicitTag,
  fromPem,
  generalizedTime,
  implicitTag,
  integer,
  namedBitString,
  nullValue,
  octetString,
  oid,
  printableString,
  readChildren,
  readElement,
  readOid,
  readSingle,
  readString,
  sequence,
  set,
  toPem,
  utcTime,
  utf8String,
  x509Time,
} from './der.js';

const hex = (b: Buffer) => b.toString('hex');

describe('DER encoding', () => {
  it('encodes INTEGERs in minimal two\'s complement', () => {
    expect(hex(integer(0))).toBe('020100');
    expect(hex(integer(127))).toBe('02017f');
    expect(hex(integer(128))).toBe('02020080'); // sign padding
    expect(hex(integer(256))).toBe('02020100');
    expect(hex(integer(-1))).toBe('0201ff');
    expect(hex(integer(-128))).toBe('020180');
    expect(hex(integer(-129))).toBe('0202ff7f');
    expect(hex(integer(2n ** 64n))).toBe('0209010000000000000000');
    // Buffers are unsigned magnitudes: leading zeros trimmed, pad added for a high bit.
    expect(hex(integer(Buffer.from([0x80])))).toBe('02020080');
    expect(hex(integer(Buffer.from([0, 0, 1])))).toBe('020101');
    expect(hex(integer(Buffer.from([0, 0x80])))).toBe('02020080');
    expect(hex(integer(Buffer.alloc(0)))).toBe('020100');
  });

  it('encodes OIDs in base 128 and reads them back', () => {
    expect(hex(oid('1.2.840.113549'))).toBe('06062a864886f70d');
    expect(hex(oid('2.5.29.19'))).toBe('0603551d13');
    expect(hex(oid('1.2.840.10045.4.3.2'))).toBe('06082a8648ce3d040302');
    for (const dotted of ['1.2.840.113549.1.1.11', '2.5.4.3', '1.3.6.1.5.5.7.3.2', '2.999.1']) {
      expect(readOid(readSingle(oid(dotted)))).toBe(dotted);
    }
    expect(() => oid('1')).toThrow(/invalid OID/);
    expect(() => oid('1.40')).toThrow(/invalid OID/);
    expect(() => oid('1.2.x')).toThrow(/invalid OID/);
  });

  it('uses the short length form below 128 and the long form above', () => {
    expect(hex(octetString(Buffer.alloc(127)).subarray(0, 2))).toBe('047f');
    expect(hex(octetString(Buffer.alloc(200)).subarray(0, 3))).toBe('0481c8');
    expect(hex(octetString(Buffer.alloc(300)).subarray(0, 4))).toBe('0482012c');
    expect(readElement(octetString(Buffer.alloc(300))).contents.length).toBe(300);
  });

  it('encodes the simple types', () => {
    expect(hex(nullValue())).toBe('0500');
    expect(hex(boolean(true))).toBe('0101ff');
    expect(hex(boolean(false))).toBe('010100');
    expect(hex(bitString(Buffer.from([0xab])))).toBe('030200ab');
    expect(hex(utf8String('é'))).toBe('0c02c3a9');
    expect(hex(printableString('Ab 1'))).toBe('130441622031');
    expect(() => printableString('a@b')).toThrow(/PrintableString/);
    expect(() => printableString('a_b')).toThrow(/PrintableString/);
  });

  it('drops trailing zero bits from named bit strings (KeyUsage)', () => {
    expect(hex(namedBitString([0]))).toBe('03020780'); // digitalSignature
    expect(hex(namedBitString([0, 2]))).toBe('030205a0'); // + keyEncipherment
    expect(hex(namedBitString([0, 2, 5]))).toBe('030202a4'); // + keyCertSign
    expect(hex(namedBitString([8]))).toBe('0303070080');
  });

  it('sorts SET OF members by their encoding', () => {
    const a = printableString('b');
    const b = printableString('a');
    expect(hex(set(a, b))).toBe(hex(set(b, a)));
    expect(hex(set(a, b))).toBe('3106' + hex(b) + hex(a));
  });

  it('writes UTCTime before 2050 and GeneralizedTime from 2050 (RFC 5280)', () => {
    expect(utcTime(new Date('2049-12-31T23:59:59.999Z')).subarray(2).toString()).toBe('491231235959Z');
    expect(utcTime(new Date('1999-01-02T03:04:05Z')).subarray(2).toString()).toBe('990102030405Z');
    expect(generalizedTime(new Date('2050-01-01T00:00:00Z')).subarray(2).toString()).toBe('20500101000000Z');
    expect(x509Time(new Date('2049-12-31T23:59:59Z'))[0]).toBe(0x17);
    expect(x509Time(new Date('2050-01-01T00:00:00Z'))[0]).toBe(0x18);
    expect(() => utcTime(new Date('2050-01-01T00:00:00Z'))).toThrow(/UTCTime/);
    expect(() => x509Time(new Date('nope'))).toThrow(/invalid Date/);
  });

  it('writes explicit and implicit context tags', () => {
    expect(hex(explicitTag(0, integer(2)))).toBe('a003020102');
    expect(hex(explicitTag(3, sequence()))).toBe('a3023000');
    expect(hex(implicitTag(2, Buffer.from('a')))).toBe('820161');
    expect(hex(implicitTag(0, Buffer.alloc(0), true))).toBe('a000');
    expect(() => implicitTag(31, Buffer.alloc(0))).toThrow(/multi-byte/);
  });

  it('reads nested structures and rejects what DER forbids', () => {
    const encoded = sequence(integer(5), sequence(utf8String('x'), printableString('y')));
    const [five, inner] = readChildren(readSingle(encoded));
    expect(hex(five!.raw)).toBe('020105');
    expect(readChildren(inner!).map(readString)).toEqual(['x', 'y']);
    expect(() => readSingle(Buffer.from('3080', 'hex'))).toThrow(/indefinite/);
    expect(() => readSingle(Buffer.from('300501', 'hex'))).toThrow(/past the end/);
    expect(() => readSingle(Buffer.concat([encoded, Buffer.from([0])]))).toThrow(/trailing/);
  });

  it('round-trips PEM armour with 64-column lines', () => {
    const der = Buffer.alloc(100, 7);
    const pem = toPem('THING', der);
    expect(pem.split('\n')[1]!.length).toBe(64);
    expect(fromPem('THING', pem).equals(der)).toBe(true);
    expect(() => fromPem('OTHER', pem)).toThrow(/no "OTHER" PEM block/);
  });
});
