//! Turning an OpenCTI STIX 2.1 export (`stix_entity`) into a typed [`Observable`].
//!
//! OpenCTI puts its own properties either at the top level (`x_opencti_additional_names`) or in
//! its extension object (`extensions."extension-definition--ea279b3e-…".additional_names`); both
//! are read. References (`parent_directory_ref`, `src_ref`, `dst_ref`) are resolved by the
//! caller (see [`ref_ids`]) and passed in as a map from STIX id to the referenced STIX object.

use std::collections::{BTreeMap, HashMap};
use std::net::{Ipv4Addr, Ipv6Addr};

use serde_json::Value;

use crate::entity::{FileObservable, NetworkTrafficObservable, Observable};

pub use crate::stix::OPENCTI_EXTENSION;

/// Longest value accepted for any observable string property. Longer values are rejected (the
/// indexer would refuse such a query anyway, and they are not plausible observables).
pub const MAX_VALUE_LEN: usize = 32 * 1024;

/// Why a STIX export could not be turned into an observable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObservableError {
    #[error("{0} is not a supported entity type")]
    Unsupported(String),
    #[error("{entity_type} has no {property}")]
    Missing {
        entity_type: String,
        property: &'static str,
    },
    #[error("{entity_type} has an invalid {property}: {reason}")]
    Invalid {
        entity_type: String,
        property: &'static str,
        reason: String,
    },
}

/// The STIX ids of the references [`from_stix`] wants resolved (those present in `stix`).
pub fn ref_ids(stix: &Value) -> Vec<String> {
    ["parent_directory_ref", "src_ref", "dst_ref"]
        .iter()
        .filter_map(|k| stix.get(*k).and_then(Value::as_str))
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn opt_str(stix: &Value, key: &str) -> Option<String> {
    stix.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .or_else(|| {
            stix.get("extensions")
                .and_then(|e| e.get(OPENCTI_EXTENSION))
                .and_then(|e| e.get(key))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        })
}

fn checked(
    entity_type: &str,
    property: &'static str,
    v: String,
) -> Result<String, ObservableError> {
    if v.len() > MAX_VALUE_LEN {
        return Err(ObservableError::Invalid {
            entity_type: entity_type.to_string(),
            property,
            reason: format!("longer than {MAX_VALUE_LEN} bytes"),
        });
    }
    Ok(v)
}

fn opt_checked(
    entity_type: &str,
    stix: &Value,
    property: &'static str,
) -> Result<Option<String>, ObservableError> {
    opt_str(stix, property)
        .map(|v| checked(entity_type, property, v))
        .transpose()
}

fn required(
    entity_type: &str,
    stix: &Value,
    property: &'static str,
) -> Result<String, ObservableError> {
    opt_checked(entity_type, stix, property)?.ok_or_else(|| ObservableError::Missing {
        entity_type: entity_type.to_string(),
        property,
    })
}

fn hashes(stix: &Value) -> BTreeMap<String, String> {
    stix.get("hashes")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| {
                    v.as_str()
                        .filter(|s| !s.is_empty() && s.len() <= 1024)
                        .map(|s| (k.clone(), s.to_string()))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn additional_names(stix: &Value) -> Vec<String> {
    let top = stix.get("x_opencti_additional_names");
    let ext = stix
        .get("extensions")
        .and_then(|e| e.get(OPENCTI_EXTENSION))
        .and_then(|e| e.get("additional_names"));
    let mut out: Vec<String> = Vec::new();
    for list in [top, ext].into_iter().flatten() {
        if let Some(a) = list.as_array() {
            for n in a.iter().filter_map(Value::as_str) {
                if !n.is_empty() && n.len() <= MAX_VALUE_LEN && !out.iter().any(|o| o == n) {
                    out.push(n.to_string());
                }
            }
        }
    }
    out
}

fn int(stix: &Value, key: &str) -> Option<i64> {
    stix.get(key).and_then(|v| {
        v.as_i64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
    })
}

/// The OpenCTI entity type of a STIX cyber-observable `type`.
fn entity_type_of_stix_type(t: &str) -> Option<&'static str> {
    Some(match t {
        "ipv4-addr" => "IPv4-Addr",
        "ipv6-addr" => "IPv6-Addr",
        "mac-addr" => "Mac-Addr",
        "domain-name" => "Domain-Name",
        "hostname" => "Hostname",
        "directory" => "Directory",
        _ => return None,
    })
}

fn resolve(
    refs: &HashMap<String, Value>,
    stix: &Value,
    key: &str,
) -> Result<Option<Box<Observable>>, ObservableError> {
    let Some(id) = stix.get(key).and_then(Value::as_str) else {
        return Ok(None);
    };
    let Some(target) = refs.get(id) else {
        // Unresolvable reference: the component is skipped, as the reference does.
        return Ok(None);
    };
    let stix_type = target
        .get("type")
        .and_then(Value::as_str)
        .or_else(|| id.split("--").next())
        .unwrap_or_default();
    match entity_type_of_stix_type(stix_type) {
        Some(et) => Ok(Some(Box::new(from_stix(et, target, refs)?))),
        // The reference gives up ("no queryable data") on endpoints it cannot search;
        // an unknown endpoint type is reported instead of silently widening the search.
        None => Err(ObservableError::Unsupported(format!(
            "Network-Traffic endpoint of type {stix_type:?}"
        ))),
    }
}

/// Builds the typed observable of an OpenCTI entity from its STIX export.
///
/// `entity_type` is OpenCTI's (`IPv4-Addr`, `StixFile`, …). Errors name the type and the
/// property at fault; no input makes this panic.
pub fn from_stix(
    entity_type: &str,
    stix: &Value,
    refs: &HashMap<String, Value>,
) -> Result<Observable, ObservableError> {
    let et = entity_type;
    let invalid = |property: &'static str, reason: String| ObservableError::Invalid {
        entity_type: et.to_string(),
        property,
        reason,
    };
    Ok(match et {
        "IPv4-Addr" => {
            let value = required(et, stix, "value")?;
            // Accept CIDR notation of a single host the way OpenCTI sometimes stores it.
            let host = value.strip_suffix("/32").unwrap_or(&value);
            host.parse::<Ipv4Addr>()
                .map_err(|e| invalid("value", format!("{value:?} is not an IPv4 address ({e})")))?;
            Observable::Ipv4Addr {
                value: host.to_string(),
            }
        }
        "IPv6-Addr" => {
            let value = required(et, stix, "value")?;
            let host = value.strip_suffix("/128").unwrap_or(&value);
            host.parse::<Ipv6Addr>()
                .map_err(|e| invalid("value", format!("{value:?} is not an IPv6 address ({e})")))?;
            Observable::Ipv6Addr {
                value: host.to_string(),
            }
        }
        "Domain-Name" => Observable::DomainName {
            value: required(et, stix, "value")?,
        },
        "Hostname" => Observable::Hostname {
            value: required(et, stix, "value")?,
        },
        "Url" => Observable::Url {
            value: required(et, stix, "value")?,
        },
        "Email-Addr" => Observable::EmailAddr {
            value: required(et, stix, "value")?,
        },
        "Mac-Addr" => Observable::MacAddr {
            value: required(et, stix, "value")?,
        },
        "User-Agent" => Observable::UserAgent {
            value: required(et, stix, "value")?,
        },
        "StixFile" | "File" => {
            let parent_directory = match stix.get("parent_directory_ref").and_then(Value::as_str) {
                Some(id) => refs
                    .get(id)
                    .and_then(|d| d.get("path"))
                    .and_then(Value::as_str)
                    .filter(|p| !p.is_empty() && p.len() <= MAX_VALUE_LEN)
                    .map(str::to_string),
                None => None,
            };
            let size = match stix.get("size") {
                None | Some(Value::Null) => None,
                Some(v) => Some(
                    v.as_u64()
                        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                        .ok_or_else(|| invalid("size", format!("{v} is not a file size")))?,
                ),
            };
            Observable::File(FileObservable {
                hashes: hashes(stix),
                name: opt_checked(et, stix, "name")?,
                additional_names: additional_names(stix),
                size,
                parent_directory,
            })
        }
        "Artifact" => Observable::Artifact {
            hashes: hashes(stix),
        },
        "Directory" => Observable::Directory {
            path: required(et, stix, "path")?,
        },
        "Windows-Registry-Key" => Observable::WindowsRegistryKey {
            key: required(et, stix, "key")?,
        },
        "Windows-Registry-Value-Type" => Observable::WindowsRegistryValue {
            name: opt_checked(et, stix, "name")?,
            data: opt_checked(et, stix, "data")?,
            data_type: opt_checked(et, stix, "data_type")?,
        },
        "Process" => Observable::Process {
            command_line: opt_checked(et, stix, "command_line")?,
            pid: int(stix, "pid"),
        },
        "User-Account" => Observable::UserAccount {
            account_login: opt_checked(et, stix, "account_login")?,
            user_id: opt_checked(et, stix, "user_id")?,
            display_name: opt_checked(et, stix, "display_name")?,
        },
        "Network-Traffic" => {
            let port = |key: &'static str| -> Result<Option<u16>, ObservableError> {
                match int(stix, key) {
                    None => Ok(None),
                    Some(p) => u16::try_from(p)
                        .map(Some)
                        .map_err(|_| invalid(key, format!("{p} is not a port number"))),
                }
            };
            Observable::NetworkTraffic(NetworkTrafficObservable {
                src: resolve(refs, stix, "src_ref")?,
                dst: resolve(refs, stix, "dst_ref")?,
                src_port: port("src_port")?,
                dst_port: port("dst_port")?,
                protocols: stix
                    .get("protocols")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .filter(|s| !s.is_empty() && s.len() <= 256)
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default(),
            })
        }
        "Vulnerability" => Observable::Vulnerability {
            name: required(et, stix, "name")?,
        },
        "Software" => Observable::Software {
            name: required(et, stix, "name")?,
            version: opt_checked(et, stix, "version")?,
        },
        other => return Err(ObservableError::Unsupported(other.to_string())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn no_refs() -> HashMap<String, Value> {
        HashMap::new()
    }

    #[test]
    fn ip_addresses_are_validated() {
        let ok = from_stix("IPv4-Addr", &json!({"value": "1.2.3.4"}), &no_refs()).unwrap();
        assert_eq!(
            ok,
            Observable::Ipv4Addr {
                value: "1.2.3.4".into()
            }
        );
        let err = from_stix("IPv4-Addr", &json!({"value": "1.2.3.999"}), &no_refs()).unwrap_err();
        assert!(err.to_string().contains("not an IPv4 address"), "{err}");
        let err = from_stix("IPv6-Addr", &json!({"value": "zz::1"}), &no_refs()).unwrap_err();
        assert!(
            err.to_string().contains("IPv6-Addr has an invalid value"),
            "{err}"
        );
        let err = from_stix("IPv4-Addr", &json!({}), &no_refs()).unwrap_err();
        assert_eq!(err.to_string(), "IPv4-Addr has no value");
    }

    #[test]
    fn unsupported_types_say_so() {
        let err =
            from_stix("Cryptocurrency-Wallet", &json!({"value": "x"}), &no_refs()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Cryptocurrency-Wallet is not a supported entity type"
        );
    }

    #[test]
    fn files_read_opencti_extension_names_and_parent_directory() {
        let stix = json!({
            "type": "file", "name": "a.exe", "size": "42",
            "hashes": {"SHA-256": "ab", "MD5": ""},
            "x_opencti_additional_names": ["b.exe"],
            "extensions": {OPENCTI_EXTENSION: {"additional_names": ["b.exe", "c.exe"]}},
            "parent_directory_ref": "directory--1"
        });
        let refs: HashMap<String, Value> = [(
            "directory--1".to_string(),
            json!({"type": "directory", "path": "C:\\Temp"}),
        )]
        .into();
        assert_eq!(ref_ids(&stix), vec!["directory--1"]);
        let Observable::File(f) = from_stix("StixFile", &stix, &refs).unwrap() else {
            panic!("not a file")
        };
        assert_eq!(f.name.as_deref(), Some("a.exe"));
        assert_eq!(f.additional_names, vec!["b.exe", "c.exe"]);
        assert_eq!(f.size, Some(42));
        assert_eq!(f.hashes.len(), 1, "empty hashes are dropped");
        assert_eq!(f.parent_directory.as_deref(), Some("C:\\Temp"));
    }

    #[test]
    fn network_traffic_resolves_endpoints() {
        let stix = json!({"src_ref": "ipv4-addr--a", "dst_ref": "domain-name--b", "dst_port": 443, "protocols": ["tcp"]});
        let refs: HashMap<String, Value> = [
            (
                "ipv4-addr--a".to_string(),
                json!({"type": "ipv4-addr", "value": "8.8.8.8"}),
            ),
            (
                "domain-name--b".to_string(),
                json!({"type": "domain-name", "value": "x.example"}),
            ),
        ]
        .into();
        let Observable::NetworkTraffic(t) = from_stix("Network-Traffic", &stix, &refs).unwrap()
        else {
            panic!()
        };
        assert_eq!(
            t.src.as_deref(),
            Some(&Observable::Ipv4Addr {
                value: "8.8.8.8".into()
            })
        );
        assert_eq!(
            t.dst.as_deref(),
            Some(&Observable::DomainName {
                value: "x.example".into()
            })
        );
        assert_eq!(t.dst_port, Some(443));
        let bad = from_stix("Network-Traffic", &json!({"src_port": 70000}), &refs).unwrap_err();
        assert!(bad.to_string().contains("not a port number"));
    }

    #[test]
    fn huge_values_are_rejected() {
        let v = "a".repeat(MAX_VALUE_LEN + 1);
        assert!(from_stix("Url", &json!({ "value": v }), &no_refs()).is_err());
    }
}
