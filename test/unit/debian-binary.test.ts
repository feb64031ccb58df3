import { sharedLibraryDepends } from '../harness/debian-binary.js';

describe('sharedLibraryDepends', () => {
  test("keeps the libraries of nsd's Depends and drops what serves its service and scripts", () => {
    const depends =
      'adduser, lsb-base, openssl, libc6 (>= 2.36), libevent-2.1-7 (>= 2.1.8-stable), libfstrm0 (>= 0.2.0), libprotobuf-c1 (>= 1.0.1), libssl3 (>= 3.0.0), libsystemd0';
    expect(sharedLibraryDepends(depends)).toEqual(['libc6', 'libevent-2.1-7', 'libfstrm0', 'libprotobuf-c1', 'libssl3', 'libsystemd0']);
  });

  test('takes the first of alternatives', () => {
    expect(sharedLibraryDepends('libssl3 (>= 3.0.0) | libssl1.1, debconf | debconf-2.0')).toEqual(['libssl3']);
  });
});
