// What a pool (UDP sockets, TCP connections) and an exchange tell each other about one query in
// flight: the ticket the pool hands back, where the reply goes, and the replies that fit no query.
import type { Endpoint } from '../../common/config/endpoint.js';
import type { ReplyMismatch } from '../../common/dns/wire.js';

/** A query sent through a pool. */
export interface Ticket {
  /** The query's current ID: over TCP it changes if the query is sent again on another connection. */
  readonly id: number;
  /** Stops waiting (answer received, deadline, or given up). */
  release(): void;
}

/** What a pending exchange is told: a message from its server with its ID, or a socket error. */
export interface PendingReply {
  onReply(msg: Buffer): void;
  onError(err: Error): void;
}

/** Why a reply was dropped as not ours (one from another address never gets here: the UDP sockets are connected). */
export type MismatchReason = ReplyMismatch;

/** Replies a pool receives that belong to no pending query: from `from`, for `reason`. */
export type StrayHook = (from: Endpoint, reason: Exclude<MismatchReason, 'question'>) => void;
