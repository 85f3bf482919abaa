// The reference tus server for the interoperability tests and benchmarks:
// @tus/server with @tus/file-store, on 127.0.0.1.
//
//   node tus-server.mjs --dir DIR [--port N] [--port-file FILE] [--path /files]
//                       [--max-size BYTES] [--token TOKEN]
//
// --port 0 (the default) lets the kernel pick a free port. Once listening it
// prints the endpoint URL (http://127.0.0.1:PORT/files) on stdout and writes
// the port number to --port-file (written to FILE.tmp, then renamed, so a
// reader never sees half a number). --token makes every request except
// OPTIONS require `Authorization: Bearer TOKEN` (401 otherwise), like a hub.
// Each upload is stored as DIR/ID (the bytes) and DIR/ID.json (its info).
// SIGTERM or SIGINT closes the server and exits 0.
import fs from 'node:fs';
import process from 'node:process';
import { Server } from '@tus/server';
import { FileStore } from '@tus/file-store';

function usage(msg) {
  process.stderr.write(`tus-server: ${msg}\n` +
    'usage: node tus-server.mjs --dir DIR [--port N] [--port-file FILE] [--path /files] [--max-size BYTES] [--token TOKEN]\n');
  process.exit(2);
}

const opts = { port: 0, path: '/files', dir: null, portFile: null, maxSize: 0, token: null };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const val = () => {
    if (i + 1 >= argv.length) usage(`${a} needs a value`);
    return argv[++i];
  };
  switch (a) {
    case '--port': opts.port = Number(val()); break;
    case '--port-file': opts.portFile = val(); break;
    case '--path': opts.path = val(); break;
    case '--dir': opts.dir = val(); break;
    case '--max-size': opts.maxSize = Number(val()); break;
    case '--token': opts.token = val(); break;
    default:
      if (/^\d+$/.test(a)) opts.port = Number(a);
      else usage(`unknown argument ${a}`);
  }
}
if (!opts.dir) usage('--dir is required');
if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) usage('--port must be 0..65535');
if (!Number.isSafeInteger(opts.maxSize) || opts.maxSize < 0) usage('--max-size must be a byte count');
fs.mkdirSync(opts.dir, { recursive: true });

const serverOptions = {
  path: opts.path,
  datastore: new FileStore({ directory: opts.dir }),
  // Location: /files/ID, resolved by the client against the endpoint (as the hub does).
  relativeLocation: true,
};
if (opts.maxSize > 0) serverOptions.maxSize = opts.maxSize;
if (opts.token) {
  const want = `Bearer ${opts.token}`;
  serverOptions.onIncomingRequest = async (req) => {
    if (req.method !== 'OPTIONS' && req.headers.get('authorization') !== want) {
      throw { status_code: 401, body: 'unauthorized\n' };
    }
  };
}
const tus = new Server(serverOptions);

const http = tus.listen({ host: '127.0.0.1', port: opts.port }, () => {
  const port = http.address().port;
  if (opts.portFile) {
    fs.writeFileSync(`${opts.portFile}.tmp`, `${port}\n`);
    fs.renameSync(`${opts.portFile}.tmp`, opts.portFile);
  }
  process.stdout.write(`http://127.0.0.1:${port}${opts.path}\n`);
});
http.on('error', (err) => {
  process.stderr.write(`tus-server: ${err.message}\n`);
  process.exit(1);
});

const stop = () => {
  http.close(() => process.exit(0));
  http.closeAllConnections?.();
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
