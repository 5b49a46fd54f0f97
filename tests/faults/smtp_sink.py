#!/usr/bin/env python3
"""A tiny SMTP listener for the fault suite: accepts every message and appends its Message-ID
to a file (one line per message received). Stop it with SIGTERM/SIGKILL, start it again on the
same port: the file keeps growing, so duplicates and gaps show."""
import asyncio, re, sys

PORT, OUT = int(sys.argv[1]), sys.argv[2]

async def session(reader, writer):
    def send(line):
        writer.write((line + "\r\n").encode())
    send("220 faults-sink ESMTP")
    await writer.drain()
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            cmd = line.decode("utf-8", "replace").strip().upper()
            if cmd.startswith("EHLO") or cmd.startswith("HELO"):
                send("250 faults-sink")
            elif cmd == "DATA":
                send("354 go ahead")
                await writer.drain()
                data = []
                while True:
                    l = await reader.readline()
                    if not l or l in (b".\r\n", b".\n"):
                        break
                    data.append(l.decode("utf-8", "replace"))
                text = "".join(data)
                m = re.search(r"^Message-ID:\s*(\S+)", text, re.I | re.M)
                with open(OUT, "a") as f:
                    f.write((m.group(1) if m else "no-message-id") + "\n")
                send("250 queued")
            elif cmd == "QUIT":
                send("221 bye")
                await writer.drain()
                break
            else:
                send("250 ok")
            await writer.drain()
    finally:
        writer.close()

async def main():
    server = await asyncio.start_server(session, "127.0.0.1", PORT, reuse_address=True)
    async with server:
        await server.serve_forever()

asyncio.run(main())
