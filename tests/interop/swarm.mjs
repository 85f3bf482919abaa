// Many tus uploads at once with tus-js-client, for the hub benchmarks.
//
//   node swarm.mjs ENDPOINT LIST --concurrency N [--token-file F]
//                  [--chunk-size BYTES] [--no-signature] [--json OUT]
//
// LIST has one file path a line. Each file is uploaded with Upload-Metadata
// `signature` = the text of FILE.minisig (unless --no-signature), so a hub
// commits it in the request that completes it. At most N uploads run at a
// time. A file's latency is from the start of its creation request to its
// upload's success (for the hub: its commit). Prints a JSON summary on
// stdout: count, bytes, wall_s, per_s (uploads/s), mib_s, latency_ms {p50,
// p90, p99, max}, failed; exits 1 if any upload failed (the first errors on
// stderr), 2 on bad arguments.
import fs from 'node:fs';
import process from 'node:process';
import { Upload } from 'tus-js-client';

function usage(msg) {
  process.stderr.write(`swarm: ${msg}\nusage: node swarm.mjs ENDPOINT LIST --concurrency N [--token-file F] ` +
    '[--chunk-size BYTES] [--no-signature] [--json OUT]\n');
  process.exit(2);
}

const pos = [];
const o = { concurrency: 1, token: null, chunkSize: Infinity, signature: true, json: null };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const val = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
  switch (a) {
    case '--concurrency': o.concurrency = Number(val()); break;
    case '--token-file': o.token = fs.readFileSync(val(), 'utf8').split('\n')[0].trim(); break;
    case '--chunk-size': o.chunkSize = Number(val()); break;
    case '--no-signature': o.signature = false; break;
    case '--json': o.json = val(); break;
    default:
      if (a.startsWith('--')) usage(`unknown option ${a}`);
      pos.push(a);
  }
}
if (pos.length !== 2) usage('wants ENDPOINT and LIST');
if (!Number.isInteger(o.concurrency) || o.concurrency < 1) usage('--concurrency wants a number >= 1');
const [endpoint, list] = pos;
const files = fs.readFileSync(list, 'utf8').split('\n').filter((l) => l.length > 0);
const headers = o.token ? { Authorization: `Bearer ${o.token}` } : {};

function uploadOne(path) {
  return new Promise((resolve) => {
    const metadata = { filename: path.split('/').pop() };
    if (o.signature) metadata.signature = fs.readFileSync(`${path}.minisig`, 'utf8');
    const t0 = process.hrtime.bigint();
    const up = new Upload(fs.createReadStream(path), {
      endpoint,
      headers,
      metadata,
      chunkSize: o.chunkSize,
      retryDelays: [0, 200, 500, 1000, 2000],
      storeFingerprintForResuming: false,
      onError(err) { resolve({ path, ok: false, error: err.message.replace(/\s+/g, ' ').slice(0, 400) }); },
      onSuccess() {
        resolve({ path, ok: true, ms: Number(process.hrtime.bigint() - t0) / 1e6, bytes: fs.statSync(path).size });
      },
    });
    up.start();
  });
}

const results = [];
let next = 0;
const t0 = process.hrtime.bigint();
async function worker() {
  while (next < files.length) {
    const f = files[next++];
    results.push(await uploadOne(f));
  }
}
await Promise.all(Array.from({ length: Math.min(o.concurrency, files.length) }, worker));
const wall = Number(process.hrtime.bigint() - t0) / 1e9;

const ok = results.filter((r) => r.ok);
const failed = results.filter((r) => !r.ok);
const ms = ok.map((r) => r.ms).sort((a, b) => a - b);
const pct = (p) => (ms.length ? ms[Math.min(ms.length - 1, Math.ceil((p / 100) * ms.length) - 1)] : null);
const bytes = ok.reduce((s, r) => s + r.bytes, 0);
const summary = {
  count: ok.length, failed: failed.length, bytes, wall_s: +wall.toFixed(3),
  per_s: +(ok.length / wall).toFixed(2), mib_s: +(bytes / 1048576 / wall).toFixed(1),
  concurrency: o.concurrency,
  latency_ms: { p50: pct(50), p90: pct(90), p99: pct(99), max: ms.length ? ms[ms.length - 1] : null },
};
for (const k of Object.keys(summary.latency_ms)) {
  if (summary.latency_ms[k] !== null) summary.latency_ms[k] = +summary.latency_ms[k].toFixed(1);
}
const text = JSON.stringify(summary);
if (o.json) fs.writeFileSync(o.json, `${text}\n`);
process.stdout.write(`${text}\n`);
for (const f of failed.slice(0, 5)) process.stderr.write(`swarm: ${f.path}: ${f.error}\n`);
process.exit(failed.length ? 1 : 0);
