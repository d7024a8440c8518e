// A second process for the store contract tests (run with `node --import tsx`). Modes:
//   open <url>                               open (running migrations), ping, close; prints "ok"
//   increment <url> <rounds> <user,user,...> prints "ready", then adds 1 to `counter` of every user, `rounds`
//                                            times, with read + update(expected revision) and retry on conflict;
//                                            prints "round" after the first round and "done <conflicts>" at the end
import { RevisionConflictError } from '../src/errors';
import { openAccountStore } from '../src/store/index';

async function main(): Promise<void> {
  const [mode, url, ...rest] = process.argv.slice(2);
  if (!mode || !url) throw new Error('usage: store-child <mode> <url> ...');
  const store = await openAccountStore(url);
  try {
    if (mode === 'open') {
      await store.ping();
      process.stdout.write('ok\n');
      return;
    }
    if (mode === 'increment') {
      const rounds = Number(rest[0]);
      const usernames = (rest[1] ?? '').split(',');
      let conflicts = 0;
      process.stdout.write('ready\n');
      for (let round = 0; round < rounds; round += 1) {
        for (const username of usernames) {
          for (;;) {
            const account = await store.getByUsername(username);
            if (!account) throw new Error(`missing account ${username}`);
            const counter = typeof account.counter === 'number' ? account.counter : 0;
            try {
              await store.update(username, account.revision, { counter: counter + 1 });
              break;
            } catch (error) {
              if (!(error instanceof RevisionConflictError)) throw error;
              conflicts += 1;
            }
          }
        }
        if (round === 0) process.stdout.write('round\n');
      }
      process.stdout.write(`done ${conflicts}\n`);
      return;
    }
    throw new Error(`unknown mode ${mode}`);
  } finally {
    await store.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
