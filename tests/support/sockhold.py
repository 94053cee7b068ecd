#!/usr/bin/env python3
"""Holds TCP sockets open for netdoctor's namespace tests and benchmarks.

Run inside a network namespace (ip netns exec NAME python3 sockhold.py OPS...). Each op is
one of:
  L HOST PORT BACKLOG   listen with that backlog, never accept
  R HOST PORT BACKLOG   the same with SO_REUSEPORT (several R on one port form a group)
  C HOST PORT COUNT     connect COUNT clients to HOST:PORT and keep them open
  T HOST PORT COUNT     leave COUNT client-side TIME_WAIT sockets towards HOST:PORT
                        (own listener on HOST:PORT; client closes first, then the server side)
After all ops it prints "ready L=.. C=.. T=.." and holds the sockets until standard input
closes or HOLD_SECONDS (env, default 120) pass, whichever comes first. Every loop is bounded.
"""
import os
import select
import signal
import socket
import sys


def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def main(argv):
    hold = float(os.environ.get("HOLD_SECONDS", "120"))
    signal.alarm(int(hold) + 30)  # hard stop even if something below blocks
    kept = []
    counts = {"L": 0, "C": 0, "T": 0}
    ops = argv[1:]
    if len(ops) % 4 != 0:
        print("usage: sockhold.py (L|R|C|T HOST PORT N)...", file=sys.stderr)
        return 2
    for i in range(0, len(ops), 4):
        op, host, port, n = ops[i], ops[i + 1], int(ops[i + 2]), int(ops[i + 3])
        fam = family_of(host)
        if op in ("L", "R"):
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if op == "R":
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            s.bind((host, port))
            s.listen(n)
            kept.append(s)
            counts["L"] += 1
        elif op == "C":
            for _ in range(n):
                c = socket.socket(fam, socket.SOCK_STREAM)
                c.settimeout(2.0)
                try:
                    c.connect((host, port))
                    kept.append(c)
                    counts["C"] += 1
                except OSError:
                    c.close()
        elif op == "T":
            srv = socket.socket(fam, socket.SOCK_STREAM)
            srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            srv.bind((host, port))
            srv.listen(1024)
            srv.settimeout(2.0)
            for _ in range(n):
                c = socket.socket(fam, socket.SOCK_STREAM)
                c.settimeout(2.0)
                try:
                    c.connect((host, port))
                    a, _ = srv.accept()
                    c.close()
                    a.close()
                    counts["T"] += 1
                except OSError:
                    c.close()
            srv.close()
        else:
            print(f"unknown op {op}", file=sys.stderr)
            return 2
    print(f"ready L={counts['L']} C={counts['C']} T={counts['T']}", flush=True)
    select.select([sys.stdin], [], [], hold)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
