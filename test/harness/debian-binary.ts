// One program out of a Debian package, without installing the package: NSD and Unbound come with
// a system service that their postinst enables (and, without a policy-rc.d, starts on port 53),
// so installing them for a test run would change the machine. As test/install-promtool.sh does
// for promtool: download the .deb, extract the one binary into node_modules/.cache, and install
// with apt only the shared libraries it links to, which ship no service.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import { basename, join } from 'node:path';

/**
 * The library packages among a Depends field: the first of each set of alternatives, without its
 * version. The rest (adduser, lsb-base, openssl) serve the package's service and scripts, not the binary.
 */
export function sharedLibraryDepends(depends: string): string[] {
  return depends
    .split(',')
    .map((alternatives) => alternatives.split('|')[0].trim().split(/[\s(]/)[0])
    .filter((name) => /^lib/.test(name));
}

function run(cmd: string, args: string[], opts: { cwd?: string } = {}): string {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const r = spawnSync(cmd, args, { ...opts, env, encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`"${[cmd, ...args].join(' ')}" failed (it needs root and apt): ${r.stderr || r.error?.message}`);
  return r.stdout;
}

const installed = (pkg: string) =>
  spawnSync('dpkg-query', ['-W', '-f', '${db:Status-Abbrev}', pkg], { encoding: 'utf8' }).stdout?.startsWith('ii') ?? false;

/** Shared libraries `binary` needs that the dynamic loader cannot find. */
function missingLibraries(binary: string): string[] {
  const out = spawnSync('ldd', [binary], { encoding: 'utf8' }).stdout ?? '';
  return [...out.matchAll(/^\s*(\S+) => not found/gm)].map((m) => m[1]);
}

/**
 * The path of `pathInPackage` (./usr/sbin/nsd) from Debian package `pkg`, extracted into
 * `cacheDir`/`pkg` on first use.
 */
export function debianBinary(pkg: string, pathInPackage: string, cacheDir: string): string {
  const dest = join(cacheDir, pkg, basename(pathInPackage));
  if (existsSync(dest) && missingLibraries(dest).length === 0) return dest;
  const tmp = mkdtempSync(join(os.tmpdir(), `phalanx-${pkg}-`));
  try {
    // apt fetches as its _apt user, which must be able to write there.
    spawnSync('chown', ['_apt', tmp]);
    try {
      run('apt-get', ['download', '-qq', pkg], { cwd: tmp });
    } catch {
      // A machine that never ran `apt-get update` has no package lists to find it in.
      run('apt-get', ['update', '-qq']);
      run('apt-get', ['download', '-qq', pkg], { cwd: tmp });
    }
    const deb = join(
      tmp,
      readdirSync(tmp).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'))!,
    );
    const libraries = sharedLibraryDepends(run('dpkg-deb', ['-f', deb, 'Depends']));
    console.log(
      `test: ${basename(pathInPackage)} from Debian's ${pkg} package, without installing it; its libraries: ${libraries.join(' ')}`,
    );
    const absent = libraries.filter((lib) => !installed(lib));
    if (absent.length > 0) run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...absent]);
    run('sh', ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" "$3"', 'sh', deb, tmp, pathInPackage]);
    const extracted = join(tmp, pathInPackage);
    const missing = missingLibraries(extracted);
    if (missing.length > 0)
      throw new Error(`${pkg}'s ${pathInPackage} still lacks ${missing.join(' ')} after installing ${libraries.join(' ')}`);
    mkdirSync(join(cacheDir, pkg), { recursive: true });
    copyFileSync(extracted, dest);
    chmodSync(dest, 0o755);
    return dest;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
