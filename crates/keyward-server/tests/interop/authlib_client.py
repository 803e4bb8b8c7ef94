#!/usr/bin/env python3
"""A real third-party OAuth client (Authlib) fetching a token from keyward with a client assertion.

Usage:
    python3 authlib_client.py TOKEN_URL CLIENT_ID METHOD KEY_OR_SECRET [ALG]

METHOD is ``private_key_jwt`` (KEY_OR_SECRET is the path of a PEM private key; ALG defaults to
RS256) or ``client_secret_jwt`` (KEY_OR_SECRET is the secret itself; ALG defaults to HS256).

Authlib signs the assertion itself (iss = sub = CLIENT_ID, aud = TOKEN_URL, a random jti). Its
default lifetime is one hour; keyward allows 60 seconds by default, so this script asks Authlib
for ``exp = now + ASSERTION_LIFETIME`` (environment, default 60). ``ASSERTION_LIFETIME=authlib``
leaves Authlib's own default in place.

On success the token response is printed as JSON on stdout and the exit status is 0. An OAuth
error response gives exit status 2 and ``{"status", "error", "error_description"}`` on stderr;
any other failure (Authlib missing, bad key, no server) gives a traceback and exit status 1.
"""

import json
import os
import sys
import time

from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import ClientSecretJWT, PrivateKeyJWT
from joserfc.jwk import ECKey, OKPKey, RSAKey


def private_key(path, alg):
    with open(path, "rb") as f:
        pem = f.read()
    if alg.startswith(("RS", "PS")):
        return RSAKey.import_key(pem)
    if alg.startswith("ES"):
        return ECKey.import_key(pem)
    if alg == "EdDSA":
        return OKPKey.import_key(pem)
    raise SystemExit(f"unsupported alg {alg}")


def main(argv):
    if len(argv) not in (5, 6):
        print(__doc__, file=sys.stderr)
        return 64
    token_url, client_id, method, key_or_secret = argv[1:5]
    lifetime = os.environ.get("ASSERTION_LIFETIME", "60")
    claims = None if lifetime == "authlib" else {"exp": int(time.time()) + int(lifetime)}

    if method == "private_key_jwt":
        alg = argv[5] if len(argv) == 6 else "RS256"
        secret = private_key(key_or_secret, alg)
        auth = PrivateKeyJWT(token_url, claims=claims, alg=alg)
    elif method == "client_secret_jwt":
        alg = argv[5] if len(argv) == 6 else "HS256"
        secret = key_or_secret
        auth = ClientSecretJWT(token_url, claims=claims, alg=alg)
    else:
        print(f"unknown METHOD {method}", file=sys.stderr)
        return 64

    session = OAuth2Session(
        client_id,
        client_secret=secret,
        token_endpoint_auth_method=method,
    )
    session.register_client_auth_method(auth)
    statuses = []
    session.hooks["response"].append(lambda resp, *a, **kw: statuses.append(resp.status_code))
    try:
        token = session.fetch_token(token_url, grant_type="client_credentials")
    except OAuthError as e:
        report = {
            "status": statuses[-1] if statuses else None,
            "error": e.error,
            "error_description": e.description,
        }
        print(json.dumps(report), file=sys.stderr)
        return 2
    print(json.dumps(dict(token)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
