// Gets a token from keyward with openid-client 6 (Node.js), the way an application would:
// discovery against the issuer, then a client_credentials grant with client_secret_basic.
//
//   node openid_client.mjs ISSUER CLIENT_ID CLIENT_SECRET
//
// Prints one JSON object to stdout. Exit 0: the token response. Exit 2: the server refused, and
// the object says what the application sees of it: the error's name, `error` and
// `error_description`, the HTTP status, the parsed `WWW-Authenticate` challenges of a challenge
// error, and the response body. Anything else (exit 1) is a bug in the test or the library.
import * as client from 'openid-client';

const [issuer, clientId, clientSecret] = process.argv.slice(2);
if (!issuer || !clientId || clientSecret === undefined) {
  console.error('usage: openid_client.mjs ISSUER CLIENT_ID CLIENT_SECRET');
  process.exit(1);
}

// The test server is plain http on loopback; openid-client 6 refuses http unless told.
const insecure = { execute: [client.allowInsecureRequests] };

async function refusal(err) {
  if (err instanceof client.ResponseBodyError) {
    // A JSON error body: the library parsed it, `cause` is the whole body.
    return {
      name: err.name,
      code: err.code,
      status: err.status,
      error: err.error,
      error_description: err.error_description ?? null,
      challenges: [],
      body: err.cause,
    };
  }
  if (err instanceof client.WWWAuthenticateChallengeError) {
    // A 401 with WWW-Authenticate: the library throws before it reads the body. `cause` is the
    // parsed challenges; the error code an application can act on is a challenge parameter.
    const challenges = err.cause.map((c) => ({
      scheme: c.scheme,
      parameters: { ...c.parameters },
      token68: c.token68 ?? null,
    }));
    const withError = challenges.find((c) => c.parameters.error !== undefined);
    let body = null;
    try {
      body = await err.response.json();
    } catch {
      // Not JSON: the challenge is all there is.
    }
    return {
      name: err.name,
      code: err.code,
      status: err.status,
      error: withError?.parameters.error ?? null,
      error_description: withError?.parameters.error_description ?? null,
      challenges,
      body,
    };
  }
  return null;
}

try {
  const config = await client.discovery(
    new URL(issuer),
    clientId,
    undefined,
    client.ClientSecretBasic(clientSecret),
    insecure,
  );
  const tokens = await client.clientCredentialsGrant(config);
  process.stdout.write(JSON.stringify(tokens) + '\n');
} catch (err) {
  const seen = await refusal(err);
  if (seen === null) {
    console.error(err);
    process.exit(1);
  }
  process.stdout.write(JSON.stringify(seen) + '\n');
  process.exit(2);
}
