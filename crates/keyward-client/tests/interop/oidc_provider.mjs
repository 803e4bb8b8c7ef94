// An authorization server not written here: panva's oidc-provider, with confidential clients
// for client_credentials (client_secret_basic, and private_key_jwt with the public JWK given as
// the first argument) and for the authorization code flow with refresh tokens (the same two
// methods). Sign-in and consent are granted at once for user `user-1` by the interaction
// handler below, so a test reaches the code by following redirects. Prints `ISSUER <url>` once
// it listens on a free loopback port.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const jwk = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const machine = { grant_types: ['client_credentials'], redirect_uris: [], response_types: [] };
const web = {
  grant_types: ['authorization_code', 'refresh_token'],
  redirect_uris: ['http://127.0.0.1/callback'],
  response_types: ['code'],
};
const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [
      { ...machine, client_id: 'basic-client', client_secret: 'basic-secret-0123456789abcdef',
        token_endpoint_auth_method: 'client_secret_basic' },
      { ...machine, client_id: 'key-client', token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [jwk] } },
      { ...web, client_id: 'web-basic', client_secret: 'web-secret-0123456789abcdef',
        token_endpoint_auth_method: 'client_secret_basic' },
      { ...web, client_id: 'web-key', token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [jwk] } },
    ],
    features: { clientCredentials: { enabled: true }, devInteractions: { enabled: false } },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  });
  const callback = provider.callback();
  server.on('request', async (req, res) => {
    if (!req.url.startsWith('/interaction/')) {
      callback(req, res);
      return;
    }
    try {
      const { params } = await provider.interactionDetails(req, res);
      const grant = new provider.Grant({ accountId: 'user-1', clientId: params.client_id });
      grant.addOIDCScope(params.scope);
      const grantId = await grant.save();
      await provider.interactionFinished(req, res,
        { login: { accountId: 'user-1' }, consent: { grantId } },
        { mergeWithLastSubmission: false });
    } catch (e) {
      res.statusCode = 500;
      res.end(String(e));
    }
  });
  console.log(`ISSUER ${issuer}`);
});
