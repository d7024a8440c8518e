// Prints the `salt$hash` of a password for fixture.json: `pnpm exec tsx src/hash-password.ts '<password>'`.
import { hashPassword } from './passwords';

const password = process.argv[2];
if (!password) {
  console.error('usage: tsx src/hash-password.ts <password>');
  process.exit(2);
}
console.log(await hashPassword(password));
