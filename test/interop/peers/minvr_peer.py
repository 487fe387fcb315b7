#!/usr/bin/env python3
"""An independent MinVR3 peer for interop tests: Python 3 standard library only.

Written from the description of MinVR3's TCP JSON connection (TcpJsonVREventConnection),
not from the code it is tested against. Each frame, both ways: a 4-byte little-endian
uint32 byte count, then that many bytes of ASCII JSON holding one VREvent:
{"m_Name": str, "m_DataTypeName": str, "m_Data": payload}, m_Data absent without data.

Script: send one event of every data type (--send whole: one sendall per frame; batch: all
frames in one sendall; split: the frames cut into pieces that straddle frame boundaries,
sent with small sleeps), then echo every received event back, named "echo/<name>", until
one named "test/done" arrives; then send "MinVR3/Shutdown", wait for the other side to
close (briefly) and exit 0.

Stdout, one line each: "LISTENING <port>" (server role, first), "CONNECTED", "SENT <n>",
"RECV <frame body>" per received frame ("RECVLONG <name> <bytes>" for long ones), "DONE".
"""
import argparse
import json
import socket
import struct
import sys
import time

MAX_FRAME = 16 * 1024 * 1024
LONG_PRINT = 4096

EVENTS = [
    {"m_Name": "peer/none", "m_DataTypeName": ""},
    {"m_Name": "peer/single", "m_DataTypeName": "Single", "m_Data": 3.1415927410125732},
    {"m_Name": "peer/single-whole", "m_DataTypeName": "Single", "m_Data": 1.0},
    {"m_Name": "peer/int-min", "m_DataTypeName": "Int32", "m_Data": -2147483648},
    {"m_Name": "peer/int-max", "m_DataTypeName": "Int32", "m_Data": 2147483647},
    {"m_Name": "peer/string", "m_DataTypeName": "String", "m_Data": 'Grüße 🚀 ✓ "q" \\ /\n\t'},
    {"m_Name": "peer/long", "m_DataTypeName": "String", "m_Data": "Grüße 🚀 ✓ " * 5000},
    {"m_Name": "peer/vector2", "m_DataTypeName": "Vector2", "m_Data": {"x": 0.1, "y": -2.5}},
    {"m_Name": "peer/vector3", "m_DataTypeName": "Vector3", "m_Data": {"x": 1.0, "y": 1e-07, "z": 123456.789}},
    {"m_Name": "peer/vector4", "m_DataTypeName": "Vector4", "m_Data": {"x": -0.5, "y": 0.25, "z": 2.0, "w": 1e20}},
    # Any key order is allowed.
    {"m_Data": {"x": 0.0, "y": 0.7071067690849304, "z": 0.0, "w": 0.7071067690849304},
     "m_DataTypeName": "Quaternion", "m_Name": "peer/quaternion"},
    {"m_Name": "peer/gameobject", "m_DataTypeName": "GameObject", "m_Data": {"instanceID": -24680}},
    {"m_Name": "peer/unknown", "m_DataTypeName": "MyType",
     "m_Data": {"list": [1, 2.5, "ü", True, None], "nested": {"deep": [{}]}}},
]

SHUTDOWN = {"m_Name": "MinVR3/Shutdown", "m_DataTypeName": ""}


def frame(event):
    body = json.dumps(event, ensure_ascii=True).encode("ascii")
    return struct.pack("<I", len(body)) + body


def recv_exact(sock, count):
    data = bytearray()
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise EOFError("connection closed after %d of %d bytes" % (len(data), count))
        data += chunk
    return bytes(data)


def recv_event(sock):
    (length,) = struct.unpack("<I", recv_exact(sock, 4))
    if length > MAX_FRAME:
        raise ValueError("frame of %d bytes announced" % length)
    text = recv_exact(sock, length).decode("ascii")  # the sender must escape non-ASCII
    event = json.loads(text)
    if not isinstance(event, dict) or not isinstance(event.get("m_Name"), str) \
            or not isinstance(event.get("m_DataTypeName"), str):
        raise ValueError("not a VREvent: " + text[:200])
    if length <= LONG_PRINT:
        print("RECV " + text, flush=True)
    else:
        print("RECVLONG %s %d" % (event["m_Name"], length), flush=True)
    return event


def send_events(sock, mode):
    frames = [frame(event) for event in EVENTS]
    if mode == "whole":
        for data in frames:
            sock.sendall(data)
        return
    stream = b"".join(frames)
    if mode == "batch":
        sock.sendall(stream)
        return
    # split: cut inside every header (after 1 and 3 bytes) and in the middle of every body,
    # so that no piece starts or ends on a frame boundary.
    cuts, start = [], 0
    for data in frames:
        cuts += [start + 1, start + 3, start + 4 + (len(data) - 4) // 2]
        start += len(data)
    for begin, end in zip([0] + cuts, cuts + [len(stream)]):
        sock.sendall(stream[begin:end])
        time.sleep(0.015)


def run(sock, mode):
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    print("CONNECTED", flush=True)
    send_events(sock, mode)
    print("SENT %d" % len(EVENTS), flush=True)
    while True:
        event = recv_event(sock)
        if event["m_Name"] == "test/done":
            break
        echo = dict(event)
        echo["m_Name"] = "echo/" + event["m_Name"]
        sock.sendall(frame(echo))
    sock.sendall(frame(SHUTDOWN))
    sock.shutdown(socket.SHUT_WR)
    sock.settimeout(3)
    try:  # give the other side a moment to read everything and close
        while sock.recv(65536):
            pass
    except OSError:
        pass
    sock.close()
    print("DONE", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--role", choices=["client", "server"], required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--send", choices=["whole", "batch", "split"], default="whole")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds any wait may take")
    args = parser.parse_args()
    if args.role == "client":
        sock = socket.create_connection((args.host, args.port), timeout=args.timeout)
    else:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((args.host, args.port))
        listener.listen(1)
        listener.settimeout(args.timeout)
        print("LISTENING %d" % listener.getsockname()[1], flush=True)
        sock, _address = listener.accept()
        listener.close()
        sock.settimeout(args.timeout)
    run(sock, args.send)
    return 0


if __name__ == "__main__":
    sys.exit(main())
