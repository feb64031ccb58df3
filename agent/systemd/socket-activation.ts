// Sockets handed over by systemd (sd_listen_fds(3)): phalanx-dns.socket binds the node's DNS
// addresses and keeps them bound while the agent restarts or is upgraded, so queries wait in the
// kernel for the next agent instead of being refused (glibc fails a lookup at once on a refusal).
//
// Which fd is which is read from the kernel rather than from the unit's line order, so an edited
// socket unit cannot make the agent serve TCP on a UDP socket or mix up addresses.
import { readlinkSync } from 'node:fs';
import { type Endpoint, formatEndpoint } from '../../common/config/endpoint.js';
import { type KernelSocket, readSocketTable, socketInode } from '../../common/kernel-sockets.js';
import type { Transport } from '../../common/dns/wire.js';

/** The first fd systemd passes (SD_LISTEN_FDS_START). */
const LISTEN_FDS_START = 3;

export interface InheritedSocket extends KernelSocket {
  fd: number;
}

/**
 * The listen fds from LISTEN_PID/LISTEN_FDS, when they are meant for this process. Throws when
 * systemd passed something that is not a bound UDP or listening TCP socket: a unit edited wrong
 * should stop the start with a clear message, not serve half the addresses.
 */
export function inheritedSockets(env: NodeJS.ProcessEnv = process.env): InheritedSocket[] {
  const count = Number(env.LISTEN_FDS);
  if (Number(env.LISTEN_PID) !== process.pid || !Number.isInteger(count) || count <= 0) return [];
  // Children (systemd-notify, the restart command) must not think the fds are theirs.
  delete env.LISTEN_PID;
  delete env.LISTEN_FDS;
  delete env.LISTEN_FDNAMES;

  const byInode = readSocketTable();
  const sockets: InheritedSocket[] = [];
  for (let fd = LISTEN_FDS_START; fd < LISTEN_FDS_START + count; fd++) {
    let link: string;
    try {
      link = readlinkSync(`/proc/self/fd/${fd}`);
    } catch (err) {
      throw new Error(`systemd passed fd ${fd} (LISTEN_FDS=${count}), but it is not open: ${(err as Error).message}`, { cause: err });
    }
    const inode = socketInode(link);
    const found = inode === undefined ? undefined : byInode.get(inode);
    if (!found) {
      throw new Error(
        `systemd passed fd ${fd} (${link}), which is not a bound UDP or listening TCP socket; phalanx-dns.socket may only have ListenDatagram= and ListenStream= lines with IP addresses`,
      );
    }
    sockets.push({ fd, ...found });
  }
  return sockets;
}

/** "udp 198.51.100.1:53", for logs. */
export function describeSocket(s: KernelSocket): string {
  return `${s.transport} ${formatEndpoint(s.endpoint)}`;
}

/** One socket the agent serves: bound by itself (no fd) or handed over by systemd. */
export interface ListenSocket extends KernelSocket {
  fd?: number;
}

/**
 * UDP and TCP on every `listen` address, using the socket systemd passed for it where there is
 * one. A passed socket for an address not in `listen` is served too (systemd holds it, so queries
 * sent there would otherwise wait unanswered) and returned as `unlisted` for a warning.
 */
export function planListenSockets(
  listen: Endpoint[],
  inherited: InheritedSocket[],
): { sockets: ListenSocket[]; unlisted: InheritedSocket[] } {
  const unused = [...inherited];
  const take = (transport: Transport, endpoint: Endpoint): number | undefined => {
    const i = unused.findIndex((s) => s.transport === transport && s.endpoint.host === endpoint.host && s.endpoint.port === endpoint.port);
    return i === -1 ? undefined : unused.splice(i, 1)[0].fd;
  };
  const sockets: ListenSocket[] = listen.flatMap((endpoint) =>
    (['udp', 'tcp'] as const).map((transport) => ({ transport, endpoint, fd: take(transport, endpoint) })),
  );
  return { sockets: [...sockets, ...unused], unlisted: unused };
}
