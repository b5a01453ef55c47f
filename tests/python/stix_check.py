"""Checks STIX objects the way OpenCTI and the OASIS validator see them.

Reads {"bundles": [[object, ...], ...], "skip_ids": [id, ...]} on stdin (the objects sent for
each enrichment; the ids of objects OpenCTI itself made, such as the enriched entity, whose ids
are not checked) and prints a JSON report:
  {"checked": N, "mismatches": [{"id", "type", "expected"}...], "no_recipe": [types...],
   "validator_errors": ["<id>: <message>", ...]}

`expected` is the id pycti 7 (and stix2, for observables) computes from the properties the
object itself carries: the id OpenCTI gives the object when it imports it. Validator errors are
those of stix2-validator on each bundle; OpenCTI's `severity` on incidents and
case-incidents (not in STIX) is left out.
"""

import json
import sys
import uuid

import stix2
from pycti import (
    AttackPattern,
    CaseIncident,
    Identity,
    Incident,
    Malware,
    Note,
    StixCoreRelationship,
    StixSightingRelationship,
    Tool,
    Vulnerability,
)
from pycti.utils import constants as octi
from stix2validator import ValidationOptions, validate_instance

SDO_RECIPES = {
    "identity": lambda o: Identity.generate_id(o["name"], o["identity_class"]),
    # OpenCTI reads the sighted entity from x_opencti_sighting_of_ref when present.
    "sighting": lambda o: StixSightingRelationship.generate_id(
        o.get("x_opencti_sighting_of_ref", o["sighting_of_ref"]),
        o["where_sighted_refs"],
        o.get("first_seen"),
        o.get("last_seen"),
    ),
    "relationship": lambda o: StixCoreRelationship.generate_id(
        o["relationship_type"],
        o["source_ref"],
        o["target_ref"],
        o.get("start_time"),
        o.get("stop_time"),
    ),
    "incident": lambda o: Incident.generate_id(o["name"], o.get("created")),
    "case-incident": lambda o: CaseIncident.generate_id(o["name"], o.get("created")),
    "note": lambda o: Note.generate_id(o.get("created"), o["content"], o.get("abstract")),
    "attack-pattern": lambda o: AttackPattern.generate_id(o["name"], o.get("x_mitre_id")),
    "tool": lambda o: Tool.generate_id(o["name"]),
    "vulnerability": lambda o: Vulnerability.generate_id(o["name"]),
    "malware": lambda o: Malware.generate_id(o["name"]),
}

SCO_CLASSES = {
    "ipv4-addr": stix2.IPv4Address,
    "ipv6-addr": stix2.IPv6Address,
    "domain-name": stix2.DomainName,
    "url": stix2.URL,
    "email-addr": stix2.EmailAddress,
    "mac-addr": stix2.MACAddress,
    "file": stix2.File,
    "artifact": stix2.Artifact,
    "directory": stix2.Directory,
    "mutex": stix2.Mutex,
    "autonomous-system": stix2.AutonomousSystem,
    "user-account": stix2.UserAccount,
    "software": stix2.Software,
    "windows-registry-key": stix2.WindowsRegistryKey,
    "network-traffic": stix2.NetworkTraffic,
    "x509-certificate": stix2.X509Certificate,
    "email-message": stix2.EmailMessage,
    "hostname": octi.CustomObservableHostname,
    "text": octi.CustomObservableText,
    "user-agent": octi.CustomObservableUserAgent,
}

# Properties OpenCTI adds to observables; they never contribute to an id.
NOT_SCO_PROPERTIES = {"id", "created_by_ref", "confidence", "labels", "object_marking_refs"}


def expected_id(o):
    t = o["type"]
    if t in SDO_RECIPES:
        return SDO_RECIPES[t](o)
    if t == "process":
        # No id-contributing properties: STIX wants a UUIDv4.
        u = uuid.UUID(o["id"].split("--", 1)[1])
        return o["id"] if u.version == 4 else "process--<a UUIDv4>"
    if t in SCO_CLASSES:
        props = {k: v for k, v in o.items() if k not in NOT_SCO_PROPERTIES and not k.startswith("x_")}
        return SCO_CLASSES[t](allow_custom=True, **props).id
    return None


def main():
    given = json.load(sys.stdin)
    skip = set(given["skip_ids"])
    objects = {o["id"]: o for b in given["bundles"] for o in b if o["id"] not in skip}
    mismatches, no_recipe = [], set()
    for o in objects.values():
        try:
            want = expected_id(o)
        except Exception as e:  # an object pycti/stix2 refuse has no OpenCTI id either
            want = "<refused: %s>" % e
        if want is None:
            no_recipe.add(o["type"])
        elif want != o["id"]:
            mismatches.append({"id": o["id"], "type": o["type"], "expected": want})
    errors = []
    for b in given["bundles"]:
        bundle = {"type": "bundle", "id": "bundle--" + str(uuid.uuid4()), "objects": b}
        results = validate_instance(bundle, ValidationOptions(version="2.1"))
        # Each error reads "<object id>: <message>". The validator names the whole list of
        # reserved properties, so an incident's `severity` is recognised by the object type.
        errors += [
            str(e)
            for e in results.errors or []
            if not (
                str(e).startswith(("incident--", "case-incident--"))
                and "reserved property ('severity'" in str(e)
            )
        ]
    json.dump(
        {
            "checked": len(objects),
            "mismatches": mismatches,
            "no_recipe": sorted(no_recipe),
            "validator_errors": errors,
        },
        sys.stdout,
        indent=1,
    )


if __name__ == "__main__":
    main()
