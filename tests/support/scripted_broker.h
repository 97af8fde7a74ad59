// ScriptedBroker: a loopback listener that plays the broker's side of MQTT by hand. A test writes
// the packets it sends byte by byte, as the MQTT 5.0 specification lays them out, and reads back
// the raw packets the client wrote.
//
// mosquitto is the interop partner in the integration tests, but some cases need a broker that
// does what mosquitto cannot or will not do on cue: misbehave (malformed packets, a small Receive
// Maximum, topic aliases it chooses, a session it drops) or speak an authentication method
// mosquitto has no plugin for, such as the Kubernetes service-account-token method (K8S-SAT)
// the Azure IoT Operations broker uses.
//
// One client at a time, from the test's own thread: accept_client() takes the next connection
// and reads its CONNECT, which connect_packet() keeps for the test to inspect. Failures to
// bind, listen or send are gtest failures of the running test.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>

namespace edgeflow::test {

using Bytes = std::string;

/// Literal bytes: bytes({0x20, 2, 0, 0}).
Bytes bytes(std::initializer_list<int> list);

/// One packet as it came off the wire.
struct RawPacket {
    std::uint8_t header = 0;  ///< type << 4 | flags
    Bytes body;               ///< everything after the remaining length
};

class ScriptedBroker {
public:
    ScriptedBroker();
    ~ScriptedBroker();
    ScriptedBroker(const ScriptedBroker&) = delete;
    ScriptedBroker& operator=(const ScriptedBroker&) = delete;

    int port() const { return port_; }

    /// Accepts the next connection and reads its CONNECT (kept in connect_packet()). False when
    /// no client connects, or it sends something else first, within `timeout`.
    bool accept_client(std::chrono::milliseconds timeout = std::chrono::seconds(3));
    /// The CONNECT the current client opened with.
    const RawPacket& connect_packet() const { return connect_; }
    /// Closes the current client's connection, if any.
    void drop();
    void send(const Bytes& data);
    /// The next whole packet from the client, or nullopt when none comes within `timeout`.
    std::optional<RawPacket> read_packet(
        std::chrono::milliseconds timeout = std::chrono::seconds(3));
    /// Whether the client closes its end within `timeout` (reading and discarding what comes
    /// first).
    bool wait_closed(std::chrono::milliseconds timeout);

private:
    std::optional<RawPacket> take_packet();

    int listener_ = -1;
    int client_ = -1;
    int port_ = 0;
    Bytes buffer_;
    RawPacket connect_;
};

}  // namespace edgeflow::test
