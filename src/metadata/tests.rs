use super::*;

fn field_names(node: &Node) -> Vec<String> {
    let Value::Map(items) = &node.value else { panic!("not a map") };
    items
        .iter()
        .filter_map(|i| match i {
            MapItem::Pair(p) => Some(p.key.name.clone()),
            MapItem::Comment(_) => None,
        })
        .collect()
}

fn sample(groups: Vec<KeyGroup>) -> Metadata {
    Metadata {
        key_groups: groups,
        shamir_threshold: 0,
        last_modified: "2025-01-01T00:00:00Z".into(),
        mac: "ENC[AES256_GCM,data:AA==,iv:AA==,tag:AA==,type:str]".into(),
        rule: Some(("unencrypted_suffix".into(), "_unencrypted".into())),
        mac_only_encrypted: false,
        version: WRITE_VERSION.into(),
        style_memory: None,
        unknown: Vec::new(),
    }
}

fn age(recipient: &str) -> MasterKey {
    MasterKey::Age(AgeKey {
        recipient: recipient.into(),
        enc: "-----BEGIN AGE ENCRYPTED FILE-----\nx\n-----END AGE ENCRYPTED FILE-----\n".into(),
    })
}

fn kms() -> MasterKey {
    MasterKey::Kms(KmsKey {
        arn: "arn:aws:kms:us-east-1:123456789012:key/abcd".into(),
        role: String::new(),
        context: vec![("Zed".into(), "last".into()), ("App".into(), "demo".into())],
        created_at: "2024-05-06T07:08:09Z".into(),
        enc: "AQIC".into(),
        aws_profile: String::new(),
    })
}

#[test]
fn single_group_field_order_matches_sops() {
    let mut meta = sample(vec![vec![age("age1a"), kms()]]);
    meta.mac_only_encrypted = true;
    let node = meta.to_node(EmptyList::Brackets);
    assert_eq!(
        field_names(&node),
        ["kms", "age", "lastmodified", "mac", "unencrypted_suffix", "mac_only_encrypted", "version"]
    );
    // KMS entries: arn, (role omitted), context sorted, created_at, enc, aws_profile always.
    let kms_list = crate::tree::map_get(
        match &node.value {
            Value::Map(items) => items,
            _ => unreachable!(),
        },
        "kms",
    )
    .unwrap();
    let Value::Seq(entries) = &kms_list.value else { panic!() };
    let SeqItem::Value(entry) = &entries[0] else { panic!() };
    assert_eq!(field_names(entry), ["arn", "context", "created_at", "enc", "aws_profile"]);
    let Value::Map(fields) = &entry.value else { panic!() };
    assert_eq!(field_names(crate::tree::map_get(fields, "context").unwrap()), ["App", "Zed"]);
}

#[test]
fn several_groups_use_key_groups_with_threshold_first() {
    let mut meta = sample(vec![vec![age("age1a")], vec![age("age1b")]]);
    meta.shamir_threshold = 2;
    let node = meta.to_node(EmptyList::Brackets);
    assert_eq!(
        field_names(&node),
        ["shamir_threshold", "key_groups", "lastmodified", "mac", "unencrypted_suffix", "version"]
    );
    let Value::Map(items) = &node.value else { panic!() };
    let Value::Seq(groups) = &crate::tree::map_get(items, "key_groups").unwrap().value else { panic!() };
    let SeqItem::Value(group) = &groups[0] else { panic!() };
    assert_eq!(field_names(group), ["hc_vault", "age"]);
    let Value::Map(group_items) = &group.value else { panic!() };
    assert!(
        matches!(&crate::tree::map_get(group_items, "hc_vault").unwrap().value, Value::Seq(v) if v.is_empty())
    );
    let json_style = meta.to_node(EmptyList::Null);
    let Value::Map(items) = &json_style.value else { panic!() };
    let Value::Seq(groups) = &crate::tree::map_get(items, "key_groups").unwrap().value else { panic!() };
    let SeqItem::Value(group) = &groups[0] else { panic!() };
    let Value::Map(group_items) = &group.value else { panic!() };
    assert!(matches!(
        crate::tree::map_get(group_items, "hc_vault").unwrap().value,
        Value::Scalar(Scalar::Null)
    ));
}

#[test]
fn round_trips_through_the_node() {
    for meta in [sample(vec![vec![age("age1a"), kms()]]), {
        let mut m = sample(vec![vec![age("age1a")], vec![kms(), age("age1c")]]);
        m.shamir_threshold = 2;
        m
    }] {
        let back = Metadata::from_node(&meta.to_node(EmptyList::Brackets)).unwrap();
        let mut expected = meta.clone();
        // Within a group, keys come back grouped by type in sops's order.
        for group in &mut expected.key_groups {
            group.sort_by_key(|k| {
                ["kms", "gcp_kms", "hckms", "azure_kv", "hc_vault", "age", "pgp"]
                    .iter()
                    .position(|t| *t == k.type_id())
            });
        }
        let mut got = back.clone();
        for group in &mut got.key_groups {
            group.sort_by_key(|k| {
                ["kms", "gcp_kms", "hckms", "azure_kv", "hc_vault", "age", "pgp"]
                    .iter()
                    .position(|t| *t == k.type_id())
            });
        }
        if let Some(MasterKey::Kms(k)) =
            expected.key_groups.iter_mut().flatten().find(|k| k.type_id() == "kms")
        {
            k.context.sort();
        }
        assert_eq!(got, expected);
    }
}

fn without(node: &Node, name: &str) -> Node {
    let Value::Map(items) = &node.value else { panic!() };
    Node::map(
        items.iter().filter(|i| !matches!(i, MapItem::Pair(p) if p.key.name == name)).cloned().collect(),
    )
}

fn with(node: &Node, name: &str, value: Node) -> Node {
    let Value::Map(items) = &node.value else { panic!() };
    let mut items: Vec<MapItem> =
        items.iter().filter(|i| !matches!(i, MapItem::Pair(p) if p.key.name == name)).cloned().collect();
    items.push(field(name, value));
    Node::map(items)
}

#[test]
fn invalid_metadata_is_refused_like_sops() {
    let good = sample(vec![vec![age("age1a")]]).to_node(EmptyList::Brackets);
    assert!(Metadata::from_node(&good).is_ok());
    for (name, broken) in [
        ("no lastmodified", without(&good, "lastmodified")),
        ("no version", without(&good, "version")),
        ("empty version", with(&good, "version", string(""))),
        ("garbage version", with(&good, "version", string("abc"))),
        ("numeric version", with(&good, "version", int(3))),
        ("bad lastmodified", with(&good, "lastmodified", string("yesterday"))),
        ("no keys", without(&good, "age")),
        ("two rules", with(&good, "encrypted_regex", string("^a$"))),
        ("bad regex", with(&without(&good, "unencrypted_suffix"), "encrypted_regex", string("("))),
    ] {
        let err = Metadata::from_node(&broken).expect_err(name);
        assert_eq!(err.exit_code(), 1, "{name}");
    }
    let kms_without_created_at = {
        let mut meta = sample(vec![vec![kms()]]);
        if let MasterKey::Kms(k) = &mut meta.key_groups[0][0] {
            k.created_at.clear();
        }
        meta.to_node(EmptyList::Brackets)
    };
    assert!(Metadata::from_node(&kms_without_created_at).is_err());
}

#[test]
fn flat_lists_win_over_key_groups() {
    let single = sample(vec![vec![age("age1flat")]]).to_node(EmptyList::Brackets);
    let mut grouped = sample(vec![vec![age("age1g1")], vec![age("age1g2")]]);
    grouped.shamir_threshold = 2;
    let groups_node = grouped.to_node(EmptyList::Brackets);
    let Value::Map(items) = &groups_node.value else { panic!() };
    let key_groups = crate::tree::map_get(items, "key_groups").unwrap().clone();
    let both = with(&single, "key_groups", key_groups);
    let meta = Metadata::from_node(&both).unwrap();
    assert_eq!(meta.key_groups.len(), 1);
    assert_eq!(meta.key_groups[0][0].identifier(), "age1flat");
}

#[test]
fn mac_aad_is_reformatted_lastmodified() {
    let mut meta = sample(vec![vec![age("age1a")]]);
    meta.last_modified = "2025-01-01T00:00:00.5+00:00".into();
    assert_eq!(meta.mac_aad().unwrap(), "2025-01-01T00:00:00Z");
}
