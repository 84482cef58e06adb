import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/cli/errors.js';
import { heraldUrl } from '../src/cli/target.js';

/** Where the CLI looks for Herald: a pure decision from the flag and the environment. */
describe('heraldUrl', () => {
  const w = 'herald status';
  it('takes --url over HERALD_URL over the address Herald binds by default', () => {
    expect(heraldUrl(w, 'http://10.0.0.5:9000/', { HERALD_URL: 'http://x:1' })).toBe('http://10.0.0.5:9000');
    expect(heraldUrl(w, undefined, { HERALD_URL: 'https://herald.example.com', HERALD_PORT: '1' })).toBe('https://herald.example.com');
    expect(heraldUrl(w, undefined, {})).toBe('http://127.0.0.1:8080');
    expect(heraldUrl(w, undefined, { HERALD_PORT: '9090' })).toBe('http://127.0.0.1:9090');
  });

  it('asks a wildcard bind on loopback, and brackets an IPv6 address', () => {
    expect(heraldUrl(w, undefined, { HERALD_HOST: '0.0.0.0' })).toBe('http://127.0.0.1:8080');
    expect(heraldUrl(w, undefined, { HERALD_HOST: '::' })).toBe('http://127.0.0.1:8080');
    expect(heraldUrl(w, undefined, { HERALD_HOST: '10.1.2.3', HERALD_PORT: '81' })).toBe('http://10.1.2.3:81');
    expect(heraldUrl(w, undefined, { HERALD_HOST: 'fd00::5' })).toBe('http://[fd00::5]:8080');
  });

  it('refuses what is not an http(s) URL, or a port it cannot ask', () => {
    expect(() => heraldUrl(w, 'localhost:8080', {})).toThrow(UsageError);
    expect(() => heraldUrl(w, 'ftp://x', {})).toThrow(/--url must be an http\(s\) URL/);
    expect(() => heraldUrl(w, undefined, { HERALD_PORT: '0' })).toThrow(/HERALD_PORT must be a port from 1 to 65535 to find Herald \(got "0"\); or pass --url/);
  });
});
