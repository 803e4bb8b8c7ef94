//! `keyward client …`: the client side from the command line, with the same config files the
//! `keyward-client` library reads (keyward's own TOML/JSON, or a Keycloak adapter
//! `keycloak.json` unchanged). Nothing here prints a secret, a private key or (unless asked
//! for one) a token.

mod serve_jwks;

use std::{path::PathBuf, time::Duration};

use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use keyward_client::{ClientConfig, TokenClient, TokenRequest};

#[derive(Subcommand)]
pub(crate) enum ClientCommand {
    /// Get a client_credentials token and print it.
    Token {
        #[command(flatten)]
        config: ConfigArgs,
        /// Space-separated scopes to ask for.
        #[arg(long)]
        scope: Option<String>,
        /// The audience (sent as RFC 8707 `resource`).
        #[arg(long)]
        audience: Option<String>,
        /// `raw`: the access token alone; `json`: token, type, expiry and scope.
        #[arg(long, value_enum, default_value_t = Output::Raw)]
        output: Output,
        /// Explain on stderr what is sent (names of parameters and headers, never values).
        #[arg(long)]
        verbose: bool,
    },
    /// Print a signed client assertion (client_secret_jwt, private_key_jwt), e.g. for curl.
    Assertion {
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Print the client's public keys as a JWK Set.
    Jwks {
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Serve the client's public keys at /k_jwks (the path Keycloak adapters use) and
    /// /.well-known/jwks.json, for a server that reads them from the client's jwks_uri.
    ServeJwks {
        #[command(flatten)]
        config: ConfigArgs,
        #[arg(long, default_value = "127.0.0.1:8081")]
        listen: String,
    },
    /// Ask the issuer whether a token is active (RFC 7662) and print its answer as JSON.
    Introspect {
        #[command(flatten)]
        config: ConfigArgs,
        /// The access or refresh token; `-` reads it from stdin (out of the process list).
        token: String,
    },
    /// Revoke a token at the issuer (RFC 7009); prints nothing.
    Revoke {
        #[command(flatten)]
        config: ConfigArgs,
        /// The access or refresh token; `-` reads it from stdin (out of the process list).
        token: String,
    },
}

/// The token argument, or the first line of stdin for `-`.
fn token_arg(token: String) -> anyhow::Result<String> {
    if token != "-" {
        return Ok(token);
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim().to_owned())
}

#[derive(clap::Args)]
pub(crate) struct ConfigArgs {
    /// The client config: keyward's own (.toml or .json) or a Keycloak adapter keycloak.json.
    #[arg(long)]
    config: PathBuf,
    /// Use this issuer instead of the config's (a Keycloak config's is
    /// {auth-server-url}/realms/{realm}).
    #[arg(long)]
    issuer: Option<String>,
    /// Use this token endpoint instead of discovering it from the issuer's metadata.
    #[arg(long)]
    token_endpoint: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Output {
    Raw,
    Json,
}

impl ConfigArgs {
    fn client(self) -> anyhow::Result<TokenClient> {
        // One line with the cause: `main` prints only an error's outermost message.
        let mut config = ClientConfig::load(&self.config)
            .map_err(|e| anyhow::anyhow!("client config {}: {e}", self.config.display()))?;
        if let Some(issuer) = self.issuer {
            config = config.with_issuer(issuer);
        }
        if let Some(endpoint) = self.token_endpoint {
            config = config.with_token_endpoint(endpoint);
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(TokenClient::builder(config).http(http).build()?)
    }
}

pub(crate) async fn run(command: ClientCommand) -> anyhow::Result<()> {
    match command {
        ClientCommand::Token {
            config,
            scope,
            audience,
            output,
            verbose,
        } => {
            let client = config.client()?;
            if verbose {
                eprintln!(
                    "client {} ({}), issuer {}",
                    client.client_id(),
                    client.auth().method(),
                    client.issuer()
                );
                let endpoint = client.token_endpoint().await?;
                eprintln!("token endpoint {endpoint}");
                eprintln!(
                    "grant_type=client_credentials{}{}, {}",
                    scope
                        .as_deref()
                        .map(|s| format!(", scope={s}"))
                        .unwrap_or_default(),
                    audience
                        .as_deref()
                        .map(|a| format!(", resource={a}"))
                        .unwrap_or_default(),
                    client.describe_auth()?
                );
            }
            let token = client.token(&TokenRequest { scope, audience }).await?;
            match output {
                Output::Raw => println!("{}", token.secret()),
                Output::Json => println!(
                    "{}",
                    serde_json::json!({
                        "access_token": token.secret(),
                        "token_type": token.token_type,
                        "expires_at": token.expires_at.unix_timestamp(),
                        "scope": token.scope,
                    })
                ),
            }
        }
        ClientCommand::Assertion { config } => {
            let client = config.client()?;
            let assertion = client.assertion()?.with_context(|| {
                format!(
                    "{} sends no assertion (only client_secret_jwt and private_key_jwt do)",
                    client.auth().method()
                )
            })?;
            println!("{assertion}");
        }
        ClientCommand::Jwks { config } => {
            println!("{}", serde_json::to_string_pretty(&config.client()?.jwks())?);
        }
        ClientCommand::ServeJwks { config, listen } => {
            serve_jwks::run(config.client()?, &listen).await?;
        }
        ClientCommand::Introspect { config, token } => {
            let answer = config.client()?.introspect(&token_arg(token)?).await?;
            println!("{}", serde_json::to_string_pretty(&answer)?);
        }
        ClientCommand::Revoke { config, token } => {
            config.client()?.revoke(&token_arg(token)?).await?;
        }
    }
    Ok(())
}
