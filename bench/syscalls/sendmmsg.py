"""Does batching sends help? One sendto per datagram against one sendmmsg(2) per batch.

``python -m bench.syscalls.sendmmsg [--n 100] [--rounds 200] [--repeat 3]``: N loopback
sockets stand for N subscribers; each round sends one 1100-byte datagram to each, either
with N ``socket.sendto`` calls or with one ``sendmmsg`` (through cffi's ABI mode, no
compiler). Only the sending is timed (process CPU time); the receivers are drained
between rounds, outside the timing. Prints CPU µs per datagram for both and their ratio.

sendmmsg needs every datagram on one socket (a single-port ICE mux); the bridge has one
socket per subscriber (aioice). This measures whether building that would pay.
"""

from __future__ import annotations

import argparse
import socket
import struct
import time

from cffi import FFI

_CDEF = """
struct iovec { void *iov_base; size_t iov_len; };
struct msghdr { void *msg_name; unsigned int msg_namelen; struct iovec *msg_iov;
                size_t msg_iovlen; void *msg_control; size_t msg_controllen; int msg_flags; };
struct mmsghdr { struct msghdr msg_hdr; unsigned int msg_len; };
int sendmmsg(int sockfd, struct mmsghdr *msgvec, unsigned int vlen, int flags);
"""
SIZE = 1100


def _drain(receivers: list[socket.socket], expected: int) -> None:
    got = 0
    for r in receivers:
        try:
            while True:
                r.recv(2048)
                got += 1
        except BlockingIOError:
            pass
    if got != expected:  # loopback does not drop a round this small
        raise OSError(f"{got} of {expected} datagrams arrived")


def run(n: int, rounds: int) -> tuple[float, float]:
    """CPU µs per datagram: (sendto, sendmmsg)."""
    ffi = FFI()
    ffi.cdef(_CDEF)
    libc = ffi.dlopen(None)
    receivers = []
    for _ in range(n):
        r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        r.bind(("127.0.0.1", 0))
        r.setblocking(False)
        receivers.append(r)
    addresses = [r.getsockname() for r in receivers]
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.bind(("127.0.0.1", 0))
    payload = bytearray(SIZE)
    messages = ffi.new("struct mmsghdr[]", n)
    vectors = ffi.new("struct iovec[]", n)
    names = []
    buffers = [bytearray(SIZE) for _ in range(n)]
    for i, (host, port) in enumerate(addresses):
        # struct sockaddr_in: family (host order), port, address, zero padding
        name = ffi.new(
            "char[]",
            struct.pack("=H", socket.AF_INET)
            + struct.pack("!H", port)
            + socket.inet_aton(host)
            + bytes(8),
        )
        names.append(name)
        messages[i].msg_hdr.msg_name = name
        messages[i].msg_hdr.msg_namelen = 16
        messages[i].msg_hdr.msg_iov = vectors + i
        messages[i].msg_hdr.msg_iovlen = 1
    try:
        plain = batched = 0.0
        for _ in range(rounds):
            start = time.process_time()
            for address in addresses:
                sender.sendto(payload, address)
            plain += time.process_time() - start
            _drain(receivers, n)
            start = time.process_time()
            for i in range(n):  # per round, as a forwarder would fill it
                vectors[i].iov_base = ffi.from_buffer(buffers[i])
                vectors[i].iov_len = SIZE
            sent = libc.sendmmsg(sender.fileno(), messages, n, 0)
            batched += time.process_time() - start
            if sent != n:
                raise OSError(f"sendmmsg sent {sent} of {n}")
            _drain(receivers, n)
        count = n * rounds
        return plain / count * 1e6, batched / count * 1e6
    finally:
        sender.close()
        for r in receivers:
            r.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="datagrams per batch")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print("| run | sendto µs/datagram | sendmmsg µs/datagram | ratio |")
    print("|---|---|---|---|")
    for i in range(args.repeat):
        plain, batched = run(args.n, args.rounds)
        print(f"| {i + 1} | {plain:.2f} | {batched:.2f} | {batched / plain:.2f} |")


if __name__ == "__main__":
    main()
