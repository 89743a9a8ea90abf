import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, ConfigErrors } from '../../src/errors.js';
import {
  displayLocation,
  openStorage,
  parseStorageLocation,
  redactLocation,
  StorageConfigError,
  StorageKeyError,
  validateKey,
  validatePrefix,
} from '../../src/storage/index.js';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('parseStorageLocation: local', () => {
  it('takes plain absolute and relative paths, and file:// URLs', () => {
    expect(parseStorageLocation('/var/backups/lms')).toEqual({ kind: 'local', path: '/var/backups/lms' });
    expect(parseStorageLocation('backups/lms', { cwd: '/srv' })).toEqual({
      kind: 'local',
      path: '/srv/backups/lms',
    });
    expect(parseStorageLocation('./x/../y', { cwd: '/srv' })).toEqual({ kind: 'local', path: '/srv/y' });
    expect(parseStorageLocation('file:///var/backups/lms')).toEqual({
      kind: 'local',
      path: '/var/backups/lms',
    });
    expect(parseStorageLocation('file://localhost/var/b%20x')).toEqual({ kind: 'local', path: '/var/b x' });
    expect(parseStorageLocation('  /trimmed  ')).toEqual({ kind: 'local', path: '/trimmed' });
  });

  it('treats a Windows drive path as a path, not a URL scheme', () => {
    expect(parseStorageLocation('C:\\backups').kind).toBe('local');
    expect(parseStorageLocation('D:/backups').kind).toBe('local');
  });

  it('rejects file URLs with a host or a query', () => {
    expect(configError(() => parseStorageLocation('file://server/share')).message).toContain(
      'not host "server"',
    );
    expect(configError(() => parseStorageLocation('file:///x?y=1')).message).toContain('no query');
  });
});

describe('parseStorageLocation: azure', () => {
  it('parses account, container, prefix and an endpoint override', () => {
    expect(
      parseStorageLocation(
        'azure://devstoreaccount1/backups/lms/prod?endpoint=http://127.0.0.1:10000/devstoreaccount1',
      ),
    ).toEqual({
      kind: 'azure',
      account: 'devstoreaccount1',
      container: 'backups',
      prefix: 'lms/prod',
      endpoint: 'http://127.0.0.1:10000/devstoreaccount1',
    });
    expect(parseStorageLocation('azure://acct123/backups/')).toEqual({
      kind: 'azure',
      account: 'acct123',
      container: 'backups',
      prefix: '',
    });
  });

  it('takes a SAS token from the URL but never displays it', () => {
    const url =
      'azure://acct123/backups/lms?sv=2022-11-02&ss=b&srt=sco&sp=rwdlac&se=2030-01-01T00:00:00Z&sig=SECRETSIG%3D';
    const loc = parseStorageLocation(url);
    expect(loc).toMatchObject({ kind: 'azure', sas: expect.stringContaining('sig=SECRETSIG') });
    expect(displayLocation(loc)).toBe('azure://acct123/backups/lms');
    expect(redactLocation(url)).not.toContain('SECRETSIG');
    expect(redactLocation(url)).toContain('sig=***');
  });

  it('names the bad part and the fix', () => {
    const bad = configError(() => parseStorageLocation('azure://Bad_Account/backups'));
    expect(bad.message).toContain('"Bad_Account" is not an Azure storage account name');
    expect(bad.hint).toContain('3-24 lowercase letters');
    expect(configError(() => parseStorageLocation('azure://acct123')).message).toContain(
      'the container is missing',
    );
    expect(configError(() => parseStorageLocation('azure://acct123/Bad--Container')).hint).toContain(
      'container',
    );
    const unknown = configError(() => parseStorageLocation('azure://acct123/backups?endpiont=http://x'));
    expect(unknown.message).toContain('unknown parameter "endpiont"');
    expect(unknown.hint).toContain('endpoint');
  });
});

describe('parseStorageLocation: s3 and gcs', () => {
  it('parses s3 with region, endpoint, path style and the checksum switch', () => {
    expect(parseStorageLocation('s3://my-backups/lms?region=eu-west-1')).toEqual({
      kind: 's3',
      bucket: 'my-backups',
      prefix: 'lms',
      region: 'eu-west-1',
    });
    expect(
      parseStorageLocation(
        's3://b12/x/y?endpoint=http://127.0.0.1:9000/&forcePathStyle=true&serverChecksum=false',
      ),
    ).toEqual({
      kind: 's3',
      bucket: 'b12',
      prefix: 'x/y',
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
      serverChecksum: false,
    });
    expect(configError(() => parseStorageLocation('s3://b12?forcePathStyle=yes')).hint).toContain(
      'forcePathStyle=true',
    );
  });

  it('parses gs:// and gcs://', () => {
    expect(parseStorageLocation('gs://my_bucket.example/a/b')).toEqual({
      kind: 'gcs',
      bucket: 'my_bucket.example',
      prefix: 'a/b',
    });
    expect(parseStorageLocation('gcs://bkt/p?endpoint=http://127.0.0.1:4443')).toEqual({
      kind: 'gcs',
      bucket: 'bkt',
      prefix: 'p',
      endpoint: 'http://127.0.0.1:4443',
    });
  });

  it('rejects credentials in the URL and never repeats them', () => {
    const err = configError(() => parseStorageLocation('s3://AKIAEXAMPLE:wJalrSECRET@bucket/x'));
    expect(err.message).toContain('credentials do not belong in the location URL');
    expect(err.message).not.toContain('wJalrSECRET');
    expect(err.hint).toContain('environment');
  });

  it('rejects endpoints that are not http(s) or that carry credentials', () => {
    expect(configError(() => parseStorageLocation('gs://bkt?endpoint=ftp://x')).message).toContain(
      'must be http',
    );
    const withCreds = configError(() => parseStorageLocation('gs://bkt?endpoint=http://u:pw1234@h'));
    expect(withCreds.message).toContain('must not carry credentials');
    expect(withCreds.message).not.toContain('pw1234');
  });

  it('rejects a prefix that could escape', () => {
    // URL parsing would silently resolve the dots away: the raw text is checked first.
    expect(configError(() => parseStorageLocation('s3://bucket/a/../../etc')).message).toContain(
      'not a safe object prefix',
    );
    expect(configError(() => parseStorageLocation('gs://bucket/a/%2e%2e/b')).message).toContain(
      'not a safe object prefix',
    );
    expect(configError(() => parseStorageLocation('azure://acct1/c0ntainer/./x')).message).toContain(
      'not a safe object prefix',
    );
  });
});

describe('parseStorageLocation: errors', () => {
  it('unknown schemes and https URLs name the supported forms', () => {
    const ftp = configError(() => parseStorageLocation('ftp://host/x'));
    expect(ftp.message).toContain('unknown scheme "ftp://"');
    expect(ftp.hint).toContain('azure://<account>/<container>');
    const https = configError(() => parseStorageLocation('https://acct.blob.core.windows.net/backups'));
    expect(https.hint).toContain('azure://');
  });

  it('a known scheme without "//" is caught instead of becoming a relative directory', () => {
    expect(configError(() => parseStorageLocation('s3:bucket/x')).message).toContain('missing "//"');
    expect(configError(() => parseStorageLocation('azure:acct/c')).message).toContain('missing "//"');
  });

  it('reports several problems together, once', () => {
    const err = configError(() => parseStorageLocation('azure://X/Y?bogus=1&sig=abc#frag'));
    expect(err).toBeInstanceOf(ConfigErrors);
    expect((err as ConfigErrors).problems.length).toBeGreaterThanOrEqual(3);
    expect(err.message).not.toContain('sig=abc');
  });

  it('empty input', () => {
    expect(configError(() => parseStorageLocation('  ')).message).toBe('storage location is empty');
  });

  it('openStorage rejects bad locations with StorageConfigError (exit 2)', async () => {
    const err = await openStorage('nosuch://x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageConfigError);
    expect((err as StorageConfigError).exitCode).toBe(2);
  });
});

describe('display and redaction', () => {
  it('display is rebuilt from parsed parts: no SAS, no userinfo, endpoint without query', () => {
    expect(
      displayLocation(
        parseStorageLocation(
          's3://b12/x?region=us-east-1&endpoint=http://127.0.0.1:9000&forcePathStyle=true',
        ),
      ),
    ).toBe('s3://b12/x?region=us-east-1&endpoint=http://127.0.0.1:9000&forcePathStyle=true');
    expect(displayLocation(parseStorageLocation('gs://bkt'))).toBe('gs://bkt');
    expect(displayLocation({ kind: 'local', path: resolve('/a/b') })).toBe('/a/b');
  });

  it('redactLocation masks passwords, signatures, keys and tokens, also inside a nested endpoint', () => {
    const cases: [string, string[]][] = [
      ['s3://user:hunter2@bucket/x', ['hunter2']],
      ['azure://a/c?sv=1&sig=abcdef&se=2030', ['abcdef']],
      ['gs://b?endpoint=http%3A%2F%2Fu%3Apass99%40h%3Fsig%3Dzzz', ['pass99', 'zzz']],
      [
        'https://acct.blob.core.windows.net/c?sp=r&sig=SIGVALUE&AccountKey=KEYVALUE',
        ['SIGVALUE', 'KEYVALUE'],
      ],
      ['not a url sig=QQQ password=PPP', ['QQQ', 'PPP']],
    ];
    for (const [input, secrets] of cases) {
      const out = redactLocation(input);
      for (const secret of secrets) expect(out, input).not.toContain(secret);
    }
  });
});

describe('keys', () => {
  it('accepts plain relative keys', () => {
    for (const key of [
      'db/lms_20240115_020000.dump.age',
      'a',
      'runs/2024/01/x.json',
      'with space/and-dash_1.txt',
    ]) {
      expect(validateKey(key)).toBe(key);
    }
    expect(validatePrefix('')).toBe('');
    expect(validatePrefix('db/')).toBe('db/');
    expect(validatePrefix('db/lms_2024')).toBe('db/lms_2024');
  });

  it('rejects absolute, escaping, empty-segment, backslash, control-character and temp keys', () => {
    for (const key of [
      '',
      '/abs',
      'C:/x',
      '../x',
      'a/../b',
      'a/./b',
      './a',
      'a//b',
      'a/',
      'a\\b',
      'a\u0000b',
      'a\nb',
      'x/.tmp-1',
      'a:b',
      'a*b',
    ]) {
      expect(() => validateKey(key), JSON.stringify(key)).toThrow(StorageKeyError);
    }
    expect(() => validatePrefix('/')).toThrow(StorageKeyError);
    expect(() => validatePrefix('../')).toThrow(StorageKeyError);
    expect(() => validateKey('x'.repeat(1025))).toThrow(/1024 bytes/);
  });
});
