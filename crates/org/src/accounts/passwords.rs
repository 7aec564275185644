//! Passwords: the policy a new password must meet, and Argon2id hashing.

use super::*;

pub(super) const MIN_PASSWORD: usize = 12;

pub(super) fn argon(app: &App) -> Argon2<'static> {
    let c = app.config();
    // The configured numbers are checked at start (config check); fall back to defaults.
    let params = Params::new(c.argon2_memory_kib, c.argon2_iterations, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Whether a password will do: 12 to 256 characters, none of the user's own words or the
/// product's name, and hard to guess by the `zxcvbn` estimator (score 3 of 4: out of reach
/// of an online attack and slow against a stolen hash). The reason is a catalog code, so
/// each language says it in its own words.
pub fn check_password_policy(password: &str, username: &str, own_words: &[&str]) -> std::result::Result<(), FieldError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD {
        return Err(FieldError::coded("password", "password-short", format!("must be at least {MIN_PASSWORD} characters")).arg("min", MIN_PASSWORD.to_string()));
    }
    if n > 256 {
        return Err(FieldError::coded("password", "password-long", "must be at most 256 characters"));
    }
    let lower = password.to_lowercase();
    // The name before an address's @ counts as the user name too.
    let name = username.to_lowercase();
    let local = name.split('@').next().unwrap_or("");
    // Names are words apart: "Hanako Yamada" catches "yamada hanako 1990" too.
    let words: Vec<String> =
        own_words.iter().flat_map(|w| w.split(|c: char| !c.is_alphanumeric())).filter(|w| w.chars().count() >= 3).map(str::to_lowercase).collect();
    if [name.as_str(), local].into_iter().chain(words.iter().map(String::as_str)).any(|w| w.chars().count() >= 3 && lower.contains(w)) {
        return Err(FieldError::coded("password", "password-username", "must not contain the user name or your own name"));
    }
    let product = ["isms"];
    if product.iter().any(|w| lower.contains(w)) {
        return Err(FieldError::coded("password", "password-product", "must not contain the product's name"));
    }
    let mut inputs: Vec<&str> = vec![&name, local, "isms"];
    inputs.extend(words.iter().map(String::as_str));
    let estimate = zxcvbn::zxcvbn(password, &inputs);
    if estimate.score() >= zxcvbn::Score::Three {
        return Ok(());
    }
    use zxcvbn::feedback::Warning as W;
    let refusal = match estimate.feedback().and_then(|f| f.warning()) {
        Some(W::ThisIsATop10Password | W::ThisIsATop100Password | W::ThisIsACommonPassword | W::ThisIsSimilarToACommonlyUsedPassword) => {
            FieldError::coded("password", "password-common", "is one of the passwords attackers try first")
        }
        Some(W::StraightRowsOfKeysAreEasyToGuess | W::ShortKeyboardPatternsAreEasyToGuess) => {
            FieldError::coded("password", "password-keyboard", "is a pattern of neighbouring keys")
        }
        Some(W::RepeatsLikeAaaAreEasyToGuess | W::RepeatsLikeAbcAbcAreOnlySlightlyHarderToGuess) => {
            FieldError::coded("password", "password-repeats", "repeats characters or groups of them")
        }
        Some(W::SequencesLikeAbcAreEasyToGuess) => FieldError::coded("password", "password-sequence", "is a sequence such as abc or 1234"),
        Some(W::RecentYearsAreEasyToGuess | W::DatesAreOftenEasyToGuess) => FieldError::coded("password", "password-dates", "rests on a date or a year"),
        Some(W::AWordByItselfIsEasyToGuess | W::NamesAndSurnamesByThemselvesAreEasyToGuess | W::CommonNamesAndSurnamesAreEasyToGuess) => {
            FieldError::coded("password", "password-words", "rests on a common word or name")
        }
        _ => FieldError::coded("password", "password-weak", "is too easy to guess"),
    };
    Err(refusal)
}

pub fn hash_password(app: &App, password: &str) -> Result<String> {
    argon(app).hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(|e| AppError::internal(format!("password hashing: {e}")))
}

pub(super) fn verify_password(app: &App, password: &str, phc: Option<&str>) -> bool {
    // Without a stored hash, still spend the same effort on a hash made with the same
    // parameters, so timing does not reveal which user names exist.
    let shared = app.shared::<Shared>();
    let stored = phc.unwrap_or_else(|| shared.dummy_hash.get_or_init(|| hash_password(app, "no such user, no such password").unwrap_or_default()));
    match PasswordHash::new(stored) {
        Ok(h) => argon(app).verify_password(password.as_bytes(), &h).is_ok() && phc.is_some(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::check_password_policy;

    fn code(password: &str, user: &str) -> Option<&'static str> {
        check_password_policy(password, user, &["Hanako Yamada"]).err().map(|e| e.code)
    }

    #[test]
    fn weak_passwords_are_refused_with_their_reason() {
        assert_eq!(code("aaaaaaaaaaaa", "hanako"), Some("password-repeats"));
        assert!(matches!(code("1234567890123456", "hanako"), Some("password-common" | "password-sequence")));
        assert_eq!(code("abcdefghijklmn", "hanako"), Some("password-sequence"));
        assert_eq!(code("password12345", "hanako"), Some("password-common"));
        assert_eq!(code("qwertyuiopasdf", "hanako"), Some("password-common"));
        assert_eq!(code("hanako-secret-2026", "hanako"), Some("password-username"));
        assert_eq!(code("hanako.y@example.com!", "hanako.y@example.com"), Some("password-username"));
        assert_eq!(code("my isms password", "taro"), Some("password-product"));
        assert_eq!(code("short", "taro"), Some("password-short"));
        assert_eq!(code("Yamada Hanako 1990", "taro"), Some("password-username"), "built from the user's own name");
    }

    #[test]
    fn passphrases_pass() {
        for p in ["correct horse battery", "demo-password-2026", "a long enough password", "violet kettle 47 ferry"] {
            assert_eq!(code(p, "taro"), None, "{p}");
        }
    }
}
