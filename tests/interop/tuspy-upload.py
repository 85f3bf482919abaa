#!/usr/bin/python3
"""Upload one file with tuspy (Debian's python3-tuspy, `tusclient`).

    tuspy-upload.py ENDPOINT FILE [--header "Name: value"]... [--token-file F]
                    [--metadata k=v]...
                    [--metadata-file k=PATH]... [--chunk-size N] [--checksum]
                    [--stop-at BYTES] [--resume-from-url URL] [--print-header NAME]

--token-file sends "Authorization: Bearer" with the first line of F (so the
token is not on the command line). --checksum sends Upload-Checksum (sha1) with every PATCH. --stop-at uploads
only the first BYTES bytes (whole chunks) and stops, printing the URL, so a
second run with --resume-from-url URL finishes it. --print-header prints
"name: value" of the last PATCH response's header after the URL. Prints the
upload URL on stdout; on error "tuspy-upload: MESSAGE" on stderr and exit 1.
"""

import argparse
import os
import sys

from tusclient import client
from tusclient.exceptions import TusCommunicationError, TusUploadFailed


def key_value(s):
    if "=" not in s or s.startswith("="):
        raise argparse.ArgumentTypeError(f"wants key=value, got {s}")
    return tuple(s.split("=", 1))


def header(s):
    if ":" not in s or s.startswith(":"):
        raise argparse.ArgumentTypeError(f'wants "Name: value", got {s}')
    name, value = s.split(":", 1)
    return name.strip(), value.strip()


def main():
    ap = argparse.ArgumentParser(prog="tuspy-upload", description=__doc__.splitlines()[0])
    ap.add_argument("endpoint")
    ap.add_argument("file")
    ap.add_argument("--header", type=header, action="append", default=[])
    ap.add_argument("--token-file", default=None)
    ap.add_argument("--metadata", type=key_value, action="append", default=[])
    ap.add_argument("--metadata-file", type=key_value, action="append", default=[])
    ap.add_argument("--chunk-size", type=int, default=None)
    ap.add_argument("--checksum", action="store_true")
    ap.add_argument("--stop-at", type=int, default=None)
    ap.add_argument("--resume-from-url", default=None)
    ap.add_argument("--print-header", default=None)
    args = ap.parse_args()

    # tuspy sends an empty Upload-Metadata header when there is none, which
    # servers refuse: name the file, as tus-js-client does.
    metadata = {"filename": os.path.basename(args.file)}
    metadata.update(args.metadata)
    for key, path in args.metadata_file:
        with open(path, encoding="utf-8") as f:
            metadata[key] = f.read()
    kwargs = {"metadata": metadata, "upload_checksum": args.checksum}
    if args.chunk_size:
        kwargs["chunk_size"] = args.chunk_size
    if args.resume_from_url:
        kwargs["url"] = args.resume_from_url

    try:
        headers = dict(args.header)
        if args.token_file:
            with open(args.token_file, encoding="utf-8") as f:
                headers["Authorization"] = "Bearer " + f.readline().strip()
        tus = client.TusClient(args.endpoint, headers=headers)
        uploader = tus.uploader(args.file, **kwargs)
        uploader.upload(stop_at=args.stop_at)
    except (TusCommunicationError, TusUploadFailed) as e:
        msg = str(e)
        if e.status_code is not None:
            body = (e.response_content or b"").decode("utf-8", "replace").strip()[:300]
            msg += f" (status {e.status_code}: {body})"
        sys.stderr.write(f"tuspy-upload: {msg}\n")
        return 1
    except (OSError, ValueError) as e:
        sys.stderr.write(f"tuspy-upload: {e}\n")
        return 1
    print(uploader.url)
    if args.print_header:
        request = getattr(uploader, "request", None)
        value = request.response_headers.get(args.print_header.lower(), "") if request else ""
        print(f"{args.print_header.lower()}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
