// A real OpenID Connect provider for the tests: npm oidc-provider behind a plain node http server
// that serves its own login form at /interaction/<uid> (no devInteractions).
// Usage: node oidc_provider.mjs CONFIG.json; prints `READY <issuer>` on stdout, logs to stderr.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';

import { CompactSign, decodeJwt, decodeProtectedHeader } from 'jose';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const offset = (config.clock_offset_seconds ?? 0) * 1000;
const cookieSlack = Math.max(0, -offset / 1000);
const accounts = config.accounts;

// Shift the provider's clock (it reads Date.now for iat/exp) so tests can be handed expired tokens.
if (offset) {
  const realNow = Date.now;
  Date.now = () => realNow() + offset;
}

const escape = (text) => String(text ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(uid, username, error) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head><body>
<h1>Sign in</h1>
${error ? `<p role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}">
  <label for="username">Username</label>
  <input id="username" name="username" value="${escape(username)}" autocomplete="username">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password">
  <button type="submit">Sign in</button>
</form></body></html>`;
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString());
}

function sendHtml(res, status, html) {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(html);
}

// GET shows the form; POST checks the password and, if right, hands the login back to the provider.
// Consent never gets here: loadExistingGrant below grants whatever was asked.
async function interaction(req, res, provider) {
  const { uid, params } = await provider.interactionDetails(req, res);
  if (req.method !== 'POST') return sendHtml(res, 200, loginPage(uid, params.login_hint));
  const form = await readForm(req);
  const account = accounts.find((a) => a.username === form.get('username') && a.password === form.get('password'));
  if (!account) return sendHtml(res, 200, loginPage(uid, form.get('username'), 'Invalid username or password'));
  const result = { login: { accountId: account.claims.sub } };
  return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
}

// The signing key; SIGUSR2 replaces it (a key rollover), as identity providers do from time to time.
let signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
let rotations = 0;

function providerFor(issuer) {
  const built = new Provider(issuer, {
    clients: config.clients.map((client) => ({
      client_id: client.client_id,
      client_secret: client.client_secret,
      redirect_uris: client.redirect_uris,
      post_logout_redirect_uris: client.post_logout_redirect_uris ?? [],
      response_types: ['code'],
      grant_types: ['authorization_code'],
      // client_secret_post is accepted too: the provider treats the two secret methods alike.
      token_endpoint_auth_method: 'client_secret_basic',
    })),
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    responseTypes: ['code'],
    pkce: { required: () => true }, // v9 only knows S256
    scopes: ['openid', 'email', 'profile', 'groups'],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'department'],
      groups: ['groups'],
    },
    async findAccount(ctx, sub) {
      const account = accounts.find((a) => a.claims.sub === sub);
      return account && { accountId: sub, claims: async () => ({ ...account.claims }) };
    },
    // Automatic consent: the grant always covers the scopes of the current request.
    async loadExistingGrant(ctx) {
      const { oidc } = ctx;
      const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId);
      const grant = (grantId && await oidc.provider.Grant.find(grantId))
        || new oidc.provider.Grant({ clientId: oidc.client.clientId, accountId: oidc.session.accountId });
      grant.addOIDCScope(oidc.requestParamOIDCScopes);
      await grant.save();
      return grant;
    },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: true } },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    jwks: { keys: [signingKey.export({ format: 'jwk' })] },
    // Cookie expiry follows the shifted clock too: lengthen the interaction and session (and so grant)
    // TTLs by any backwards shift so the browser keeps those cookies in real time.
    ttl: {
      IdToken: config.id_token_ttl ?? 600,
      AccessToken: 3600,
      AuthorizationCode: 60,
      Interaction: 3600 + cookieSlack,
      Session: 86400 + cookieSlack,
      Grant: 86400 + cookieSlack,
    },
  });
  // A client with `id_token_audience` gets id_tokens with that `aud` instead of its own client_id (and no
  // `azp`), as a misconfigured identity provider sends: re-signed with the provider's own key.
  const issue = built.IdToken.prototype.issue;
  built.IdToken.prototype.issue = async function issueWithAudience(options) {
    const token = await issue.call(this, options);
    const audience = config.clients.find((c) => c.client_id === this.client.clientId)?.id_token_audience;
    if (options?.use !== 'idtoken' || audience === undefined) return token;
    const payload = { ...decodeJwt(token), aud: audience };
    delete payload.azp;
    return new CompactSign(Buffer.from(JSON.stringify(payload)))
      .setProtectedHeader(decodeProtectedHeader(token)).sign(signingKey);
  };
  return built;
}

let provider;
let providerCallback;
const server = http.createServer(async (req, res) => {
  console.error(req.method, req.url);
  if (!/^\/interaction\/[^/?]+$/.test(req.url)) return providerCallback(req, res);
  try {
    await interaction(req, res, provider);
  } catch (error) {
    console.error(error);
    sendHtml(res, 400, `<p>${escape(error.message)}</p>`);
  }
});

// The issuer carries the port, so the provider is built once the server listens.
server.listen(config.issuer_port ?? 0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  provider = providerFor(issuer);
  providerCallback = provider.callback();
  for (const event of ['server_error', 'authorization.error', 'grant.error', 'userinfo.error', 'end_session.error']) {
    provider.on(event, (ctx, error) => console.error(event, error));
  }
  process.stdout.write(`READY ${issuer}\n`);
});

process.on('SIGUSR2', () => {
  signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  provider = providerFor(provider.issuer);
  providerCallback = provider.callback();
  rotations += 1;
  process.stdout.write(`ROTATED ${rotations}\n`);
});

process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
