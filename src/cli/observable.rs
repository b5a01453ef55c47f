//! What `connector-wazuh enrich <observable>` looks up: `type:value` on the command line, or a
//! STIX object / bundle from a file (`@file.json`), turned into the STIX object OpenCTI would send
//! with an enrichment request (deterministic ids, so repeated dry runs give the same bundle).

use serde_json::{json, Map, Value};

use crate::stix::id;

/// Largest `@file.json` read.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The entity to enrich and the other objects given with it (references, based-on observables).
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub entity: Value,
    pub others: Vec<Value>,
}

/// Types written as `type:value` with the value in `value`.
const VALUE_TYPES: &[&str] = &[
    "ipv4-addr",
    "ipv6-addr",
    "domain-name",
    "hostname",
    "url",
    "email-addr",
    "mac-addr",
    "user-agent",
];

/// Every accepted `type:` prefix, for the error message.
pub const ACCEPTED: &str = "ipv4-addr, ipv6-addr, domain-name, hostname, url, email-addr, mac-addr, user-agent, \
file (file:sha256=…, file:md5=…, file:sha1=…, file:sha512=…, file:name=…, or a bare hash), directory, \
windows-registry-key, mutex, process (command line), user-account (login), autonomous-system (number), \
software (name), vulnerability (CVE id), indicator ([STIX pattern]); or @file.json";

/// Parses `type:value` into a STIX object.
pub fn parse_spec(spec: &str) -> Result<Value, String> {
    let (ty, value) = spec.split_once(':').ok_or_else(|| {
        format!("`{spec}` is not `type:value` (e.g. ipv4-addr:1.2.3.4); accepted types: {ACCEPTED}")
    })?;
    let ty = ty.trim().to_ascii_lowercase();
    let value = value.trim();
    if value.is_empty() {
        return Err(format!("`{spec}`: the value after `{ty}:` is empty"));
    }
    let props = if VALUE_TYPES.contains(&ty.as_str()) {
        json!({ "value": value })
    } else {
        match ty.as_str() {
            "file" => file_props(value)?,
            "directory" => json!({ "path": value }),
            "windows-registry-key" => json!({ "key": value }),
            "mutex" => json!({ "name": value }),
            "software" => json!({ "name": value }),
            "user-account" => json!({ "account_login": value }),
            "process" => json!({ "command_line": value }),
            "autonomous-system" => {
                let n: u64 = value
                    .trim_start_matches(['A', 'S', 'a', 's'])
                    .parse()
                    .map_err(|_| {
                        format!("`{spec}`: an AS number is digits (e.g. autonomous-system:64500)")
                    })?;
                json!({ "number": n })
            }
            "vulnerability" => return Ok(vulnerability(value)),
            "indicator" => return Ok(indicator(value)),
            _ => {
                return Err(format!(
                    "`{ty}` is not a supported type; accepted: {ACCEPTED}"
                ))
            }
        }
    };
    Ok(sco(&ty, props))
}

fn sco(ty: &str, props: Value) -> Value {
    let sid = if ty == "process" {
        // Processes have no ID-contributing properties in STIX: derive one from the command
        // line so that repeated dry runs agree.
        id::from_data("process", &props)
    } else {
        id::sco(ty, &props)
    };
    let mut m = match props {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    m.insert("type".into(), json!(ty));
    m.insert("spec_version".into(), json!("2.1"));
    m.insert("id".into(), json!(sid));
    Value::Object(m)
}

/// `sha256=…`, `name=…`, or a bare hash recognised by its length.
fn file_props(value: &str) -> Result<Value, String> {
    let (kind, v) = match value.split_once('=') {
        Some((k, v)) => (
            k.trim().to_ascii_lowercase().replace(['-', '_'], ""),
            v.trim(),
        ),
        None => {
            let kind = match value.len() {
                32 => "md5",
                40 => "sha1",
                64 => "sha256",
                128 => "sha512",
                _ => "name",
            };
            (kind.to_string(), value)
        }
    };
    let algo = match kind.as_str() {
        "name" => return Ok(json!({ "name": v })),
        "md5" => "MD5",
        "sha1" => "SHA-1",
        "sha256" => "SHA-256",
        "sha512" => "SHA-512",
        other => {
            return Err(format!(
                "file:{other}=…: use file:sha256=…, file:sha1=…, file:md5=…, file:sha512=… or file:name=…"
            ))
        }
    };
    if v.is_empty() || !v.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("file:{kind}=`{v}` is not a hexadecimal hash"));
    }
    Ok(json!({ "hashes": { algo: v.to_ascii_lowercase() } }))
}

fn vulnerability(name: &str) -> Value {
    json!({
        "type": "vulnerability",
        "spec_version": "2.1",
        "id": id::named("vulnerability", name),
        "name": name,
    })
}

fn indicator(pattern: &str) -> Value {
    json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": id::from_data("indicator", &json!({ "pattern": pattern })),
        "name": pattern,
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "1970-01-01T00:00:00.000Z",
    })
}

/// Reads `@file.json`: a STIX object, or a bundle whose first observable, indicator or
/// vulnerability is the entity (the other objects are kept as its references).
pub fn from_json(text: &str) -> Result<Target, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let objects = match v.get("type").and_then(Value::as_str) {
        Some("bundle") => v
            .get("objects")
            .and_then(Value::as_array)
            .cloned()
            .ok_or("the bundle has no `objects` list")?,
        Some(_) => vec![v],
        None => return Err("not a STIX object (no `type`)".into()),
    };
    for o in &objects {
        if o.get("id").and_then(Value::as_str).is_none() {
            return Err(format!("a {} object has no `id`", crate::stix::type_of(o)));
        }
    }
    let pos = objects
        .iter()
        .position(|o| {
            let t = crate::stix::type_of(o);
            crate::stix::is_sco(t) || t == "indicator" || t == "vulnerability"
        })
        .ok_or("the file holds no observable, indicator or vulnerability to enrich")?;
    let mut others = objects;
    let entity = others.remove(pos);
    Ok(Target { entity, others })
}

/// The target of a command-line argument: `@path` reads a file (bounded), else `type:value`.
pub fn target(arg: &str) -> Result<Target, String> {
    if let Some(path) = arg.strip_prefix('@') {
        let meta = std::fs::metadata(path).map_err(|e| format!("{path}: {e}"))?;
        if meta.len() > MAX_FILE_BYTES {
            return Err(format!(
                "{path}: {} bytes is more than the {MAX_FILE_BYTES} accepted",
                meta.len()
            ));
        }
        let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
        return from_json(&text).map_err(|e| format!("{path}: {e}"));
    }
    parse_spec(arg).map(|entity| Target {
        entity,
        others: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_has_pycti_id() {
        let v = parse_spec("ipv4-addr:8.8.8.8").unwrap();
        assert_eq!(v["value"], "8.8.8.8");
        assert_eq!(v["type"], "ipv4-addr");
        // Same id as OpenCTI gives 8.8.8.8 (see pipeline tests).
        assert_eq!(v["id"], "ipv4-addr--2f689bf9-0ff2-545f-aa61-e495eb8cecc7");
    }

    #[test]
    fn file_forms() {
        let h = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let a = parse_spec(&format!("file:sha256={h}")).unwrap();
        let b = parse_spec(&format!("file:{h}")).unwrap();
        assert_eq!(a, b);
        assert_eq!(a["hashes"]["SHA-256"], h);
        assert_eq!(
            parse_spec("file:name=evil.exe").unwrap()["name"],
            "evil.exe"
        );
        assert_eq!(parse_spec("file:evil.exe").unwrap()["name"], "evil.exe");
        assert!(parse_spec("file:sha256=zzz").is_err());
        assert!(parse_spec("file:crc32=abcd").is_err());
    }

    #[test]
    fn other_types() {
        let p = parse_spec("process:powershell -enc AAAA").unwrap();
        assert_eq!(p["command_line"], "powershell -enc AAAA");
        assert_eq!(p, parse_spec("process:powershell -enc AAAA").unwrap());
        let v = parse_spec("vulnerability:CVE-2021-44228").unwrap();
        assert_eq!(v["type"], "vulnerability");
        assert_eq!(v["name"], "CVE-2021-44228");
        let i = parse_spec("indicator:[ipv4-addr:value = '1.2.3.4']").unwrap();
        assert_eq!(i["pattern"], "[ipv4-addr:value = '1.2.3.4']");
        assert_eq!(i["pattern_type"], "stix");
        let k = parse_spec("windows-registry-key:HKLM\\Software\\Run").unwrap();
        assert_eq!(k["key"], "HKLM\\Software\\Run");
        assert_eq!(
            parse_spec("autonomous-system:AS64500").unwrap()["number"],
            64500
        );
        assert_eq!(
            parse_spec("url:http://x/y?a=b").unwrap()["value"],
            "http://x/y?a=b"
        );
    }

    #[test]
    fn errors_name_the_accepted_forms() {
        assert!(parse_spec("1.2.3.4").unwrap_err().contains("type:value"));
        assert!(parse_spec("car:vw").unwrap_err().contains("accepted"));
        assert!(parse_spec("ipv4-addr:").unwrap_err().contains("empty"));
    }

    #[test]
    fn bundle_file() {
        let t = from_json(
            r#"{"type":"bundle","id":"bundle--1","objects":[
                {"type":"identity","id":"identity--1","name":"x"},
                {"type":"domain-name","id":"domain-name--1","value":"a.example"}]}"#,
        )
        .unwrap();
        assert_eq!(t.entity["value"], "a.example");
        assert_eq!(t.others.len(), 1);
        assert!(from_json(r#"{"type":"identity","id":"identity--1"}"#).is_err());
        assert!(from_json(r#"{"type":"ipv4-addr","value":"1.1.1.1"}"#).is_err());
        assert!(from_json("nope").is_err());
    }
}
