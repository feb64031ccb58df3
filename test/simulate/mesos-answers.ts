// What a simulated Mesos-DNS answers: real DNS messages, since the agent's cache reads TTLs from
// the wire (cacheableTtl). Each name's reply is built once and shared by every request for it:
// nothing downstream writes to a reply (the caches copy before rewriting TTLs).
import { dnsPacket, nameCodec } from '../../common/dns/packet.js';
import { AA, type Question, QR, RA, RD, Type, encodeQuestion, scanMessage } from '../../common/dns/wire.js';
import type { Reply } from '../../agent/transport/exchange.js';

/** What the agent asks for app `id`: the Marathon app's name, as Mesos-DNS names it. */
export function appName(id: number): string {
  return `app-${id}.marathon.mesos`;
}

/** The question the agent sends for `name` (A, RD set, no DO), as the resolver builds it from a client's query. */
export function questionFor(name: string): Question {
  return { wire: encodeQuestion(name, Type.A), flags: RD, dnssecOk: false };
}

export class MesosAnswers {
  private readonly replies = new Map<string, Reply>();

  constructor(
    /** Records per answer: one A record per task of the app. */
    private readonly instances: number,
    /** Mesos-DNS's TTL on every record. */
    private readonly ttlSec: number,
  ) {}

  /** The reply to a question section: A records for an A question, NOERROR without records otherwise (the probe's SOA). */
  replyTo(question: Buffer): Reply {
    const key = question.toString('latin1');
    let reply = this.replies.get(key);
    if (!reply) {
      reply = this.build(question);
      this.replies.set(key, reply);
    }
    return reply;
  }

  private build(question: Buffer): Reply {
    const name = nameCodec.decode(question, 0);
    const type = question.readUInt16BE(nameCodec.decode.bytes);
    const answers: dnsPacket.Answer[] = [];
    if (type === Type.A) {
      // A stable address per task, from the name, so that a name always gets the same answer.
      let h = 0;
      for (let i = 0; i < name.length; i++) h = (Math.imul(h, 31) + name.charCodeAt(i)) >>> 0;
      for (let i = 0; i < this.instances; i++) {
        answers.push({ type: 'A', name, ttl: this.ttlSec, data: `10.${(h >>> 16) & 0xff}.${(h >>> 8) & 0xff}.${((i * 7 + h) % 250) + 1}` });
      }
    }
    const msg = dnsPacket.encode({
      type: 'response',
      id: 0,
      flags: QR | AA | RD | RA,
      questions: [{ name, type: type === Type.A ? 'A' : 'SOA', class: 'IN' }],
      answers,
    });
    return { msg, scan: scanMessage(msg), transport: 'udp' };
  }
}
