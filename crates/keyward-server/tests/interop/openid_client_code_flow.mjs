// Runs keyward's authorization code flow with openid-client 6 (Node.js), the way a web
// application would, and plays the user's browser itself over plain HTTP.
//
//   node openid_client_code_flow.mjs ISSUER CLIENT_ID METHOD SECRET_OR_PEM USERNAME PASSWORD USE_PAR
//
// METHOD is `basic` (SECRET_OR_PEM is the client secret) or `private_key_jwt` (SECRET_OR_PEM is
// the path of a PKCS#8 PEM P-256 key; the assertion is signed ES256 with the key's RFC 7638
// thumbprint as `kid`). USE_PAR is 1 to push the request to the PAR endpoint (RFC 9126) first.
//
// The library discovers keyward, builds the authorization request (PKCE S256, state, nonce),
// checks the authorization response (state, RFC 9207 `iss`), exchanges the code and validates
// the ID token (iss, aud, exp, iat, nonce), refreshes, reads userinfo (checking `sub`),
// introspects the access and the refresh token, revokes the refresh token, and introspects both
// again. The browser part (redirects inside keyward, cookies, the sign-in and consent forms) is
// fetch with manual redirects.
//
// Prints one JSON object to stdout and exits 0; any exception is printed to stderr, exit 1.
import * as client from 'openid-client';
import { readFileSync } from 'node:fs';

const [issuer, clientId, method, secretOrPem, username, password, usePar] = process.argv.slice(2);
if (!issuer || !clientId || !['basic', 'private_key_jwt'].includes(method) || secretOrPem === undefined
  || !username || password === undefined || !['0', '1'].includes(usePar)) {
  console.error('usage: openid_client_code_flow.mjs ISSUER CLIENT_ID basic|private_key_jwt SECRET_OR_PEM USERNAME PASSWORD 0|1');
  process.exit(1);
}

const REDIRECT_URI = 'http://127.0.0.1:9/callback';
const SCOPE = 'openid profile email offline_access';

function b64url(bytes) {
  return Buffer.from(bytes).toString('base64url');
}

// The PEM's P-256 key as a non-extractable signing CryptoKey, with its RFC 7638 thumbprint.
async function ecKey(path) {
  const pem = readFileSync(path, 'utf8');
  const body = pem.replace(/-----(BEGIN|END) PRIVATE KEY-----/g, '').replace(/\s+/g, '');
  const der = Buffer.from(body, 'base64');
  const alg = { name: 'ECDSA', namedCurve: 'P-256' };
  const exportable = await crypto.subtle.importKey('pkcs8', der, alg, true, ['sign']);
  const jwk = await crypto.subtle.exportKey('jwk', exportable);
  const members = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  const kid = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(members)));
  const key = await crypto.subtle.importKey('pkcs8', der, alg, false, ['sign']);
  return { key, kid };
}

// A browser's cookie jar for one site: name → value, from Set-Cookie.
class Jar {
  constructor() {
    this.cookies = new Map();
  }

  take(response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age\s*=\s*(0|-\d+)\s*$/i.test(a));
      if (expired || value === '') {
        this.cookies.delete(name);
      } else {
        this.cookies.set(name, value);
      }
    }
  }

  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

// The browser: GETs and form POSTs inside the issuer, redirects followed by hand.
class Browser {
  constructor(origin) {
    this.origin = origin;
    this.jar = new Jar();
    this.steps = [];
  }

  async request(url, init = {}) {
    const headers = { ...(init.headers ?? {}) };
    const cookie = this.jar.header();
    if (cookie) headers.cookie = cookie;
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    this.jar.take(response);
    const location = response.headers.get('location');
    this.steps.push({ method: init.method ?? 'GET', path: new URL(url).pathname, status: response.status });
    return { response, url: new URL(url), location: location === null ? null : new URL(location, url) };
  }

  async post(path, fields) {
    return this.request(new URL(path, this.origin), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: this.origin },
      body: new URLSearchParams(fields).toString(),
    });
  }

  // Follows redirects that stay inside the issuer; returns the first answer that is a page or
  // leaves the issuer.
  async follow(answer) {
    for (let i = 0; i < 10; i += 1) {
      const { response, location } = answer;
      if (![301, 302, 303, 307, 308].includes(response.status) || location === null) return answer;
      if (location.origin !== this.origin) return answer;
      await response.arrayBuffer();
      answer = await this.request(location);
    }
    throw new Error('more than 10 redirects inside the issuer');
  }
}

function hidden(html, name) {
  const match = html.match(new RegExp(`name="${name}" value="([^"]*)"`));
  if (!match) throw new Error(`no hidden field ${name} in the page:\n${html}`);
  return match[1];
}

// What the browser does from the authorization URL to the redirect back to the client.
async function userAgent(authorizationUrl) {
  const browser = new Browser(new URL(issuer).origin);
  let answer = await browser.follow(await browser.request(authorizationUrl));
  const pages = [];
  for (let i = 0; i < 4; i += 1) {
    const { response, location } = answer;
    if (location !== null && location.href.startsWith(REDIRECT_URI)) {
      return { location, pages, steps: browser.steps };
    }
    const html = await response.text();
    if (response.status !== 200) {
      throw new Error(`the browser got ${response.status} at ${answer.url}:\n${html}`);
    }
    const fields = { interaction: hidden(html, 'interaction'), csrf: hidden(html, 'csrf') };
    if (html.includes('action="/authorize/signin"')) {
      if (!browser.jar.cookies.has('keyward_signin')) throw new Error('the sign-in page set no keyward_signin cookie');
      pages.push('signin');
      answer = await browser.follow(await browser.post('/authorize/signin', { ...fields, username, password }));
    } else if (html.includes('action="/authorize/consent"')) {
      if (!browser.jar.cookies.has('keyward_session')) throw new Error('consent without a keyward_session cookie');
      pages.push('consent');
      answer = await browser.follow(await browser.post('/authorize/consent', { ...fields, decision: 'allow' }));
    } else {
      throw new Error(`an unexpected page at ${answer.url}:\n${html}`);
    }
  }
  throw new Error(`the browser never came back to ${REDIRECT_URI}: ${JSON.stringify(browser.steps)}`);
}

try {
  let auth;
  let kid = null;
  if (method === 'basic') {
    auth = client.ClientSecretBasic(secretOrPem);
  } else {
    const ec = await ecKey(secretOrPem);
    kid = ec.kid;
    auth = client.PrivateKeyJwt({ key: ec.key, kid: ec.kid });
  }
  // The test server is plain http on loopback; openid-client 6 refuses http unless told.
  const config = await client.discovery(new URL(issuer), clientId, undefined, auth, {
    execute: [client.allowInsecureRequests],
  });

  const pkceCodeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const parameters = {
    redirect_uri: REDIRECT_URI,
    scope: SCOPE,
    code_challenge: await client.calculatePKCECodeChallenge(pkceCodeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  };
  const authorizationUrl = usePar === '1'
    ? await client.buildAuthorizationUrlWithPAR(config, parameters)
    : client.buildAuthorizationUrl(config, parameters);
  const sentParameters = [...authorizationUrl.searchParams.keys()].sort();

  const { location, pages, steps } = await userAgent(authorizationUrl);
  const callback = Object.fromEntries(location.searchParams);

  const tokens = await client.authorizationCodeGrant(config, location, {
    pkceCodeVerifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  const userinfo = await client.fetchUserInfo(config, refreshed.access_token, claims.sub);

  const before = {
    access: await client.tokenIntrospection(config, refreshed.access_token),
    refresh: await client.tokenIntrospection(config, refreshed.refresh_token),
    spent_refresh: await client.tokenIntrospection(config, tokens.refresh_token),
  };
  await client.tokenRevocation(config, refreshed.refresh_token);
  const after = {
    access: await client.tokenIntrospection(config, refreshed.access_token),
    refresh: await client.tokenIntrospection(config, refreshed.refresh_token),
  };

  const report = {
    kid,
    authorization_url: { origin: authorizationUrl.origin, path: authorizationUrl.pathname, parameters: sentParameters },
    pages,
    steps,
    callback: { has_code: typeof callback.code === 'string', state_matches: callback.state === state, iss: callback.iss ?? null },
    expected_nonce: nonce,
    token: {
      token_type: tokens.token_type,
      scope: tokens.scope ?? null,
      expires_in: tokens.expires_in ?? null,
      has_refresh_token: typeof tokens.refresh_token === 'string',
    },
    id_token_claims: claims,
    refresh: {
      token_type: refreshed.token_type,
      scope: refreshed.scope ?? null,
      new_refresh_token: typeof refreshed.refresh_token === 'string' && refreshed.refresh_token !== tokens.refresh_token,
      new_access_token: refreshed.access_token !== tokens.access_token,
      id_token_claims: refreshed.claims() ?? null,
    },
    userinfo,
    introspection_before_revocation: before,
    introspection_after_revocation: after,
  };
  process.stdout.write(JSON.stringify(report) + '\n');
} catch (err) {
  console.error(err);
  if (err?.cause !== undefined) console.error('cause:', err.cause);
  process.exit(1);
}
