// Uploads one file with tus-js-client (the reference tus client) in Node.
//
//   node tus-upload.mjs ENDPOINT FILE|- [options]
//     --header "Name: value"     sent on every request (repeatable), e.g.
//                                --header "Authorization: Bearer iep1_..."
//     --token-file FILE          Authorization: Bearer (first line of FILE),
//                                so the token is not on the command line
//     --metadata key=value       Upload-Metadata (repeatable)
//     --metadata-file key=PATH   Upload-Metadata with a file's exact bytes as
//                                the value (e.g. signature=x.iep.minisig)
//     --chunk-size BYTES         PATCH at most this much per request
//     --parallel N               parallelUploads: N partial uploads joined by
//                                tus concatenation (Upload-Concat: final;...)
//     --during-creation          uploadDataDuringCreation (creation-with-upload)
//     --deferred                 uploadLengthDeferred (Upload-Defer-Length: 1);
//                                FILE "-" streams stdin and implies it
//     --resume-from-url URL      continue the upload at URL (HEAD, then PATCH)
//     --retry-delays MS,MS,...   tus-js-client's retryDelays ("" = no retry;
//                                default 0,200,500,1000)
//     --print-header NAME        after success also print "NAME: value" of the
//                                last response carrying that header
//     --stop-after BYTES         abort (exit 3) once this many bytes were sent,
//                                printing the upload URL, to test resumption
//
// On success prints the upload URL on stdout and exits 0. On error prints
// "tus-upload: MESSAGE" (with the server's status and body) on stderr and
// exits 1; bad arguments exit 2.
import fs from 'node:fs';
import process from 'node:process';
import { Upload } from 'tus-js-client';

function usage(msg) {
  process.stderr.write(`tus-upload: ${msg}\nusage: node tus-upload.mjs ENDPOINT FILE|- [--header H] [--token-file F] [--metadata k=v] ` +
    '[--metadata-file k=PATH] [--chunk-size N] [--parallel N] [--during-creation] [--deferred] ' +
    '[--resume-from-url URL] [--retry-delays LIST] [--print-header NAME] [--stop-after BYTES]\n');
  process.exit(2);
}

const positional = [];
const headers = {};
const metadata = {};
const o = {
  chunkSize: Infinity, parallel: 1, duringCreation: false, deferred: false, resumeUrl: null,
  retryDelays: [0, 200, 500, 1000], printHeader: null, stopAfter: -1,
};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const val = () => {
    if (i + 1 >= argv.length) usage(`${a} needs a value`);
    return argv[++i];
  };
  const keyValue = (s) => {
    const eq = s.indexOf('=');
    if (eq <= 0) usage(`${a} wants key=value, got ${s}`);
    return [s.slice(0, eq), s.slice(eq + 1)];
  };
  const count = (s, min) => {
    if (!/^\d+$/.test(s) || Number(s) < min) usage(`${a} wants a number >= ${min}, got ${s}`);
    return Number(s);
  };
  switch (a) {
    case '--header': {
      const h = val();
      const colon = h.indexOf(':');
      if (colon <= 0) usage(`--header wants "Name: value", got ${h}`);
      headers[h.slice(0, colon).trim()] = h.slice(colon + 1).trim();
      break;
    }
    case '--token-file': {
      headers.Authorization = `Bearer ${fs.readFileSync(val(), 'utf8').split('\n')[0].trim()}`;
      break;
    }
    case '--metadata': { const [k, v] = keyValue(val()); metadata[k] = v; break; }
    case '--metadata-file': { const [k, p] = keyValue(val()); metadata[k] = fs.readFileSync(p, 'utf8'); break; }
    case '--chunk-size': o.chunkSize = count(val(), 1); break;
    case '--parallel': o.parallel = count(val(), 1); break;
    case '--during-creation': o.duringCreation = true; break;
    case '--deferred': o.deferred = true; break;
    case '--resume-from-url': o.resumeUrl = val(); break;
    case '--retry-delays': {
      const s = val();
      o.retryDelays = s === '' ? null : s.split(',').map((d) => count(d, 0));
      break;
    }
    case '--print-header': o.printHeader = val().toLowerCase(); break;
    case '--stop-after': o.stopAfter = count(val(), 0); break;
    default:
      if (a.startsWith('--')) usage(`unknown option ${a}`);
      positional.push(a);
  }
}
if (positional.length !== 2) usage('wants ENDPOINT and FILE');
const [endpoint, file] = positional;

let input;
if (file === '-') {
  input = process.stdin;
  o.deferred = true;
  // A stream source needs a finite chunk size (tus-js-client buffers one chunk).
  if (!Number.isFinite(o.chunkSize)) o.chunkSize = 8 << 20;
} else if (o.deferred) {
  // A plain Readable (not an fs.ReadStream with a path): read once, length unknown.
  input = fs.createReadStream(file).pipe(new (await import('node:stream')).PassThrough());
  if (!Number.isFinite(o.chunkSize)) o.chunkSize = 8 << 20;
} else {
  input = fs.createReadStream(file);
}

let lastHeader = null;
let aborting = false;
const options = {
  endpoint,
  headers,
  metadata,
  chunkSize: o.chunkSize,
  retryDelays: o.retryDelays,
  uploadDataDuringCreation: o.duringCreation,
  uploadLengthDeferred: o.deferred,
  storeFingerprintForResuming: false,
  removeFingerprintOnSuccess: false,
  onAfterResponse(req, res) {
    if (o.printHeader) {
      const v = res.getHeader(o.printHeader);
      if (v !== undefined && v !== null && v !== '') lastHeader = v;
    }
  },
  onProgress(sent) {
    if (o.stopAfter >= 0 && sent >= o.stopAfter && !aborting) {
      aborting = true;
      upload.abort(false).then(() => {
        if (upload.url) process.stdout.write(`${upload.url}\n`);
        process.stderr.write(`tus-upload: stopped after ${sent} bytes\n`);
        process.exit(3);
      });
    }
  },
  onError(err) {
    const res = err.originalResponse;
    let msg = err.message.replace(/\s+/g, ' ').trim();
    if (res && !msg.includes('response code')) {
      msg += ` (response code: ${res.getStatus()}, response text: ${String(res.getBody() || '').trim().slice(0, 300)})`;
    }
    process.stderr.write(`tus-upload: ${msg}\n`);
    process.exit(1);
  },
  onSuccess() {
    process.stdout.write(`${upload.url}\n`);
    if (o.printHeader) process.stdout.write(`${o.printHeader}: ${lastHeader ?? ''}\n`);
    process.exit(0);
  },
};
if (o.parallel > 1) options.parallelUploads = o.parallel;
if (o.resumeUrl) options.uploadUrl = o.resumeUrl;

const upload = new Upload(input, options);
// tus-js-client 4.3.1 waits forever for a stream that ended exactly on a
// chunk boundary (deferred length): Node then runs out of work and would
// exit 0 having printed nothing. Say so and fail instead.
process.on('beforeExit', () => {
  process.stderr.write('tus-upload: tus-js-client stopped without finishing ' +
    '(a stream whose length is a multiple of --chunk-size?)\n');
  process.exit(1);
});
upload.start();
