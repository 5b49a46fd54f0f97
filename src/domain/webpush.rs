//! Web Push as pure functions: a browser's subscription keys parsed, a message encrypted for it
//! (RFC 8291 over RFC 8188 `aes128gcm`), and the VAPID authorisation of the request that carries
//! it to the push service (RFC 8292, an ES256 JWT). Sending (through the durable deliveries
//! table, like every outbound message) is the delivery worker's.
use aes_gcm::aead::Aead;
use aes_gcm::{Aes128Gcm, KeyInit, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use hkdf::Hkdf;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use sha2::Sha256;

use super::Invalid;

/// The record size written in the header: one record holds the whole (short) message.
const RECORD_SIZE: u32 = 4096;
/// The longest message one record takes (the record size less the padding delimiter and the
/// AEAD tag).
pub const MAX_PAYLOAD: usize = RECORD_SIZE as usize - 17;

/// A browser's push subscription, parsed: where to send and the keys to encrypt for.
#[derive(Clone, Debug)]
pub struct Subscription {
    pub endpoint: String,
    /// The user agent's P-256 public key (`keys.p256dh`).
    pub p256dh: PublicKey,
    /// The authentication secret (`keys.auth`, 16 bytes).
    pub auth: [u8; 16],
}

impl Subscription {
    /// Parses what `PushSubscription.toJSON()` gives: the endpoint (https; plain http only to
    /// this machine, for a push service under test) and the two keys in base64url. The error
    /// names the member.
    pub fn parse(endpoint: &str, p256dh: &str, auth: &str) -> Result<Self, Invalid> {
        let endpoint = endpoint.trim();
        let local = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
            .iter()
            .any(|p| endpoint.starts_with(p));
        if !(endpoint.starts_with("https://") || local)
            || endpoint.len() > 2000
            || endpoint.contains(|c: char| c.is_control() || c.is_whitespace())
        {
            return Err(Invalid::unacceptable(
                "invalid_endpoint",
                "endpoint must be the push service's https:// URL from the subscription",
            )
            .at("subscription.endpoint"));
        }
        let key = B64
            .decode(p256dh.trim().trim_end_matches('='))
            .ok()
            .and_then(|b| PublicKey::from_sec1_bytes(&b).ok())
            .ok_or_else(|| {
                Invalid::unacceptable(
                    "invalid_key",
                    "keys.p256dh must be the subscription's P-256 public key in base64url",
                )
                .at("subscription.keys.p256dh")
            })?;
        let auth = B64
            .decode(auth.trim().trim_end_matches('='))
            .ok()
            .and_then(|b| <[u8; 16]>::try_from(b.as_slice()).ok())
            .ok_or_else(|| {
                Invalid::unacceptable(
                    "invalid_key",
                    "keys.auth must be the subscription's 16-byte secret in base64url",
                )
                .at("subscription.keys.auth")
            })?;
        Ok(Self {
            endpoint: endpoint.to_owned(),
            p256dh: key,
            auth,
        })
    }
}

fn uncompressed(key: &PublicKey) -> Vec<u8> {
    key.to_encoded_point(false).as_bytes().to_vec()
}

/// Encrypts `plaintext` for the subscription with a fresh key pair and salt: the request body
/// (`Content-Encoding: aes128gcm`).
pub fn encrypt(ua_public: &PublicKey, auth: &[u8; 16], plaintext: &[u8]) -> Vec<u8> {
    let mut rng = rand::rngs::OsRng;
    let secret = SecretKey::random(&mut rng);
    let mut salt = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rng, &mut salt);
    encrypt_with(&secret, &salt, ua_public, auth, plaintext)
}

/// [`encrypt`] with the application server's key pair and the salt given (RFC 8291 section 3,
/// RFC 8188 section 2): one record, the padding delimiter 2 and no padding.
pub fn encrypt_with(
    as_secret: &SecretKey,
    salt: &[u8; 16],
    ua_public: &PublicKey,
    auth: &[u8; 16],
    plaintext: &[u8],
) -> Vec<u8> {
    let as_public = uncompressed(&as_secret.public_key());
    let shared = p256::ecdh::diffie_hellman(as_secret.to_nonzero_scalar(), ua_public.as_affine());
    let mut info = b"WebPush: info\0".to_vec();
    info.extend(uncompressed(ua_public));
    info.extend(&as_public);
    let mut ikm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(auth), shared.raw_secret_bytes())
        .expand(&info, &mut ikm)
        .expect("32 bytes is a valid HKDF-SHA256 length");
    let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
    let (mut cek, mut nonce) = ([0u8; 16], [0u8; 12]);
    prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek)
        .expect("16 bytes is a valid HKDF-SHA256 length");
    prk.expand(b"Content-Encoding: nonce\0", &mut nonce)
        .expect("12 bytes is a valid HKDF-SHA256 length");
    let mut record = plaintext.to_vec();
    record.push(2);
    let sealed = Aes128Gcm::new(&cek.into())
        .encrypt(Nonce::from_slice(&nonce), record.as_slice())
        .expect("AES-GCM seals any message of this size");
    let mut body = Vec::with_capacity(16 + 4 + 1 + 65 + sealed.len());
    body.extend(salt);
    body.extend(RECORD_SIZE.to_be_bytes());
    body.push(as_public.len() as u8);
    body.extend(&as_public);
    body.extend(sealed);
    body
}

/// The service's VAPID key from its 32 stored bytes (None when they are not a P-256 key).
pub fn vapid_key(bytes: &[u8]) -> Option<SigningKey> {
    SigningKey::from_slice(bytes).ok()
}

/// A new VAPID key's 32 bytes.
pub fn new_vapid_key() -> Vec<u8> {
    SigningKey::random(&mut rand::rngs::OsRng)
        .to_bytes()
        .to_vec()
}

/// The VAPID public key in base64url, as `PushManager.subscribe({applicationServerKey})` takes it.
pub fn vapid_public(key: &SigningKey) -> String {
    B64.encode(key.verifying_key().to_encoded_point(false).as_bytes())
}

/// The origin (scheme, host and port) of a URL: the audience of the VAPID token.
pub fn origin(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let host_end = rest.find('/').unwrap_or(rest.len());
    Some(&url[..url.len() - rest.len() + host_end])
}

/// The `Authorization` header of a push request (RFC 8292): `vapid t=<JWT>, k=<public key>`,
/// the token valid for 12 hours from `now` (seconds) for the endpoint's origin.
pub fn vapid_authorization(
    key: &SigningKey,
    endpoint: &str,
    subject: &str,
    now: i64,
) -> Option<String> {
    let header = B64.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
    let claims =
        serde_json::json!({"aud": origin(endpoint)?, "exp": now + 12 * 3600, "sub": subject});
    let input = format!("{header}.{}", B64.encode(claims.to_string()));
    let signature: Signature = key.sign(input.as_bytes());
    Some(format!(
        "vapid t={input}.{}, k={}",
        B64.encode(signature.to_bytes()),
        vapid_public(key)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> Vec<u8> {
        B64.decode(s).unwrap()
    }

    #[test]
    fn the_message_is_encrypted_exactly_as_in_rfc_8291_appendix_a() {
        let as_secret =
            SecretKey::from_slice(&b64("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw")).unwrap();
        let sub = Subscription::parse(
            "https://push.example.net/push/JzLQ3raZJfFBR0aqvOMsLrt54w4rJUsV",
            "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
            "BTBZMqHH6r4Tts7J_aSIgg",
        )
        .unwrap();
        let salt: [u8; 16] = b64("DGv6ra1nlYgDCS1FRnbzlw").try_into().unwrap();
        let body = encrypt_with(
            &as_secret,
            &salt,
            &sub.p256dh,
            &sub.auth,
            b"When I grow up, I want to be a watermelon",
        );
        assert_eq!(
            B64.encode(body),
            "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
        );
    }

    #[test]
    fn a_subscription_with_a_bad_member_is_refused_naming_it() {
        let key =
            "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
        let field = |e: &str, k: &str, a: &str| {
            Subscription::parse(e, k, a)
                .unwrap_err()
                .field
                .unwrap_or_default()
        };
        assert_eq!(
            field("http://push.example/x", key, "BTBZMqHH6r4Tts7J_aSIgg"),
            "subscription.endpoint"
        );
        assert_eq!(
            field("https://push.example/x", "AAAA", "BTBZMqHH6r4Tts7J_aSIgg"),
            "subscription.keys.p256dh"
        );
        assert_eq!(
            field("https://push.example/x", key, "c2hvcnQ"),
            "subscription.keys.auth"
        );
        assert!(Subscription::parse("http://127.0.0.1:9/p", key, "BTBZMqHH6r4Tts7J_aSIgg").is_ok());
        assert_eq!(
            field("https://push.example/a\0b", key, "BTBZMqHH6r4Tts7J_aSIgg"),
            "subscription.endpoint"
        );
    }

    #[test]
    fn the_vapid_token_is_signed_for_the_endpoints_origin() {
        use p256::ecdsa::signature::Verifier;
        let key = vapid_key(&new_vapid_key()).unwrap();
        let header = vapid_authorization(
            &key,
            "https://push.example.net:8443/wpush/v2/abc",
            "mailto:noreply@zglos.test",
            1_000,
        )
        .unwrap();
        let (t, k) = header
            .strip_prefix("vapid t=")
            .unwrap()
            .split_once(", k=")
            .unwrap();
        assert_eq!(k, vapid_public(&key));
        let (input, sig) = t.rsplit_once('.').unwrap();
        let claims: serde_json::Value =
            serde_json::from_slice(&b64(input.split('.').nth(1).unwrap())).unwrap();
        assert_eq!(claims["aud"], "https://push.example.net:8443");
        assert_eq!(claims["exp"], 1_000 + 12 * 3600);
        let verifying = p256::ecdsa::VerifyingKey::from_sec1_bytes(&b64(k)).unwrap();
        let sig = Signature::from_slice(&b64(sig)).unwrap();
        assert!(verifying.verify(input.as_bytes(), &sig).is_ok());
        assert_eq!(
            origin("http://127.0.0.1:5000"),
            Some("http://127.0.0.1:5000")
        );
        assert_eq!(origin("ftp://x"), None);
    }
}
