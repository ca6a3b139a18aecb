#!/usr/bin/env python3
"""Twisted peers on the epoll reactor, with the command lines of the C++ peers.

    twisted_server.py pingpong ADDR PORT THREADS BLOCKSIZE
    twisted_server.py poetry [--port N] [--iface ADDR] [--delay 0] POETRY-FILE

pingpong echoes what it reads (TCP_NODELAY on); poetry writes the whole poem and closes, like
the tutorial's fastpoetry server. Both print the same "listening"/"Serving" line as the others.
"""
import sys

from twisted.internet import epollreactor

epollreactor.install()

from twisted.internet import protocol, reactor  # noqa: E402


class Echo(protocol.Protocol):
    def connectionMade(self):
        self.transport.setTcpNoDelay(True)

    def dataReceived(self, data):
        self.transport.write(data)


class Poetry(protocol.Protocol):
    def connectionMade(self):
        self.transport.write(self.factory.poem)
        self.transport.loseConnection()


def pingpong(args):
    if len(args) != 4:
        sys.exit("usage: twisted_server.py pingpong ADDR PORT THREADS BLOCKSIZE")
    host, port, threads = args[0], int(args[1]), int(args[2])
    if threads != 1:
        sys.exit("twisted_server.py: only THREADS=1 is supported")
    factory = protocol.Factory.forProtocol(Echo)
    p = reactor.listenTCP(port, factory, backlog=4096, interface=host)
    print(f"twisted-pingpong-server listening on {host}:{p.getHost().port}", flush=True)


def poetry(args):
    port, iface, path = 0, "127.0.0.1", None
    it = iter(args)
    for a in it:
        if a == "--port":
            port = int(next(it))
        elif a == "--iface":
            iface = next(it)
        elif a == "--delay":
            if float(next(it)) != 0:
                sys.exit("twisted_server.py: only --delay 0 is supported")
        else:
            path = a
    if path is None:
        sys.exit("usage: twisted_server.py poetry [--port N] [--iface ADDR] [--delay 0] FILE")
    factory = protocol.Factory.forProtocol(Poetry)
    with open(path, "rb") as f:
        factory.poem = f.read()
    p = reactor.listenTCP(port, factory, backlog=4096, interface=iface)
    print(f"Serving {path} on port {p.getHost().port}.", flush=True)


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("pingpong", "poetry"):
        sys.exit("usage: twisted_server.py pingpong|poetry ARGS...")
    {"pingpong": pingpong, "poetry": poetry}[sys.argv[1]](sys.argv[2:])
    reactor.run()


if __name__ == "__main__":
    main()
