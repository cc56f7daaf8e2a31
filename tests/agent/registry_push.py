#!/usr/bin/env python3
"""Pushes a docker-archive tarball (docker save format, as packaging/images/build-image.sh
writes it) to a registry over the Docker Registry HTTP API v2, without any daemon.

Usage: registry_push.py ARCHIVE http://HOST:PORT REPOSITORY:TAG [--user U --password P]

Each blob (the image config and the layers, gzipped) is uploaded with a monolithic upload
(POST /v2/<repo>/blobs/uploads/, then PUT <location>?digest=...), unless the registry has it
already (HEAD); then the schema 2 manifest is PUT under the tag. Prints the manifest digest.
Exits non-zero with the registry's answer on any failure.
"""
import argparse
import base64
import gzip
import hashlib
import io
import json
import sys
import tarfile
import urllib.error
import urllib.parse
import urllib.request

MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
CONFIG_TYPE = "application/vnd.docker.container.image.v1+json"
LAYER_TYPE = "application/vnd.docker.image.rootfs.diff.tar.gzip"


class Registry:
    def __init__(self, base, user, password):
        self.base = base.rstrip("/")
        self.headers = {}
        if user is not None:
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            self.headers["Authorization"] = "Basic " + token

    def request(self, method, url, body=None, content_type=None, ok=(200, 201, 202)):
        if not url.startswith("http"):
            url = urllib.parse.urljoin(self.base + "/", url.lstrip("/"))
        headers = dict(self.headers)
        if content_type:
            headers["Content-Type"] = content_type
        req = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as e:
            if e.code in ok:
                return e.code, e.headers, e.read()
            if method == "HEAD" and e.code == 404:
                return 404, e.headers, b""
            sys.exit(f"registry_push: {method} {url}: {e.code} {e.reason}: {e.read()[:500]!r}")

    def has_blob(self, repo, digest):
        status, _, _ = self.request("HEAD", f"/v2/{repo}/blobs/{digest}")
        return status == 200

    def upload_blob(self, repo, data):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if self.has_blob(repo, digest):
            return digest
        _, headers, _ = self.request("POST", f"/v2/{repo}/blobs/uploads/")
        location = headers.get("Location")
        if not location:
            sys.exit("registry_push: the upload answer has no Location")
        location = urllib.parse.urljoin(self.base + "/", location)
        sep = "&" if "?" in location else "?"
        self.request("PUT", f"{location}{sep}digest={urllib.parse.quote(digest)}", data,
                     "application/octet-stream")
        return digest


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("archive")
    parser.add_argument("registry")
    parser.add_argument("reference", help="repository:tag")
    parser.add_argument("--user")
    parser.add_argument("--password", default="")
    args = parser.parse_args()
    repo, _, tag = args.reference.rpartition(":")
    if not repo or not tag or "/" in tag:
        sys.exit("registry_push: the reference must be repository:tag")

    with tarfile.open(args.archive) as tar:
        entries = json.load(tar.extractfile("manifest.json"))
        if len(entries) != 1:
            sys.exit("registry_push: the archive must hold exactly one image")
        entry = entries[0]
        config = tar.extractfile(entry["Config"]).read()
        layers = []
        for name in entry["Layers"]:
            raw = tar.extractfile(name).read()
            # mtime 0: the same archive always gives the same digests.
            buf = io.BytesIO()
            with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:
                gz.write(raw)
            layers.append(buf.getvalue())

    reg = Registry(args.registry, args.user, args.password)
    config_digest = reg.upload_blob(repo, config)
    layer_descs = []
    for data in layers:
        digest = reg.upload_blob(repo, data)
        layer_descs.append({"mediaType": LAYER_TYPE, "size": len(data), "digest": digest})
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": {"mediaType": CONFIG_TYPE, "size": len(config), "digest": config_digest},
        "layers": layer_descs,
    }, separators=(",", ":")).encode()
    reg.request("PUT", f"/v2/{repo}/manifests/{tag}", manifest, MANIFEST_TYPE)
    print("sha256:" + hashlib.sha256(manifest).hexdigest())


if __name__ == "__main__":
    main()
