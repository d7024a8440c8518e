export { Fernet, MultiFernet, InvalidToken, deriveKey } from './fernet';
export type { DecryptOptions, InvalidTokenReason } from './fernet';
export {
  cookieKeys,
  sealCookie,
  openCookie,
  accessKeyFingerprint,
  matchesAccessKeyFingerprint,
  CookieTooLargeError,
  MAX_COOKIE_BYTES,
} from './cookie';
export type {
  CookieKeys,
  CookiePayload,
  CookiePurpose,
  CookieRejection,
  CookieFormat,
  SessionPayload,
  S3Payload,
  SealOptions,
  OpenOptions,
  OpenedCookie,
} from './cookie';
