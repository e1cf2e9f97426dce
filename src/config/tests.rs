use super::*;

const R1: &str = "age17l9qs5st5rpva0qzdzu5fxttsgrzxmuz2wtvr0zmas23t03duc5sfzzf6x";
const R2: &str = "age1z9lz3gy4npdstmq7kpv64693ad8yyaz2vkvegym0rjhym4hstpgszvez46";

fn load(text: &str) -> Result<Config> {
    Config::from_bytes(Path::new("/repo/.sops.yaml"), text.as_bytes())
}

fn recipients(rule: &CreationRule) -> Vec<Vec<String>> {
    rule.key_groups.iter().map(|g| g.iter().map(|k| k.identifier()).collect()).collect()
}

#[test]
fn first_matching_rule_wins_relative_to_the_config_dir() {
    let config = load(&format!(
        "creation_rules:\n  - path_regex: ^prod/.*\\.yaml$\n    age: {R1}\n  - path_regex: \\.yaml$\n    age: '{R1}, {R2}'\n  - age: [{R2}]\n"
    ))
    .unwrap();
    assert_eq!(recipients(config.rule_for(Path::new("/repo/prod/a.yaml")).unwrap()), [[R1]]);
    assert_eq!(recipients(config.rule_for(Path::new("/repo/dev/a.yaml")).unwrap()), [[R1, R2]]);
    // An absent path_regex matches everything.
    assert_eq!(recipients(config.rule_for(Path::new("/repo/x.json")).unwrap()), [[R2]]);
    // Outside the config dir the absolute path is matched.
    assert_eq!(recipients(config.rule_for(Path::new("/elsewhere/prod/a.yaml")).unwrap()), [[R1, R2]]);
}

#[test]
fn no_matching_rule_is_sops_error() {
    let config = load(&format!("creation_rules:\n  - path_regex: \\.env$\n    age: {R1}\n")).unwrap();
    let err = config.rule_for(Path::new("/repo/a.yaml")).unwrap_err();
    assert_eq!(err.exit_code(), 1);
    assert!(err.to_string().contains("no matching creation rules found"));
}

#[test]
fn reads_groups_threshold_selection_and_cipher() {
    let config = load(&format!(
        "creation_rules:\n  - shamir_threshold: 2\n    encrypted_regex: ^(data|stringData)$\n    cipher: aes256_gcm\n    mac_only_encrypted: true\n    key_groups:\n      - age: [{R1}]\n      - age: [{R2}]\n        kms:\n          - arn: arn:aws:kms:us-east-1:123456789012:key/abc\n            role: arn:aws:iam::123456789012:role/r\n            context: {{App: demo}}\n        merge:\n          - age: [{R1}]\n"
    ))
    .unwrap();
    let rule = &config.creation_rules[0];
    assert_eq!(rule.shamir_threshold, 2);
    assert_eq!(rule.cipher, Some(CipherKind::Aes256Gcm));
    assert!(rule.mac_only_encrypted);
    assert_eq!(rule.rule.as_ref().unwrap().field_name(), "encrypted_regex");
    assert_eq!(rule.key_groups.len(), 2);
    assert_eq!(
        recipients(rule)[1],
        [
            R2.to_owned(),
            "arn:aws:kms:us-east-1:123456789012:key/abc+arn:aws:iam::123456789012:role/r".to_owned(),
            R1.to_owned()
        ]
    );
    let MasterKey::Kms(kms) = &rule.key_groups[1][1] else { panic!() };
    assert_eq!(kms.context, [("App".to_owned(), "demo".to_owned())]);
}

#[test]
fn flat_key_types_are_parsed() {
    let config = load(
        "creation_rules:\n  - kms: arn:aws:kms:us-east-1:1:key/a+arn:aws:iam::1:role/x, arn:aws:kms:eu-west-1:1:alias/b\n    aws_profile: prof\n    gcp_kms: projects/p/locations/global/keyRings/r/cryptoKeys/k\n    azure_keyvault: https://v.vault.azure.net/keys/name/ver\n    hc_vault_transit_uri: https://vault:8200/v1/transit/keys/k\n    pgp: 'AB CD'\n",
    )
    .unwrap();
    let ids = recipients(&config.creation_rules[0]);
    assert_eq!(ids[0].len(), 6, "{ids:?}");
    assert!(ids[0].contains(&"https://v.vault.azure.net/keys/name/ver".to_owned()));
    assert!(ids[0].contains(&"https://vault:8200/v1/transit/keys/k".to_owned()));
    assert!(ids[0].contains(&"ABCD".to_owned()));
}

/// Regression: a rule's `hckms` keys were skipped, so a file was encrypted
/// for the rule's other keys only, without a word.
#[test]
fn hckms_keys_are_kept_not_dropped() {
    let config = load(
        "creation_rules:\n  - path_regex: flat\n    hckms: ap-southeast-1:0a1b, eu-west-0:2c3d\n    age: age17l9qs5st5rpva0qzdzu5fxttsgrzxmuz2wtvr0zmas23t03duc5sfzzf6x\n  - key_groups:\n      - hckms:\n          - key_id: cn-north-4:4e5f\n",
    )
    .unwrap();
    let ids = recipients(&config.creation_rules[0]);
    assert_eq!(ids[0].len(), 3, "{ids:?}");
    assert!(
        ids[0].contains(&"ap-southeast-1:0a1b".to_owned()) && ids[0].contains(&"eu-west-0:2c3d".to_owned())
    );
    assert_eq!(recipients(&config.creation_rules[1]), [["cn-north-4:4e5f".to_owned()]]);
    assert!(matches!(config.creation_rules[1].key_groups[0][0], MasterKey::Hckms(_)));
}

#[test]
fn invalid_configs_are_explained() {
    for (text, needle) in [
        ("creation_rules: 5\n", "must be a list"),
        ("creation_rules:\n  - path_regex: '('\n", "path_regex"),
        ("creation_rules:\n  - encrypted_regex: a\n    unencrypted_suffix: b\n", "only one of"),
        ("creation_rules:\n  - age: not-a-recipient\n", "not-a-recipient"),
        ("creation_rules:\n  - cipher: rot13\n", "cipher"),
        ("creation_rules:\n  - kms: arn:nope\n", "KMS key ARN"),
        ("creation_rules:\n  - hckms: no-region\n", "HuaweiCloud KMS key ID"),
        ("creation_rules:\n  - key_groups:\n      - hckms:\n          - id: a:b\n", "needs a key_id"),
        ("stores:\n  yaml:\n    indent: -1\n", "indent"),
        // Found by fuzzing: each write repeated the unit on every line.
        ("stores:\n  json:\n    indent: 1000000000000\n", "at most 64"),
        ("creation_rules: [\n", "yaml"),
    ] {
        let err = load(text).expect_err(text);
        assert_eq!(err.exit_code(), 1, "{text}");
        let message = err.to_string();
        assert!(message.contains(needle), "{text}: {message}");
        assert!(message.contains("/repo/.sops.yaml"), "{message}");
    }
}

#[test]
fn stores_and_empty_files() {
    let config = load("stores:\n  yaml:\n    indent: 2\n  json:\n    indent: 3\n").unwrap();
    assert_eq!(config.stores, StoreOptions { yaml_indent: 2, json_indent: Some(3) });
    assert!(load("").unwrap().creation_rules.is_empty());
}

#[test]
fn discovery_prefers_nearest_then_sops_rs_name() {
    let root = tempfile::tempdir().unwrap();
    let sub = root.path().join("a/b");
    std::fs::create_dir_all(&sub).unwrap();
    let env = Environment::empty();
    assert_eq!(discover(&sub, &env), None);
    std::fs::write(root.path().join(".sops.yaml"), "").unwrap();
    assert_eq!(discover(&sub, &env), Some(root.path().join(".sops.yaml")));
    std::fs::write(root.path().join(".sops-rs.yaml"), "").unwrap();
    assert_eq!(discover(&sub, &env), Some(root.path().join(".sops-rs.yaml")));
    std::fs::write(root.path().join("a/.sops.yaml"), "").unwrap();
    assert_eq!(discover(&sub, &env), Some(root.path().join("a/.sops.yaml")));
    let env = env.with("SOPS_CONFIG", "/explicit.yaml");
    assert_eq!(discover(&sub, &env), Some(PathBuf::from("/explicit.yaml")));
}
