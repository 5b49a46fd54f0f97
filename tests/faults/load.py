#!/usr/bin/env python3
"""Load client of the fault suite: submits reports at a steady rate, each with its own
Idempotency-Key and a unique description marker, and retries every unanswered or 503 request
with the same key until it gets an answer or the retry window closes. Writes one JSON line per
attempt and, at the end, one summary line per marker (its final status and report id)."""
import argparse, http.client, json, random, sys, threading, time, uuid
from concurrent.futures import ThreadPoolExecutor

INTERNALS = ("sqlx", "postgres", "connection refused", "pool", "panick", "io error", "tcp")

def attempt(host, port, body, key, timeout):
    started = time.monotonic()
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("POST", "/api/v1/reports", body=body,
                     headers={"Content-Type": "application/json", "Idempotency-Key": key})
        r = conn.getresponse()
        data = r.read().decode("utf-8", "replace")
        return {"status": r.status, "retry_after": r.getheader("Retry-After"),
                "elapsed": time.monotonic() - started, "body": data[:300]}
    except ConnectionRefusedError:
        return {"status": "refused", "elapsed": time.monotonic() - started}
    except Exception as e:  # reset, timeout, broken pipe
        return {"status": "error", "error": type(e).__name__, "elapsed": time.monotonic() - started}
    finally:
        conn.close()

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--rate", type=float, default=20)
    p.add_argument("--duration", type=float, default=20)
    p.add_argument("--retry-window", type=float, default=60)
    p.add_argument("--prefix", required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    host, port = a.url.replace("http://", "").rstrip("/").split(":")
    port = int(port)
    lock = threading.Lock()
    out = open(a.out, "w")
    t0 = time.monotonic()
    deadline = t0 + a.duration + a.retry_window

    def log(rec):
        with lock:
            out.write(json.dumps(rec) + "\n")
            out.flush()

    def one(i):
        marker = f"{a.prefix}-{i:06d}-{uuid.uuid4().hex[:8]}"
        key = f"key-{marker}"
        lon = 19.9373 + random.uniform(-0.03, 0.03)
        lat = 50.0617 + random.uniform(-0.02, 0.02)
        body = json.dumps({"type": "Feature",
                           "geometry": {"type": "Point", "coordinates": [lon, lat]},
                           "properties": {"category": "pothole", "description": marker}})
        tries = 0
        while True:
            tries += 1
            sent_at = time.monotonic() - t0
            r = attempt(host, port, body, key, 10)
            r.update(marker=marker, try_no=tries, sent_at=round(sent_at, 3))
            low = r.get("body", "").lower()
            r["internals"] = any(w in low for w in INTERNALS) if r.get("status") != 201 and r.get("status") != 200 else False
            log(r)
            if r["status"] in (200, 201):
                rid = None
                try:
                    rid = json.loads(r["body"] if len(r["body"]) < 300 else "{}").get("id")
                except Exception:
                    pass
                log({"final": marker, "status": r["status"], "tries": tries})
                return
            if isinstance(r["status"], int) and r["status"] not in (503, 429):
                log({"final": marker, "status": r["status"], "tries": tries})
                return
            if time.monotonic() > deadline:
                log({"final": marker, "status": "gave_up", "tries": tries})
                return
            time.sleep(0.5)

    with ThreadPoolExecutor(max_workers=64) as pool:
        i = 0
        while time.monotonic() - t0 < a.duration:
            pool.submit(one, i)
            i += 1
            next_at = t0 + i / a.rate
            time.sleep(max(0, next_at - time.monotonic()))
    out.close()

if __name__ == "__main__":
    main()
