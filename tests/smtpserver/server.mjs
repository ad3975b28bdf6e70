// A test-only SMTP server (npm smtp-server) that saves every message it
// accepts in a folder, for faldone's integration tests to read. See README.md.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SMTPServer } from 'smtp-server';

const { values: opt } = parseArgs({
  options: {
    dir: { type: 'string' },
    port: { type: 'string', default: '0' },
    tls: { type: 'string', default: 'none' }, // none, starttls, tls
    key: { type: 'string' },
    cert: { type: 'string' },
    user: { type: 'string' },
    pass: { type: 'string' },
    reject: { type: 'string' }, // a regular expression: recipients refused with 550
    'watch-stdin': { type: 'boolean', default: false },
  },
});
if (!opt.dir) {
  console.error('--dir is required');
  process.exit(2);
}
fs.mkdirSync(opt.dir, { recursive: true });
if (opt.tls !== 'none' && !(opt.key && opt.cert)) {
  console.error('--tls starttls and tls need --key and --cert');
  process.exit(2);
}
const reject = opt.reject ? new RegExp(opt.reject) : null;
let seq = 0;

const server = new SMTPServer({
  secure: opt.tls === 'tls',
  key: opt.key ? fs.readFileSync(opt.key) : undefined,
  cert: opt.cert ? fs.readFileSync(opt.cert) : undefined,
  // Without TLS nothing offers STARTTLS; with starttls a client must use it
  // before it may authenticate or send (secured mode).
  disabledCommands: opt.tls === 'none' ? ['STARTTLS'] : [],
  hideSTARTTLS: false,
  authMethods: ['PLAIN', 'LOGIN'],
  authOptional: !opt.user,
  allowInsecureAuth: opt.tls === 'none',
  logger: false,
  size: 10 * 1024 * 1024,
  onAuth(auth, session, cb) {
    if (opt.user && auth.username === opt.user && auth.password === opt.pass) {
      return cb(null, { user: auth.username });
    }
    const err = new Error('Invalid username or password');
    err.responseCode = 535;
    return cb(err);
  },
  onMailFrom(address, session, cb) {
    if (opt.tls === 'starttls' && !session.secure) {
      const err = new Error('Must issue a STARTTLS command first');
      err.responseCode = 530;
      return cb(err);
    }
    if (opt.user && !session.user) {
      const err = new Error('Authentication required');
      err.responseCode = 530;
      return cb(err);
    }
    return cb();
  },
  onRcptTo(address, session, cb) {
    if (reject && reject.test(address.address)) {
      const err = new Error(`5.1.1 <${address.address}>: Recipient address rejected`);
      err.responseCode = 550;
      return cb(err);
    }
    return cb();
  },
  onData(stream, session, cb) {
    const chunks = [];
    stream.on('data', (c) => chunks.push(c));
    stream.on('end', () => {
      if (stream.sizeExceeded) {
        const err = new Error('Message too big');
        err.responseCode = 552;
        return cb(err);
      }
      seq += 1;
      const name = `${Date.now()}-${process.pid}-${String(seq).padStart(6, '0')}`;
      const envelope = {
        from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
        to: session.envelope.rcptTo.map((r) => r.address),
        user: session.user || '',
        secure: session.secure,
        received: new Date().toISOString(),
      };
      // Written under a temporary name and renamed, so that a reader never
      // sees half a message.
      const write = (ext, data) => {
        const tmp = path.join(opt.dir, `.${name}${ext}.tmp`);
        fs.writeFileSync(tmp, data);
        fs.renameSync(tmp, path.join(opt.dir, name + ext));
      };
      write('.json', JSON.stringify(envelope));
      write('.eml', Buffer.concat(chunks));
      console.error(`message ${name} from ${envelope.from} to ${envelope.to.join(',')}`);
      cb(null, 'Message accepted');
    });
  },
});

server.on('error', (err) => console.error('smtp-server error:', err.message));
server.listen(Number(opt.port), '127.0.0.1', () => {
  const { port } = server.server.address();
  console.log(`smtp-server listening on 127.0.0.1:${port}`);
});

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (opt['watch-stdin']) {
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.resume();
}
