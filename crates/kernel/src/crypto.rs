//! Encryption of sensitive fields at rest (second-factor secrets now; personal data in
//! later modules) with ChaCha20-Poly1305, keyed from the instance secret that lives
//! outside the database. A stored value is `v1:` and base64 of nonce and ciphertext.

use crate::AppError;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use sha2::Digest;

pub struct FieldCipher {
    cipher: ChaCha20Poly1305,
}

impl FieldCipher {
    /// Derives the field key from the instance secret (a different key from the audit
    /// chain's, so neither use can stand in for the other).
    pub fn new(secret: &[u8]) -> Self {
        let key = sha2::Sha256::digest([b"isms field encryption v1\0".as_slice(), secret].concat());
        // A SHA-256 digest is 32 bytes: exactly the key size.
        Self { cipher: ChaCha20Poly1305::new(&key) }
    }

    pub fn seal(&self, plain: &str) -> Result<String, AppError> {
        use rand::Rng;
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let n = Nonce::try_from(&nonce[..]).map_err(|_| AppError::internal("nonce size"))?;
        let ct = self.cipher.encrypt(&n, plain.as_bytes()).map_err(|_| AppError::internal("field encryption failed"))?;
        let mut out = nonce.to_vec();
        out.extend(ct);
        Ok(format!("v1:{}", base64::engine::general_purpose::STANDARD_NO_PAD.encode(out)))
    }

    pub fn open(&self, sealed: &str) -> Result<String, AppError> {
        let bad = || AppError::internal("an encrypted field cannot be read with this instance's key");
        let raw = sealed.strip_prefix("v1:").ok_or_else(bad)?;
        let bytes = base64::engine::general_purpose::STANDARD_NO_PAD.decode(raw).map_err(|_| bad())?;
        if bytes.len() < 12 {
            return Err(bad());
        }
        let n = Nonce::try_from(&bytes[..12]).map_err(|_| bad())?;
        let plain = self.cipher.decrypt(&n, &bytes[12..]).map_err(|_| bad())?;
        String::from_utf8(plain).map_err(|_| bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let c = FieldCipher::new(b"secret");
        let s = c.seal("JBSWY3DPEHPK3PXP").unwrap();
        assert!(s.starts_with("v1:") && !s.contains("JBSW"));
        assert_eq!(c.open(&s).unwrap(), "JBSWY3DPEHPK3PXP");
        assert_ne!(c.seal("x").unwrap(), c.seal("x").unwrap(), "fresh nonce each time");
        assert!(FieldCipher::new(b"other").open(&s).is_err());
        let mut t = s.clone().into_bytes();
        let last = t.len() - 2;
        t[last] = if t[last] == b'A' { b'B' } else { b'A' };
        assert!(c.open(&String::from_utf8(t).unwrap()).is_err());
        assert!(c.open("JBSWY3DPEHPK3PXP").is_err());
    }
}
