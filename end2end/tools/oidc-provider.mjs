// A real OpenID Connect provider on loopback for the single sign-on tests (tests/sso.spec.ts), made
// with the `oidc-provider` package: discovery, a signing key it made at start (RS256), the
// authorization code flow with PKCE required, and one confidential client for Tollgate. Its
// built-in development sign-in form takes any login and password; the login is the account:
//   email           the login as typed
//   email_verified  true, except for logins starting with `unverified`
//   name            from the login's local part: new.person@… → New Person
//   groups          ['gateway-admins'] for logins starting with `admin`, else []
// All of them go in the ID token (Tollgate reads no userinfo) under the scopes Tollgate asks for:
// `email` and `profile` (groups included, so no extra scope). Consent is given at once (a
// first-party client), so a sign-in is one form; its "[ Cancel ]" link answers `access_denied`.
// Nothing is kept: a restart forgets every session.
//
// Usage:
//   node tools/oidc-provider.mjs --port=0 --tollgate=http://127.0.0.1:3187 [--secret=…]
// (or OIDC_PORT, TOLLGATE_URL, OIDC_CLIENT_SECRET). Port 0 picks a free one. Once listening it
// prints one line on stdout, `oidc-provider ready: http://127.0.0.1:PORT` (the issuer), and
// stops cleanly on SIGTERM or SIGINT. Errors the provider reports go to stderr.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const CLIENT_ID = 'tollgate';

const args = Object.fromEntries(
  process.argv.slice(2).flatMap((a, i, all) => {
    const m = a.match(/^--([a-z]+)(?:=(.*))?$/);
    if (!m) return [];
    return [[m[1], m[2] ?? all[i + 1]]];
  }),
);
const port = Number(args.port ?? process.env.OIDC_PORT ?? 0);
const tollgate = (args.tollgate ?? process.env.TOLLGATE_URL ?? '').replace(/\/$/, '');
const secret = args.secret ?? process.env.OIDC_CLIENT_SECRET ?? 'tollgate-e2e-client-secret';
if (!Number.isInteger(port) || port < 0 || port > 65535 || !/^https?:\/\/[^/]+$/.test(tollgate)) {
  console.error('usage: node tools/oidc-provider.mjs --port=N --tollgate=http://127.0.0.1:PORT [--secret=…]');
  process.exit(2);
}

/** The claims of the account `login`. */
function claimsOf(login) {
  const local = login.split('@')[0];
  const name = local
    .split(/[._-]+/)
    .filter(Boolean)
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join(' ');
  return {
    sub: login,
    email: login,
    email_verified: !login.startsWith('unverified'),
    name: name || login,
    groups: login.startsWith('admin') ? ['gateway-admins'] : [],
  };
}

// The issuer carries the port, and the provider is built with its issuer: listen first (port 0
// gets a free port), then hand the requests to the provider.
let handler = (_req, res) => {
  res.statusCode = 503;
  res.end();
};
const server = createServer((req, res) => handler(req, res));
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, '127.0.0.1', resolve);
});
const issuer = `http://127.0.0.1:${server.address().port}`;

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signing = { ...privateKey.export({ format: 'jwk' }), kid: 'e2e-rs256', alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: CLIENT_ID,
      client_secret: secret,
      redirect_uris: [`${tollgate}/auth/sso/callback`],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    },
  ],
  jwks: { keys: [signing] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'profile'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'groups'],
  },
  // The scopes' claims in the ID token itself, not only at userinfo.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  async findAccount(_ctx, id) {
    return {
      accountId: id,
      async claims() {
        return claimsOf(id);
      },
    };
  },
  // Consent is implied: a grant of what Tollgate asks for, made on first use.
  async loadExistingGrant(ctx) {
    const { client, session, result, provider: op } = ctx.oidc;
    const grantId = result?.consent?.grantId || session.grantIdFor(client.clientId);
    if (grantId) return op.Grant.find(grantId);
    const grant = new op.Grant({ clientId: client.clientId, accountId: session.accountId });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    session.grantIdFor(client.clientId, grant.jti);
    return grant;
  },
});
for (const event of ['server_error', 'authorization.error', 'grant.error', 'discovery.error', 'jwks.error']) {
  provider.on(event, (_ctx, err) => {
    // Someone cancelling at the form is an answer, not a fault.
    if (err?.error === 'access_denied') return;
    console.error(`oidc-provider ${event}: ${err?.message} ${err?.error_description ?? ''}`);
  });
}
handler = provider.callback();

function stop() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

console.log(`oidc-provider ready: ${issuer}`);
