/** Recipients, identities and identity sources: parsing, normalization, and errors that name the input. */
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AgeIdentityError,
  AgeRecipientError,
  generateIdentity,
  loadIdentities,
  parseIdentities,
  parseRecipient,
  recipientOf,
} from '../../src/crypto/age.js';
import { ConfigError, describeError, exitCodeOf } from '../../src/errors.js';
import { ageKeygen, ageWithPty, caught, makeTempDir, requireAgeCli } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  requireAgeCli();
  ({ dir, cleanup } = await makeTempDir());
});
afterAll(() => cleanup());

describe('parseRecipient', () => {
  const { recipient, identity } = generateIdentity();

  it('accepts and normalizes an X25519 recipient', () => {
    const parsed = parseRecipient(`  ${recipient.toUpperCase()}\n`);
    expect(parsed.recipient).toBe(recipient);
    expect(parsed.publicKey).toHaveLength(32);
  });

  it('rejects malformed recipients with a ConfigError naming the problem', () => {
    const typo = `${recipient.slice(0, 20)}${recipient[20] === 'q' ? 'p' : 'q'}${recipient.slice(21)}`;
    expect(() => parseRecipient(typo)).toThrow(/not valid Bech32/);
    expect(() => parseRecipient(recipient.slice(0, -3))).toThrow(AgeRecipientError);
    expect(() => parseRecipient('ssh-ed25519 AAAAC3Nz')).toThrow(/SSH public keys/);
    expect(() => parseRecipient('age1pq1abcdef')).toThrow(/post-quantum/);
    expect(() => parseRecipient('hello')).toThrow(/Not an age recipient/);
    const error = (() => {
      try {
        parseRecipient('nope');
      } catch (e) {
        return e;
      }
    })();
    expect(exitCodeOf(error)).toBe(2);
  });

  it('refuses a secret key given as a recipient, without repeating it', () => {
    let error: unknown;
    try {
      parseRecipient(identity);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AgeRecipientError);
    expect(describeError(error)).toMatch(/secret key .* was given where a public recipient/);
    expect(describeError(error)).not.toContain(identity);
  });
});

describe('parseIdentities', () => {
  const a = generateIdentity();
  const b = generateIdentity();

  it('reads an age identity file: comments, blank lines, CRLF, lowercase, duplicates', () => {
    const text = [
      '# created: 2024-01-15T02:00:00Z',
      `# public key: ${a.recipient}`,
      a.identity,
      '',
      `   ${b.identity.toLowerCase()}   `,
      a.identity,
      '',
    ].join('\r\n');
    expect(parseIdentities(text)).toEqual([a.identity, b.identity]);
  });

  it('names the line of a bad entry but never echoes it', () => {
    const broken = `${a.identity.slice(0, -2)}QQ`;
    let error: unknown;
    try {
      parseIdentities(`# key\n${a.identity}\n${broken}\n`, 'identity file keys.txt');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AgeIdentityError);
    expect(describeError(error)).toMatch(/line 3 of identity file keys\.txt is not a valid age identity/);
    expect(describeError(error)).not.toContain(broken);
    expect(describeError(error)).not.toContain(a.identity);
  });

  it('explains the common mix-ups', () => {
    expect(() => parseIdentities(a.recipient)).toThrow(/public recipient \(age1…\), not a secret identity/);
    expect(() => parseIdentities('# only comments\n\n')).toThrow(/holds no age identity/);
    expect(() => parseIdentities('-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n')).toThrow(/SSH or PEM/);
    expect(() => parseIdentities('age-encryption.org/v1\n-> scrypt x 18\n')).toThrow(
      /itself an age-encrypted file/,
    );
    expect(() => parseIdentities('AGE-PLUGIN-YUBIKEY-1ABC')).toThrow(/plugin identity/);
  });

  it('recipientOf matches age-keygen -y', async () => {
    const key = await ageKeygen(join(dir, 'k.txt'));
    expect(recipientOf(key.identity)).toBe(key.recipient);
  });
});

describe('loadIdentities', () => {
  const ENV = 'LMS_TEST_AGE_IDENTITY';
  afterEach(() => {
    delete process.env[ENV];
  });

  it('reads an age-keygen file, an environment variable, or both', async () => {
    const key = await ageKeygen(join(dir, 'load.txt'));
    const other = generateIdentity();
    expect(await loadIdentities({ file: key.path })).toEqual([key.identity]);
    process.env[ENV] = `# from a CI secret\n${other.identity}\n`;
    expect(await loadIdentities({ env: ENV })).toEqual([other.identity]);
    expect(await loadIdentities({ file: key.path, env: ENV })).toEqual([key.identity, other.identity]);
  });

  it('says which input is wrong and how to fix it', async () => {
    const none = await caught(() => loadIdentities({}));
    expect(none).toBeInstanceOf(ConfigError);
    expect(none.message).toMatch(/No age identity was given/);

    const missing = await caught(() => loadIdentities({ file: join(dir, 'nope.txt') }));
    expect(missing).toBeInstanceOf(AgeIdentityError);
    expect(missing.message).toMatch(/Identity file .*nope\.txt does not exist/);

    const unset = await caught(() => loadIdentities({ env: ENV }));
    expect(unset.message).toBe(`Environment variable ${ENV} is not set`);
    expect((unset as AgeIdentityError).hint).toMatch(
      /Set LMS_TEST_AGE_IDENTITY to the contents of an age identity file/,
    );

    process.env[ENV] = '  \n';
    expect((await caught(() => loadIdentities({ env: ENV }))).message).toBe(
      `Environment variable ${ENV} is empty`,
    );

    const comments = join(dir, 'comments.txt');
    await writeFile(comments, '# nothing here\n');
    expect((await caught(() => loadIdentities({ file: comments }))).message).toMatch(
      /identity file .*comments\.txt holds no age identity/,
    );
  });

  it('an unreadable file is a configuration error', async () => {
    if (process.getuid?.() === 0) {
      // root reads anything; use a directory instead, which cannot be read as a file.
      const error = await caught(() => loadIdentities({ file: dir }));
      expect(error.message).toMatch(/cannot be read \(EISDIR\)/);
      expect(exitCodeOf(error)).toBe(2);
      return;
    }
    const locked = join(dir, 'locked.txt');
    await writeFile(locked, generateIdentity().identity);
    await chmod(locked, 0o000);
    expect((await caught(() => loadIdentities({ file: locked }))).message).toMatch(
      /cannot be read \(EACCES\)/,
    );
  });

  it('a passphrase-protected identity file (age -p of a key) is recognized', async () => {
    const key = await ageKeygen(join(dir, 'protect.txt'));
    const protectedPath = join(dir, 'protect.txt.age');
    const { code, output } = await ageWithPty(['-p', '-o', protectedPath, key.path], 'key file passphrase');
    expect(code, output).toBe(0);
    const error = await caught(() => loadIdentities({ file: protectedPath }));
    expect(error.message).toMatch(/is itself an age-encrypted file/);
  });
});
