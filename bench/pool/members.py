"""Fake pool members for bench/pool (docs/POOL.md 12, "Benchmark").

A protocol-level member (docs/POOL.md 2.3-2.5, 4.3, 5.2): TLS 1.3 with the
pool's server name and a client certificate of its own, the WebSocket
Upgrade to /pool/ws (with the join token until it joined), then JSON-RPC
in masked text frames: xbpool.hello, a full snapshot (xbpool.sync) built
from records captured from a real sim daemon with fresh refs and uuids,
pings every 20 s, metrics every 60 s, and answers to forwarded calls as a
member gives them (the sync with the change first, then the reply).  On a
lost channel it reconnects as a member does: first after 0.5 + 9.5 U s,
then with the backoff of 2.5.

One process runs many members in one asyncio loop; the parent drives it
through a pipe (run(), below)."""
import asyncio
import base64
import json
import os
import random
import re
import ssl
import struct
import time
import uuid as uuidlib

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def fresh_snapshot(template, host_uuid):
    """The captured records (JSON text) with every uuid replaced by a new
    one, consistently (refs are OpaqueRef:<uuid>), the host's by
    host_uuid."""
    objs = json.loads(template)
    old_host = [o for o in objs if o["class"] == "host"][0]["record"]["uuid"]
    m = {old_host: host_uuid}

    def sub(mo):
        u = mo.group(0)
        if u not in m:
            m[u] = str(uuidlib.uuid4())
        return m[u]
    return json.loads(UUID_RE.sub(sub, template))


class Member:
    def __init__(self, w, i, ident, template):
        self.w, self.i = w, i
        self.host_uuid, self.cert, self.key = ident
        self.objs = fresh_snapshot(template, self.host_uuid)
        self.by_ref = {o["ref"]: o for o in self.objs}
        self.host = [o for o in self.objs if o["class"] == "host"][0]
        self.hm = [o for o in self.objs if o["class"] == "host_metrics"][0]
        self.vms = [o for o in self.objs if o["class"] == "VM"
                    and not o["record"].get("is_control_domain")]
        self.epoch = str(uuidlib.uuid4())
        self.session = "OpaqueRef:" + str(uuidlib.uuid4())
        self.gen = 1
        self.joined = False
        self.live = False           # a channel up and the hello answered
        self.writer = None
        self.n = 0
        self.pending = {}
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self.ctx.check_hostname = False
        self.ctx.verify_mode = ssl.CERT_NONE
        self.ctx.minimum_version = self.ctx.maximum_version = ssl.TLSVersion.TLSv1_3
        self.ctx.load_cert_chain(self.cert, self.key)
        self.connects = 0
        self.refusals = {}

    # ---- frames ----
    def frame(self, op, data):
        if self.writer is None or self.writer.is_closing():
            raise ConnectionError("channel closed")
        mask = os.urandom(4)
        n = len(data)
        hdr = bytes([0x80 | op]) + (bytes([0x80 | n]) if n < 126 else
                                    bytes([0x80 | 126]) + struct.pack(">H", n) if n < 65536 else
                                    bytes([0x80 | 127]) + struct.pack(">Q", n))
        # masking in bulk: int XOR over the whole payload
        k = int.from_bytes((mask * (n // 4 + 1))[:n], "big") if n else 0
        body = (int.from_bytes(data, "big") ^ k).to_bytes(n, "big") if n else b""
        self.writer.write(hdr + mask + body)

    def send(self, obj):
        self.frame(1, json.dumps(obj, separators=(",", ":")).encode())

    async def call(self, method, params):
        self.n += 1
        rid = "s%d" % self.n
        fut = asyncio.get_running_loop().create_future()
        self.pending[rid] = fut
        self.send({"jsonrpc": "2.0", "method": method, "params": [params], "id": rid})
        return await fut

    async def reader(self, r):
        while True:
            b0, b1 = await r.readexactly(2)
            n = b1 & 0x7f
            if n == 126:
                n = struct.unpack(">H", await r.readexactly(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", await r.readexactly(8))[0]
            payload = await r.readexactly(n)
            op = b0 & 0x0f
            if op == 8:
                return
            if op == 9:
                try:
                    self.frame(10, payload)
                except ConnectionError:
                    return
                continue
            if op != 1:
                continue
            msg = json.loads(payload)
            if "method" in msg:
                asyncio.ensure_future(self.forwarded(msg))
            else:
                fut = self.pending.pop(msg.get("id"), None)
                if fut and not fut.done():
                    fut.set_result(msg)

    @staticmethod
    def later(coro):
        """Fire and forget: a channel gone meanwhile is no news."""
        async def quiet():
            try:
                await coro
            except (ConnectionError, OSError, RuntimeError, AttributeError):
                pass
        asyncio.ensure_future(quiet())

    # ---- syncs ----
    async def sync(self, objects, full=False):
        self.gen += 1
        r = await self.call("xbpool.sync", {"epoch": self.epoch, "to": self.gen,
                                            "complete": self.gen, "full": full, "last": True,
                                            "objects": objects})
        if "error" in r:
            raise RuntimeError("sync: %s" % r["error"])
        return r

    async def snapshot(self):
        # one call of at most ~960 KiB each; the last one says last
        chunk, size, calls = [], 0, []
        for o in self.objs:
            s = len(json.dumps(o))
            if chunk and size + s > 960 * 1024:
                calls.append(chunk)
                chunk, size = [], 0
            chunk.append(o)
            size += s
        calls.append(chunk)
        self.gen += 1
        for k, c in enumerate(calls):
            r = await self.call("xbpool.sync", {"epoch": self.epoch, "to": self.gen,
                                                "complete": self.gen, "full": True,
                                                "last": k == len(calls) - 1, "objects": c})
            if "error" in r:
                raise RuntimeError("snapshot: %s" % r["error"])

    async def forwarded(self, msg):
        """As a member: the change, its sync, then the reply (5.3)."""
        m, p = msg["method"], msg.get("params", [])
        o = self.by_ref.get(p[1]) if len(p) > 1 and isinstance(p[1], str) else None
        states = {"VM.start": "Running", "VM.start_on": "Running", "VM.resume": "Running",
                  "VM.clean_shutdown": "Halted", "VM.hard_shutdown": "Halted",
                  "VM.shutdown": "Halted", "VM.suspend": "Suspended",
                  "VM.pause": "Paused", "VM.unpause": "Running"}
        try:
            if o is not None and m in states:
                o["record"]["power_state"] = states[m]
                await self.sync([o])
                self.send({"jsonrpc": "2.0", "id": msg["id"], "result": ""})
            elif o is not None and m.startswith(o["class"] + ".set_") and len(p) > 2:
                o["record"][m.split(".set_", 1)[1]] = p[2]
                await self.sync([o])
                self.send({"jsonrpc": "2.0", "id": msg["id"], "result": ""})
            elif o is not None and m.startswith(o["class"] + ".get_"):
                f = m.split(".get_", 1)[1]
                self.send({"jsonrpc": "2.0", "id": msg["id"], "result": o["record"].get(f, "")})
            else:
                self.send({"jsonrpc": "2.0", "id": msg["id"], "error": {
                    "code": 1, "message": "MESSAGE_METHOD_UNKNOWN", "data": [m]}})
        except Exception:              # noqa: BLE001 the channel went
            pass

    # ---- the channel ----
    async def session_once(self, host, port, token):
        r, w = await asyncio.wait_for(asyncio.open_connection(
            host, port, ssl=self.ctx, server_hostname="xenbox-pool.invalid"), 30)
        self.writer = w
        try:
            key = base64.b64encode(os.urandom(16)).decode()
            auth = "" if self.joined else "Authorization: Bearer %s\r\n" % token
            w.write(("GET /pool/ws HTTP/1.1\r\nHost: master\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: xenbox-pool.1\r\n"
                     "Xenbox-Host: %s\r\n%s\r\n" % (key, self.host_uuid, auth)).encode())
            head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 20)
            status = head.split(b" ", 2)[1].decode()
            if status != "101":
                self.refusals[status] = self.refusals.get(status, 0) + 1
                return False
            self.joined = True
            rd = asyncio.ensure_future(self.reader(r))
            rd.add_done_callback(lambda _: self.fail_pending())
            ping = asyncio.ensure_future(self.pinger())
            try:
                hello = await asyncio.wait_for(self.call("xbpool.hello", {
                    "host_uuid": self.host_uuid, "host": self.host["ref"],
                    "hostname": "bench-%d-%d" % (self.w, self.i), "version": "bench",
                    "epoch": self.epoch, "session": self.session}), 30)
                if "error" in hello:
                    self.refusals["hello"] = self.refusals.get("hello", 0) + 1
                    return False
                if (hello["result"].get("since") or {}).get("epoch") != self.epoch:
                    await asyncio.wait_for(self.snapshot(), 120)
                self.live = True
                try:
                    await rd
                except (asyncio.IncompleteReadError, ConnectionError, OSError, ssl.SSLError):
                    pass
                return True
            finally:
                ping.cancel()
                rd.cancel()
        finally:
            self.live = False
            self.fail_pending()
            w.close()

    def fail_pending(self):
        for f in self.pending.values():
            if not f.done():
                f.set_exception(ConnectionError("channel closed"))
                f.exception()       # retrieved: nobody may be waiting any more
        self.pending.clear()

    async def pinger(self):
        k = 0
        while True:
            await asyncio.sleep(20)
            try:
                self.frame(9, str(int(time.time() * 1000)).encode())
            except ConnectionError:
                return
            k += 1
            if k % 3 == 0 and self.live:        # metrics every 60 s
                rec = self.hm["record"]
                rec["memory_free"] = str(int(rec.get("memory_free", "0") or 0) ^ 4096)
                self.later(self.sync([self.hm]))

    async def run(self, host, port, token):
        k = 0
        while True:
            self.connects += 1
            up = False
            try:
                up = await self.session_once(host, port, token)
            except (asyncio.TimeoutError, asyncio.IncompleteReadError, ConnectionError,
                    OSError, ssl.SSLError, RuntimeError, asyncio.LimitOverrunError) as e:
                name = type(e).__name__
                self.refusals[name] = self.refusals.get(name, 0) + 1
            if up:                      # was up: 0.5 + 9.5 U s, k reset
                k = 0
                await asyncio.sleep(0.5 + 9.5 * random.random())
            else:
                k += 1
                await asyncio.sleep(min(300, 2 * 2 ** (k - 1)) * (0.5 + 0.5 * random.random()))

    async def change(self):
        """A VM's name_label set to its send time, synced at once."""
        o = random.choice(self.vms)
        o["record"]["name_label"] = "lat %.6f" % time.time()
        await self.sync([o])


def run(conn, w, idents, template, host, port, token):
    """The worker process: members of idents; commands from conn:
    ("status",) -> (live, total, connects, refusals);
    ("changes", n, seconds) -> n changes spread over seconds, then "done"."""
    async def main():
        ms = [Member(w, i, ident, template) for i, ident in enumerate(idents)]
        tasks = [asyncio.ensure_future(m.run(host, port, token)) for m in ms]
        loop = asyncio.get_running_loop()
        q = asyncio.Queue()
        loop.add_reader(conn.fileno(), lambda: q.put_nowait(conn.recv()))
        while True:
            cmd = await q.get()
            if cmd[0] == "status":
                ref = {}
                for m in ms:
                    for k, v in m.refusals.items():
                        ref[k] = ref.get(k, 0) + v
                conn.send((sum(m.live for m in ms), len(ms), sum(m.connects for m in ms), ref))
            elif cmd[0] == "changes":
                n, secs = cmd[1], cmd[2]
                sent = 0
                for j in range(n):
                    live = [m for m in ms if m.live]
                    if live:
                        Member.later(random.choice(live).change())
                        sent += 1
                    await asyncio.sleep(secs / n)
                conn.send(("done", sent))
            elif cmd[0] == "stop":
                for t in tasks:
                    t.cancel()
                conn.send("stopped")
                return
    asyncio.run(main())
