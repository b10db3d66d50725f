#!/usr/bin/env python3
"""Forwards TCP from this machine's loopback into a network namespace.

usage: netns-forward.py --netns /run/netns/NAME [--ports-file FILE] NAME=HOST:PORT ...

For each NAME=HOST:PORT, listens on 127.0.0.1 (a free port) in the namespace the process starts in, then switches
the process into --netns, so every outgoing connection to HOST:PORT is made inside it: the real node's apiserver,
S3, Prometheus or a ClusterIP stay unreachable from anywhere but loopback. Writes NAME=LOCALPORT lines to
--ports-file (or stdout) once all listeners are up. Each accepted connection gets its own upstream connection,
so a Service behind a ClusterIP sees one new connection per client connection.
"""
import argparse
import asyncio
import ctypes
import os
import signal
import socket
import sys

CLONE_NEWNET = 0x40000000


def enter_netns(path):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns({path}): {os.strerror(err)}")
    finally:
        os.close(fd)


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            if writer.can_write_eof():
                writer.write_eof()
        except OSError:
            pass


def handler(host, port):
    async def handle(client_reader, client_writer):
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(host, port)
        except OSError as e:
            print(f"connect {host}:{port}: {e}", file=sys.stderr, flush=True)
            client_writer.close()
            return
        await asyncio.gather(pipe(client_reader, upstream_writer), pipe(upstream_reader, client_writer))
        upstream_writer.close()
        client_writer.close()
    return handle


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--netns", required=True)
    ap.add_argument("--ports-file")
    ap.add_argument("--listen", default="127.0.0.1")
    ap.add_argument("targets", nargs="+", metavar="NAME=HOST:PORT")
    a = ap.parse_args()
    listeners = []
    for spec in a.targets:
        name, target = spec.split("=", 1)
        host, port = target.rsplit(":", 1)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((a.listen, 0))   # bound here, before the switch: the listener stays on this namespace's loopback
        sock.listen(128)
        listeners.append((name, sock, host, int(port)))
    enter_netns(a.netns)
    servers = [await asyncio.start_server(handler(host, port), sock=sock) for _, sock, host, port in listeners]
    lines = "".join(f"{name}={sock.getsockname()[1]}\n" for name, sock, _, _ in listeners)
    if a.ports_file:
        tmp = a.ports_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(lines)
        os.replace(tmp, a.ports_file)
    else:
        sys.stdout.write(lines)
        sys.stdout.flush()
    stop = asyncio.Event()
    for s in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(s, stop.set)
    await stop.wait()
    for server in servers:
        server.close()


asyncio.run(main())
