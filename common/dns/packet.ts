// dns-packet exports per-part codecs (name, answer) and a record type table that its type
// definitions leave out; this gives them types once so the rest of the code stays typed.
import { createRequire } from 'node:module';
import dnsPacket from 'dns-packet';

interface PartCodec<T> {
  encode: ((value: T, buf?: Buffer, offset?: number) => Buffer) & { bytes: number };
  decode: ((buf: Buffer, offset?: number) => T) & { bytes: number };
  encodingLength(value: T): number;
}

const parts = dnsPacket as unknown as { name: PartCodec<string>; answer: PartCodec<dnsPacket.Answer> };

/** Domain names, with compression pointers followed on decode. */
export const nameCodec = parts.name;
/** One resource record. */
export const recordCodec = parts.answer;
export { dnsPacket };
/** Record type mnemonics and numbers ("SRV" ↔ 33); toType gives 0 for a mnemonic it does not know. */
export const recordTypes = createRequire(import.meta.url)('dns-packet/types.js') as {
  toType(name: string): number;
  toString(type: number): string;
};
