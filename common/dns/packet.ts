// dns-packet exports per-part codecs (name, answer) that its type definitions leave out; this
// gives them types once so the rest of the code stays typed.
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
