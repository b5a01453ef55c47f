//! The platform-signed bearer of OpenCTI 7's HTTP callbacks: an EdDSA (Ed25519) JWT with
//! `iss: "opencti"`, `sub: "connector"` and a short expiry, checked against the `jwks` that
//! `registerConnector` returns — what pycti 7 accepts on its listen callback. Pure functions: the
//! clock is passed in.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;
use tokio_rustls::rustls::crypto::aws_lc_rs::default_provider;
use tokio_rustls::rustls::SignatureScheme;

/// The Ed25519 public keys of the platform, by key id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Jwks {
    keys: Vec<(String, Vec<u8>)>,
}

impl Jwks {
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// Reads the `jwks` JSON text; keys other than Ed25519 (`kty: OKP`, `crv: Ed25519`) are skipped.
pub fn parse_jwks(text: &str) -> Result<Jwks, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("jwks is not JSON: {e}"))?;
    let keys = v
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("jwks has no keys")?;
    let s = |k: &Value, f: &str| k.get(f).and_then(Value::as_str).map(String::from);
    let keys = keys
        .iter()
        .filter(|k| {
            s(k, "kty").as_deref() == Some("OKP") && s(k, "crv").as_deref() == Some("Ed25519")
        })
        .filter_map(|k| {
            let x = URL_SAFE_NO_PAD.decode(s(k, "x")?).ok()?;
            (x.len() == 32).then(|| (s(k, "kid").unwrap_or_default(), x))
        })
        .collect();
    Ok(Jwks { keys })
}

/// Whether an Ed25519 `signature` of `message` was made by `public_key`.
pub fn ed25519_valid(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    default_provider()
        .signature_verification_algorithms
        .mapping
        .iter()
        .filter(|(scheme, _)| *scheme == SignatureScheme::ED25519)
        .flat_map(|(_, algs)| algs.iter())
        .any(|alg| alg.verify_signature(public_key, message, signature).is_ok())
}

fn part(p: &str) -> Result<Vec<u8>, String> {
    URL_SAFE_NO_PAD
        .decode(p.trim_end_matches('='))
        .map_err(|_| "a JWT part is not base64url".to_string())
}

/// Checks a callback bearer: signature by a key of `jwks` (by `kid`), `alg: EdDSA`,
/// `iss: opencti`, `sub: connector`, not expired and not before its `nbf` at `now` (Unix
/// seconds). The error says which check failed (never the token).
pub fn verify(token: &str, jwks: &Jwks, now: i64) -> Result<(), String> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("not a JWT".into());
    };
    let header: Value =
        serde_json::from_slice(&part(h)?).map_err(|_| "JWT header is not JSON".to_string())?;
    if header.get("alg").and_then(Value::as_str) != Some("EdDSA") {
        return Err("JWT algorithm is not EdDSA".into());
    }
    let kid = header.get("kid").and_then(Value::as_str);
    let signed = &token[..h.len() + 1 + p.len()];
    let signature = part(sig)?;
    let ok = jwks
        .keys
        .iter()
        .filter(|(k, _)| kid.is_none_or(|kid| kid == k))
        .any(|(_, key)| ed25519_valid(key, signed.as_bytes(), &signature));
    if !ok {
        return Err("JWT signature is not from the platform's keys".into());
    }
    let claims: Value =
        serde_json::from_slice(&part(p)?).map_err(|_| "JWT claims are not JSON".to_string())?;
    let text = |f: &str| claims.get(f).and_then(Value::as_str);
    let num = |f: &str| claims.get(f).and_then(Value::as_f64);
    if text("iss") != Some("opencti") || text("sub") != Some("connector") {
        return Err("JWT is not the platform's connector token".into());
    }
    if num("exp").is_some_and(|exp| (now as f64) >= exp) {
        return Err("JWT expired".into());
    }
    if num("nbf").is_some_and(|nbf| (now as f64) < nbf) {
        return Err("JWT not valid yet".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 8037, appendix A.4: an Ed25519 JWS with its public key.
    const RFC_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    const RFC_JWS: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

    #[test]
    fn rfc_8037_signature_verifies() {
        let key = URL_SAFE_NO_PAD.decode(RFC_X).unwrap();
        let (signed, sig) = RFC_JWS.rsplit_once('.').unwrap();
        let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
        assert!(ed25519_valid(&key, signed.as_bytes(), &sig));
        assert!(!ed25519_valid(&key, b"something else", &sig));
        // Its payload is not a claims object: the signature passes, the claims check refuses.
        let jwks = parse_jwks(&format!(
            r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{RFC_X}"}},{{"kty":"RSA","n":"x"}}]}}"#
        ))
        .unwrap();
        assert_eq!(
            verify(RFC_JWS, &jwks, 0).unwrap_err(),
            "JWT claims are not JSON"
        );
        assert!(verify(RFC_JWS, &Jwks::default(), 0)
            .unwrap_err()
            .contains("signature"));
        assert!(verify("a.b", &jwks, 0).is_err());
    }
}
