// oidc-provider.mjs: a real OpenID Connect provider (npm "oidc-provider" by panva, v9)
// for Budbringer's login tests (tests/it/peers/oidc.rs starts it). Loopback only,
// everything in memory, fresh signing key per start. Adapted from the verified recipe in
// the team's peer notes: a `cpr` claim (as a MitID broker sends it), several test users,
// redirect URIs matched by pattern (the test app's port is known only after it binds), and
// the process ends when its stdin closes (so a crashed test run leaves nothing behind).
//
//   node oidc-provider.mjs        (prints "listening ISSUER" on stdout when ready)
//
// Environment (all optional):
//   BB_NODE_DIR / PEERS_NODE_DIR  folder whose node_modules holds oidc-provider (default: cwd)
//   OIDC_PORT            29400
//   OIDC_ISSUER          http://127.0.0.1:$OIDC_PORT (another URL when a proxy forwards to it)
//   OIDC_CLIENT_ID       test-client
//   OIDC_CLIENT_SECRET   test-secret
//   OIDC_REDIRECT_URI    http://127.0.0.1:29401/auth/callback   (comma-separated for several)
//   OIDC_REDIRECT_URI_PATTERN  a JavaScript regular expression; redirect URIs matching it are
//                        accepted too (e.g. ^http://127\.0\.0\.1:\d+/(citizen|staff)/login/oidc/callback$)
//   OIDC_POST_LOGOUT_REDIRECT_URI  http://127.0.0.1:29401/        (comma-separated)
//   OIDC_TEST_USER       tester          (the login form's username)
//   OIDC_TEST_PASSWORD   test-password
//   OIDC_TEST_SUB        test-user-1     (the "sub" claim of that user)
//   OIDC_TEST_CPR        (none)          the user's "cpr" claim (scope "cpr"), as a MitID broker's
//   OIDC_TEST_NAME       Test User
//   OIDC_TEST_USER2, OIDC_TEST_PASSWORD2, OIDC_TEST_SUB2, OIDC_TEST_CPR2, OIDC_TEST_NAME2
//                        a second user, when OIDC_TEST_USER2 is set
//   OIDC_TEST_USERS      JSON array of more users: [{"username","password","sub","cpr","name"}]
//   OIDC_EXIT_ON_STDIN_EOF  1: exit when stdin closes (the parent test process ended)
//   OIDC_REMOVE_DIR_ON_EXIT  a directory to remove when stopping (the harness's temp dir)
//
// Login: GET /interaction/:uid shows a form (username, password). The right pair ends
// the login; a wrong one answers 401 with the form again. Consent is granted
// automatically (loadExistingGrant below), so the flow is: /auth -> login form -> POST ->
// /auth/:uid -> redirect_uri?code=…&state=…&iss=…  PKCE (S256) is required for every
// client. With prompt=consent (offline_access) one more hop, /interaction/:uid2, grants
// the consent without a page.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';
import { rmSync } from 'node:fs';
import path from 'node:path';

const nodeDir = path.resolve(process.env.BB_NODE_DIR || process.env.PEERS_NODE_DIR || process.cwd());
const require = createRequire(path.join(nodeDir, 'package.json'));
const { default: Provider } = await import(pathToFileURL(require.resolve('oidc-provider')).href);

const env = (k, d) => process.env[k] || d;
const PORT = Number(env('OIDC_PORT', '29400'));
// OIDC_ISSUER: when a test proxy stands in front of the provider, the issuer is the proxy's.
const ISSUER = env('OIDC_ISSUER', `http://127.0.0.1:${PORT}`);
const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);
const userFrom = (suffix, defaults) => ({
  username: env(`OIDC_TEST_USER${suffix}`, defaults.username),
  password: env(`OIDC_TEST_PASSWORD${suffix}`, defaults.password),
  sub: env(`OIDC_TEST_SUB${suffix}`, defaults.sub),
  cpr: env(`OIDC_TEST_CPR${suffix}`, undefined),
  name: env(`OIDC_TEST_NAME${suffix}`, 'Test User'),
});
const USERS = [userFrom('', { username: 'tester', password: 'test-password', sub: 'test-user-1' })];
if (process.env.OIDC_TEST_USER2) {
  USERS.push(userFrom('2', { username: 'tester2', password: 'test-password', sub: 'test-user-2' }));
}
USERS.push(...JSON.parse(env('OIDC_TEST_USERS', '[]')));
const claimsOf = (user) => ({
  sub: user.sub,
  email: `${user.username}@example.test`,
  email_verified: true,
  name: user.name || 'Test User',
  preferred_username: user.username,
  ...(user.cpr ? { cpr: user.cpr } : {}),
});
const redirectPattern = process.env.OIDC_REDIRECT_URI_PATTERN
  ? new RegExp(process.env.OIDC_REDIRECT_URI_PATTERN) : undefined;

// A fresh RS256 signing key per start. Without `jwks` oidc-provider falls back to a
// development key that is published in its source code.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key-1', alg: 'RS256', use: 'sig' };

const provider = new Provider(ISSUER, {
  clients: [{
    client_id: env('OIDC_CLIENT_ID', 'test-client'),
    client_secret: env('OIDC_CLIENT_SECRET', 'test-secret'),
    redirect_uris: list(env('OIDC_REDIRECT_URI', 'http://127.0.0.1:29401/auth/callback')),
    post_logout_redirect_uris: list(env('OIDC_POST_LOGOUT_REDIRECT_URI', 'http://127.0.0.1:29401/')),
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic', // client_secret_post works too
  }],
  jwks: { keys: [jwk] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  pkce: { required: () => true }, // default: only for public clients
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
    cpr: ['cpr'], // the scope a MitID broker releases the CPR number under
  },
  scopes: ['openid', 'offline_access', 'email', 'profile', 'cpr'],
  // Default (true) keeps scope claims such as email out of the id_token whenever an
  // access token is issued too (they are only at userinfo). false puts them in both.
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: false }, // replaced by the handler below
    rpInitiatedLogout: { enabled: true }, // end_session_endpoint (GET /session/end)
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, sub) {
    const user = USERS.find((u) => u.sub === sub);
    if (!user) return undefined;
    return { accountId: sub, claims: async () => claimsOf(user) };
  },
  // Skip the consent screen: grant every requested OIDC scope to the (only) client.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile offline_access cpr');
    await grant.save();
    return grant;
  },
  ttl: {
    AccessToken: 600, AuthorizationCode: 60, IdToken: 600, RefreshToken: 3600,
    Interaction: 600, Session: 3600, Grant: 3600,
  },
});
provider.on('server_error', (ctx, err) => console.error('server_error', err));
if (redirectPattern) {
  // Test apps bind port 0, so their callback URL is not known when the provider starts.
  const exact = provider.Client.prototype.redirectUriAllowed;
  provider.Client.prototype.redirectUriAllowed = function allowed(value) {
    return exact.call(this, value) || redirectPattern.test(value);
  };
}

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const loginPage = (uid, error) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test login</title></head>
<body><main><h1>Test login</h1>
${error ? `<p role="alert">${esc(error)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}">
<label for="username">Username</label> <input id="username" name="username" autocomplete="username">
<label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password">
<button type="submit">Sign in</button>
</form></main></body></html>`;

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

async function interaction(req, res, uid) {
  // interactionDetails checks the _interaction cookie against the uid.
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction uid mismatch');
  if (details.prompt.name === 'consent') {
    // Only reached when the client forces it (prompt=consent, needed for offline_access
    // refresh tokens): grant what is missing and go on, no page.
    const missing = details.prompt.details;
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    return provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } },
      { mergeWithLastSubmission: true });
  }
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    return res.end(loginPage(uid));
  }
  if (req.method !== 'POST') { res.writeHead(405); return res.end(); }
  const form = await readForm(req);
  const user = USERS.find((u) => u.username === form.get('username'));
  if (!user || form.get('password') !== user.password) {
    res.writeHead(401, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    return res.end(loginPage(uid, 'Wrong username or password.'));
  }
  // Answers 303 to /auth/:uid, which then redirects to the client's redirect_uri.
  return provider.interactionFinished(req, res, { login: { accountId: user.sub } },
    { mergeWithLastSubmission: false });
}

const oidc = provider.callback();
const server = http.createServer((req, res) => {
  const m = /^\/interaction\/([A-Za-z0-9_-]+)$/.exec(req.url.split('?')[0]);
  if (!m) return oidc(req, res);
  interaction(req, res, m[1]).catch((err) => {
    console.error('interaction error:', err.message);
    if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' });
    res.end(`interaction error: ${err.message}\n`);
  });
});
server.listen(PORT, '127.0.0.1', () => console.log(`listening ${ISSUER} on port ${PORT}`));
const stop = () => {
  // the test harness's temp dir for this provider (its log), when it cannot remove it itself
  if (process.env.OIDC_REMOVE_DIR_ON_EXIT) {
    rmSync(process.env.OIDC_REMOVE_DIR_ON_EXIT, { recursive: true, force: true });
  }
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (process.env.OIDC_EXIT_ON_STDIN_EOF === '1') {
  // The test process holds the other end: when it exits (even killed), so does this.
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
}
