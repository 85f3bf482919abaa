#!/usr/bin/env python3
"""Checks the signatures of the requests s3_fault_proxy.py --record saw, with
botocore's own SigV4 signer (the AWS SDK's) as the oracle.

    s3_sigv4_check.py RECORD ACCESS_KEY SECRET_KEY REGION

Only requests whose User-Agent starts with "iep-serve" (the S3 store's) are
checked: each must sign x-amz-content-sha256, which must be the SHA-256 of
the body it sent, and its Signature must be the one botocore computes for
the same method, URL and signed headers. Exit 1 on any mismatch, or when no
request was checked; prints the operations seen.
"""
import json
import sys

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

record, key, secret, region = sys.argv[1:5]
checked, bad, seen = 0, 0, set()
for line in open(record):
    r = json.loads(line)
    lines = r["head"].split("\r\n")
    method, target, _ = lines[0].split(" ")
    headers = {}
    for h in lines[1:]:
        name, _, value = h.partition(":")
        headers[name.strip().lower()] = value.strip()
    if not headers.get("user-agent", "").startswith("iep-serve"):
        continue
    auth = headers.get("authorization", "")
    signed = auth.partition("SignedHeaders=")[2].partition(",")[0].split(";")
    mine = auth.partition("Signature=")[2]
    if "x-amz-content-sha256" not in signed or headers["x-amz-content-sha256"] != r["sha256"]:
        print(f"payload hash not signed or wrong: {method} {target}")
        bad += 1
        continue
    req = AWSRequest(method=method, url="http://" + headers["host"] + target, data=b"",
                     headers={k: v for k, v in headers.items() if k in signed})
    req.context["timestamp"] = headers["x-amz-date"]
    signer = S3SigV4Auth(Credentials(key, secret, headers.get("x-amz-security-token")), "s3",
                         region)
    canonical = signer.canonical_request(req)
    want = signer.signature(signer.string_to_sign(req, canonical), req)
    if want != mine:
        print(f"signature differs: {method} {target}\ncanonical request:\n{canonical}")
        bad += 1
        continue
    checked += 1
    query = target.partition("?")[2]
    seen.add(f"{method} {query.partition('=')[0]}".strip())
print(f"{checked} requests verified, {bad} wrong; operations: {', '.join(sorted(seen))}")
sys.exit(1 if bad or not checked else 0)
