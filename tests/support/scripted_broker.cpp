#include "tests/support/scripted_broker.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace edgeflow::test {

Bytes bytes(std::initializer_list<int> list) {
    Bytes out;
    for (const int b : list) {
        out.push_back(static_cast<char>(b));
    }
    return out;
}

ScriptedBroker::ScriptedBroker() {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(::listen(listener_, 4), 0);
    socklen_t length = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
}

ScriptedBroker::~ScriptedBroker() {
    drop();
    ::close(listener_);
}

bool ScriptedBroker::accept_client(std::chrono::milliseconds timeout) {
    drop();
    pollfd p{listener_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) {
        return false;
    }
    client_ = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    buffer_.clear();
    const auto connect = read_packet(timeout);
    connect_ = connect.value_or(RawPacket{});
    return connect && connect->header == 0x10;
}

void ScriptedBroker::drop() {
    if (client_ >= 0) {
        ::close(client_);
        client_ = -1;
    }
}

void ScriptedBroker::send(const Bytes& data) {
    ASSERT_EQ(::send(client_, data.data(), data.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(data.size()));
}

std::optional<RawPacket> ScriptedBroker::read_packet(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        if (auto packet = take_packet()) {
            return packet;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return std::nullopt;
        }
        pollfd p{client_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) != 1) {
            return std::nullopt;
        }
        char chunk[4096];
        const ssize_t n = ::recv(client_, chunk, sizeof chunk, 0);
        if (n <= 0) {
            return std::nullopt;
        }
        buffer_.append(chunk, static_cast<std::size_t>(n));
    }
}

bool ScriptedBroker::wait_closed(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        pollfd p{client_, POLLIN, 0};
        if (::poll(&p, 1, 50) == 1) {
            char chunk[256];
            if (::recv(client_, chunk, sizeof chunk, 0) <= 0) {
                return true;
            }
        }
    }
    return false;
}

std::optional<RawPacket> ScriptedBroker::take_packet() {
    if (buffer_.size() < 2) {
        return std::nullopt;
    }
    std::size_t length = 0;
    std::size_t at = 1;
    for (int shift = 0;; shift += 7) {
        if (at >= buffer_.size()) {
            return std::nullopt;
        }
        const auto b = static_cast<std::uint8_t>(buffer_[at++]);
        length |= static_cast<std::size_t>(b & 0x7F) << shift;
        if ((b & 0x80) == 0) {
            break;
        }
    }
    if (buffer_.size() < at + length) {
        return std::nullopt;
    }
    RawPacket packet{static_cast<std::uint8_t>(buffer_[0]), buffer_.substr(at, length)};
    buffer_.erase(0, at + length);
    return packet;
}

}  // namespace edgeflow::test
