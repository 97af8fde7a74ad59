#include "tests/support/certificates.h"

#include <filesystem>
#include <fstream>
#include <vector>

#include "tests/support/process.h"

namespace edgeflow::test {
namespace {

bool run_openssl(const std::string& dir, std::vector<std::string> args, std::string& error) {
    args.insert(args.begin(), EDGEFLOW_OPENSSL);
    Process openssl(args, dir + "/openssl");
    const auto code = openssl.wait(std::chrono::seconds(30));
    if (code.value_or(-1) != 0) {
        std::string command;
        for (const auto& a : args) {
            command += a + " ";
        }
        error = command + "failed:\n" + openssl.err();
        return false;
    }
    return true;
}

bool self_signed_ca(const std::string& dir, const std::string& name, const std::string& cn,
                    std::string& error) {
    return run_openssl(
        dir,
        {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/" + name + ".key",
         "-out", dir + "/" + name + ".pem", "-days", "2", "-subj", "/CN=" + cn, "-addext",
         "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"},
        error);
}

// A key and a certificate for `cn` signed by dir/ca.pem, with `extensions` (an openssl
// extension file's lines).
bool signed_by_ca(const std::string& dir, const std::string& name, const std::string& cn,
                  const std::string& extensions, std::string& error) {
    const std::string base = dir + "/" + name;
    {
        std::ofstream ext(base + ".ext");
        ext << extensions;
    }
    return run_openssl(dir,
                       {"req", "-newkey", "rsa:2048", "-nodes", "-keyout", base + ".key", "-out",
                        base + ".csr", "-subj", "/CN=" + cn},
                       error) &&
           run_openssl(dir,
                       {"x509", "-req", "-in", base + ".csr", "-CA", dir + "/ca.pem", "-CAkey",
                        dir + "/ca.key", "-CAcreateserial", "-out", base + ".pem", "-days", "2",
                        "-extfile", base + ".ext"},
                       error);
}

}  // namespace

std::optional<TestCertificates> TestCertificates::make(const std::string& dir, std::string& error) {
    if (!self_signed_ca(dir, "ca", "edgeflow test CA", error) ||
        !self_signed_ca(dir, "other-ca", "edgeflow unrelated test CA", error) ||
        !signed_by_ca(dir, "server", "localhost",
                      "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                      "extendedKeyUsage=serverAuth\n",
                      error) ||
        !signed_by_ca(dir, "wrong-host", "wrong-host.example.com",
                      "subjectAltName=DNS:wrong-host.example.com\n"
                      "extendedKeyUsage=serverAuth\n",
                      error) ||
        !signed_by_ca(dir, "client", "edgeflow-test-client", "extendedKeyUsage=clientAuth\n",
                      error)) {
        return std::nullopt;
    }
    TestCertificates c;
    c.ca_file = dir + "/ca.pem";
    c.server_cert_file = dir + "/server.pem";
    c.server_key_file = dir + "/server.key";
    c.wrong_host_cert_file = dir + "/wrong-host.pem";
    c.wrong_host_key_file = dir + "/wrong-host.key";
    c.client_cert_file = dir + "/client.pem";
    c.client_key_file = dir + "/client.key";
    c.other_ca_file = dir + "/other-ca.pem";
    return c;
}

}  // namespace edgeflow::test
