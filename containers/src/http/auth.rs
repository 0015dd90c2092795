//! Optional bearer-token auth, the token read from a mounted Secret file.

use std::path::Path;

use anyhow::Context;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;

/// The token clients must send as `Authorization: Bearer <token>`.
pub struct Token(Vec<u8>);

impl Token {
    /// Reads the token from `path`, trimmed of surrounding whitespace (a
    /// Secret written with `echo` ends with a newline).
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the token file {} (--token-file)", path.display()))?;
        let token = text.trim();
        anyhow::ensure!(!token.is_empty(), "the token file {} is empty (--token-file)", path.display());
        Ok(Self(token.as_bytes().to_vec()))
    }

    /// Whether `headers` carry this token. Compares in time independent
    /// of where the bytes differ, so the token cannot be guessed byte by byte.
    pub fn allows(&self, headers: &HeaderMap) -> bool {
        let Some(sent) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
            return false;
        };
        let Some(sent) = sent.strip_prefix("Bearer ").or_else(|| sent.strip_prefix("bearer ")) else {
            return false;
        };
        let sent = sent.trim().as_bytes();
        sent.len() == self.0.len() && sent.iter().zip(&self.0).fold(0u8, |diff, (a, b)| diff | (a ^ b)) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_bearer_token_is_allowed() {
        let token = Token(b"s3cret".to_vec());
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(AUTHORIZATION, value.parse().unwrap());
            headers
        };
        assert!(token.allows(&with("Bearer s3cret")));
        assert!(!token.allows(&with("Bearer s3cre")));
        assert!(!token.allows(&with("Bearer s3cret2")));
        assert!(!token.allows(&with("Basic s3cret")));
        assert!(!token.allows(&HeaderMap::new()));
    }
}
