#!/usr/bin/env python3
"""QUIC (RFC 9000) server and client with aioquic (PyPI `aioquic`), run inside a namespace for the
negative-local scenario: real QUIC v1 connections (TLS 1.3 handshake, 1-RTT stream data).
usage: quic_peer.py server HOST PORT CERT KEY
       quic_peer.py client HOST PORT CONNECTIONS SEED
The client opens CONNECTIONS connections one after another, each sending a request of random size on a
bidirectional stream; the server answers each with that many random bytes times 1..8 (at most 4 KiB)."""
import asyncio, random, ssl, sys
from aioquic.asyncio import connect, serve
from aioquic.asyncio.protocol import QuicConnectionProtocol
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import StreamDataReceived

ALPN = ["torscan-negative"]


class Server(QuicConnectionProtocol):
    def quic_event_received(self, event):
        if isinstance(event, StreamDataReceived) and event.end_stream:
            n = min(len(event.data) * (1 + event.data[0] % 8), 4 * 1024)
            self._quic.send_stream_data(event.stream_id, random.randbytes(n), end_stream=True)
            self.transmit()


async def server(host, port, cert, key):
    cfg = QuicConfiguration(is_client=False, alpn_protocols=ALPN)
    cfg.load_cert_chain(cert, key)
    await serve(host, port, configuration=cfg, create_protocol=Server)
    await asyncio.Future()


async def client(host, port, count, seed):
    rng = random.Random(seed)
    for i in range(count):
        cfg = QuicConfiguration(is_client=True, alpn_protocols=ALPN, verify_mode=ssl.CERT_NONE)
        async with connect(host, port, configuration=cfg) as conn:
            reader, writer = await conn.create_stream()
            writer.write(rng.randbytes(rng.randint(16, 1500)))
            writer.write_eof()
            data = await asyncio.wait_for(reader.read(), 10)
            print("connection %d: %d bytes back" % (i, len(data)), flush=True)


if sys.argv[1] == "server":
    asyncio.run(server(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]))
else:
    asyncio.run(client(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])))
