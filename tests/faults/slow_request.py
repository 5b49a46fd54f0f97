#!/usr/bin/env python3
"""A request in flight across a shutdown: sends a report submission's headers and half its body,
waits SECONDS, sends the rest and prints the status line's code (000 when the connection broke)."""
import json, socket, sys, time

host, port = sys.argv[1].replace("http://", "").split(":")
wait = float(sys.argv[2])
body = json.dumps({"type": "Feature", "geometry": {"type": "Point", "coordinates": [19.94, 50.06]},
                   "properties": {"category": "pothole", "description": "slow-request"}}).encode()
head = (f"POST /api/v1/reports HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Idempotency-Key: slow-request\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
try:
    s = socket.create_connection((host, int(port)), timeout=30)
    s.sendall(head + body[: len(body) // 2])
    time.sleep(wait)
    s.sendall(body[len(body) // 2:])
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    print(data.split(b" ", 2)[1].decode() if data.startswith(b"HTTP/") else "000")
except OSError:
    print("000")
