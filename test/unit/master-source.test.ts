import { describe, expect, test } from '@jest/globals';
import { exhibitorStatusUrl, parseZooKeeperUrl, redactUrl } from '../../common/config/master-source.js';
import { ConfigError, describeConfig, parseConfig } from '../../common/config/schema.js';

describe('master source in the config', () => {
  test('none given: a static (possibly empty) list', () => {
    expect(parseConfig({}).mesos.source).toEqual({ kind: 'static' });
  });

  test('ZooKeeper URL with several hosts, default port, path and digest auth', () => {
    const c = parseConfig({ mesos: { zookeeper: 'zk://bob:s3cret@10.0.0.1:2181,10.0.0.2/mesos' } });
    expect(c.mesos.source).toEqual({
      kind: 'zookeeper',
      hosts: [
        { host: '10.0.0.1', port: 2181, family: 4 },
        { host: '10.0.0.2', port: 2181, family: 4 },
      ],
      path: '/mesos',
      auth: 'bob:s3cret',
      display: 'zk://bob:REDACTED@10.0.0.1:2181,10.0.0.2:2181/mesos',
    });
  });

  test('the password never shows in the described config', () => {
    const c = parseConfig({ mesos: { zookeeper: 'zk://bob:s3cret@10.0.0.1:2181/mesos' } });
    expect(JSON.stringify(describeConfig(c))).not.toContain('s3cret');
    const e = parseConfig({ mesos: { exhibitorUrl: 'http://admin:hunter2@10.0.0.1:8181' } });
    expect(JSON.stringify(describeConfig(e))).not.toContain('hunter2');
  });

  test('Exhibitor: a base URL gets the status path', () => {
    expect(exhibitorStatusUrl('http://10.0.0.1:8181')?.toString()).toBe('http://10.0.0.1:8181/exhibitor/v1/cluster/status');
    expect(exhibitorStatusUrl('http://10.0.0.1:8181/x/status')?.toString()).toBe('http://10.0.0.1:8181/x/status');
  });

  test('master list file needs an absolute path', () => {
    expect(parseConfig({ mesos: { masterListFile: '/opt/mesosphere/etc/master_list' } }).mesos.source.kind).toBe('file');
    expect(() => parseConfig({ mesos: { masterListFile: 'master_list' } })).toThrow(/mesos.masterListFile/);
  });

  test('two sources at once are a config error naming both', () => {
    let err: unknown;
    try {
      parseConfig({ mesos: { masters: ['10.0.0.1'], zookeeper: 'zk://10.0.0.1:2181/mesos' } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).key).toBe('mesos.zookeeper');
    expect((err as Error).message).toContain('"mesos.masters" is already set');
  });

  test.each([
    'zk://zk1.internal:2181/mesos',
    'http://10.0.0.1/mesos',
    'zk://10.0.0.1:2181',
    'zk://10.0.0.1:99999/mesos',
    'zk://10.0.0.1/me sos',
  ])('bad ZooKeeper URL %s is refused', (url) => {
    expect(parseZooKeeperUrl(url)).toBeUndefined();
    expect(() => parseConfig({ mesos: { zookeeper: url } })).toThrow(/key "mesos.zookeeper"/);
  });

  test('redactUrl keeps the user, hides the password', () => {
    expect(redactUrl('http://a:b@h:1/p')).toBe('http://a:REDACTED@h:1/p');
    expect(redactUrl('http://h:1/p')).toBe('http://h:1/p');
  });

  test('timing defaults follow dcos-dns: refresh 120 s, retry 5 s', () => {
    const c = parseConfig({});
    expect([c.mesos.refreshMs, c.mesos.retryMs, c.mesos.requestTimeoutMs, c.mesos.zkSessionTimeoutMs]).toEqual([
      120_000, 5000, 10_000, 10_000,
    ]);
  });
});
