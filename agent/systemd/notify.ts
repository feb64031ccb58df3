// Tells systemd how the agent is doing (sd_notify(3)): READY=1 once every listener is bound, so
// units ordered after phalanx-dns.service (genresolv, nss-lookup.target) start only when it
// answers; RELOADING=1 … READY=1 around a reload; STOPPING=1 on shutdown; STATUS= for
// `systemctl status`. Node has no unix datagram sockets, so the message goes through
// systemd-notify, which waits until systemd has taken it (the unit needs NotifyAccess=all).
import { execFile } from 'node:child_process';
import type { Logger } from 'pino';

export class SystemdNotifier {
  /** Messages go out one after another: a READY=1 must never overtake its RELOADING=1. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly log: Logger,
    private readonly socket = process.env.NOTIFY_SOCKET,
  ) {}

  /** True when systemd is listening: run by a Type=notify unit. */
  get enabled(): boolean {
    return Boolean(this.socket);
  }

  /** Sends `NAME=value` assignments; resolves once systemd has them (or the attempt failed, logged). */
  notify(assignments: Record<string, string>): Promise<void> {
    if (!this.socket) return Promise.resolve();
    const args = Object.entries(assignments).map(([name, value]) => `${name}=${value.replace(/\n/g, ' ')}`);
    this.queue = this.queue.then(() => this.send(args));
    return this.queue;
  }

  private send(args: string[]): Promise<void> {
    return new Promise((resolve) => {
      execFile('systemd-notify', args, { timeout: 5000, killSignal: 'SIGKILL' }, (err, _stdout, stderr) => {
        if (err) {
          this.log.warn(
            {
              err: err.message,
              stderr: stderr.trim(),
              notify: args,
              hint: 'is systemd-notify installed, and does the unit have NotifyAccess=all?',
            },
            'could not notify systemd',
          );
        }
        resolve();
      });
    });
  }
}
