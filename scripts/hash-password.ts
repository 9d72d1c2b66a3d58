// `npm run -s hash-password`: reads a password from standard input and prints its scrypt hash for the config
// file's auth.users[].passwordHash. The password is never echoed or written anywhere.
import { hashPassword } from '../lib/auth/password';

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY)
    process.stderr.write('password (input hidden is up to your terminal; pipe it in to be safe): ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

readStdin()
  .then((pw) => hashPassword(pw))
  .then((hash) => console.log(hash))
  .catch((err: unknown) => {
    console.error(`hash-password: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
