// An authorization server not written here: panva's oidc-provider, with two confidential
// clients for client_credentials (client_secret_basic, and private_key_jwt with the public JWK
// given as the first argument). Prints `ISSUER <url>` once it listens on a free loopback port.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const jwk = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const common = { grant_types: ['client_credentials'], redirect_uris: [], response_types: [] };
const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [
      { ...common, client_id: 'basic-client', client_secret: 'basic-secret-0123456789abcdef',
        token_endpoint_auth_method: 'client_secret_basic' },
      { ...common, client_id: 'key-client', token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [jwk] } },
    ],
    features: { clientCredentials: { enabled: true }, devInteractions: { enabled: false } },
  });
  server.on('request', provider.callback());
  console.log(`ISSUER ${issuer}`);
});
