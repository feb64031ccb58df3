// The one kind of config error: it names the key, shows the bad value and says what is valid, so
// an operator can fix the file from the message alone.

export class ConfigError extends Error {
  constructor(
    readonly key: string,
    readonly value: unknown,
    readonly expected: string,
  ) {
    super(`key "${key}": ${describe(value)} is not valid; expected ${expected}`);
    this.name = 'ConfigError';
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'a missing value';
  const text = JSON.stringify(value);
  return text.length > 80 ? text.slice(0, 77) + '...' : text;
}
