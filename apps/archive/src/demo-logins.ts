// DEMO ONLY. Plaintext passwords of the made-up patrons in fixture.json (which holds only their scrypt hashes),
// for tests and the README. None of these is a real credential anywhere.
export const DEMO_PASSWORDS: Readonly<Record<string, string>> = {
  'patron@example.org': 'lending-demo-2026',
  'reader@example.org': 'reader-demo-2026',
  'scholar@example.org': 'scholar-demo-2026',
  'locked@example.org': 'locked-demo-2026',
  'unverified@example.org': 'unverified-demo-2026',
  'legacy-xauthn@example.org': 'legacy-xauthn-demo-2026',
  'legacy-reader@example.org': 'legacy-reader-demo-2026',
  'old-timer@example.org': 'old-timer-demo-2026',
  'print-disabled@example.org': 'print-disabled-demo-2026',
};
