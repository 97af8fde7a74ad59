#!/usr/bin/env python3
"""Writes the seed corpus of the MQTT decoder fuzz target (tests/fuzz/corpus/mqtt_decoder/).

Each seed is a small broker-to-client byte stream laid out by hand from the MQTT 3.1.1 and 5.0
packet tables: one valid packet of each type the client receives, a few streams of several
packets, and malformed forms near the edges the decoder checks. Inputs found by the fuzzer that
crashed it are kept in the same folder under crash-* names and are not rewritten here.

    python3 tests/fuzz/make_mqtt_corpus.py
"""
import pathlib
import struct

OUT = pathlib.Path(__file__).resolve().parent / "corpus" / "mqtt_decoder"


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def s(text):
    data = text.encode() if isinstance(text, str) else text
    return struct.pack(">H", len(data)) + data


def props(block):
    return varint(len(block)) + block


def packet(first, body):
    return bytes([first]) + varint(len(body)) + body


def u16(v):
    return struct.pack(">H", v)


def u32(v):
    return struct.pack(">I", v)


def user(k, v):
    return b"\x26" + s(k) + s(v)


CONNACK_PROPS = (b"\x11" + u32(60) + b"\x21" + u16(10) + b"\x24\x01" + b"\x25\x00" +
                 b"\x27" + u32(1024) + b"\x12" + s("auto") + b"\x22" + u16(4) +
                 b"\x1f" + s("ok") + user("k", "v") + b"\x28\x01\x29\x01\x2a\x00" +
                 b"\x13" + u16(30) + b"\x1a" + s("ri") + b"\x1c" + s("srv") +
                 b"\x15" + s("m") + b"\x16" + s("d"))
PUBLISH_PROPS = (b"\x01\x01" + b"\x02" + u32(9) + b"\x23" + u16(1) + b"\x08" + s("re/p") +
                 b"\x09" + s(b"\x00\x01") + user("a", "1") + b"\x0b" + varint(200) +
                 b"\x03" + s("application/json"))

SEEDS = {
    # Valid, 3.1.1 shapes (also read as 5.0 by the target)
    "connack_311": b"\x20\x02\x01\x00",
    "connack_311_refused": b"\x20\x02\x00\x05",
    "publish_311_qos0": packet(0x30, s("a/b") + b"hello"),
    "publish_311_qos1": packet(0x3B, s("a/b") + u16(7) + b'{"v":1}'),
    "puback_311": b"\x40\x02\x00\x07",
    "suback_311": b"\x90\x04\x00\x01\x01\x80",
    "unsuback_311": b"\xb0\x02\x00\x01",
    "pingresp": b"\xd0\x00",
    # Valid, 5.0
    "connack_5_all_properties": packet(0x20, b"\x00\x00" + props(CONNACK_PROPS)),
    "publish_5_all_properties": packet(0x32, s("s/1") + u16(9) + props(PUBLISH_PROPS) + b"{}"),
    "publish_5_alias_then_empty_topic":
        packet(0x30, s("t/x") + props(b"\x23" + u16(2)) + b"1") +
        packet(0x30, s("") + props(b"\x23" + u16(2)) + b"2"),
    "publish_5_qos2": packet(0x34, s("q") + u16(3) + props(b"") + b"x"),
    "puback_5_reason": packet(0x40, u16(7) + b"\x97" + props(b"\x1f" + s("slow") + user("k", "v"))),
    "puback_5_short": b"\x40\x03\x00\x07\x10",
    "suback_5": packet(0x90, u16(2) + props(b"\x1f" + s("r")) + b"\x00\x01\xa2"),
    "unsuback_5": packet(0xB0, u16(2) + props(user("x", "y")) + b"\x00\x11"),
    "disconnect_5": packet(0xE0, b"\x9c" + props(b"\x11" + u32(1) + b"\x1f" + s("bye") +
                                                  b"\x1c" + s("other"))),
    "disconnect_short": b"\xe0\x00",
    "auth_5": packet(0xF0, b"\x18" + props(b"\x15" + s("SCRAM") + b"\x16" + s("c"))),
    "auth_empty": b"\xf0\x00",
    "stream_several": b"\xd0\x00" + packet(0x30, s("t") + props(b"") + b"p") +
                      b"\x40\x02\x00\x01" + b"\xd0\x00",
    "publish_large_length": packet(0x30, s("big") + props(b"") + b"x" * 200),
    # Malformed
    "bad_qos3": packet(0x36, s("t") + u16(1) + props(b"")),
    "bad_varint_5_bytes": b"\x30\xff\xff\xff\xff\x01",
    "bad_varint_not_minimal": b"\xd0\x80\x00",
    "bad_property_repeated": packet(0x20, b"\x00\x00" + props(b"\x21" + u16(1) + b"\x21" + u16(1))),
    "bad_property_overrun": b"\x20\x04\x00\x00\x05\x24",
    "bad_topic_wildcard": packet(0x30, s("a/+") + props(b"") + b"x"),
    "bad_topic_utf8": packet(0x30, s(b"\xed\xa0\x80") + props(b"") + b"x"),
    "bad_alias_unknown": packet(0x30, s("") + props(b"\x23" + u16(1)) + b"x"),
    "bad_connect_type": b"\x10\x00",
    "bad_user_property_cut": packet(0x40, u16(1) + b"\x00" + props(b"\x26\x00\x05ab")),
}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for name, data in SEEDS.items():
        (OUT / name).write_bytes(data)
    print(f"wrote {len(SEEDS)} seeds to {OUT}")


if __name__ == "__main__":
    main()
