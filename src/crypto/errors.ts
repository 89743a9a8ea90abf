/**
 * Typed errors of the age and checksum code. None of them ever carries a secret (identity,
 * passphrase, file key) in its message or hint.
 *
 * Configuration problems (wrong key, missing passphrase, malformed key) are ConfigError (exit 2):
 * retrying with the same settings cannot help. A damaged or foreign file is a JobFailedError
 * (exit 1): the settings are fine, the data is not.
 */
import { ConfigError, JobFailedError, type LmsErrorOptions } from '../errors.js';

const DAMAGED_HINT =
  'The stored copy is damaged: nothing from it was released. Restore from another copy or destination, or from an older backup, and check the storage for faults.';

// ---------------------------------------------------------------------------------------------
// Configuration (exit 2)

/** A recipient (age1…) given to encrypt for is malformed or of an unsupported type. */
export class AgeRecipientError extends ConfigError {}

/** An identity (AGE-SECRET-KEY-1…) or identity source is malformed, missing or unreadable. */
export class AgeIdentityError extends ConfigError {}

/** Options given to the encrypt or decrypt stream are invalid (e.g. scrypt mixed with recipients). */
export class AgeOptionsError extends ConfigError {}

/**
 * None of the given identities can unwrap the file key. age X25519 stanzas do not reveal their
 * recipients, so the message names the (public) recipients of the identities that were tried,
 * to compare with the recipients the manifest lists.
 */
export class AgeWrongIdentityError extends ConfigError {
  constructor(triedRecipients: readonly string[], stanzaSummary: string) {
    const n = triedRecipients.length;
    const shown = triedRecipients.slice(0, 5).join(', ') + (n > 5 ? `, and ${n - 5} more` : '');
    super(
      `${n === 1 ? 'The given age identity cannot' : `None of the ${n} given age identities can`} decrypt this file: it is encrypted to ${stanzaSummary}, and the identit${n === 1 ? 'y is' : 'ies are'} for ${shown}`,
      {
        hint: 'Use the identity (AGE-SECRET-KEY-1…) whose public recipient (age1…) the backup was encrypted to: the manifest lists the recipients, and `age-keygen -y key.txt` prints the recipient of a key.',
      },
    );
  }
}

/** The passphrase does not decrypt this passphrase-encrypted (scrypt) file. */
export class AgeWrongPassphraseError extends ConfigError {
  constructor(options: LmsErrorOptions = {}) {
    super(
      'The passphrase does not decrypt this file (it is passphrase-encrypted, and the passphrase is wrong)',
      {
        hint:
          options.hint ??
          'Check the passphrase secret for typos, stray whitespace or a trailing newline, and that it is the one in use when this backup was made.',
        cause: options.cause,
      },
    );
  }
}

/** The file is passphrase-encrypted (scrypt) but only identities were given. */
export class AgePassphraseRequiredError extends ConfigError {
  constructor() {
    super('This file is passphrase-encrypted (age scrypt), but no passphrase was given, only identities', {
      hint: 'Provide the passphrase the backup was encrypted with instead of (or as well as) identities.',
    });
  }
}

/** The file is encrypted to public-key recipients but only a passphrase was given. */
export class AgeIdentityRequiredError extends ConfigError {
  constructor(stanzaSummary: string) {
    super(`This file is encrypted to ${stanzaSummary}, not with a passphrase, and no identity was given`, {
      hint: 'Provide the age identity (AGE-SECRET-KEY-1…) that matches one of the recipients the backup was encrypted to.',
    });
  }
}

/** The scrypt work factor in the file is above what we accept (protects against resource exhaustion). */
export class AgeWorkFactorError extends ConfigError {}

// ---------------------------------------------------------------------------------------------
// Job failures (exit 1)

/** The input is not an age file at all. */
export class AgeNotAgeError extends JobFailedError {}

/** The input is empty (zero bytes). */
export class AgeEmptyFileError extends JobFailedError {
  constructor() {
    super('The encrypted file is empty (0 bytes): it is not an age file', {
      hint: 'The upload or download was interrupted, or the object was created but never written. Use another copy or an older backup.',
    });
  }
}

/** The age header is malformed (not a structural truncation, not an authentication failure). */
export class AgeHeaderError extends JobFailedError {}

/** Common parent of truncation and tampering: the file is damaged; nothing unauthenticated was released. */
export class AgeDamagedError extends JobFailedError {
  constructor(message: string, options: LmsErrorOptions = {}) {
    super(message, { hint: options.hint ?? DAMAGED_HINT, cause: options.cause });
  }
}

/** The file ends early: inside the header, inside a chunk, or without its final chunk. */
export class AgeTruncatedError extends AgeDamagedError {}

/** Authentication failed: the header MAC or a payload chunk was modified, or data follows the end. */
export class AgeTamperedError extends AgeDamagedError {}

/** A `.sha256` sidecar is not in `sha256sum` format. */
export class Sha256SidecarError extends JobFailedError {}
