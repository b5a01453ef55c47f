#!/usr/bin/env python3
"""One-shot demo loader: puts the sample Wazuh alerts into a Wazuh indexer with fresh timestamps.

DEMO ONLY. It installs the Wazuh 4.x alerts template (as `filebeat setup` would) and bulk-loads
the sample alerts into one index, `wazuh-alerts-4.x-demo` (matched by the connector's default
`wazuh-alerts-*` pattern and by the template), with `timestamp` and `@timestamp` rewritten so that
the alerts are spread over the last few minutes and keep their original order. Re-running it is
harmless: each alert keeps a fixed document id in that one index, so it is overwritten, not
duplicated. (Wazuh itself writes one index per day; a fixed name keeps re-runs idempotent even
across midnight.)

Only the Python standard library is used, so it runs in a bare `python:3-alpine` container.

Environment (all optional):
  INDEXER_URL          base URL of the indexer            (default http://wazuh.indexer:9200)
  INDEXER_USERNAME     basic-auth user                    (default: no auth)
  INDEXER_PASSWORD     basic-auth password
  INDEXER_CA_BUNDLE    PEM file of the CA that signed the indexer's certificate (Wazuh's root-ca.pem)
  INDEXER_INSECURE     "true" = do not verify TLS (demo certificates only; default false)
  TEMPLATE_FILE        alerts index template              (default /data/wazuh-template.json)
  ALERTS_FILE          alerts, one JSON document a line   (default /data/alerts.ndjson)
  INDEX_NAME           target index                       (default wazuh-alerts-4.x-demo)
  SPREAD_MINUTES       alerts span this many minutes      (default 10)
  NEWEST_AGE_SECONDS   age of the newest alert            (default 60)
  KEEP_SAMPLEDATA      "true" = keep the `@sampledata` flag some alerts carry; by default it is
                       removed, because the connector skips flagged (dashboard sample) alerts
  WAIT_SECONDS         how long to wait for the indexer   (default 300)
Exit status: 0 when every alert was indexed, 1 otherwise (with the reason on stderr).
"""

import base64
import datetime as dt
import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.request


def env(name, default):
    value = os.environ.get(name, "").strip()
    return value if value else default


def truthy(name):
    return env(name, "false").lower() in ("1", "true", "yes")


class Indexer:
    def __init__(self, url, username, password, ca_bundle, insecure):
        self.url = url.rstrip("/")
        self.headers = {}
        if username:
            token = base64.b64encode(f"{username}:{password}".encode()).decode()
            self.headers["Authorization"] = f"Basic {token}"
        self.context = None
        if ca_bundle:
            self.context = ssl.create_default_context(cafile=ca_bundle)
        if insecure:
            self.context = ssl.create_default_context()
            self.context.check_hostname = False
            self.context.verify_mode = ssl.CERT_NONE

    def request(self, method, path, body=None, content_type="application/json", timeout=30):
        data = body.encode() if isinstance(body, str) else body
        req = urllib.request.Request(self.url + path, data=data, method=method)
        for key, value in self.headers.items():
            req.add_header(key, value)
        if data is not None:
            req.add_header("Content-Type", content_type)
        with urllib.request.urlopen(req, timeout=timeout, context=self.context) as resp:
            return resp.status, json.loads(resp.read() or b"null")

    def wait(self, seconds):
        deadline = time.monotonic() + seconds
        last = None
        while time.monotonic() < deadline:
            try:
                status, _ = self.request("GET", "/_cluster/health", timeout=5)
                if status == 200:
                    return
                last = f"HTTP {status}"
            except urllib.error.HTTPError as exc:
                if exc.code in (401, 403):
                    raise SystemExit(
                        f"indexer at {self.url} refused the credentials (HTTP {exc.code}): "
                        "check INDEXER_USERNAME / INDEXER_PASSWORD"
                    ) from exc
                last = f"HTTP {exc.code}"
            except (urllib.error.URLError, OSError, ValueError) as exc:
                last = str(exc)
            time.sleep(2)
        raise SystemExit(f"indexer at {self.url} not reachable after {seconds}s: {last}")


def wazuh_time(t):
    """Wazuh's alert timestamp format: milliseconds and a +0000 offset."""
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}+0000"


def iso_time(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def parse_time(value):
    """Best-effort parse of an alert's original timestamp (only used for ordering)."""
    try:
        return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")
    except (TypeError, ValueError):
        return dt.datetime.min.replace(tzinfo=dt.timezone.utc)


def freshen(alerts, now, spread, newest_age, keep_sampledata):
    """Returns (document id, alert) pairs with timestamps spread evenly over `spread`, ending
    `newest_age` before `now`, in the alerts' original chronological order."""
    order = sorted(range(len(alerts)), key=lambda i: parse_time(alerts[i].get("timestamp")))
    n = len(alerts)
    step = spread / (n - 1) if n > 1 else dt.timedelta(0)
    oldest = now - newest_age - spread
    out = []
    for rank, i in enumerate(order):
        doc = dict(alerts[i])
        t = oldest + step * rank
        doc["timestamp"] = wazuh_time(t)
        doc["@timestamp"] = iso_time(t)
        if not keep_sampledata:
            doc.pop("@sampledata", None)
        out.append((f"demo-{i:04d}", doc))
    return out


def bulk_body(docs, index):
    lines = []
    for doc_id, doc in docs:
        lines.append(json.dumps({"index": {"_index": index, "_id": doc_id}}))
        lines.append(json.dumps(doc, separators=(",", ":")))
    return "\n".join(lines) + "\n"


def main():
    indexer = Indexer(
        env("INDEXER_URL", "http://wazuh.indexer:9200"),
        env("INDEXER_USERNAME", ""),
        os.environ.get("INDEXER_PASSWORD", ""),
        env("INDEXER_CA_BUNDLE", ""),
        truthy("INDEXER_INSECURE"),
    )
    indexer.wait(int(env("WAIT_SECONDS", "300")))

    with open(env("TEMPLATE_FILE", "/data/wazuh-template.json"), encoding="utf-8") as f:
        template = f.read()
    status, _ = indexer.request("PUT", "/_template/wazuh", template)
    print(f"template applied (HTTP {status})")

    with open(env("ALERTS_FILE", "/data/alerts.ndjson"), encoding="utf-8") as f:
        alerts = [json.loads(line) for line in f if line.strip()]
    if not alerts:
        raise SystemExit("no alerts to load")
    now = dt.datetime.now(dt.timezone.utc)
    docs = freshen(
        alerts,
        now,
        dt.timedelta(minutes=float(env("SPREAD_MINUTES", "10"))),
        dt.timedelta(seconds=float(env("NEWEST_AGE_SECONDS", "60"))),
        truthy("KEEP_SAMPLEDATA"),
    )
    index = env("INDEX_NAME", "wazuh-alerts-4.x-demo")
    status, result = indexer.request(
        "POST", "/_bulk?refresh=true", bulk_body(docs, index), "application/x-ndjson", timeout=120
    )
    failed = [item for item in result.get("items", []) if item.get("index", {}).get("error")]
    if status >= 300 or result.get("errors") or failed:
        first = failed[0]["index"]["error"] if failed else result
        raise SystemExit(f"bulk load failed for {len(failed)} of {len(docs)} alerts: {first}")
    print(
        f"loaded {len(docs)} alerts into {index} between "
        f"{min(d['@timestamp'] for _, d in docs)} and {max(d['@timestamp'] for _, d in docs)}"
    )


if __name__ == "__main__":
    try:
        main()
    except urllib.error.HTTPError as exc:
        sys.exit(f"indexer answered HTTP {exc.code} for {exc.url}: {exc.read()[:500]!r}")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        sys.exit(f"loading failed: {exc}")
