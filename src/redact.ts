/**
 * The one place that knows what a secret looks like in text: the query or connection-string
 * parameters whose values are secrets, passwords in URLs, and known secret values. Every
 * redactor (error messages, logs, the action's masks, the config-file check) uses these.
 */

/** Query or connection-string parameters whose values are secrets (SAS, keys, tokens, passwords). */
const SECRET_PARAM_NAMES = [
  'password',
  'sig',
  'signature',
  'sas',
  'accountkey',
  'sharedaccesssignature',
  'secret',
  'token',
  'key',
  'x-amz-signature',
  'x-amz-credential',
  'x-amz-security-token',
  'x-goog-signature',
  'x-goog-credential',
] as const;

const NAMES = SECRET_PARAM_NAMES.join('|');
const SECRET_PARAM = new RegExp(`^(?:${NAMES})$`, 'i');
const SECRET_PARAM_IN_TEXT = new RegExp(`([?&;](?:${NAMES})=)[^&\\s;]*`, 'gi');
const HAS_SECRET_PARAM = new RegExp(`[?&;](?:${NAMES})=`, 'i');

/** Is this parameter's value a secret? */
export function isSecretParam(name: string): boolean {
  return SECRET_PARAM.test(name);
}

/** Does the text carry a secret parameter (e.g. a SAS signature in a URL)? */
export function hasSecretParam(text: string): boolean {
  return HAS_SECRET_PARAM.test(text);
}

/** Strips userinfo passwords and secret query parameters from any URL-ish string. */
export function redactUrl(text: string): string {
  return text.replace(/(\/\/[^:/?#@\s]*):[^@/\s]*@/g, '$1:***@').replace(SECRET_PARAM_IN_TEXT, '$1***');
}

/** The text with every occurrence of a known secret value masked. */
export function redactValue(text: string, secret: string): string {
  return secret ? text.split(secret).join('***') : text;
}

/** Percent-decoding that never throws (a malformed escape stays as it is). */
export function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
