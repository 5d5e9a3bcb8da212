// X.501 distinguished names, reduced to what Kubernetes reads from a certificate: the
// common name (the user or node name) and the organizations (its groups).
import { DerTag, expectTag, isPrintableString, oid, printableString, readChildren, readOid, readString, sequence, set, utf8String, type DerElement } from './der.js';

export interface DistinguishedName {
  commonName: string;
  organizations?: string[];
}

const OID_COMMON_NAME = '2.5.4.3';
const OID_ORGANIZATION = '2.5.4.10';

/** PrintableString where the text allows it, UTF8String otherwise (as Go's crypto/x509). */
function directoryString(text: string): Buffer {
  return isPrintableString(text) ? printableString(text) : utf8String(text);
}

/**
 * Name ::= SEQUENCE OF RelativeDistinguishedName. One attribute per RDN, organizations
 * before the common name (Go's order, so openssl prints "O = system:masters, CN = …").
 */
export function encodeName(name: DistinguishedName): Buffer {
  if (!name.commonName) throw new Error('a certificate subject needs a commonName');
  const rdns = [
    ...(name.organizations ?? []).map((o) => set(sequence(oid(OID_ORGANIZATION), directoryString(o)))),
    set(sequence(oid(OID_COMMON_NAME), directoryString(name.commonName))),
  ];
  return sequence(...rdns);
}

/** Reads CN and O values from a Name; other attributes are ignored, as Kubernetes does. */
export function parseName(element: DerElement): DistinguishedName & { organizations: string[] } {
  expectTag(element, DerTag.SEQUENCE);
  let commonName = '';
  const organizations: string[] = [];
  for (const rdn of readChildren(element)) {
    expectTag(rdn, DerTag.SET);
    for (const attribute of readChildren(rdn)) {
      const [type, value] = readChildren(expectTag(attribute, DerTag.SEQUENCE));
      if (!type || !value) throw new Error('DER: malformed AttributeTypeAndValue');
      const attributeOid = readOid(type);
      if (attributeOid === OID_COMMON_NAME) commonName = readString(value);
      else if (attributeOid === OID_ORGANIZATION) organizations.push(readString(value));
    }
  }
  return { commonName, organizations };
}
