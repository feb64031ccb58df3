// The sources are ESM ("type": "module"), so ts-jest compiles them as ESM (hence node's
// --experimental-vm-modules in the "jest" script), and the mapper sends "./x.js" imports to x.ts.
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  testTimeout: 30000,
};
