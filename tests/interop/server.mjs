// Interop-test authorization server for oauth2-core, built on oidc-provider 9.
//
// Usage:  node server.mjs [PORT]        (or PORT=... node server.mjs)
//
// PORT 0 (the default) lets the OS pick a free port. The server binds to
// 127.0.0.1 only, uses the issuer http://127.0.0.1:<port> and prints exactly one
// line "READY <issuer>" to stdout once it is listening. Everything else
// (diagnostics, OAuth error events, server errors) goes to stderr.
//
// Test-only behaviour (see README.md):
//   * interactions finish without a browser: user "alice" is logged in and every
//     requested scope / claim / resource is granted automatically;
//     x_test=deny (or login_hint=deny) on the authorization request makes the
//     interaction finish with error=access_denied;
//   * POST /test/device/approve and POST /test/device/deny (user_code=...) settle
//     a pending device authorization without the user-facing pages;
//   * POST /test/ciba/approve and POST /test/ciba/deny (auth_req_id=...) settle a
//     pending CIBA (poll mode) request as the user's authentication device would;
//   * clients.json entries with "fapi": true get the FAPI 2.0 Security Profile.
//
// HTTPS mode, for the mutual-TLS tests (RFC 8705): OIDC_TLS_DIR names a folder
// with the test PKI the tests made (tests/interop/mtls_pki.py: ca.pem,
// server.pem, server-key.pem, self-signed.pem). The issuer is then
// https://127.0.0.1:<port> (no client certificate asked for) and a second
// listener on another loopback port asks for one (requestCert, any certificate
// accepted at the TLS layer, its chain checked against ca.pem by
// certificateAuthorized): the server's mtls_endpoint_aliases (RFC 8705 §5) point
// there. Only in this mode are the mTLS feature and the clients.json entries with
// "mtls": true registered; the plain http server is unchanged.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));

// --- quiet, known-benign oidc-provider notices -------------------------------
// oidc-provider prints a few start-up notices through console.warn/console.info.
// The ones listed here are expected for a throw-away test server and only add
// noise to test output; everything else is passed through to stderr.
const BENIGN = [
  'oidc-provider WARNING: Unsupported runtime', // Node 20 works, 22+ is merely recommended
];
for (const level of ['warn', 'info', 'log']) {
  console[level] = (...args) => {
    const first = typeof args[0] === 'string' ? args[0] : '';
    if (BENIGN.some((prefix) => first.includes(prefix))) return;
    // stdout carries the READY line only; all other output goes to stderr
    console.error(...args);
  };
}

const { default: Provider, errors, interactionPolicy } = await import('oidc-provider');

// --- settings ----------------------------------------------------------------
const ACCOUNT_ID = 'alice';
const ACCOUNT = {
  sub: ACCOUNT_ID,
  email: 'alice@example.com',
  email_verified: true,
  name: 'Alice Example',
  given_name: 'Alice',
  family_name: 'Example',
  preferred_username: 'alice',
};
const DEVICE_POLL_INTERVAL = Number.parseInt(process.env.OIDC_DEVICE_INTERVAL ?? '1', 10);
const COOKIE_KEYS = ['oauth2-core-interop-cookie-key-not-a-secret'];
// 32 bytes and fixed: DPoP nonces are stateless HKDF values over 60 s steps, so a
// fixed secret makes them identical across server restarts within a time step.
const DPOP_NONCE_SECRET = crypto.createHash('sha256').update('oauth2-core-interop-dpop-nonce').digest();

const STATIC_SCOPES = ['openid', 'offline_access', 'email', 'profile', 'read', 'write', 'api:read'];

// Resource servers (RFC 8707). Opaque tokens can be introspected; JWT ones cannot.
const RESOURCE_SERVERS = {
  'urn:example:api': { scope: 'read write api:read', accessTokenFormat: 'opaque', accessTokenTTL: 3600 },
  'urn:example:other': { scope: 'read write', accessTokenFormat: 'opaque', accessTokenTTL: 3600 },
  'urn:example:jwt': { scope: 'read write api:read', accessTokenFormat: 'jwt', accessTokenTTL: 3600 },
  'urn:example:short': { scope: 'read write', accessTokenFormat: 'opaque', accessTokenTTL: 2 },
};
const DEFAULT_CLIENT_CREDENTIALS_RESOURCE = 'urn:example:api';
// The protected test resource (RFC 9728) at <issuer>/resource: its identifier is only
// known once the server listens, so it is matched by path in getResourceServerInfo.
const PROTECTED_PATH = '/resource';
const PROTECTED_SCOPE = 'resource:read';
const PROTECTED_SERVER = {
  scope: 'resource:read resource:write', accessTokenFormat: 'opaque', accessTokenTTL: 3600,
};
let ISSUER; // set when the server listens

// --- clients (shared with oidc_server.py through clients.json) ---------------
// HTTPS mode (see the header): the test PKI, read once
const TLS_DIR = process.env.OIDC_TLS_DIR || '';
const readTls = (name) => fs.readFileSync(path.join(TLS_DIR, name));

const CLIENTS_FILE = JSON.parse(fs.readFileSync(path.join(HERE, 'clients.json'), 'utf8'));
const NONCE_CLIENTS = new Set();
const FAPI_CLIENTS = new Set();

function toClientMetadata(entry) {
  const md = {
    client_id: entry.client_id,
    token_endpoint_auth_method: entry.token_endpoint_auth_method,
    grant_types: entry.grant_types,
    redirect_uris: entry.redirect_uris,
    // native => any port is accepted on loopback redirect URIs (RFC 8252 7.3)
    application_type: 'native',
    response_types: entry.grant_types.includes('authorization_code') ? ['code'] : [],
  };
  if (entry.client_secret) md.client_secret = entry.client_secret;
  if (entry.token_endpoint_auth_signing_alg) {
    md.token_endpoint_auth_signing_alg = entry.token_endpoint_auth_signing_alg;
  }
  if (entry.dpop_bound_access_tokens) md.dpop_bound_access_tokens = true;
  if (entry.userinfo_signed_response_alg) {
    md.userinfo_signed_response_alg = entry.userinfo_signed_response_alg;
  }
  // JAR (RFC 9101), JARM and JWT introspection (RFC 9701) registrations
  for (const name of [
    'request_object_signing_alg', 'authorization_signed_response_alg', 'introspection_signed_response_alg',
    'id_token_signed_response_alg', // FAPI 2.0 §5.4.1: PS256, ES256 or EdDSA
  ]) {
    if (entry[name]) md[name] = entry[name];
  }
  if (entry.require_dpop_nonce) NONCE_CLIENTS.add(entry.client_id);
  if (entry.post_logout_redirect_uris) md.post_logout_redirect_uris = entry.post_logout_redirect_uris;
  if (entry.backchannel_token_delivery_mode) {
    md.backchannel_token_delivery_mode = entry.backchannel_token_delivery_mode;
  }
  if (entry.require_pushed_authorization_requests) md.require_pushed_authorization_requests = true;
  if (entry.fapi) FAPI_CLIENTS.add(entry.client_id);
  // RFC 8705 §2.1.2 / §2.2.2 / §3.4 registrations (HTTPS mode only)
  for (const name of [
    'tls_client_auth_subject_dn', 'tls_client_auth_san_dns', 'tls_client_certificate_bound_access_tokens',
  ]) {
    if (entry[name] !== undefined) md[name] = entry[name];
  }
  if (entry.self_signed_certificate) {
    // §2.2: the client's certificate, made at test time, registered as a JWK with x5c
    const cert = new crypto.X509Certificate(readTls(entry.self_signed_certificate));
    md.jwks = { keys: [{ ...cert.publicKey.export({ format: 'jwk' }), x5c: [cert.raw.toString('base64')] }] };
  }
  if (entry.jwks_private_key_file) {
    const { d, ...publicJwk } = JSON.parse(
      fs.readFileSync(path.join(HERE, entry.jwks_private_key_file), 'utf8'),
    );
    md.jwks = { keys: [publicJwk] };
  }
  return md;
}
const CLIENTS = CLIENTS_FILE.clients.filter((entry) => !entry.mtls || TLS_DIR).map(toClientMetadata);

// --- provider signing keys: fresh per process --------------------------------
function signingJwks() {
  const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return {
    keys: [
      { ...rsa, kid: `rs256-${crypto.randomUUID()}`, alg: 'RS256', use: 'sig' },
      { ...ec, kid: `es256-${crypto.randomUUID()}`, alg: 'ES256', use: 'sig' },
    ],
  };
}

// --- storage: unbounded in-memory adapter ------------------------------------
// (oidc-provider's bundled one is an LRU capped at 1000 entries, which a long
// test session could overflow.)
const store = new Map(); // key -> { payload, expiresAt }
const epoch = () => Math.floor(Date.now() / 1000);

function storeGet(key) {
  const hit = store.get(key);
  if (!hit) return undefined;
  if (hit.expiresAt !== undefined && hit.expiresAt <= Date.now()) {
    store.delete(key);
    return undefined;
  }
  return hit.payload;
}
function storeSet(key, payload, expiresIn) {
  store.set(key, {
    payload,
    expiresAt: typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : undefined,
  });
}

const GRANTABLE = new Set([
  'AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode',
  'BackchannelAuthenticationRequest', 'ClientCredentials',
]);

class TestAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) { return `${this.model}:${id}`; }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    storeSet(key, payload, expiresIn);
    if (this.model === 'Session' && payload.uid) storeSet(`sessionUid:${payload.uid}`, id, expiresIn);
    if (payload.userCode) storeSet(`userCode:${payload.userCode}`, id, expiresIn);
    if (GRANTABLE.has(this.model) && payload.grantId) {
      const members = storeGet(`grant:${payload.grantId}`) ?? new Set();
      members.add(key);
      storeSet(`grant:${payload.grantId}`, members);
    }
  }

  async find(id) { return storeGet(this.key(id)); }

  async findByUid(uid) {
    const id = storeGet(`sessionUid:${uid}`);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = storeGet(`userCode:${userCode}`);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const payload = storeGet(this.key(id));
    if (payload) payload.consumed = epoch();
  }

  async destroy(id) { store.delete(this.key(id)); }

  async revokeByGrantId(grantId) {
    const members = storeGet(`grant:${grantId}`);
    if (members) for (const key of members) store.delete(key);
    store.delete(`grant:${grantId}`);
  }
}

// --- helpers -----------------------------------------------------------------
async function findAccount(_ctx, sub) {
  if (sub !== ACCOUNT_ID) return undefined;
  return {
    accountId: ACCOUNT_ID,
    async claims() { return { ...ACCOUNT }; },
  };
}

function wantsDeny(params = {}) {
  return params.x_test === 'deny' || params.login_hint === 'deny';
}

function asList(value) {
  if (value === undefined || value === null || value === '') return [];
  return Array.isArray(value) ? value : [value];
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const raw = Buffer.concat(chunks).toString('utf8');
  if ((req.headers['content-type'] || '').includes('application/json')) {
    return raw ? JSON.parse(raw) : {};
  }
  return Object.fromEntries(new URLSearchParams(raw));
}

function sendJson(ctx, status, body) {
  ctx.status = status;
  ctx.type = 'application/json';
  ctx.body = JSON.stringify(body);
}

// The clients are application_type=native (so any loopback port is accepted),
// and oidc-provider by default forces a consent interaction for native clients
// on every request. Dropping that check lets prompt=none succeed for a session
// that has already granted everything (pass the same cookie jar to authorize()).
function interactionPolicyWithoutNativeConsent() {
  const policy = interactionPolicy.base();
  policy.get('consent').checks.remove('native_client_prompt');
  return policy;
}

// --- configuration -----------------------------------------------------------
const configuration = {
  adapter: TestAdapter,
  clients: CLIENTS,
  jwks: signingJwks(),
  findAccount,
  cookies: {
    keys: COOKIE_KEYS,
    long: { httpOnly: true, sameSite: 'lax' },
    short: { httpOnly: true, sameSite: 'lax' },
  },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username'],
  },
  scopes: STATIC_SCOPES,
  extraParams: ['x_test'],
  responseTypes: ['code', 'none'],
  pkce: {
    // S256 is the only method oidc-provider 9 supports at all.
    required: (_ctx, client) => client.clientAuthMethod === 'none',
  },
  enabledJWA: {
    dPoPSigningAlgValues: ['ES256', 'RS256', 'PS256', 'Ed25519', 'EdDSA'],
  },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: {
      enabled: true,
      // same as the library default, declared to silence the "SHOULD change" notice
      async allowedPolicy(ctx, client, token) {
        return !(client.clientAuthMethod === 'none' && token.clientId !== ctx.oidc.client.clientId);
      },
    },
    revocation: {
      enabled: true,
      async allowedPolicy(_ctx, client, token) {
        if (token.clientId !== client.clientId) {
          if (client.clientAuthMethod === 'none') return false;
          throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
        }
        return true;
      },
    },
    deviceFlow: { enabled: true },
    jwtUserinfo: { enabled: true }, // signed UserInfo answers (OIDC Core 5.3.2)
    requestObjects: { enabled: true, requireSignedRequestObject: false }, // JAR, RFC 9101
    jwtResponseModes: { enabled: true }, // JARM: response_mode=jwt, query.jwt, ...
    jwtIntrospection: { enabled: true }, // RFC 9701 signed introspection answers
    pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: false },
    dPoP: {
      enabled: true,
      nonceSecret: DPOP_NONCE_SECRET,
      // Only at the token endpoint is the client known when the proof is
      // checked; nonces are demanded from dpop-nonce-client there.
      requireNonce: (ctx) => NONCE_CLIENTS.has(ctx.oidc?.client?.clientId),
    },
    resourceIndicators: {
      enabled: true,
      async defaultResource(ctx, _client, oneOf) {
        if (oneOf) {
          // several resources granted and none asked for at the token endpoint
          return oneOf.includes(DEFAULT_CLIENT_CREDENTIALS_RESOURCE)
            ? DEFAULT_CLIENT_CREDENTIALS_RESOURCE : oneOf[0];
        }
        if (ctx.oidc.route === 'token' && ctx.oidc.params.grant_type === 'client_credentials') {
          return DEFAULT_CLIENT_CREDENTIALS_RESOURCE;
        }
        return undefined;
      },
      useGrantedResource: () => false,
      async getResourceServerInfo(_ctx, resourceIndicator) {
        if (resourceIndicator === `${ISSUER}${PROTECTED_PATH}`) {
          return { ...PROTECTED_SERVER, audience: resourceIndicator };
        }
        const info = RESOURCE_SERVERS[resourceIndicator];
        if (!info) throw new errors.InvalidTarget(`unknown resource indicator ${resourceIndicator}`);
        return { ...info };
      },
    },
    userinfo: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    // OpenID Connect CIBA Core 1.0, poll mode: the user is "alice" (login_hint), any
    // other hint is unknown; /test/ciba/approve plays the authentication device.
    ciba: {
      enabled: true,
      deliveryModes: ['poll'],
      async processLoginHint(_ctx, loginHint) {
        if (loginHint !== ACCOUNT_ID) throw new errors.UnknownUserId('unknown login_hint');
        return ACCOUNT_ID;
      },
      async processLoginHintToken() {
        throw new errors.InvalidRequest('login_hint_token is not supported here');
      },
      async validateRequestContext() {},
      async verifyUserCode() {},
      async triggerAuthenticationDevice() {},
    },
    // FAPI 2.0 Security Profile for the clients marked "fapi" in clients.json only
    fapi: {
      enabled: true,
      profile: (_ctx, client) => (client && FAPI_CLIENTS.has(client.clientId) ? '2.0' : undefined),
    },
    // RFC 7591 open dynamic registration (no initial access token) and RFC 7592 management
    registration: { enabled: true },
    registrationManagement: { enabled: true },
  },
  interactions: {
    policy: interactionPolicyWithoutNativeConsent(),
    url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
  },
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: true,
  // tokens are never bound to the browser session: a test that throws its cookie
  // jar away (oidc_server.authorize does) keeps working tokens.
  expiresWithSession: async () => false,
  clientBasedCORS: () => false,
  ttl: {
    AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL || 3600,
    AuthorizationCode: 60,
    BackchannelAuthenticationRequest: 600,
    ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL || 600,
    DeviceCode: 600,
    Grant: 24 * 3600,
    IdToken: 3600,
    Interaction: 600,
    PreAuthorizedCode: 600,
    RefreshToken: 24 * 3600,
    Session: 24 * 3600,
  },
  async renderError(ctx, out) {
    ctx.type = 'application/json';
    ctx.body = JSON.stringify(out);
  },
};

// --- mutual TLS (RFC 8705), HTTPS mode only -----------------------------------
// The peer certificate of this request's TLS connection, or undefined (plain
// listener, or the client sent none).
function peerCertificate(ctx) {
  const { socket } = ctx;
  if (typeof socket?.getPeerCertificate !== 'function') return undefined;
  const peer = socket.getPeerCertificate();
  return peer?.raw ? new crypto.X509Certificate(peer.raw) : undefined;
}

// RFC 4514 "CN=a,O=b" lists the RDNs last first; X509Certificate.subject first first.
function subjectDn(cert) {
  return cert.subject.split('\n').reverse().join(',');
}

function sanValues(cert, type) {
  return (cert.subjectAltName ?? '').split(', ')
    .filter((entry) => entry.startsWith(`${type}:`))
    .map((entry) => entry.slice(type.length + 1));
}

if (TLS_DIR) {
  configuration.clientAuthMethods = [
    'client_secret_basic', 'client_secret_jwt', 'client_secret_post', 'private_key_jwt', 'none',
    'tls_client_auth', 'self_signed_tls_client_auth',
  ];
  configuration.features.mTLS = {
    enabled: true,
    certificateBoundAccessTokens: true,
    tlsClientAuth: true,
    selfSignedTlsClientAuth: true,
    getCertificate: peerCertificate,
    // the alias listener accepts any certificate; CA-signed is decided here (§2.1)
    certificateAuthorized: (ctx) => ctx.socket.authorized === true,
    certificateSubjectMatches(ctx, property, expected) {
      const cert = peerCertificate(ctx);
      if (!cert) return false;
      switch (property) {
        case 'tls_client_auth_subject_dn': return subjectDn(cert) === expected;
        case 'tls_client_auth_san_dns': return sanValues(cert, 'DNS').includes(expected);
        default: return false;
      }
    },
  };
}

// --- test-only routes --------------------------------------------------------
function installTestRoutes(provider) {
  async function finishInteraction(ctx) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const { prompt, params, session } = details;
    let result;
    if (wantsDeny(params)) {
      result = { error: 'access_denied', error_description: 'denied by test' };
    } else if (prompt.name === 'login') {
      result = { login: { accountId: ACCOUNT_ID } };
    } else if (prompt.name === 'consent') {
      const accountId = session?.accountId ?? ACCOUNT_ID;
      let grant = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
      grant ??= new provider.Grant({ accountId, clientId: params.client_id });
      const d = prompt.details ?? {};
      if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
      if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(d.missingResourceScopes ?? {})) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
      result = { consent: { grantId: await grant.save() } };
    } else {
      result = { error: 'server_error', error_description: `unexpected prompt ${prompt.name}` };
    }
    const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, {
      mergeWithLastSubmission: !('error' in result),
    });
    ctx.status = 303;
    ctx.redirect(returnTo);
  }

  async function settleCiba(ctx, approve) {
    const body = await readBody(ctx.req);
    const request = await provider.BackchannelAuthenticationRequest.find(String(body.auth_req_id ?? ''));
    if (!request) return sendJson(ctx, 404, { error: 'not_found', error_description: 'unknown auth_req_id' });
    if (!approve) {
      await provider.backchannelResult(request, new errors.AccessDenied('denied by test'));
      return sendJson(ctx, 200, { status: 'denied' });
    }
    const grant = new provider.Grant({ accountId: request.accountId, clientId: request.clientId });
    const requested = String(request.params?.scope ?? '').split(' ').filter(Boolean);
    grant.addOIDCScope(requested.filter((s) => STATIC_SCOPES.includes(s)).join(' '));
    await grant.save();
    await provider.backchannelResult(request, grant, { authTime: epoch() });
    return sendJson(ctx, 200, { status: 'approved' });
  }

  async function settleDevice(ctx, approve) {
    const body = await readBody(ctx.req);
    const userCode = String(body.user_code ?? '').toUpperCase().replace(/\W/g, '');
    if (!userCode) return sendJson(ctx, 400, { error: 'invalid_request', error_description: 'user_code missing' });

    const code = await provider.DeviceCode.findByUserCode(userCode, { ignoreExpiration: true });
    if (!code) return sendJson(ctx, 404, { error: 'not_found', error_description: 'unknown user_code' });
    if (code.isExpired) return sendJson(ctx, 400, { error: 'expired_token', error_description: 'device code expired' });
    if (code.error || code.accountId) {
      return sendJson(ctx, 409, { error: 'already_used', error_description: 'device code already settled' });
    }

    if (!approve) {
      Object.assign(code, { error: 'access_denied', errorDescription: 'denied by test' });
      await code.save();
      return sendJson(ctx, 200, { status: 'denied', client_id: code.clientId });
    }

    const params = code.params ?? {};
    const requested = new Set(String(params.scope ?? '').split(' ').filter(Boolean));
    const grant = new provider.Grant({ accountId: ACCOUNT_ID, clientId: code.clientId });
    const granted = new Set();

    const oidcScopes = [...requested].filter((s) => STATIC_SCOPES.includes(s));
    if (oidcScopes.length) {
      grant.addOIDCScope(oidcScopes.join(' '));
      oidcScopes.forEach((s) => granted.add(s));
    }
    if (params.claims) {
      const claims = typeof params.claims === 'string' ? JSON.parse(params.claims) : params.claims;
      const names = new Set([...Object.keys(claims.id_token ?? {}), ...Object.keys(claims.userinfo ?? {})]);
      if (names.size) grant.addOIDCClaims([...names]);
    }
    const resources = asList(params.resource);
    for (const indicator of resources) {
      const rsScopes = RESOURCE_SERVERS[indicator]?.scope.split(' ') ?? [];
      const scopes = [...requested].filter((s) => rsScopes.includes(s));
      if (scopes.length) {
        grant.addResourceScope(indicator, scopes.join(' '));
        scopes.forEach((s) => granted.add(s));
      }
    }

    Object.assign(code, {
      accountId: ACCOUNT_ID,
      authTime: epoch(),
      grantId: await grant.save(),
      scope: [...granted].join(' ') || undefined,
    });
    if (resources.length === 1) [code.resource] = resources;
    else if (resources.length > 1) code.resource = resources;
    await code.save();
    return sendJson(ctx, 200, { status: 'approved', client_id: code.clientId, scope: code.scope ?? '' });
  }

  // RFC 9728 metadata and an RFC 6750 protected resource that checks the RFC 8707 audience
  function protectedResourceMetadata(ctx) {
    return sendJson(ctx, 200, {
      resource: `${ISSUER}${PROTECTED_PATH}`,
      authorization_servers: [ISSUER],
      scopes_supported: PROTECTED_SERVER.scope.split(' '),
      bearer_methods_supported: ['header'],
    });
  }

  async function protectedResource(ctx) {
    const params = [
      'realm="oidc-provider"',
      `resource_metadata="${ISSUER}/.well-known/oauth-protected-resource${PROTECTED_PATH}"`,
      `scope="${PROTECTED_SCOPE}"`,
    ];
    const refuse = (status, error, description) => {
      const extra = error ? [`error="${error}"`, `error_description="${description}"`] : [];
      ctx.set('WWW-Authenticate', `Bearer ${[...params, ...extra].join(', ')}`);
      if (error) return sendJson(ctx, status, { error, error_description: description });
      ctx.status = status;
      ctx.body = '';
      return undefined;
    };
    const match = /^Bearer +(\S+)$/i.exec(ctx.get('authorization'));
    if (!match) return refuse(401);
    const token = await provider.AccessToken.find(match[1]);
    if (!token || token.isExpired) return refuse(401, 'invalid_token', 'unknown or expired token');
    const audience = [].concat(token.aud ?? []);
    if (!audience.includes(`${ISSUER}${PROTECTED_PATH}`)) {
      return refuse(401, 'invalid_token', 'the token is meant for another resource');
    }
    if (!String(token.scope ?? '').split(' ').includes(PROTECTED_SCOPE)) {
      return refuse(403, 'insufficient_scope', 'the token lacks a required scope');
    }
    return sendJson(ctx, 200, { sub: token.accountId, client_id: token.clientId, scope: token.scope });
  }

  provider.use(async (ctx, next) => {
    try {
      if (ctx.path === `/.well-known/oauth-protected-resource${PROTECTED_PATH}` && ctx.method === 'GET') {
        return protectedResourceMetadata(ctx);
      }
      if (ctx.path === PROTECTED_PATH) return await protectedResource(ctx);
      if (/^\/interaction\/[^/]+$/.test(ctx.path) && ctx.method === 'GET') {
        return await finishInteraction(ctx);
      }
      if (ctx.path === '/test/device/approve' && ctx.method === 'POST') return await settleDevice(ctx, true);
      if (ctx.path === '/test/device/deny' && ctx.method === 'POST') return await settleDevice(ctx, false);
      if (ctx.path === '/test/ciba/approve' && ctx.method === 'POST') return await settleCiba(ctx, true);
      if (ctx.path === '/test/ciba/deny' && ctx.method === 'POST') return await settleCiba(ctx, false);
      if (ctx.path === '/test/health') return sendJson(ctx, 200, { ok: true });
    } catch (err) {
      // e.g. SessionNotFound (400) when the interaction cookie did not come back
      const status = Number.isInteger(err?.statusCode) ? err.statusCode : 500;
      console.error(`[test-route] ${ctx.method} ${ctx.path} failed:`, err);
      return sendJson(ctx, status, {
        error: err?.error ?? 'server_error',
        error_description: String(err?.error_description ?? err?.message ?? err),
      });
    }
    return next();
  });
}

function installLogging(provider) {
  provider.on('server_error', (ctx, err) => {
    console.error(`[server_error] ${ctx?.method} ${ctx?.path}:`, err);
  });
  const quiet = new Set(['authorization_pending']);
  const events = [
    'authorization.error', 'grant.error', 'introspection.error', 'revocation.error',
    'userinfo.error', 'device_authorization.error', 'pushed_authorization_request.error',
    'discovery.error', 'jwks.error', 'code_verification.error', 'device_resume.error',
    'backchannel_authentication.error', 'end_session.error',
  ];
  for (const event of events) {
    provider.on(event, (ctx, err) => {
      if (quiet.has(err?.error)) return;
      const detail = err?.error_detail ? ` (${err.error_detail})` : '';
      const client = ctx?.oidc?.client?.clientId ?? '-';
      console.error(`[${event}] client=${client} ${err?.error ?? err?.name}: ${err?.error_description ?? err?.message}${detail}`);
    });
  }
  // RFC 8628 lets the server choose the polling interval; oidc-provider omits
  // it (clients must then assume 5 s) and never answers slow_down, so tell
  // clients to poll every DEVICE_POLL_INTERVAL seconds.
  provider.on('device_authorization.success', (_ctx, body) => {
    if (body && typeof body === 'object') body.interval = DEVICE_POLL_INTERVAL;
  });
}

// --- start -------------------------------------------------------------------
const requestedPort = Number.parseInt(process.argv[2] ?? process.env.PORT ?? '0', 10);
if (!Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65535) {
  console.error(`invalid port ${process.argv[2] ?? process.env.PORT}`);
  process.exit(2);
}

// HTTPS mode: the issuer's listener asks for no certificate, the alias listener does.
const server = TLS_DIR
  ? https.createServer({ key: readTls('server-key.pem'), cert: readTls('server.pem') })
  : http.createServer();
const mtlsServer = TLS_DIR
  ? https.createServer({
    key: readTls('server-key.pem'),
    cert: readTls('server.pem'),
    ca: readTls('ca.pem'),
    requestCert: true,
    rejectUnauthorized: false,
  })
  : undefined;
const MTLS_ALIASED = {
  token_endpoint: '/token',
  revocation_endpoint: '/token/revocation',
  introspection_endpoint: '/token/introspection',
  pushed_authorization_request_endpoint: '/request',
  device_authorization_endpoint: '/device/auth',
  userinfo_endpoint: '/me',
  backchannel_authentication_endpoint: '/backchannel',
};

for (const listener of [server, mtlsServer]) {
  listener?.on('error', (err) => {
    console.error('HTTP server error:', err);
    process.exit(1);
  });
}

function listen(listener, port) {
  return new Promise((resolve) => {
    listener.listen(port, '127.0.0.1', () => resolve(listener.address().port));
  });
}

const port = await listen(server, requestedPort);
const issuer = `${TLS_DIR ? 'https' : 'http'}://127.0.0.1:${port}`;
ISSUER = issuer;
if (mtlsServer) {
  const mtlsOrigin = `https://127.0.0.1:${await listen(mtlsServer, 0)}`;
  configuration.discovery = {
    mtls_endpoint_aliases: Object.fromEntries(
      Object.entries(MTLS_ALIASED).map(([name, route]) => [name, `${mtlsOrigin}${route}`]),
    ),
  };
}
const provider = new Provider(issuer, configuration);
installTestRoutes(provider);
installLogging(provider);
server.on('request', provider.callback());
mtlsServer?.on('request', provider.callback());
process.stdout.write(`READY ${issuer}\n`);

function shutdown() {
  server.close();
  mtlsServer?.close();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
if (process.env.OIDC_SERVER_EXIT_ON_STDIN_EOF === '1') {
  // the pytest fixture keeps our stdin open; if it dies we see EOF and exit
  process.stdin.on('end', shutdown);
  process.stdin.on('error', shutdown);
  process.stdin.resume();
}
