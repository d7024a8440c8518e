// Encrypt and decrypt of a cookie-sized payload (~100 bytes): @lending/crypto against Python's
// cryptography.fernet (a timing loop in a subprocess) and the npm `fernet` package, in one run.
// Rounds alternate between the three so that background load hits them alike; each figure is the best round.
// Time is CPU time of the measuring process by default (BENCH_CLOCK=wall for wall-clock time): on a shared
// machine, other processes then slow neither side down, and ops per CPU-second is what a server pays.
// Env: BENCH_ROUNDS (default 5), BENCH_SECONDS per measurement (default 0.5), BENCH_STRICT=1 to exit 1 on a
// missed target.
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import npmFernet from 'fernet';
import { Fernet } from '../src/index';

const PYTHON = '/usr/bin/python3';
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const seconds = Number(process.env.BENCH_SECONDS ?? 0.5);
const wall = process.env.BENCH_CLOCK === 'wall';
const TTL = 3600;

const key = Fernet.generateKey();
const payload = JSON.stringify({
  pur: 's3',
  sub: 'patron-4711-of-the-library',
  access: 'A1b2C3d4E5f6G7h8',
  secret: 'Z9y8X7w6V5u4T3s2R1q0',
});

type Op = 'encrypt' | 'decrypt';
type Scores = Record<Op, number>;

/** Milliseconds, CPU (user + system) or wall-clock. */
function clock(): number {
  if (wall) return performance.now();
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

function measure(run: () => unknown): number {
  for (let i = 0; i < 2000; i++) run(); // warm up the JIT
  const budget = seconds * 1000;
  let count = 0;
  const start = clock();
  let elapsed = 0;
  do {
    for (let i = 0; i < 500; i++) run();
    count += 500;
    elapsed = clock() - start;
  } while (elapsed < budget);
  return (count * 1000) / elapsed;
}

const ours = new Fernet(key);
const ourToken = ours.encrypt(payload);
if (ours.decrypt(ourToken, { ttl: TTL }).toString() !== payload)
  throw new Error('@lending/crypto round trip failed');

const npmSecret = new npmFernet.Secret(key);
const npmToken = new npmFernet.Token({ secret: npmSecret, ttl: 0 }).encode(payload);
if (new npmFernet.Token({ secret: npmSecret, ttl: 0 }).decode(npmToken) !== payload) {
  throw new Error('npm fernet round trip failed');
}
if (ours.decrypt(npmToken).toString() !== payload) throw new Error('npm fernet token does not open here');

function measureOurs(): Scores {
  return {
    encrypt: measure(() => ours.encrypt(payload)),
    decrypt: measure(() => ours.decrypt(ourToken, { ttl: TTL })),
  };
}

function measureNpm(): Scores {
  return {
    encrypt: measure(() => new npmFernet.Token({ secret: npmSecret, ttl: 0 }).encode(payload)),
    decrypt: measure(() => new npmFernet.Token({ secret: npmSecret, ttl: 0 }).decode(npmToken)),
  };
}

const PYTHON_LOOP = `
import json, sys, time
from cryptography.fernet import Fernet
key, payload, seconds, ttl = sys.argv[1].encode(), sys.argv[2].encode(), float(sys.argv[3]), int(sys.argv[4])
clock = time.perf_counter if sys.argv[5] == "wall" else time.process_time
f = Fernet(key)
token = f.encrypt(payload)
assert f.decrypt(token, ttl) == payload
def measure(run):
    for _ in range(2000): run()
    count, start = 0, clock()
    while True:
        for _ in range(500): run()
        count += 500
        elapsed = clock() - start
        if elapsed >= seconds: return count / elapsed
print(json.dumps({"encrypt": measure(lambda: f.encrypt(payload)), "decrypt": measure(lambda: f.decrypt(token, ttl))}))
`;

function measurePython(): Scores | string {
  const result = spawnSync(
    PYTHON,
    ['-c', PYTHON_LOOP, key, payload, String(seconds), String(TTL), wall ? 'wall' : 'cpu'],
    {
      encoding: 'utf8',
    },
  );
  if (result.error) return result.error.message;
  if (result.status !== 0) return result.stderr.trim().split('\n').at(-1) ?? `exit ${result.status}`;
  return JSON.parse(result.stdout) as Scores;
}

function best(into: Scores | undefined, round: Scores): Scores {
  if (into === undefined) return round;
  return { encrypt: Math.max(into.encrypt, round.encrypt), decrypt: Math.max(into.decrypt, round.decrypt) };
}

let oursBest: Scores | undefined;
let npmBest: Scores | undefined;
let pythonBest: Scores | undefined;
let pythonMissing: string | undefined;
console.log(
  `Fernet, ${Buffer.byteLength(payload)}-byte payload, ${rounds} rounds of ${seconds} s (${wall ? 'wall-clock' : 'CPU'} time) ` +
    `per measurement; load average ${loadavg()[0]!.toFixed(2)}`,
);
for (let round = 1; round <= rounds; round++) {
  const python = pythonMissing === undefined ? measurePython() : pythonMissing;
  if (typeof python === 'string') pythonMissing = python;
  else pythonBest = best(pythonBest, python);
  oursBest = best(oursBest, measureOurs());
  npmBest = best(npmBest, measureNpm());
  process.stdout.write(`  round ${round}/${rounds} done\n`);
}

const format = (n: number) => Math.round(n).toLocaleString('en-US').padStart(12);
console.log(
  `\n${(wall ? 'ops/s' : 'ops/CPU-s').padEnd(22)}${'encrypt'.padStart(12)}${'decrypt'.padStart(12)}`,
);
const rows: [string, Scores | undefined][] = [
  ['@lending/crypto', oursBest],
  ['python cryptography', pythonBest],
  ['npm fernet 0.4', npmBest],
];
for (const [name, scores] of rows) {
  if (scores) console.log(`${name.padEnd(22)}${format(scores.encrypt)}${format(scores.decrypt)}`);
  else console.log(`${name.padEnd(22)}${'n/a'.padStart(12)}${'n/a'.padStart(12)}   (${pythonMissing})`);
}

const targets: { op: Op; against: string; base: Scores | undefined; min: number }[] = [
  { op: 'decrypt', against: 'python', base: pythonBest, min: 2.2 },
  { op: 'encrypt', against: 'python', base: pythonBest, min: 2 },
  { op: 'decrypt', against: 'npm fernet', base: npmBest, min: 10 },
  { op: 'encrypt', against: 'npm fernet', base: npmBest, min: 10 },
];
console.log('\ntargets');
let missed = 0;
for (const { op, against, base, min } of targets) {
  const label = `${op} vs ${against}`.padEnd(24);
  if (!base || !oursBest) {
    console.log(`  ${label} not measured`);
    missed++;
    continue;
  }
  const ratio = oursBest[op] / base[op];
  const met = ratio >= min;
  if (!met) missed++;
  console.log(`  ${label} ${ratio.toFixed(2).padStart(6)}×  (target ≥ ${min}×)  ${met ? 'met' : 'MISSED'}`);
}
if (missed > 0 && process.env.BENCH_STRICT === '1') process.exitCode = 1;
