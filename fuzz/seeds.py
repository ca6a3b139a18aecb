#!/usr/bin/env python3
"""Writes the seed corpus, fuzz/corpus/<target>/, from the hand-made inputs below.

Each seed is a meaningful case (a valid stream, a limit exactly met, a malformed length, a
delimiter split across reads, ...) in the input layout its target decodes; the fuzzer starts
from them. This file is the only source of the seeds: run it after changing a layout or adding
a case, and it rewrites each folder to hold exactly the seeds listed here.
Usage: python3 fuzz/seeds.py
"""
import hashlib
import pathlib
import struct

HERE = pathlib.Path(__file__).resolve().parent

# Indexes into the targets' tables (see lines.hpp, netstring_receiver.cpp, intn_receiver.hpp).
LINE_MAX = {0: 0, 3: 3, 5: 5, 16384: 15}
DELIM = {"\r\n": 0, "\n": 1, "\0": 2, "ab": 3, "aab": 4, "xyx": 5, "\r\n\r\n": 6, "||": 7}
NETSTRING_MAX = {0: 0, 3: 3, 10: 6, 99999: 13, "SIZE_MAX": 15}
INT_MAX = {3: 3, 255: 5, 65535: 9, 99999: 11, 0xFFFFFFFF: 13, "SIZE_MAX": 15}


def lines(maxlen, stream, delim="\r\n", alt=None, seed=0):
    alt = delim if alt is None else alt
    head = bytes([LINE_MAX[maxlen], DELIM[delim] | DELIM[alt] << 4, seed])
    return head + stream.encode("latin-1")


LINE_COMMON = [
    lines(16384, "hello\r\nworld\r\n"),
    lines(16384, "a\nbb\n\nccc", delim="\n", seed=7),
    lines(16384, "\r\n\r\n\r\n", seed=1),
    lines(0, "\r\n\r\nx\r\n"),
    lines(3, "abc\r\nabcd\r\n"),  # the second line is one byte too long
    lines(3, "abc\r"),  # exactly MAX_LENGTH, its delimiter half arrived
    lines(3, "abcd\r", seed=3),  # too long before the delimiter completes
    lines(5, "a\r\nSWAP\r\nb\nSWAP\nc\r\n", alt="\n", seed=9),
    lines(16384, "axyxyxbxyxxyx", delim="xyx", seed=2),  # self-overlapping delimiter
    lines(16384, "aaabaabaab", delim="aab", seed=5),
    lines(16384, "GET / HTTP/1.0\r\nHost: a\r\n\r\nbody", delim="\r\n\r\n", seed=4),
    lines(16384, "a\0b\0\0", delim="\0"),
    lines(5, "ab||c||", delim="||", alt="ab", seed=11),
]
LINE_RECEIVER = LINE_COMMON + [
    lines(16384, "line\r\nRAW\r\nraw bytes\r\n~after\r\n", seed=6),
    lines(16384, "RAW\r\n~RAW\r\n~~x\r\n", seed=8),
    lines(5, "RAW\r\nlonger than five~ok\r\n", seed=10),
    lines(16384, "CLEAR\r\nrest\r\npartial", seed=12),
    # A partial line over 4 KiB: an emptied buffer then gives back its capacity.
    lines(16384, "x" * 5000 + "\r\ntail\r\n", seed=14),
    lines(5, "CLEAR\r\nabcdef", seed=13),
]


def netstring(maxlen, stream, seed=0):
    return bytes([NETSTRING_MAX[maxlen], seed]) + stream


NETSTRING = [
    netstring(99999, b"5:hello,0:,3:abc,"),
    netstring(99999, b"0:,0:,0:,", seed=3),
    netstring(10, b"10:0123456789,"),  # exactly MAX_LENGTH
    netstring(10, b"11:hello world,"),  # one over
    netstring(10, b"100", seed=5),  # over MAX_LENGTH before the colon arrives
    netstring("SIZE_MAX", b"99999999999999999999999:"),  # beyond size_t
    netstring(99999, b"3:abc,05:hello,"),  # leading zero
    netstring(99999, b"-1:a,"),
    netstring(99999, b"+1:a,"),
    netstring(99999, b" 1:a,"),
    netstring(99999, b"3:abcd"),  # no comma
    netstring(99999, b"3abc,"),  # no colon
    netstring(99999, b"5:hel", seed=7),  # incomplete
    netstring(3, b"2:ab,3:abc,4:", seed=9),
    netstring(0, b"0:,1:a,"),
    netstring(99999, b"5000:" + b"y" * 5000 + b",2:ok,", seed=11),  # over 4 KiB buffered
]


def intn(width, maxlen, stream, seed=0):
    return bytes([INT_MAX[maxlen], seed]) + stream


def frame(width, payload):
    return struct.pack({1: ">B", 2: ">H", 4: ">I"}[width], len(payload)) + payload


def intn_seeds(width):
    big = {1: 255, 2: 65535, 4: 99999}[width]
    return [
        intn(width, big, frame(width, b"hello") + frame(width, b"") + frame(width, b"abc")),
        intn(width, 3, frame(width, b"abc") + frame(width, b"abcd")),  # the second is too long
        intn(width, big, frame(width, b"hello")[:-2], seed=5),  # incomplete
        intn(width, big, b"\xff" * width, seed=3),  # the largest prefix
        intn(width, "SIZE_MAX", b"\xff" * width + b"x", seed=1),
        intn(width, 0xFFFFFFFF, b"\x00" * (width - 1) + b"\x01" + b"z" + b"\x00", seed=7),
    ] + ([intn(width, big, frame(width, b"z" * 5000) + frame(width, b"ok"), seed=9)]
         if width > 1 else [])  # over 4 KiB buffered


ADDRESSES = [
    b"10000", b"00080", b"65535", b"65536", b"0", b"127.0.0.1:10001", b"localhost:80",
    b"poetry.example.com:10000", b"[::1]:10000", b"[2001:db8::7]:443", b"[::ffff:127.0.0.1]:8",
    b"host:", b":80", b"::1:80", b"[::1]", b"[]:80", b"[127.0.0.1]:80", b"ho st:80", b"a]:80",
    b"[::1]:80:", b"[::1\x00]:80",
]

# transport_ops: byte 0 = framing (0 lines, 1 netstrings, 2 Int16) | MAX_LENGTH index << 2
# ({4, 16, 100, 1000}); byte 1 = delimiter index ({"\r\n", "\n", "xyx", "||"}); then operations.
(READ, WRITE, WRITESEQ, SEND, PAUSE, RESUME, STOP, LOSE, ABORT, REGISTER, UNREGISTER, ADVANCE,
 SETTIMEOUT, STEP, WATERMARKS, CLEAR, LOSEWRITE) = range(17)


def read(data):
    return bytes([READ, len(data)]) + data


def ops(framing, max_index, *parts, delim=0):
    return bytes([framing | max_index << 2, delim]) + b"".join(
        p if isinstance(p, bytes) else bytes(p) for p in parts)


TRANSPORT_OPS = [
    ops(0, 3, [SETTIMEOUT, 4], read(b"hello\r\nwor"), [ADVANCE, 2], read(b"ld\r\nQUIT\r\n"),
        [STEP]),
    ops(0, 3, [PAUSE], read(b"a\r\nb\r\n"), [STEP, RESUME, STEP], read(b"c\r\n")),
    ops(0, 1, [SETTIMEOUT, 4], [ADVANCE, 3], read(b"x\r\n"), [ADVANCE, 4, ADVANCE, 4, STEP,
                                                              ADVANCE, 8]),
    ops(0, 3, [REGISTER, 1, REGISTER, 0, UNREGISTER, REGISTER, 0, WATERMARKS, 10, 5, WATERMARKS,
               5, 10], read(b"HUSH\r\nafter\r\n"), [STEP, RESUME]),
    ops(0, 3, [WRITE, 3], b"abc", [WRITESEQ, 2, 1], b"x", [2], b"yz", [SEND, 4], b"ping",
        [CLEAR, WRITE, 1], b"!", [LOSEWRITE, WRITE, 1], b"?", [LOSE, 1, LOSE, 0, STEP]),
    ops(0, 0, read(b"toolongline\r\n"), [STEP]),
    ops(0, 3, [STOP], read(b"a\r\n"), [STEP, RESUME, STEP, ABORT, STEP, ADVANCE, 1]),
    ops(0, 3, read(b"one\nBYE\ntwo\n"), [STEP], delim=1),
    ops(0, 3, read(b"axyxbxyxQUITxy"), [STEP], delim=2),
    ops(1, 3, read(b"5:hello,4:HUSH,3:abc,"), [STEP, RESUME, STEP]),
    ops(1, 0, [SETTIMEOUT, 0, ADVANCE, 0], read(b"05:hello,"), [STEP]),
    ops(2, 1, read(b"\x00\x03abc\x00\x04QUIT\x00\x01z"), [STEP]),
    ops(2, 0, read(b"\x00\x05hello"), [STEP, SETTIMEOUT, 16, ADVANCE, 15]),
]

TARGETS = {
    "line_receiver": LINE_RECEIVER,
    "line_only_receiver": LINE_COMMON,
    "netstring_receiver": NETSTRING,
    "int8_receiver": intn_seeds(1),
    "int16_receiver": intn_seeds(2),
    "int32_receiver": intn_seeds(4),
    "poetry_address": ADDRESSES,
    "transport_ops": TRANSPORT_OPS,
}


def main():
    for target, seeds in TARGETS.items():
        folder = HERE / "corpus" / target
        folder.mkdir(parents=True, exist_ok=True)
        # Named by content, as libFuzzer names what it adds, so rerunning changes nothing.
        wanted = {hashlib.sha1(seed).hexdigest(): seed for seed in seeds}
        for stale in folder.iterdir():
            if stale.name not in wanted:
                stale.unlink()
        for name, seed in wanted.items():
            (folder / name).write_bytes(seed)


if __name__ == "__main__":
    main()
