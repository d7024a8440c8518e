// Entry point of `pnpm lending`: reads the environment, runs the command, exits with its code.
import { readLendingEnv } from './env';
import { EXIT, runLending } from './lending';

const env = readLendingEnv();
if (!env.ok) {
  for (const problem of env.problems) console.error(`lending: ${problem}`);
  process.exitCode = EXIT.usage;
} else {
  process.exitCode = await runLending(process.argv.slice(2), {
    env: env.env,
    output: { out: (line) => console.log(line), err: (line) => console.error(line) },
  });
}
