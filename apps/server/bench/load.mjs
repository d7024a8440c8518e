// Runs one autocannon load in this (separate) process and prints its summary as JSON on stdout, so the
// load generator never competes with the server for the same event loop.
import autocannon from 'autocannon';

const { url, method, headers, body, connections, duration } = JSON.parse(process.argv[2]);
const result = await autocannon({ url, method, headers, body, connections, duration });
process.stdout.write(
  JSON.stringify({
    requests: result.requests.average,
    total: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  }),
);
