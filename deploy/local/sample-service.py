#!/usr/bin/python3
"""The local demo's sample HTTP service (deploy/local/noa-demo.sh), and a load generator for it.

A demo stand-in for an application, not part of the product: Debian 12's python3 only.

  sample-service.py serve --port 7800 [--host 127.0.0.1] [--name sample-0] [--pidfile F]
                          [--startup-delay 1.0] [--work-ms 2]
  sample-service.py load --url http://127.0.0.1:7800/ [--url ...] [--seconds 60] [--rps 200]
                         [--workers 8]

Endpoints (serve):
  /                 "hello from NAME" after about --work-ms of CPU work (what load hits)
  /health           200 while the process serves (liveness)
  /health/ready     200 once started, 503 before (readiness)
  /health/startup   200 once --startup-delay has passed since start, 503 before
  /metrics          Prometheus text: http_requests_total{handler,code} (every request, probes
                    included), http_request_duration_seconds (summary), process start time
SIGTERM and SIGINT stop it cleanly (the pidfile is removed).
"""

import argparse
import os
import signal
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

START = time.time()


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = {}  # (handler, code) -> count
        self.duration_sum = 0.0
        self.duration_count = 0

    def record(self, handler, code, seconds):
        with self.lock:
            key = (handler, code)
            self.requests[key] = self.requests.get(key, 0) + 1
            self.duration_sum += seconds
            self.duration_count += 1

    def render(self, name):
        with self.lock:
            lines = [
                "# HELP http_requests_total Requests served, by handler and status code.",
                "# TYPE http_requests_total counter",
            ]
            for (handler, code), n in sorted(self.requests.items()):
                lines.append(f'http_requests_total{{handler="{handler}",code="{code}"}} {n}')
            lines += [
                "# HELP http_request_duration_seconds Time spent serving requests.",
                "# TYPE http_request_duration_seconds summary",
                f"http_request_duration_seconds_sum {self.duration_sum:.6f}",
                f"http_request_duration_seconds_count {self.duration_count}",
                "# HELP process_start_time_seconds Start time of the process since the epoch.",
                "# TYPE process_start_time_seconds gauge",
                f"process_start_time_seconds {START:.3f}",
                "# HELP sample_info The replica's name.",
                "# TYPE sample_info gauge",
                f'sample_info{{name="{name}"}} 1',
            ]
        return "\n".join(lines) + "\n"


def serve(args):
    stats = Stats()
    started = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "noa-sample/1"

        def log_message(self, fmt, *a):  # quiet: probes arrive every second
            pass

        def reply(self, code, body, ctype="text/plain; charset=utf-8"):
            data = body.encode()
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def route(self):
            path = self.path.split("?", 1)[0]
            if path == "/health":
                return "/health", 200, "ok\n"
            if path == "/health/ready":
                return ("/health/ready", 200, "ready\n") if started.is_set() else (
                    "/health/ready", 503, "starting\n")
            if path == "/health/startup":
                if time.time() - START >= args.startup_delay:
                    return "/health/startup", 200, "started\n"
                return "/health/startup", 503, "starting\n"
            if path == "/metrics":
                return "/metrics", 200, None
            if path == "/":
                end = time.process_time() + args.work_ms / 1000.0
                while time.process_time() < end:  # a little CPU per request, so load shows
                    pass
                return "/", 200, f"hello from {args.name}\n"
            return "other", 404, "not found\n"

        def handle_one(self):
            t0 = time.monotonic()
            handler, code, body = self.route()
            if handler == "/metrics":
                # Counted before rendering, so a scrape sees itself like later requests do.
                stats.record(handler, code, time.monotonic() - t0)
                self.reply(code, stats.render(args.name), "text/plain; version=0.0.4")
                return
            self.reply(code, body)
            stats.record(handler, code, time.monotonic() - t0)

        def do_GET(self):
            self.handle_one()

        def do_HEAD(self):
            self.handle_one()

    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.allow_reuse_address = True
    server = ThreadingHTTPServer((args.host, args.port), Handler)

    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.pidfile:
        tmp = args.pidfile + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{os.getpid()}\n")
        os.replace(tmp, args.pidfile)
    threading.Timer(args.startup_delay, started.set).start()
    print(f"sample service {args.name} on http://{args.host}:{args.port}/ (pid {os.getpid()})",
          flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        if args.pidfile:
            try:
                with open(args.pidfile) as f:
                    mine = f.read().strip() == str(os.getpid())
                if mine:
                    os.unlink(args.pidfile)
            except OSError:
                pass
        print(f"sample service {args.name} stopped", flush=True)


def load(args):
    """Spreads requests over the --url targets that answer /health/ready (re-checked every 2 s),
    a poor man's load balancer across the replicas the autoscaler starts."""
    deadline = time.monotonic() + args.seconds
    per_worker = args.rps / args.workers if args.rps > 0 else 0
    counts = [0] * args.workers
    errors = [0] * args.workers
    urls = args.url or ["http://127.0.0.1:7800/"]
    live = list(urls)
    lock = threading.Lock()

    def ready(url):
        base = url.split("/", 3)
        try:
            with urllib.request.urlopen("/".join(base[:3]) + "/health/ready", timeout=1) as r:
                return r.status == 200
        except Exception:
            return False

    def refresh():
        nonlocal live
        while time.monotonic() < deadline:
            up = [u for u in urls if ready(u)]
            with lock:
                live = up or list(urls[:1])
            time.sleep(2)

    threading.Thread(target=refresh, daemon=True).start()

    def worker(i):
        next_at = time.monotonic()
        n = i
        while time.monotonic() < deadline:
            with lock:
                url = live[n % len(live)]
            n += 1
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    r.read()
                counts[i] += 1
            except Exception:
                errors[i] += 1
            if per_worker:
                next_at += 1.0 / per_worker
                delay = next_at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(args.workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = sum(counts)
    print(f"load: {total} requests in {args.seconds:g}s ({total / args.seconds:.0f}/s), "
          f"{sum(errors)} errors, against {' '.join(urls)}")
    return 0 if total else 1


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve", help="run the sample service")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=7800)
    s.add_argument("--name", default="sample")
    s.add_argument("--pidfile", default="")
    s.add_argument("--startup-delay", type=float, default=1.0)
    s.add_argument("--work-ms", type=float, default=2.0)
    g = sub.add_parser("load", help="send requests to the sample service")
    g.add_argument("--url", action="append", default=[],
                   help="target (repeat for several replicas; default http://127.0.0.1:7800/)")
    g.add_argument("--seconds", type=float, default=60)
    g.add_argument("--rps", type=float, default=200, help="target rate, 0 = as fast as possible")
    g.add_argument("--workers", type=int, default=8)
    args = p.parse_args()
    if args.cmd == "serve":
        serve(args)
        return 0
    return load(args)


if __name__ == "__main__":
    sys.exit(main())
