import { describe, expect, test } from '@jest/globals';
import { FrameReader, frameMessage } from '../../common/dns/framing.js';

describe('TCP framing', () => {
  test('a frame is the two-byte length then the message', () => {
    expect([...frameMessage(Buffer.from([9, 8, 7]))]).toEqual([0, 3, 9, 8, 7]);
  });

  test('messages are reassembled across arbitrary chunk boundaries, in order', () => {
    const a = Buffer.alloc(300, 1);
    const b = Buffer.from([2, 2]);
    const c = Buffer.alloc(0);
    const stream = Buffer.concat([frameMessage(a), frameMessage(b), frameMessage(c)]);
    for (const cut of [1, 2, 3, 150, 302, 303, 305, stream.length - 1]) {
      const r = new FrameReader();
      const got = [...r.push(stream.subarray(0, cut)), ...r.push(stream.subarray(cut))];
      expect(got.map((m) => m.length)).toEqual([300, 2, 0]);
      expect(got[1]).toEqual(b);
    }
  });

  test('a length announcing more than arrived yields nothing yet', () => {
    const r = new FrameReader();
    expect(r.push(Buffer.from([0xff, 0xff, 1, 2, 3]))).toEqual([]);
  });

  test('partial: true from the first byte of a message until it is complete', () => {
    const r = new FrameReader();
    expect(r.partial).toBe(false);
    const frame = frameMessage(Buffer.from([1, 2, 3]));
    r.push(frame.subarray(0, 1));
    expect(r.partial).toBe(true);
    r.push(frame.subarray(1, 4));
    expect(r.partial).toBe(true);
    expect(r.push(frame.subarray(4))).toHaveLength(1);
    expect(r.partial).toBe(false);
  });
});
