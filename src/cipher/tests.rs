use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use super::*;

fn spec_key() -> DataKey {
    let bytes: Vec<u8> = (0u8..32).collect();
    DataKey::from_slice(&bytes).unwrap()
}

/// Spec 14.1: the envelope of `db.user` with IV 32 x 0x02.
#[test]
fn reproduces_spec_vector_aes() {
    let cipher = ValueCipher::new(&spec_key());
    let env =
        cipher.encrypt_with_iv(CipherKind::Aes256Gcm, b"admin", b"db:user:", ValueType::Str, vec![2; 32]);
    assert_eq!(
        env.to_text(),
        "ENC[AES256_GCM,data:Dh+ULCQ=,iv:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=,tag:3qHiBMfi/H/7GOUMxXK/rA==,type:str]"
    );
    let parsed = Envelope::parse(&env.to_text()).unwrap();
    assert_eq!(cipher.decrypt(&parsed, b"db:user:").unwrap().as_bytes(), b"admin");
    assert_eq!(cipher.decrypt(&parsed, b"db:pass:"), Err(EnvelopeError::AuthFailed));
}

#[test]
fn xchacha_round_trip_and_aad_binding() {
    let cipher = ValueCipher::new(&spec_key());
    let env = cipher.encrypt(CipherKind::XChaCha20Poly1305, b"secret", b"a:", ValueType::Str).unwrap();
    assert_eq!(env.iv.len(), 24);
    let text = env.to_text();
    assert!(text.starts_with("ENC[XCHACHA20_POLY1305,data:"));
    let parsed = Envelope::parse(&text).unwrap();
    assert_eq!(cipher.decrypt(&parsed, b"a:").unwrap().as_bytes(), b"secret");
    assert_eq!(cipher.decrypt(&parsed, b"b:"), Err(EnvelopeError::AuthFailed));
}

#[test]
fn rejects_malformed_envelopes() {
    assert_eq!(
        Envelope::parse("ENC[AES256_GCM,data:,iv:AA==,tag:AA==,type:str]"),
        Err(EnvelopeError::Malformed)
    );
    assert_eq!(Envelope::parse("plain"), Err(EnvelopeError::Malformed));
    assert!(matches!(
        Envelope::parse("ENC[ROT13,data:AA==,iv:AA==,tag:AA==,type:str]"),
        Err(EnvelopeError::UnknownCipher(_))
    ));
    assert!(matches!(
        Envelope::parse("ENC[AES256_GCM,data:AA==,iv:AA==,tag:AA==,type:blob]"),
        Err(EnvelopeError::UnknownType(_))
    ));
    assert_eq!(
        Envelope::parse("ENC[AES256_GCM,data:A!==,iv:AA==,tag:AA==,type:str]"),
        Err(EnvelopeError::BadBase64("data"))
    );
    let cipher = ValueCipher::new(&spec_key());
    let short_iv =
        Envelope::parse("ENC[AES256_GCM,data:AA==,iv:AA==,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]").unwrap();
    assert_eq!(cipher.decrypt(&short_iv, b""), Err(EnvelopeError::BadIvLength(1, "AES256_GCM")));
    let short_tag = Envelope::parse("ENC[AES256_GCM,data:AA==,iv:AA==,tag:AA==,type:str]").unwrap();
    assert_eq!(cipher.decrypt(&short_tag, b""), Err(EnvelopeError::BadTagLength(1)));
}

/// Nonces and tags longer than the inline space are kept whole, so the
/// error names their real length; the owned and borrowed decryptions
/// agree on good and bad envelopes alike.
#[test]
fn long_fields_are_refused_with_their_length() {
    let cipher = ValueCipher::new(&spec_key());
    let long = B64.encode([9u8; 40]);
    let tag16 = B64.encode([0u8; 16]);
    let long_iv =
        Envelope::parse(&format!("ENC[AES256_GCM,data:AA==,iv:{long},tag:{tag16},type:str]")).unwrap();
    assert_eq!(long_iv.iv.len(), 40);
    assert_eq!(&*long_iv.iv, &[9u8; 40][..]);
    assert_eq!(cipher.decrypt_owned(long_iv, b""), Err(EnvelopeError::BadIvLength(40, "AES256_GCM")));
    let iv32 = B64.encode([2u8; 32]);
    let long_tag =
        Envelope::parse(&format!("ENC[AES256_GCM,data:AA==,iv:{iv32},tag:{long},type:str]")).unwrap();
    assert_eq!(cipher.decrypt_owned(long_tag, b""), Err(EnvelopeError::BadTagLength(40)));

    let good =
        cipher.encrypt_with_iv(CipherKind::Aes256Gcm, b"admin", b"db:user:", ValueType::Str, vec![2; 32]);
    let parsed = Envelope::parse(&good.to_text()).unwrap();
    assert_eq!(parsed, good);
    assert_eq!(cipher.decrypt(&parsed, b"db:user:").unwrap().as_bytes(), b"admin");
    assert_eq!(cipher.decrypt_owned(parsed.clone(), b"db:user:").unwrap().as_bytes(), b"admin");
    assert_eq!(cipher.decrypt_owned(parsed, b"db:pass:"), Err(EnvelopeError::AuthFailed));
}

#[test]
fn trailing_text_after_the_bracket_is_ignored_like_sops() {
    let env = Envelope::parse("ENC[AES256_GCM,data:AA==,iv:AA==,tag:AA==,type:str]junk").unwrap();
    assert_eq!(env.value_type, ValueType::Str);
}

/// An envelope laid out as written but with no data is not one.
#[test]
fn an_envelope_without_data_is_malformed_either_way() {
    let iv = "A".repeat(44);
    let tag = "A".repeat(24);
    let text = format!("ENC[AES256_GCM,data:,iv:{iv},tag:{tag},type:str]");
    assert_eq!(super::Fields::parse_as_written(text.as_bytes()), None);
    assert!(matches!(super::Fields::parse(&text), Err(EnvelopeError::Malformed)));
}

proptest::proptest! {
    /// The hand-written field split is `split_once(",label")`.
    #[test]
    fn field_split_is_split_once(text in "[a-z,:]{0,24}", label in "(data|iv|tag|type):|a|,") {
        let expected = text.split_once(&format!(",{label}"));
        proptest::prop_assert_eq!(super::split_at_field(&text, &label), expected);
    }

    /// The shortcut for envelopes laid out as written gives the fields
    /// that reading field by field gives, or leaves the envelope to it:
    /// envelopes of both ciphers and every type, and the same with one
    /// character changed (to a comma, a line break, a bracket, ...) or
    /// a piece cut out. Envelopes as written always take the shortcut.
    #[test]
    fn envelopes_as_written_parse_as_field_by_field(
        data in proptest::collection::vec(proptest::num::u8::ANY, 1..40),
        xchacha in proptest::bool::ANY,
        type_index in 0usize..7,
        at in 0usize..256,
        with in r"[,\n\]\[A-Za-z0-9+/=:]",
        cut in 0usize..8,
    ) {
        let cipher = if xchacha { CipherKind::XChaCha20Poly1305 } else { CipherKind::Aes256Gcm };
        let types = ["str", "int", "float", "bool", "time", "comment", "bytes"];
        let envelope = Envelope {
            cipher,
            data,
            iv: ShortBytes::from_slice(&vec![7; cipher.iv_len()]),
            tag: ShortBytes::from_slice(&[9; 16]),
            value_type: ValueType::parse(types[type_index]).unwrap(),
        };
        let written = envelope.to_text();
        let as_written = super::Fields::parse_as_written(written.as_bytes());
        proptest::prop_assert!(as_written.is_some(), "{:?}", written);
        proptest::prop_assert_eq!(as_written, super::Fields::parse_each(&written).ok());
        let at = at % written.len();
        let mut changed = written.clone();
        changed.replace_range(at..at + 1, &with);
        let mut shortened = written.clone();
        shortened.replace_range(at..(at + cut).min(written.len()), "");
        for text in [changed, shortened] {
            if let Some(fields) = super::Fields::parse_as_written(text.as_bytes()) {
                proptest::prop_assert_eq!(Some(fields), super::Fields::parse_each(&text).ok(), "{:?}", text);
            }
        }
    }
}

/// Nonces from the pool are all different, across refills, and for
/// both lengths.
#[test]
fn pooled_nonces_never_repeat() {
    let cipher = ValueCipher::new(&DataKey::from_slice(&[7; 32]).unwrap());
    let mut seen = std::collections::HashSet::new();
    for i in 0..2_000 {
        let kind = if i % 3 == 0 { CipherKind::XChaCha20Poly1305 } else { CipherKind::Aes256Gcm };
        let envelope = cipher.encrypt(kind, b"v", b"a:", ValueType::Str).unwrap();
        assert_eq!(envelope.iv.len(), kind.iv_len());
        assert!(envelope.iv.iter().any(|b| *b != 0));
        assert!(seen.insert(envelope.iv), "nonce repeated at {i}");
    }
}

/// Parsing the slow, sure way: fields found one by one unless the checked
/// layout says where they are, then decoded. `Envelope::parse` and
/// decrypting in place skip the layout check and decode at once; they must
/// answer as this does.
fn parse_checked(text: &str) -> Result<Envelope, EnvelopeError> {
    let fields = super::Fields::parse(text)?;
    let data = super::decode_base64(&text.as_bytes()[fields.data.clone()])
        .ok_or(EnvelopeError::BadBase64("data"))?;
    let (iv, tag) = fields.iv_and_tag(text.as_bytes())?;
    Ok(Envelope { cipher: fields.cipher, data, iv, tag, value_type: fields.value_type })
}

/// Decrypting in place answers as parsing and then decrypting does,
/// including which error comes first; parsing answers as `parse_checked`.
fn in_place_agrees(
    cipher: &ValueCipher,
    text: &str,
    aad: &[u8],
) -> Result<(), proptest::test_runner::TestCaseError> {
    proptest::prop_assert_eq!(Envelope::parse(text), parse_checked(text), "{:?}", text);
    let two_steps = parse_checked(text).and_then(|envelope| {
        if envelope.value_type == ValueType::Comment {
            return Err(EnvelopeError::BadPlaintext("value (it is a comment)"));
        }
        let value_type = envelope.value_type;
        cipher.decrypt_owned(envelope, aad).map(|plain| (value_type, plain.as_bytes().to_vec()))
    });
    let in_place = cipher
        .decrypt_value_in_place(SecretBytes::from_text(text), aad)
        .map(|(value_type, plain)| (value_type, plain.as_bytes().to_vec()));
    proptest::prop_assert_eq!(in_place, two_steps, "{:?}", text);
    Ok(())
}

#[test]
fn decrypting_in_place_names_the_first_bad_field_as_parsing_does() {
    let cipher = ValueCipher::new(&spec_key());
    for (text, first) in [
        ("ENC[AES256_GCM,data:!!!!,iv:!!!!,tag:!!!!,type:str]", EnvelopeError::BadBase64("data")),
        ("ENC[AES256_GCM,data:AAAA,iv:!!!!,tag:!!!!,type:str]", EnvelopeError::BadBase64("iv")),
        ("ENC[AES256_GCM,data:AAAA,iv:AAAA,tag:!!!!,type:comment]", EnvelopeError::BadBase64("tag")),
        // Laid out as written (nonce and tag of their lengths) but with a
        // comma or a line break in a field: the field-by-field parse
        // answers, from the text as it was before the fast way decoded any
        // of it.
        (
            "ENC[AES256_GCM,data:QUJD,RA==,iv:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]",
            EnvelopeError::BadBase64("data"),
        ),
        (
            "ENC[AES256_GCM,data:QUJDRA==,iv:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA,=,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]",
            EnvelopeError::BadBase64("iv"),
        ),
        (
            "ENC[XCHACHA20_POLY1305,data:QUJDRA==,iv:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA,tag:AAAAAAAAAAAAAAAAAAAAA\n==,type:str]",
            EnvelopeError::Malformed,
        ),
    ] {
        // The last three take the fast way first (and must leave it).
        let as_written = super::Fields::place_as_written(text.as_bytes()).is_some();
        assert_eq!(as_written, text.len() > 100, "{text}");
        in_place_agrees(&cipher, text, b"").unwrap();
        let error = cipher.decrypt_value_in_place(SecretBytes::from_text(text), b"").unwrap_err();
        assert_eq!(error, first, "{text}");
    }
}

proptest::proptest! {
    #[test]
    fn decrypting_in_place_is_parsing_then_decrypting(
        plaintext in proptest::collection::vec(proptest::num::u8::ANY, 0..40),
        xchacha in proptest::bool::ANY,
        value_type in proptest::sample::select(vec![ValueType::Str, ValueType::Int, ValueType::Comment]),
        at in 0usize..200,
        with in "[A-Za-z0-9+/=,:\\]\\[!\n]{0,2}",
    ) {
        let cipher = ValueCipher::new(&spec_key());
        let kind = if xchacha { CipherKind::XChaCha20Poly1305 } else { CipherKind::Aes256Gcm };
        let text = cipher.encrypt(kind, &plaintext, b"a:b:", value_type).unwrap().to_text();
        in_place_agrees(&cipher, &text, b"a:b:")?;
        in_place_agrees(&cipher, &text, b"a:c:")?;
        // The same with a character replaced or inserted anywhere.
        let at = text.char_indices().map(|(i, _)| i).nth(at % text.len()).unwrap_or(0);
        let mut changed = text.clone();
        changed.replace_range(at..(at + 1).min(text.len()), &with);
        in_place_agrees(&cipher, &changed, b"a:b:")?;
        let mut inserted = text.clone();
        inserted.insert_str(at, &with);
        in_place_agrees(&cipher, &inserted, b"a:b:")?;
    }
}

proptest::proptest! {
    /// The hand-written decoder accepts and refuses exactly what the
    /// base64 crate's standard engine does: encodings of random bytes,
    /// the same with a character changed, and strings over the
    /// alphabet, padding and a few strangers.
    #[test]
    fn base64_decoding_is_the_standard_engines(
        bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..40),
        at in 0usize..64,
        with in "[A-Za-z0-9+/=!. -]",
        text in "[A-Za-z0-9+/=\\-_ ]{0,12}",
        prefix in "[A-Z\\[,:]{0,24}",
    ) {
        let encoded = B64.encode(&bytes);
        let mut changed = encoded.clone();
        if !changed.is_empty() {
            let at = at % changed.len();
            changed.replace_range(at..at + 1, &with);
        }
        for input in [&encoded, &changed, &text] {
            let expected = B64.decode(input.as_bytes()).ok();
            proptest::prop_assert_eq!(super::decode_base64(input.as_bytes()), expected.clone(), "{:?}", input);
            let short = super::decode_short_base64(input.as_bytes()).map(|bytes| bytes.to_vec());
            proptest::prop_assert_eq!(&short, &expected, "{:?}", input);
            // Where it lies in a longer text, as in an envelope, decoded
            // over that text's start.
            let mut buffer = format!("{prefix}{input},iv:").into_bytes();
            let place = prefix.len()..prefix.len() + input.len();
            let in_place = super::decode_base64_in_place(&mut buffer, place).ok().map(|len| buffer[..len].to_vec());
            proptest::prop_assert_eq!(in_place, expected, "{:?}", input);
        }
        let mut ours = Vec::new();
        super::encode_base64_into(&bytes, &mut ours);
        proptest::prop_assert_eq!(&String::from_utf8(ours).unwrap(), &encoded);
        // After what is already written, as in an envelope.
        let mut after = b"ENC[".to_vec();
        super::encode_base64_into(&bytes, &mut after);
        proptest::prop_assert_eq!(String::from_utf8(after).unwrap(), format!("ENC[{encoded}"));
    }
}
