// A real systemd (Debian 12's /lib/systemd/systemd) booted as PID 1 of namespaces the test
// creates, on its own root, so a test can install a package into it and drive it with systemctl,
// journalctl, dig and getent as an operator would. Why each step is there:
//
// - PID, mount, network, UTS and IPC namespaces: SIGKILL of systemd's PID ends every process of the
//   node and frees its mounts; only loopback exists inside, so nothing can reach a real network;
//   systemd sets the hostname at boot, which would otherwise be the host's; SysV IPC stays private.
// - A child of the test's own cgroup2 cgroup, entered by the node's PID 1 alone, then a cgroup
//   namespace and a fresh cgroup2 mount: systemd takes that child for the root and builds its slices
//   below it; the host's v1 hierarchies are not mounted inside. (Here cgroup2 has no controllers,
//   they are all bound to v1: MemoryMax=, TasksMax= and the like are accepted but not enforced.)
// - Own root: an overlay (lower the host's /, upper a tmpfs) entered with pivot_root, then the
//   host's tree is unmounted from the namespace, so the host's /tmp, /run and /var/tmp are reachable
//   by no path inside, and dpkg, useradd and unit files write into the upper only. Booting on the
//   host's / once let systemd-tmpfiles wipe the host's /tmp: hence the scratch tmpfs hides /tmp
//   first, and every mount is checked before systemd is exec'd (any failure: no systemd at all).
//   Files the host changes after boot may or may not show inside: put fixtures in through path().
// - Fresh tmpfs /run, /tmp, /var/tmp, /dev/shm and a private /dev with a few device nodes (as
//   systemd-nspawn makes it, without a console: systemd's own messages are in the journal).
// - /proc/sys and /sys read-only (as systemd-nspawn mounts them): kernel sysctls are host-wide, and
//   systemd writes some (PID 1 sets core_pattern when it thinks it is not in a container, packages
//   ship sysctl.d files). /proc/sys/net stays writable: it is the node's network namespace's, and
//   `ip` and sysctl need it.
// - `container=` in systemd's environment: PID 1 then skips what it does on bare metal only (the
//   clock and kernel timezone, security policies), reads its own command line instead of the host
//   kernel's, and container-aware units (udev and friends) skip themselves.
// - Capabilities that act on the whole machine (module loading, the clock, the kernel log, raw I/O,
//   audit rules) are dropped from the bounding set: PID 1 loads kernel modules at boot when it may.
// - Masked units: host-wide writers, the host's enabled services and timers, slow useless ones (see
//   MASKED). No generator runs: they turn the host's fstab, crypttab, init scripts and disks into units.
// - Lifetime: a timer destroys the node after lifetimeMs; should the test process die, `timeout`
//   kills unshare 10 s later and unshare's --kill-child takes PID 1 with it.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { LoggedProcess } from './logged-process.js';
import { waitFor } from './time.js';
import type { ExecResult } from './netns.js';

export type { ExecResult } from './netns.js';

export interface BootOptions {
  /** Node name: hostname inside and part of the cgroup's name. */
  name: string;
  /** Hard lifetime: the node is destroyed this long after boot() was called, whatever the test does. */
  lifetimeMs: number;
  /** How long boot() waits for `systemctl is-system-running` to say running (default 30 s). */
  bootTimeoutMs?: number;
  /**
   * Host directories the node shows read-only at the same path, such as the checkout whose files
   * a test runs inside (one under /tmp would be hidden by the node's own /tmp).
   */
  show?: string[];
}

export interface ExecOptions {
  timeoutMs?: number;
  input?: string;
  env?: Record<string, string>;
}

/** Host-wide writers, and units a test node does not need that would slow its boot. */
const MASKED = [
  // write host-wide state (sysctls, binfmt, modules, entropy pool, the clock, kernel/debug fs)
  'systemd-sysctl.service',
  'systemd-binfmt.service',
  'proc-sys-fs-binfmt_misc.automount',
  'proc-sys-fs-binfmt_misc.mount',
  'systemd-modules-load.service',
  'kmod-static-nodes.service',
  'systemd-tmpfiles-setup-dev.service',
  'systemd-udevd.service',
  'systemd-udevd-control.socket',
  'systemd-udevd-kernel.socket',
  'systemd-udev-trigger.service',
  'systemd-udev-settle.service',
  'systemd-random-seed.service',
  'systemd-timesyncd.service',
  'systemd-pstore.service',
  'systemd-journald-audit.socket',
  'sys-kernel-config.mount',
  'sys-kernel-debug.mount',
  'sys-kernel-tracing.mount',
  'sys-fs-fuse-connections.mount',
  'dev-hugepages.mount',
  // terminals: the node has none
  'getty.target',
  'getty@.service',
  'serial-getty@.service',
  'console-getty.service',
  'container-getty@.service',
  // ConditionNeedsUpdate= ones, which may rebuild caches (ldconfig, hwdb) at every boot: slow
  'ldconfig.service',
  'systemd-hwdb-update.service',
  'systemd-journal-catalog-update.service',
  'systemd-update-done.service',
  'systemd-sysusers.service',
  // would remount / as the host's fstab says
  'systemd-remount-fs.service',
];
/** Families masked whatever units of them are installed (timers included). */
const MASKED_FAMILIES = /^(apt-daily|man-db|fstrim|e2scrub|dpkg-db-backup|postgresql)[\w@.-]*\.(service|timer)$/;
/** Capabilities whose use reaches beyond the node's namespaces. */
const DROPPED_CAPS = [
  'sys_module',
  'sys_time',
  'syslog',
  'wake_alarm',
  'sys_rawio',
  'mac_admin',
  'mac_override',
  'block_suspend',
  'sys_pacct',
  'audit_control',
  'audit_read',
];
/** The whole environment of commands run inside (never the test's own). */
const BASE_ENV = [
  'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  'HOME=/root',
  'LANG=C.UTF-8',
  'SYSTEMD_PAGER=',
  'SYSTEMD_COLORS=0',
];

// Runs as PID 1 of the new PID namespace: moves itself (alone) into the node's cgroup, then makes
// the cgroup namespace there. $1 stage 2, $2 the cgroup's host path, the rest for stage 2.
const STAGE1 = `
fail() { echo "phalanx-node: $*" >&2; exit 97; }
[ "$$" = 1 ] || fail "not PID 1 of a new PID namespace"
stage2=$1; cgroup=$2; shift 2
echo 0 > "$cgroup/cgroup.procs"
exec unshare --cgroup sh -eu -c "$stage2" "$0" "$@"
`;

// Builds the new root and execs systemd; any failure exits before systemd runs.
// $1 name, $2 machine id, $3 directories to show (colon-separated), the rest: units to mask.
const STAGE2 = `
fail() { echo "phalanx-node: $*" >&2; exit 97; }
name=$1; machine_id=$2; show=$3; shift 3
src="phalanx-node-$name"
grep -qx '0::/' /proc/self/cgroup || fail "not in a cgroup namespace: $(cat /proc/self/cgroup)"
mount --make-rprivate /
# Held open from here: the scratch tmpfs is about to hide the host's /tmp, where they may be.
# (dash redirects fds 0-9 only.)
shown=""; fd=3
for d in $(printf '%s' "$show" | tr ':' ' '); do
  [ "$fd" -le 9 ] || fail "at most 7 directories can be shown"
  eval "exec $fd<" '"$d"' || fail "cannot open $d"
  shown="$shown $fd:$d"; fd=$((fd + 1))
done
S=/tmp
R=$S/root
mount -t tmpfs -o mode=0700 "$src" "$S"
mkdir "$S/upper" "$S/work" "$R"
mount -t overlay -o "lowerdir=/,upperdir=$S/upper,workdir=$S/work" "$src" "$R"
mount -t proc -o nosuid,nodev,noexec "$src" "$R/proc"
mount --bind "$R/proc/sys" "$R/proc/sys"
mount -o remount,bind,ro "$R/proc/sys"
mount --bind "$R/proc/sys/net" "$R/proc/sys/net"
mount -o remount,bind,rw "$R/proc/sys/net"
if [ -e "$R/proc/sysrq-trigger" ]; then
  mount --bind "$R/proc/sysrq-trigger" "$R/proc/sysrq-trigger"
  mount -o remount,bind,ro "$R/proc/sysrq-trigger"
fi
mount -t sysfs -o ro,nosuid,nodev,noexec "$src" "$R/sys"
mount -t cgroup2 -o nosuid,nodev,noexec "$src" "$R/sys/fs/cgroup"
mount -t tmpfs -o mode=0755,nosuid,size=4m "$src" "$R/dev"
for spec in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
  node=\${spec%%:*}; nums=\${spec#*:}
  mknod -m 0666 "$R/dev/$node" c "\${nums%:*}" "\${nums#*:}"
done
mkdir "$R/dev/pts" "$R/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5,nosuid,noexec "$src" "$R/dev/pts"
ln -s pts/ptmx "$R/dev/ptmx"
mount -t tmpfs -o mode=1777,nosuid,nodev "$src" "$R/dev/shm"
ln -s /proc/self/fd "$R/dev/fd"
ln -s /proc/self/fd/0 "$R/dev/stdin"
ln -s /proc/self/fd/1 "$R/dev/stdout"
ln -s /proc/self/fd/2 "$R/dev/stderr"
mount -t tmpfs -o mode=0755,nosuid,nodev "$src" "$R/run"
mount -t tmpfs -o mode=1777,nosuid,nodev "$src" "$R/tmp"
mount -t tmpfs -o mode=1777,nosuid,nodev "$src" "$R/var/tmp"
# Read-only, so nothing inside (systemd-tmpfiles' boot-time clean-up of /tmp included) can change them.
for entry in $shown; do
  fd=\${entry%%:*}; d=\${entry#*:}
  mkdir -p "$R$d"
  mount --bind "/proc/self/fd/$fd" "$R$d"
  mount -o remount,bind,ro "$R$d"
  eval "exec $fd<&-"
done

printf '%s\\n' "$name" > "$R/etc/hostname"
printf '%s\\n' "$machine_id" > "$R/etc/machine-id"
: > "$R/etc/fstab"
mkdir -p "$R/etc/systemd/journald.conf.d" "$R/etc/systemd/system-generators"
printf '[Journal]\\nStorage=volatile\\n' > "$R/etc/systemd/journald.conf.d/phalanx-node.conf"
for unit in "$@"; do ln -sfn /dev/null "$R/etc/systemd/system/$unit"; done
for g in "$R"/lib/systemd/system-generators/* "$R"/usr/lib/systemd/system-generators/* "$R"/usr/local/lib/systemd/system-generators/*; do
  if [ -e "$g" ]; then ln -sfn /dev/null "$R/etc/systemd/system-generators/\${g##*/}"; fi
done

check() {
  got=$(findmnt -rn -o FSTYPE,OPTIONS -M "$R$1" | tail -n 1)
  case "$got" in "$2 $3,"*) ;; *) fail "\${1:-/} is not a $3 $2 mount (found: \${got:-nothing})" ;; esac
}
check "" overlay rw
check /proc proc rw
check /proc/sys proc ro
check /proc/sys/net proc rw
check /sys sysfs ro
check /sys/fs/cgroup cgroup2 rw
check /dev tmpfs rw
check /dev/pts devpts rw
check /dev/shm tmpfs rw
check /run tmpfs rw
check /tmp tmpfs rw
check /var/tmp tmpfs rw
for entry in $shown; do check "\${entry#*:}" "$(findmnt -rn -o FSTYPE -M "$R\${entry#*:}" | tail -n 1)" ro; done

cd "$R"
pivot_root . .
umount -l .
cd /
expected="/ /dev /dev/pts /dev/shm /proc /proc/sys /proc/sys/net /run /sys /sys/fs/cgroup /tmp /var/tmp"
for entry in $shown; do expected="$expected \${entry#*:}"; done
[ -e /proc/sysrq-trigger ] && expected="$expected /proc/sysrq-trigger"
want=$(printf '%s\\n' $expected | LC_ALL=C sort | tr '\\n' ' ')
have=$(findmnt -rn -o TARGET | LC_ALL=C sort | tr '\\n' ' ')
[ "$have" = "$want" ] || fail "after pivot_root the mounts are [$have], expected [$want]"
[ "$(findmnt -rn -o FSTYPE -M /)" = overlay ] || fail "/ is not the overlay after pivot_root"

exec setpriv --bounding-set ${DROPPED_CAPS.map((c) => `-${c}`).join(',')} -- env -i container=phalanx-node /lib/systemd/systemd --system
`;

/** Runs a host command to completion, bounded by timeoutMs (killed with SIGKILL then). */
function run(argv: string[], timeoutMs: number, input?: string): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = execFile(
      argv[0],
      argv.slice(1),
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr: stderr + (err && typeof err.code !== 'number' ? `\n${err.message}` : '') });
      },
    );
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input ?? '');
  });
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Start time (field 22 of /proc/<pid>/stat): tells a process from a later one given the same PID. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function comm(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The host path of the test process's own cgroup in the cgroup2 hierarchy (v2 or hybrid host). */
function ownCgroup2Dir(): string {
  const mount = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' '))
    .find((f) => f[f.indexOf('-') + 1] === 'cgroup2');
  const path = /^0::(.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1];
  if (!mount || path === undefined) throw new Error('no cgroup2 hierarchy mounted: the node needs one for its cgroup namespace');
  return posix.join(mount[4], path);
}

/** Unit names to mask: MASKED, the families, and whatever the host enabled in /etc/systemd/system. */
function unitsToMask(): string[] {
  const units = new Set(MASKED);
  for (const dir of ['/lib/systemd/system', '/usr/lib/systemd/system', '/etc/systemd/system']) {
    if (!existsSync(dir)) continue;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (MASKED_FAMILIES.test(entry.name)) units.add(entry.name);
      if (dir === '/etc/systemd/system' && entry.isDirectory() && /\.(wants|requires)$/.test(entry.name)) {
        for (const unit of readdirSync(posix.join(dir, entry.name))) units.add(unit);
      }
    }
  }
  return [...units].filter((u) => /^[\w@.:\\-]+$/.test(u)).sort();
}

export class SystemdNode {
  private systemdPid = 0;
  /** The node's cgroup in the host's cgroup2 tree; destroy() removes it. */
  readonly cgroupDir: string;
  private readonly chain: LoggedProcess;
  /** PID → start time of each process of the chain as found: killed only while still the same. */
  private readonly known = new Map<number, string>();
  private unsharePid = 0;
  /** The node's PID 1 from its fork on (the setup script, then systemd). */
  private initPid = 0;
  private readonly spawned: LoggedProcess[] = [];
  private readonly lifetimeTimer: NodeJS.Timeout;
  private destroying: Promise<void> | undefined;
  private expired = false;

  private constructor(
    readonly name: string,
    readonly lifetimeMs: number,
    show: string[],
  ) {
    const parent = ownCgroup2Dir();
    sweepStaleCgroups(parent);
    this.cgroupDir = posix.join(parent, `phalanx-node-${name}-${process.pid}-${randomBytes(3).toString('hex')}`);
    mkdirSync(this.cgroupDir);
    const backstopSeconds = Math.ceil(lifetimeMs / 1000) + 10;
    this.chain = new LoggedProcess([
      'timeout',
      '-s',
      'KILL',
      `${backstopSeconds}s`,
      'unshare',
      '--pid',
      '--kill-child=SIGKILL',
      '--mount',
      '--propagation',
      'private',
      '--net',
      '--uts',
      '--ipc',
      'sh',
      '-eu',
      '-c',
      STAGE1,
      `phalanx-node-${name}`,
      STAGE2,
      this.cgroupDir,
      name,
      randomBytes(16).toString('hex'),
      show.join(':'),
      ...unitsToMask(),
    ]);
    this.lifetimeTimer = setTimeout(() => {
      this.expired = true;
      this.destroy().catch(() => undefined);
    }, lifetimeMs);
  }

  /** Boots a node; resolves once systemd says the system is running, otherwise destroys it and rejects. */
  static async boot(opts: BootOptions): Promise<SystemdNode> {
    if (!/^[a-z0-9][a-z0-9-]{0,30}$/.test(opts.name)) throw new Error(`node names are [a-z0-9-], at most 31 characters, not ${opts.name}`);
    if (!(opts.lifetimeMs > 0)) throw new Error('a node needs a lifetime');
    for (const d of opts.show ?? []) {
      if (!/^\/[\w./+-]*$/.test(d) || d.split('/').includes('..') || !statSync(d, { throwIfNoEntry: false })?.isDirectory()) {
        throw new Error(`show: ${d} is not an absolute path of a directory (letters, digits, . _ - + / only)`);
      }
    }
    const node = new SystemdNode(opts.name, opts.lifetimeMs, opts.show ?? []);
    const deadline = Date.now() + (opts.bootTimeoutMs ?? 30_000);
    try {
      await node.findSystemd(deadline);
      await node.waitRunning(deadline);
      return node;
    } catch (err) {
      let diag = await node.diagnostics();
      await node.destroy().catch((e: Error) => (diag += `\n${e.message}`));
      throw new Error(`node ${opts.name} did not boot: ${(err as Error).message}\n${diag}`, { cause: err });
    }
  }

  /** Notes unshare (the child of `timeout`) and the node's PID 1 (unshare's child) once they exist. */
  private discover(): void {
    const note = (pid: number | undefined) => {
      const st = pid ? startTime(pid) : undefined;
      if (pid && st) this.known.set(pid, st);
      return pid && st ? pid : 0;
    };
    this.unsharePid ||= note(childrenOf(this.chain.pid)[0]);
    if (this.unsharePid) this.initPid ||= note(childrenOf(this.unsharePid)[0]);
  }

  /** Waits until the node's PID 1 has exec'd systemd, which the script does only on the finished root. */
  private async findSystemd(deadline: number): Promise<void> {
    const found = await waitFor(
      () => {
        if (this.chain.exit || this.destroying) throw new Error(this.expired ? 'lifetime over during boot' : 'the namespace setup exited');
        this.discover();
        if (!this.initPid || comm(this.initPid) !== 'systemd') return false;
        const nspid = /^NSpid:\s+(\d+)\s+(\d+)$/m.exec(readFileSync(`/proc/${this.initPid}/status`, 'utf8'));
        if (nspid?.[2] !== '1') throw new Error(`process ${this.initPid} is not PID 1 of the node's PID namespace`);
        if (statSync(`/proc/${this.initPid}/root/`).dev === statSync('/').dev)
          throw new Error(`systemd (${this.initPid}) runs on the host's root`);
        this.systemdPid = this.initPid;
        return true;
      },
      { timeoutMs: Math.max(0, deadline - Date.now()), everyMs: 10 },
    );
    if (found) return;
    throw new Error('systemd was not started in time');
  }

  private async waitRunning(deadline: number): Promise<void> {
    let last = '';
    // Asked again every 50 ms while PID 1 is not listening yet.
    const running = await waitFor(
      async () => {
        if (this.chain.exit || this.destroying) throw new Error(this.expired ? 'lifetime over during boot' : `systemd exited (${last})`);
        const r = await this.exec(['systemctl', 'is-system-running', '--wait'], { timeoutMs: Math.max(1000, deadline - Date.now()) });
        const state = r.stdout.trim();
        last = `${state} ${r.stderr.trim()}`.trim();
        if (state === 'running') return true;
        if (state === 'degraded') {
          const failed = await this.systemctl('--failed', '--no-legend', '--plain');
          throw new Error(`degraded, failed units:\n${failed.stdout}`);
        }
        if (!['', 'offline', 'initializing', 'starting', 'unknown'].includes(state)) throw new Error(`system is ${state}`);
        return false;
      },
      { timeoutMs: Math.max(0, deadline - Date.now()), everyMs: 50 },
    );
    if (running) return;
    throw new Error(`not running in time (last: ${last})`);
  }

  /** systemd's PID as the host sees it. */
  get pid(): number {
    return this.systemdPid;
  }

  /** systemd's PID, or an error when there is no live node to act on. */
  private live(): number {
    if (this.destroying)
      throw new Error(`node ${this.name} was destroyed${this.expired ? ` (lifetime of ${this.lifetimeMs} ms over)` : ''}`);
    if (!this.pid) throw new Error(`node ${this.name} has no systemd yet`);
    return this.pid;
  }

  private get nsenter(): string[] {
    return ['nsenter', '-t', String(this.live()), '-m', '-u', '-i', '-n', '-p', '-C', '-r', '-w', '--'];
  }

  /** Runs a command inside (every namespace, root and cwd of the node) with a clean environment. */
  async exec(argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const env = Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`);
    // The inner timeout ends the command inside too: killing nsenter would leave it running.
    const inner = ['timeout', '-s', 'KILL', `${timeoutMs / 1000}s`, 'env', '-i', ...BASE_ENV, ...env, ...argv];
    return run([...this.nsenter, ...inner], timeoutMs + 5000, opts.input);
  }

  /** Starts a long-running process inside; destroy() ends it. */
  spawn(argv: string[], opts: { env?: Record<string, string> } = {}): LoggedProcess {
    const env = Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`);
    const p = new LoggedProcess([...this.nsenter, 'env', '-i', ...BASE_ENV, ...env, ...argv]);
    this.spawned.push(p);
    return p;
  }

  /** The host path of `inside` (absolute, no `..`), through systemd's root: for test fixtures. */
  path(inside: string): string {
    if (!inside.startsWith('/') || inside.split('/').includes('..')) throw new Error(`not an absolute path without '..': ${inside}`);
    return `/proc/${this.live()}/root${posix.normalize(inside)}`;
  }

  systemctl(...args: string[]): Promise<ExecResult> {
    return this.exec(['systemctl', '--no-pager', ...args]);
  }

  /** `journalctl -u unit -o cat` (add e.g. ['-p', 'warning']): the lines, '' when there are none. */
  async journal(unit: string, extraArgs: string[] = []): Promise<string> {
    const r = await this.exec(['journalctl', '-q', '--no-pager', '-o', 'cat', '-u', unit, ...extraArgs]);
    if (r.code !== 0) throw new Error(`journalctl -u ${unit} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  }

  /** Boot output, system state, failed units and the last journal lines: for failing assertions. Never throws. */
  async diagnostics(): Promise<string> {
    const setup = `${this.chain.stdout}${this.chain.stderr}`.trim() || '(no output)';
    const out = [`--- node ${this.name} (systemd pid ${this.pid || 'not found'}), namespace setup output:`, setup];
    if (this.pid && !this.destroying && !this.chain.exit) {
      for (const argv of [
        ['systemctl', 'is-system-running'],
        ['systemctl', '--no-pager', '--failed', '--no-legend', '--plain'],
        ['journalctl', '--no-pager', '-b', '-n', '60'],
      ]) {
        const r = await this.exec(argv, { timeoutMs: 5000 }).catch((e: Error) => ({ code: -1, stdout: '', stderr: e.message }));
        out.push(`--- ${argv.join(' ')} (${r.code})`, r.stdout.trim(), r.stderr.trim());
      }
    }
    return out.filter(Boolean).join('\n');
  }

  /** SIGKILLs the node (all of it goes with its PID 1), waits for the chain, removes the cgroup. Idempotent. */
  destroy(): Promise<void> {
    this.destroying ??= this.teardown();
    return this.destroying;
  }

  private killIfSame(pid: number): void {
    const st = this.known.get(pid);
    if (st && startTime(pid) === st) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone meanwhile */
      }
    }
  }

  private async teardown(): Promise<void> {
    clearTimeout(this.lifetimeTimer);
    for (const p of this.spawned) p.signal('SIGKILL');
    // Only the node's PID 1: its death ends every process in the namespace, and unshare reaps it.
    // Killing unshare or `timeout` as well would leave PID 1 to the host's init to reap.
    for (let i = 0; i < 100 && !this.chain.exit && (this.initPid || i < 50); i++) {
      this.discover();
      this.killIfSame(this.initPid);
      await this.chain.waitForExit(20).catch(() => undefined);
    }
    // No PID 1 was ever seen: unshare (whose --kill-child takes a late-forked child along), then `timeout`.
    if (!this.chain.exit && !this.initPid) {
      this.killIfSame(this.unsharePid);
      await this.chain.waitForExit(1000).catch(() => undefined);
      this.chain.signal('SIGKILL');
    }
    const problems: string[] = [];
    await this.chain.waitForExit(10_000).catch((e: Error) => problems.push(e.message));
    await Promise.all(this.spawned.map((p) => p.waitForExit(5000).catch((e: Error) => problems.push(e.message))));
    if (!(await removeCgroupTree(this.cgroupDir, 10_000))) problems.push(`cgroup ${this.cgroupDir} could not be removed`);
    if (problems.length) throw new Error(`destroying node ${this.name}: ${problems.join('; ')}`);
  }
}

/** Removes a cgroup and its children, deepest first; throws while any still holds a process. */
function rmdirTree(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) rmdirTree(posix.join(dir, e.name));
  rmdirSync(dir);
}

/** rmdirTree once the node's processes are gone; bounded in time. */
async function removeCgroupTree(dir: string, timeoutMs: number): Promise<boolean> {
  // A cgroup is busy until its last process has gone: try again every 50 ms.
  return waitFor(
    () => {
      try {
        rmdirTree(dir);
      } catch {
        /* still busy */
      }
      return !existsSync(dir);
    },
    { timeoutMs, everyMs: 50 },
  );
}

/** Empty cgroups of nodes whose test process died before destroy(): named with that process's PID. */
function sweepStaleCgroups(parent: string): void {
  for (const d of readdirSync(parent)) {
    const creator = /^phalanx-node-[a-z0-9-]+-(\d+)-[0-9a-f]{6}$/.exec(d)?.[1];
    if (!creator || existsSync(`/proc/${creator}`)) continue;
    try {
      if (readFileSync(posix.join(parent, d, 'cgroup.events'), 'utf8').includes('populated 0')) rmdirTree(posix.join(parent, d));
    } catch {
      /* populated meanwhile, or removed by another sweep */
    }
  }
}
