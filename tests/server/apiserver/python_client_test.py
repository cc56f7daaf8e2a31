#!/usr/bin/python3
# The official Kubernetes Python client (Debian's python3-kubernetes, v22) against
# `kite server`: paging, watches from a resourceVersion, label selectors, a watch that
# finds its resourceVersion compacted (410) and recovers by list-then-watch as an informer
# does, error Statuses, and a clean SIGTERM shutdown.
#
# Usage: python_client_test.py PATH_TO_KITE
# Prints one line per check and a closing "N passed, N failed"; exits 1 if any check failed.
#
# Debian's interpreter is named on purpose: the client is a Debian package
# (scripts/install-deps.sh), and another python3 earlier on PATH would not see it.

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

# Passed as --datastore-history-revisions.
HISTORY_WINDOW = 200
# store::StoreOptions::compaction_batch_revisions. The SQLite store compacts between write
# groups once current - window >= compacted + batch, and then compacts up to
# current - window (src/store/sqlite_store.cc). So on a fresh store nothing is compacted
# before revision window + batch, however small the window.
COMPACTION_BATCH = 500

NAMESPACE = "pyclient"
# Bounds every wait, so a misbehaving server fails the test instead of hanging it.
STARTUP_SECONDS = 60
WATCH_SECONDS = 30


class CheckFailed(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise CheckFailed(message)


def status_of(error):
    """The Status object of an ApiException's body, or {}."""
    try:
        return json.loads(error.body)
    except (TypeError, ValueError):
        return {}


def expect_api_error(call, code, reason):
    """Runs call(), which must raise ApiException `code` whose Status has `reason`."""
    try:
        result = call()
    except ApiException as e:
        body = status_of(e)
        expect(e.status == code, "HTTP %s, want %d: %s" % (e.status, code, e.body))
        expect(body.get("kind") == "Status", "body is not a Status: %s" % e.body)
        expect(body.get("code") == code, "Status code %s, want %d" % (body.get("code"), code))
        expect(body.get("reason") == reason,
               "Status reason %r, want %r: %s" % (body.get("reason"), reason, e.body))
        expect(body.get("status") == "Failure", "Status status %r" % body.get("status"))
        return body
    raise CheckFailed("succeeded, want HTTP %d %s: %s" % (code, reason, result))


def shorten(text, limit=600):
    return text if len(text) <= limit else text[:limit] + "... (%d chars)" % len(text)


class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, fn):
        """Runs one check; prints "ok NAME" or "FAIL NAME: why". Returns fn's value or None."""
        try:
            value = fn()
        except CheckFailed as e:
            self.failed += 1
            print("FAIL %s: %s" % (name, shorten(str(e))), flush=True)
            return None
        except Exception as e:  # an unexpected error is a failure of this check too
            self.failed += 1
            print("FAIL %s: %s: %s" % (name, type(e).__name__, shorten(str(e))), flush=True)
            traceback.print_exc()
            return None
        self.passed += 1
        print("ok   %s" % name, flush=True)
        return value


class WatchCollector:
    """Runs Watch().stream(func, *args, **kwargs) in a thread, keeping every event, and stops
    the watch after `stop_after` events. wait() joins it, bounded by WATCH_SECONDS."""

    def __init__(self, func, *args, stop_after, **kwargs):
        self.events = []
        self.error = None
        self._stop_after = stop_after
        self._watch = watch.Watch()
        kwargs.setdefault("timeout_seconds", WATCH_SECONDS)
        kwargs.setdefault("_request_timeout", WATCH_SECONDS + 10)
        self._thread = threading.Thread(target=self._run, args=(func, args, kwargs), daemon=True)
        self._thread.start()

    def _run(self, func, args, kwargs):
        try:
            for event in self._watch.stream(func, *args, **kwargs):
                self.events.append(event)
                if len(self.events) >= self._stop_after:
                    self._watch.stop()
        except Exception as e:
            self.error = e

    def wait(self):
        self._thread.join(WATCH_SECONDS + 15)
        expect(not self._thread.is_alive(), "the watch thread did not finish")
        if self.error is not None:
            raise CheckFailed("the watch failed: %s: %s" % (type(self.error).__name__, self.error))
        expect(len(self.events) == self._stop_after,
               "the watch ended after %d events, want %d: %s" %
               (len(self.events), self._stop_after, describe(self.events)))
        return self.events


def describe(events):
    return [(e["type"], e["raw_object"].get("metadata", {}).get("name"),
             e["raw_object"].get("metadata", {}).get("resourceVersion")) for e in events]


def rv(obj):
    return int(obj.metadata.resource_version)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, kite, workdir):
        self.kite = kite
        self.workdir = workdir
        self.kubeconfig = os.path.join(workdir, "kubeconfig")
        self.log_path = os.path.join(workdir, "kite.log")
        self.proc = None

    def start(self):
        self.port = free_port()
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [self.kite, "server", "--disable-agent", "--data-dir", os.path.join(self.workdir, "data"),
             "--bind-address", "127.0.0.1", "--https-listen-port", str(self.port),
             "--write-kubeconfig", self.kubeconfig,
             "--datastore-history-revisions", str(HISTORY_WINDOW)],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT)

    def wait_ready(self):
        """Polls until the kubeconfig exists and /readyz answers 200 "ok" through the client."""
        deadline = time.monotonic() + STARTUP_SECONDS
        last = "no kubeconfig yet"
        loaded = False
        while time.monotonic() < deadline:
            expect(self.proc.poll() is None,
                   "kite server exited with %s before it was ready" % self.proc.returncode)
            if not loaded and os.path.exists(self.kubeconfig):
                try:
                    config.load_kube_config(config_file=self.kubeconfig)
                    loaded = True
                except Exception as e:  # written but not complete yet
                    last = "kubeconfig: %s" % e
            if loaded:
                try:
                    resp = client.ApiClient().call_api(
                        "/readyz", "GET", auth_settings=["BearerToken"],
                        _preload_content=False, _request_timeout=5)[0]
                    body = resp.data
                    if resp.status == 200 and body.strip() == b"ok":
                        return
                    last = "/readyz: %s %r" % (resp.status, body)
                except ApiException as e:
                    last = "/readyz: %s %s" % (e.status, e.reason)
                except Exception as e:  # not listening yet
                    last = "/readyz: %s" % e
            time.sleep(0.1)  # between polls, not in place of one
        raise CheckFailed("not ready after %d s (%s)" % (STARTUP_SECONDS, last))

    def stop(self):
        """SIGTERM; returns the exit code (None if it had to be killed)."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def log_tail(self, lines=40):
        try:
            with open(self.log_path, "rb") as f:
                return b"".join(f.readlines()[-lines:]).decode("utf-8", "replace")
        except OSError:
            return ""


def configmap(name, data=None, labels=None):
    return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name, labels=labels),
                              data=data or {"k": "v"})


def run_checks(results, server):
    v1 = client.CoreV1Api()
    state = {}

    def create_namespace():
        ns = v1.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=NAMESPACE)))
        expect(ns.metadata.name == NAMESPACE and ns.metadata.uid, ns.metadata)
        expect(v1.read_namespace(NAMESPACE).metadata.uid == ns.metadata.uid, "read back differs")

    results.check("create a namespace", create_namespace)

    def watch_is_a_watch():
        # The client sends watch=True (Python's spelling); Kubernetes takes any value but
        # "false" and "0" as true, so this must stream events, not answer a list.
        start = v1.list_namespaced_config_map(NAMESPACE).metadata.resource_version
        created = v1.create_namespaced_config_map(NAMESPACE, configmap("probe"))
        resp = v1.list_namespaced_config_map(NAMESPACE, watch=True, resource_version=start,
                                             timeout_seconds=1, _preload_content=False,
                                             _request_timeout=15)
        lines = [l for l in resp.data.decode().split("\n") if l]
        expect(resp.status == 200, "HTTP %s" % resp.status)
        expect(lines, "empty response")
        # The kube-root-ca.crt publisher may add its ConfigMap to the new namespace inside
        # the window, so the probe's event need not be the first one.
        events = [json.loads(l) for l in lines]
        expect(all(e.get("type") in ("ADDED", "MODIFIED", "DELETED") for e in events),
               "GET ...?watch=True&resourceVersion=%s answered %s, want watch events"
               % (start, lines[0][:200]))
        expect(any(e["type"] == "ADDED" and
                   e.get("object", {}).get("metadata", {}).get("name") == "probe"
                   for e in events),
               "GET ...?watch=True&resourceVersion=%s answered %s, want a watch event "
               "{\"type\":\"ADDED\",...probe...}" % (start, lines[0][:200]))
        v1.delete_namespaced_config_map("probe", NAMESPACE)
        expect(rv(created) > int(start), "create did not advance the resourceVersion")

    results.check("watch=True as the client sends it starts a watch", watch_is_a_watch)

    def paging():
        names = ["page-%02d" % i for i in range(10)]
        for name in names:
            v1.create_namespaced_config_map(NAMESPACE, configmap(name))
        everything = [c.metadata.name for c in v1.list_namespaced_config_map(NAMESPACE).items]
        expect(set(names) <= set(everything), "unpaged list misses some: %s" % everything)
        seen, pages, page_rvs = [], 0, set()
        token = None
        while True:
            page = v1.list_namespaced_config_map(NAMESPACE, limit=3, _continue=token)
            pages += 1
            expect(len(page.items) <= 3, "page of %d items with limit=3" % len(page.items))
            seen += [c.metadata.name for c in page.items]
            page_rvs.add(page.metadata.resource_version)
            token = page.metadata._continue
            if pages == 1:
                expect(token, "first page of %d has no continue token" % len(everything))
                # Written between pages: the continued list is a snapshot and must not show it.
                v1.create_namespaced_config_map(NAMESPACE, configmap("zz-after-first-page"))
            if not token:
                break
            expect(pages <= len(everything), "more pages than items")
        expect(sorted(seen) == sorted(everything),
               "paged %s, unpaged %s" % (seen, everything))
        expect(len(seen) == len(set(seen)), "an item came back twice: %s" % seen)
        expect(pages == (len(everything) + 2) // 3, "%d pages for %d items" % (pages, len(everything)))
        expect(len(page_rvs) == 1, "pages of one list report different resourceVersions %s" % page_rvs)
        now = [c.metadata.name for c in v1.list_namespaced_config_map(NAMESPACE).items]
        expect("zz-after-first-page" in now, "a new list misses the object written meanwhile")

    results.check("list with limit and _continue returns every item exactly once", paging)

    def watch_in_order():
        start = v1.list_namespaced_config_map(NAMESPACE).metadata.resource_version
        state["old_rv"] = start
        collector = WatchCollector(v1.list_namespaced_config_map, NAMESPACE,
                                   resource_version=start, stop_after=3)
        created = v1.create_namespaced_config_map(NAMESPACE, configmap("watched", {"n": "1"}))
        created.data = {"n": "2"}
        updated = v1.replace_namespaced_config_map("watched", NAMESPACE, created)
        v1.delete_namespaced_config_map("watched", NAMESPACE)
        events = collector.wait()
        expect([e["type"] for e in events] == ["ADDED", "MODIFIED", "DELETED"],
               "events %s" % describe(events))
        expect(all(e["object"].metadata.name == "watched" for e in events), describe(events))
        rvs = [rv(e["object"]) for e in events]
        expect(rvs[0] > int(start), "first event at %d, not after the list's %s" % (rvs[0], start))
        expect(rvs[0] < rvs[1] < rvs[2], "resourceVersions not increasing: %s" % rvs)
        expect(rvs[0] == rv(created) and rvs[1] == rv(updated),
               "events at %s, writes answered %d and %d" % (rvs, rv(created), rv(updated)))
        expect(events[1]["object"].data == {"n": "2"}, "MODIFIED carries %s" % events[1]["object"].data)

    results.check("watch from a list's resourceVersion: ADDED, MODIFIED, DELETED in order",
                  watch_in_order)

    def label_selector_list():
        for name, app in (("web-1", "web"), ("web-2", "web"), ("db-1", "db")):
            v1.create_namespaced_config_map(NAMESPACE, configmap(name, labels={"app": app}))

        def names(selector):
            items = v1.list_namespaced_config_map(NAMESPACE, label_selector=selector).items
            return sorted(c.metadata.name for c in items)

        expect(names("app=web") == ["web-1", "web-2"], "app=web: %s" % names("app=web"))
        expect(names("app in (db)") == ["db-1"], "app in (db): %s" % names("app in (db)"))
        expect(names("app") == ["db-1", "web-1", "web-2"], "app: %s" % names("app"))
        unlabelled = names("!app")
        expect("page-00" in unlabelled and "web-1" not in unlabelled, "!app: %s" % unlabelled)
        expect(names("app=web,app!=web") == [], "app=web,app!=web: %s" % names("app=web,app!=web"))

    results.check("list with a label selector", label_selector_list)

    def label_selector_watch():
        start = v1.list_namespaced_config_map(NAMESPACE).metadata.resource_version
        collector = WatchCollector(v1.list_namespaced_config_map, NAMESPACE,
                                   resource_version=start, label_selector="app=web",
                                   stop_after=4)
        v1.create_namespaced_config_map(NAMESPACE, configmap("sel-other", labels={"app": "db"}))
        v1.create_namespaced_config_map(NAMESPACE, configmap("sel", labels={"app": "web"}))
        modified = v1.patch_namespaced_config_map("sel", NAMESPACE, {"data": {"k": "2"}})
        unlabelled = v1.patch_namespaced_config_map(
            "sel", NAMESPACE, {"metadata": {"labels": {"app": "db"}}})
        relabelled = v1.patch_namespaced_config_map(
            "sel-other", NAMESPACE, {"metadata": {"labels": {"app": "web"}}})
        events = collector.wait()
        got = [(e["type"], e["object"].metadata.name) for e in events]
        want = [("ADDED", "sel"), ("MODIFIED", "sel"), ("DELETED", "sel"), ("ADDED", "sel-other")]
        expect(got == want, "events %s, want %s" % (got, want))
        expect(rv(events[1]["object"]) == rv(modified), describe(events))
        expect(rv(events[3]["object"]) == rv(relabelled), describe(events))
        # Kubernetes' watch cache reports an object leaving the selector as DELETED carrying
        # the object as it last matched, at the resourceVersion of the change.
        gone = events[2]["object"]
        expect(rv(gone) == rv(unlabelled),
               "DELETED at %d, the relabel was at %d" % (rv(gone), rv(unlabelled)))
        expect(gone.metadata.labels == {"app": "web"},
               "DELETED for leaving app=web carries labels %s, want the last matching "
               "object's {'app': 'web'}" % gone.metadata.labels)

    results.check("watch with a label selector: ADDED/DELETED on entering/leaving it",
                  label_selector_watch)

    def compaction():
        old = int(state["old_rv"])
        v1.create_namespaced_config_map(NAMESPACE, configmap("churn", {"n": "0"}))
        # Past both the window behind `old` and the first compaction point; the write after
        # it is acknowledged only once the store has run the compaction step the last one
        # triggered (the writer compacts between write groups).
        target = max(old + 2 * HISTORY_WINDOW, HISTORY_WINDOW + COMPACTION_BATCH)
        writes, current = 0, 0
        while current <= target:
            current = rv(v1.patch_namespaced_config_map("churn", NAMESPACE,
                                                        {"data": {"n": str(writes)}}))
            writes += 1
            expect(writes <= target + 10, "revision %d after %d writes" % (current, writes))
        state["writes"] = writes
        expect(writes >= 2 * HISTORY_WINDOW, "only %d writes" % writes)
        return "%d updates, revision %d, watched from %d" % (writes, current, old)

    detail = results.check("%d+ updates of one ConfigMap compact the first watch's resourceVersion"
                           % (2 * HISTORY_WINDOW), compaction)
    if detail:
        print("     (%s)" % detail)

    def exact_list_expired():
        old = state["old_rv"]
        body = expect_api_error(
            lambda: v1.list_namespaced_config_map(NAMESPACE, resource_version=old,
                                                  resource_version_match="Exact"),
            410, "Expired")
        expect("too old" in body.get("message", ""), body)

    results.check("list at a compacted exact resourceVersion: 410 Expired", exact_list_expired)

    def watch_expired_on_the_wire():
        # Kubernetes answers 200 and sends the 410 as a single ERROR event, then ends.
        resp = v1.list_namespaced_config_map(NAMESPACE, watch=True, resource_version=state["old_rv"],
                                             timeout_seconds=10, _preload_content=False,
                                             _request_timeout=30)
        lines = [l for l in resp.data.decode().split("\n") if l]
        expect(resp.status == 200, "HTTP %s" % resp.status)
        expect(len(lines) == 1, "want one ERROR event, got %s" % [l[:120] for l in lines])
        event = json.loads(lines[0])
        obj = event.get("object", {})
        expect(event.get("type") == "ERROR", lines[0])
        expect(obj.get("kind") == "Status" and obj.get("code") == 410 and
               obj.get("reason") == "Expired", lines[0])

    results.check("watch from a compacted resourceVersion: 200 and an ERROR event 410 Expired",
                  watch_expired_on_the_wire)

    def client_raises_410():
        # With timeout_seconds this client does not retry: the ERROR event becomes an
        # ApiException(status=410, reason="Expired: ...").
        events = []
        try:
            for event in watch.Watch().stream(v1.list_namespaced_config_map, NAMESPACE,
                                              resource_version=state["old_rv"], timeout_seconds=10,
                                              _request_timeout=30):
                events.append(event)
        except ApiException as e:
            expect(e.status == 410, "ApiException status %s, want 410" % e.status)
            expect(str(e.reason).startswith("Expired"), "reason %r" % e.reason)
            expect(not events, "events before the error: %s" % describe(events))
            return
        raise CheckFailed("the watch ended without an error after %s" % describe(events))

    results.check("Watch().stream from a compacted resourceVersion raises ApiException 410",
                  client_raises_410)

    def client_retries_then_raises_410():
        # Without timeout_seconds it re-watches once from the same resourceVersion, then
        # raises. Run in a thread: a server whose watches end without an error would make
        # the client re-watch forever; stop() ends that after the current response.
        w = watch.Watch()
        outcome = {}

        def run():
            try:
                for event in w.stream(v1.list_namespaced_config_map, NAMESPACE,
                                      resource_version=state["old_rv"], _request_timeout=30):
                    outcome["event"] = event
                    w.stop()
                outcome["ended"] = True
            except Exception as e:
                outcome["error"] = e

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        thread.join(WATCH_SECONDS)
        if thread.is_alive():
            w.stop()
            raise CheckFailed("still watching after %d s without an error" % WATCH_SECONDS)
        expect("event" not in outcome, "got an event: %s" % describe([outcome.get("event")])
               if "event" in outcome else "")
        error = outcome.get("error")
        expect(isinstance(error, ApiException),
               "the watch ended with %r, want ApiException 410" % (error or "no error"))
        expect(error.status == 410, "ApiException status %s, want 410" % error.status)

    results.check("Watch().stream without timeout_seconds retries once, then raises 410",
                  client_retries_then_raises_410)

    def informer_recovery():
        listed = v1.list_namespaced_config_map(NAMESPACE)
        fresh = listed.metadata.resource_version
        expect(int(fresh) > int(state["old_rv"]), "list answered %s" % fresh)
        churn = [c for c in listed.items if c.metadata.name == "churn"]
        expect(len(churn) == 1, "churn is not listed")
        collector = WatchCollector(v1.list_namespaced_config_map, NAMESPACE,
                                   resource_version=fresh, stop_after=1)
        changed = v1.patch_namespaced_config_map("churn", NAMESPACE, {"data": {"n": "after"}})
        events = collector.wait()
        expect(events[0]["type"] == "MODIFIED" and events[0]["object"].metadata.name == "churn",
               describe(events))
        expect(rv(events[0]["object"]) == rv(changed) > int(fresh), describe(events))
        expect(events[0]["object"].data == {"n": "after"}, events[0]["object"].data)

    results.check("after the 410, list then watch from the new resourceVersion sees the next change",
                  informer_recovery)

    def not_found():
        body = expect_api_error(lambda: v1.read_namespaced_config_map("missing", NAMESPACE),
                                404, "NotFound")
        details = body.get("details", {})
        expect(details.get("name") == "missing" and details.get("kind") == "configmaps", body)

    results.check("get of a missing object: 404 NotFound", not_found)

    def already_exists():
        body = expect_api_error(
            lambda: v1.create_namespaced_config_map(NAMESPACE, configmap("page-00")),
            409, "AlreadyExists")
        expect(body.get("details", {}).get("name") == "page-00", body)

    results.check("duplicate create: 409 AlreadyExists", already_exists)

    def invalid_name():
        body = expect_api_error(
            lambda: v1.create_namespaced_config_map(NAMESPACE, configmap("Not_Valid")),
            422, "Invalid")
        causes = body.get("details", {}).get("causes", [])
        expect(any(c.get("field") == "metadata.name" for c in causes), body)

    results.check("create with an invalid name: 422 Invalid", invalid_name)


def main():
    if len(sys.argv) != 2:
        print("usage: %s PATH_TO_KITE" % sys.argv[0], file=sys.stderr)
        return 2
    logging.getLogger("urllib3").setLevel(logging.ERROR)  # retries while the server starts
    workdir = tempfile.mkdtemp(prefix="kite-pyclient-")
    server = Server(os.path.abspath(sys.argv[1]), workdir)
    results = Results()
    try:
        server.start()
        if results.check("kite server becomes ready (/readyz through the client)",
                         lambda: server.wait_ready() or True):
            run_checks(results, server)

            def sigterm():
                code = server.stop()
                expect(code == 0, "exit code %s after SIGTERM" % code)

            results.check("SIGTERM stops the server with exit code 0", sigterm)
    finally:
        server.kill()
        if results.failed:
            print("--- kite server log (tail) ---\n" + server.log_tail(), flush=True)
        shutil.rmtree(workdir, ignore_errors=True)
    print("%d passed, %d failed" % (results.passed, results.failed), flush=True)
    return 1 if results.failed else 0


if __name__ == "__main__":
    sys.exit(main())
