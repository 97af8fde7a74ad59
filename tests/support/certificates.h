// Test certificates made with the openssl command-line tool in a directory the test owns:
// a CA, a server certificate for `localhost` and 127.0.0.1 signed by it, a server certificate
// signed by the same CA for another host name, a client certificate signed by the CA, and a
// second, unrelated CA. RSA 2048 keys without passphrases, valid for two days.
#pragma once

#include <optional>
#include <string>

namespace edgeflow::test {

struct TestCertificates {
    std::string ca_file;           ///< the CA the brokers' certificates chain to
    std::string server_cert_file;  ///< CN and SAN localhost, SAN IP 127.0.0.1
    std::string server_key_file;
    std::string wrong_host_cert_file;  ///< signed by ca_file for wrong-host.example.com only
    std::string wrong_host_key_file;
    std::string client_cert_file;  ///< signed by ca_file, for clientAuth
    std::string client_key_file;
    std::string other_ca_file;  ///< a CA that signed none of the above

    /// Writes all of them into `dir` (which must exist). Nullopt with openssl's output in
    /// `error` when a step fails. Takes about a second: make them once per test program.
    static std::optional<TestCertificates> make(const std::string& dir, std::string& error);
};

}  // namespace edgeflow::test
