//! A client's credential list: list, rename / enable / disable / set expiry, delete
//! (DESIGN.md "Client keys"). Every change is audited with the key's thumbprint.

use keyward_storage::StorageError;
use keyward_types::{ClientId, Credential};
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;

use crate::{
    clients::parse_id, error::FieldProblem, metadata::check_name, Action, Actor, AdminError, AdminOps,
    KeyRule,
};

/// Fields a change may set; absent fields stay as they are.
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CredentialPatch {
    pub name: Option<String>,
    pub enabled: Option<bool>,
    /// RFC 3339; must be in the future.
    pub expires_at: Option<String>,
}

impl AdminOps {
    /// The client's credentials (public material only).
    pub async fn list_credentials(&self, raw_id: &str) -> Result<Vec<Credential>, AdminError> {
        Ok(self.client(raw_id).await?.credentials)
    }

    pub async fn update_credential(
        &self,
        actor: &Actor,
        raw_id: &str,
        credential_id: &str,
        patch: CredentialPatch,
    ) -> Result<Credential, AdminError> {
        let change = self.change_credential(actor, raw_id, credential_id, patch);
        self.audited(actor, Action::CredentialUpdate, raw_id, change)
            .await
    }

    async fn change_credential(
        &self,
        actor: &Actor,
        raw_id: &str,
        credential_id: &str,
        patch: CredentialPatch,
    ) -> Result<Credential, AdminError> {
        let id = parse_id(raw_id)?;
        let mut cred = self.credential(&id, credential_id).await?;
        check_name("name", patch.name.as_deref())?;
        if let Some(name) = patch.name {
            cred.name = Some(name);
        }
        if let Some(enabled) = patch.enabled {
            cred.enabled = enabled;
        }
        if let Some(exp) = patch.expires_at {
            cred.expires_at = Some(future_time(&exp, self.clock.now())?);
        }
        let detail =
            json!({"credential_id": cred.id, "thumbprint": cred.thumbprint, "enabled": cred.enabled});
        let audit = self.event(actor, Action::CredentialUpdate, id.as_str(), detail);
        self.storage
            .update_credential(&id, &cred, &audit)
            .await
            .map_err(no_such_credential)?;
        self.directory.invalidate(&id);
        Ok(cred)
    }

    pub async fn delete_credential(
        &self,
        actor: &Actor,
        raw_id: &str,
        credential_id: &str,
    ) -> Result<(), AdminError> {
        let change = self.remove_credential(actor, raw_id, credential_id);
        self.audited(actor, Action::CredentialDelete, raw_id, change)
            .await
    }

    async fn remove_credential(
        &self,
        actor: &Actor,
        raw_id: &str,
        credential_id: &str,
    ) -> Result<(), AdminError> {
        let id = parse_id(raw_id)?;
        let cred = self.credential(&id, credential_id).await?;
        let detail = json!({"credential_id": cred.id, "thumbprint": cred.thumbprint});
        let audit = self.event(actor, Action::CredentialDelete, id.as_str(), detail);
        self.storage
            .delete_credential(&id, &cred.id, &audit)
            .await
            .map_err(no_such_credential)?;
        self.directory.invalidate(&id);
        Ok(())
    }

    async fn credential(&self, id: &ClientId, credential_id: &str) -> Result<Credential, AdminError> {
        self.load(id)
            .await?
            .credentials
            .into_iter()
            .find(|c| c.id == credential_id)
            .ok_or_else(|| AdminError::NotFound(format!("no credential '{credential_id}'").into()))
    }
}

/// An RFC 3339 `expires_at` that is still ahead (import and change answer alike).
pub(crate) fn future_time(text: &str, now: OffsetDateTime) -> Result<OffsetDateTime, AdminError> {
    let t = OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| AdminError::value("expires_at", FieldProblem::Time(e)))?;
    if t <= now {
        return Err(KeyRule::ExpiresAtInPast.into());
    }
    Ok(t)
}

fn no_such_credential(e: StorageError) -> AdminError {
    match e {
        StorageError::NotFound => AdminError::NotFound("no such credential".into()),
        other => other.into(),
    }
}
