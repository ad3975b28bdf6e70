// Test-only OpenID Provider for faldone's integration tests.
//
//   node server.mjs --config FILE [--port N] [--watch-stdin]
//   (or OIDC_CONFIG=FILE OIDC_PORT=N node server.mjs)
//
// It listens on 127.0.0.1:N (N = 0 picks a free port) with the issuer
// http://127.0.0.1:N and prints exactly one line to stdout when ready:
//
//   oidc-provider listening on http://127.0.0.1:N
//
// Everything else goes to stderr. With --watch-stdin it exits when its
// standard input closes (so it dies with the test process that started it).
//
// The configuration file is JSON; README.md describes it. Keys are made at
// start and live only in memory. NEVER use this for anything but tests: any
// listed account signs in by typing its id, with no password.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { parseArgs } from 'node:util';

// stdout carries only the ready line: oidc-provider prints its notices with
// console.info, so every console method writes to stderr from here on.
for (const m of ['log', 'info', 'debug']) {
  console[m] = (...args) => console.error(...args);
}

const { default: Provider, errors } = await import('oidc-provider');

const FISCAL_NUMBER = 'https://attributes.eid.gov.it/fiscal_number';
const SPID_LEVELS = [
  'https://www.spid.gov.it/SpidL1',
  'https://www.spid.gov.it/SpidL2',
  'https://www.spid.gov.it/SpidL3',
];

const { values: argv } = parseArgs({
  options: {
    config: { type: 'string' },
    port: { type: 'string' },
    'watch-stdin': { type: 'boolean', default: false },
  },
});
const configPath = argv.config ?? process.env.OIDC_CONFIG;
if (!configPath) {
  console.error('usage: node server.mjs --config FILE [--port N] [--watch-stdin]');
  process.exit(2);
}
const port = Number(argv.port ?? process.env.OIDC_PORT ?? 0);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`invalid port ${argv.port ?? process.env.OIDC_PORT}`);
  process.exit(2);
}
const cfg = JSON.parse(fs.readFileSync(configPath, 'utf8'));

// ---- configuration file -------------------------------------------------

const users = new Map(Object.entries(cfg.users ?? {}));
for (const [id, u] of users) {
  if (u.acr !== undefined && !SPID_LEVELS.includes(u.acr)) {
    throw new Error(`user ${id}: acr ${u.acr} is not a SPID level`);
  }
}

// Our own client keys; everything else is oidc-provider client metadata.
const clientExtras = new Map();
const clients = (cfg.clients ?? []).map((c) => {
  const { default_resource: defaultResource, access_token_ttl: accessTokenTTL, ...metadata } = c;
  clientExtras.set(c.client_id, { defaultResource, accessTokenTTL });
  return { response_types: ['code'], grant_types: ['authorization_code'], ...metadata };
});

const resources = new Map((cfg.resources ?? []).map((r) => [r.indicator, r]));
const ttl = cfg.ttl ?? {};
const positive = (v) => (Number.isInteger(v) && v > 0 ? v : undefined);

function clientCfg(client) {
  return clientExtras.get(client?.clientId) ?? {};
}

// ---- keys ---------------------------------------------------------------

function signingKey() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: crypto.randomBytes(8).toString('hex'), alg: 'RS256', use: 'sig' };
}

// ---- pages --------------------------------------------------------------

const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="it">
<head><meta charset="utf-8"><title>${esc(title)}</title></head>
<body>
<h1>${esc(title)}</h1>
${body}
</body>
</html>
`;
}

function loginPage(uid, params, error) {
  return page('Accesso SPID (provider di prova)', `
${error ? `<p id="errore">${esc(error)}</p>` : ''}
<p>Servizio: <span id="client">${esc(params.client_id)}</span>;
livello richiesto: <span id="acr_values">${esc(params.acr_values ?? '')}</span></p>
<form id="accesso" method="post" action="/interaction/${esc(uid)}/login">
<label for="login">Utente</label>
<input id="login" name="login" type="text" autocomplete="off" autofocus>
<button id="entra" type="submit">Entra</button>
</form>
<p><a id="annulla" href="/interaction/${esc(uid)}/abort">Annulla</a></p>`);
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 << 10) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res, status, html) {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
  });
  res.end(html);
}

// ---- provider -----------------------------------------------------------

const configuration = {
  clients,
  jwks: { keys: [signingKey()] },
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  acrValues: SPID_LEVELS,
  claims: cfg.claims ?? {
    openid: ['sub'],
    profile: ['given_name', 'family_name', FISCAL_NUMBER, 'groups'],
    email: ['email', 'email_verified'],
    groups: ['groups'],
    acr: null,
    auth_time: null,
    sid: null,
    iss: null,
  },
  scopes: ['openid', 'offline_access'],
  responseTypes: ['code'],
  // Every claim the scopes grant goes in the ID token too, as SPID's do.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  async findAccount(_ctx, sub) {
    const u = users.get(sub);
    if (!u) return undefined;
    return {
      accountId: sub,
      async claims() {
        const claims = { sub };
        for (const k of ['given_name', 'family_name', 'email', 'groups', FISCAL_NUMBER]) {
          if (u[k] !== undefined && u[k] !== '') claims[k] = u[k];
        }
        if (claims.email) claims.email_verified = true;
        return claims;
      },
    };
  },
  // Access tokens carry who the user is, so a resource server needs no
  // userinfo call: the fiscal number, the SPID level and the groups.
  async extraTokenClaims(_ctx, token) {
    const u = token.accountId ? users.get(token.accountId) : undefined;
    if (!u) return undefined;
    const extra = { acr: u.acr ?? SPID_LEVELS[1] };
    if (u[FISCAL_NUMBER]) extra[FISCAL_NUMBER] = u[FISCAL_NUMBER];
    if (u.groups) extra.groups = u.groups;
    return extra;
  },
  async issueRefreshToken(_ctx, client) {
    return client.grantTypeAllowed('refresh_token');
  },
  clientBasedCORS: () => true,
  ttl: {
    AccessToken: (_ctx, token, client) => positive(clientCfg(client).accessTokenTTL)
      ?? token.resourceServer?.accessTokenTTL ?? positive(ttl.access_token) ?? 300,
    ClientCredentials: (_ctx, token, client) => positive(clientCfg(client).accessTokenTTL)
      ?? token.resourceServer?.accessTokenTTL ?? positive(ttl.access_token) ?? 300,
    IdToken: () => positive(ttl.id_token) ?? 300,
    AuthorizationCode: () => 60,
    RefreshToken: () => positive(ttl.refresh_token) ?? 3600,
    Interaction: () => 600,
    Session: () => 3600,
    Grant: () => 3600,
    DeviceCode: () => 600,
    BackchannelAuthenticationRequest: () => 600,
    PreAuthorizedCode: () => 600,
  },
  features: {
    devInteractions: { enabled: false },
    claimsParameter: { enabled: true },
    clientCredentials: { enabled: true },
    introspection: { enabled: true, allowedPolicy: async (_ctx, client) => client.clientAuthMethod !== 'none' },
    revocation: { enabled: true },
    userinfo: { enabled: true },
    requestObjects: { enabled: true, requireSignedRequestObject: false },
    rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) {
        ctx.body = page('Uscita', `${form}
<button id="esci" type="submit" form="op.logoutForm" name="logout" value="yes">Esci</button>
<button id="resta" type="submit" form="op.logoutForm">Resta collegato</button>
${cfg.logout_auto_submit ? '<script>document.getElementById("esci").click()</script>' : ''}`);
      },
      async postLogoutSuccessSource(ctx) {
        ctx.body = page('Uscita', '<p id="uscito">Sei uscito.</p>');
      },
    },
    resourceIndicators: {
      enabled: true,
      // A client with default_resource gets a JWT access token for it even
      // when its requests name no resource.
      async defaultResource(_ctx, client, oneOf) {
        if (oneOf) return oneOf;
        return clientCfg(client).defaultResource;
      },
      async useGrantedResource(ctx) {
        return !!clientCfg(ctx.oidc.client).defaultResource;
      },
      async getResourceServerInfo(_ctx, indicator) {
        const r = resources.get(indicator);
        if (!r) throw new errors.InvalidTarget(`unknown resource ${indicator}`);
        return {
          scope: r.scope || 'dav',
          audience: r.audience || indicator,
          accessTokenTTL: positive(r.access_token_ttl) ?? positive(ttl.access_token) ?? 300,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  async renderError(ctx, out, error) {
    console.error('oidc-provider error page:', out, error?.stack ?? error);
    ctx.type = 'html';
    ctx.body = page('Errore', Object.entries(out)
      .map(([k, v]) => `<p class="${esc(k)}"><strong>${esc(k)}</strong>: ${esc(v)}</p>`).join('\n'));
  },
};

// ---- interactions: login form, consent granted at once -----------------

async function interaction(provider, req, res, uid, action) {
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (err) {
    send(res, 400, page('Errore', `<p id="errore">${esc(err.message)}</p>`));
    return;
  }
  if (details.uid !== uid) {
    send(res, 400, page('Errore', '<p id="errore">interaction mismatch</p>'));
    return;
  }
  const { prompt, params, session } = details;

  if (action === 'abort') {
    await provider.interactionFinished(req, res, {
      error: 'access_denied', error_description: 'End-User aborted interaction',
    }, { mergeWithLastSubmission: false });
    return;
  }

  if (prompt.name === 'consent') {
    // Test clients are trusted: grant what was asked, show nothing.
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const d = prompt.details;
    if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
    if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(d.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: details.grantId ? {} : { grantId } }, { mergeWithLastSubmission: true });
    return;
  }

  if (prompt.name !== 'login') {
    send(res, 501, page('Errore', `<p id="errore">prompt ${esc(prompt.name)} not implemented</p>`));
    return;
  }

  if (action === 'login' && req.method === 'POST') {
    const form = await readForm(req);
    const accountId = (form.get('login') ?? '').trim();
    const u = users.get(accountId);
    if (!u) {
      send(res, 200, loginPage(uid, params, `Utente sconosciuto: ${accountId}`));
      return;
    }
    await provider.interactionFinished(req, res, {
      login: { accountId, acr: u.acr ?? SPID_LEVELS[1], amr: ['pwd'], remember: true },
    }, { mergeWithLastSubmission: false });
    return;
  }
  if (action === undefined && req.method === 'GET') {
    send(res, 200, loginPage(uid, params));
    return;
  }
  send(res, 405, page('Errore', '<p id="errore">method not allowed</p>'));
}

// ---- server -------------------------------------------------------------

let handler = (_req, res) => { res.writeHead(503); res.end(); };
const server = http.createServer((req, res) => {
  const started = Date.now();
  res.on('finish', () => {
    console.error(`${req.method} ${req.url.split('?')[0]} ${res.statusCode} ${Date.now() - started}ms`);
  });
  handler(req, res);
});

server.listen(port, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, configuration);
  for (const ev of ['server_error', 'authorization.error', 'grant.error', 'userinfo.error',
    'end_session.error', 'introspection.error', 'revocation.error', 'jwks.error', 'discovery.error']) {
    provider.on(ev, (ctx, err) => {
      console.error(`oidc-provider ${ev}: ${err?.message}${err?.error_description ? ` (${err.error_description})` : ''}`);
      if (ev === 'server_error') console.error(err?.stack);
    });
  }
  const callback = provider.callback();
  handler = (req, res) => {
    const m = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|abort))?$/.exec(req.url.split('?')[0]);
    if (!m) {
      callback(req, res);
      return;
    }
    interaction(provider, req, res, m[1], m[2]).catch((err) => {
      console.error('interaction failed:', err?.stack ?? err);
      if (!res.headersSent) send(res, 500, page('Errore', `<p id="errore">${esc(err?.message)}</p>`));
      else res.end();
    });
  };
  process.stdout.write(`oidc-provider listening on ${issuer}\n`);
});

function stop() {
  server.close();
  server.closeAllConnections?.();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (argv['watch-stdin']) {
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
}
