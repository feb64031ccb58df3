// DNS over TCP frames every message with a two-byte length (RFC 1035 §4.2.2). Reads arrive in
// arbitrary pieces, so messages are reassembled across chunks.
export function frameMessage(msg: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(2 + msg.length);
  frame.writeUInt16BE(msg.length, 0);
  msg.copy(frame, 2);
  return frame;
}

export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);

  /** True while a message has begun (its length prefix, or part of it, has arrived) but is not complete. */
  get partial(): boolean {
    return this.pending.length > 0;
  }

  /** Adds a chunk read from the socket; returns every message now complete, in order. */
  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: Buffer[] = [];
    while (this.pending.length >= 2) {
      const len = this.pending.readUInt16BE(0);
      if (this.pending.length < 2 + len) break;
      // Copied out, so a message never pins the socket's larger read buffer.
      out.push(Buffer.from(this.pending.subarray(2, 2 + len)));
      this.pending = this.pending.subarray(2 + len);
    }
    return out;
  }
}
