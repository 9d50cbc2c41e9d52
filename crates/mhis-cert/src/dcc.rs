//! EU Digital COVID Certificate rules that go beyond the shared stack:
//! certificate type and DSC key usage (hcert spec v1.0.8 §5.1.1 and the
//! DCC certificate governance, "Extended Key Usage").

use ciborium::Value;

/// The type of an EU DCC, from the group its single entry sits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DccType {
    /// `t`: test.
    Test,
    /// `v`: vaccination.
    Vaccination,
    /// `r`: recovery.
    Recovery,
}

impl DccType {
    /// Suffix of the type's extended key usage OIDs (`…2021.1.N`).
    fn oid_suffix(self) -> &'static str {
        match self {
            DccType::Test => "1",
            DccType::Vaccination => "2",
            DccType::Recovery => "3",
        }
    }
}

/// The EKU OID arcs that restrict a DSC to certificate types: the defined
/// `1.3.6.1.4.1.1847.2021.1.N` and the `1.3.6.1.4.1.0.1847.2021.1.N`
/// variant found in deployed certificates.
const KEY_USAGE_ARCS: [&str; 2] = ["1.3.6.1.4.1.1847.2021.1.", "1.3.6.1.4.1.0.1847.2021.1."];

/// The certificate type of a DCC payload (the map under −260/1): the first
/// of `v`, `t`, `r` holding a non-empty array.
pub fn dcc_type(payload: &Value) -> Option<DccType> {
    let Value::Map(entries) = payload else {
        return None;
    };
    let non_empty = |key: &str| {
        entries.iter().any(|(k, v)| {
            matches!(k, Value::Text(t) if t == key) && matches!(v, Value::Array(a) if !a.is_empty())
        })
    };
    [
        ("v", DccType::Vaccination),
        ("t", DccType::Test),
        ("r", DccType::Recovery),
    ]
    .into_iter()
    .find(|(k, _)| non_empty(k))
    .map(|(_, t)| t)
}

/// Whether a DSC with the given extended key usage OIDs may sign a DCC of
/// `ty`. A DSC without an extended key usage extension may sign every type;
/// a DSC with one may sign only the types whose OID it lists (either arc).
/// This is the rule the EU DCC test-data suite checks (`dgc-testdata`,
/// `test_expected_key_usage`, known as `EXPECTEDKEYUSAGE`): a DSC whose
/// extended key usages are all unrelated to DCC types signs none.
pub fn key_usage_allows(extended_key_usages: &[String], ty: DccType) -> bool {
    if extended_key_usages.is_empty() {
        return true;
    }
    extended_key_usages.iter().any(|oid| {
        KEY_USAGE_ARCS
            .iter()
            .any(|arc| oid.strip_prefix(arc) == Some(ty.oid_suffix()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_usage() {
        assert!(key_usage_allows(&[], DccType::Test));
        let other: Vec<String> = vec!["1.3.6.1.5.5.7.3.2".into()];
        assert!(!key_usage_allows(&other, DccType::Test));
        let test = vec!["1.3.6.1.4.1.1847.2021.1.1".to_owned()];
        assert!(key_usage_allows(&test, DccType::Test));
        assert!(!key_usage_allows(&test, DccType::Vaccination));
        let alt = vec!["1.3.6.1.4.1.0.1847.2021.1.3".to_owned()];
        assert!(key_usage_allows(&alt, DccType::Recovery));
        assert!(!key_usage_allows(&alt, DccType::Test));
    }
}
