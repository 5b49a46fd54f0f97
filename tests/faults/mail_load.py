#!/usr/bin/env python3
"""Queues mail through the staff API: submits N reports with a contact email, logs in as staff
and moves each report to 'acknowledged', which queues one message to its reporter."""
import http.client, json, sys

host, port = sys.argv[1].replace("http://", "").split(":")
n, login, password = int(sys.argv[2]), sys.argv[3], sys.argv[4]

def req(method, path, body=None, headers=None):
    c = http.client.HTTPConnection(host, int(port), timeout=10)
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    c.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
    r = c.getresponse()
    data = r.read()
    return r.status, r.getheader("Set-Cookie"), data

st, cookie, data = req("POST", "/api/v1/staff/login", {"login": login, "password": password})
assert st == 200, (st, data)
csrf = json.loads(data)["csrf_token"]
cookie = cookie.split(";")[0]
for i in range(n):
    st, _, data = req("POST", "/api/v1/reports", {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [19.90 + i * 0.002, 50.05]},
        "properties": {"category": "pothole", "description": f"mail-{i}",
                       "contact": {"email": f"resident{i}@example.org"}}})
    assert st == 201, (st, data)
    rid = json.loads(data)["properties"]["id"]
    st, _, data = req("POST", f"/api/v1/staff/reports/{rid}/status",
                      {"status": "acknowledged", "public_note": f"mail-{i}"},
                      {"Cookie": cookie, "X-CSRF-Token": csrf})
    assert st == 200, (st, data)
print(f"queued {n} messages")
