// Throwaway certificates for the HTTPS server tests, made with the OpenSSL C API: a CA, a
// serving certificate for 127.0.0.1/localhost, and client certificates with a chosen CN
// and O list. P-256 keys, valid from an hour ago for a day. Aborts on OpenSSL failure
// (test helper only).
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace kite::http::testing {

struct CertAndKey {
  std::string cert_pem;
  std::string key_pem;
};

class TestCa {
 public:
  explicit TestCa(const std::string& common_name);
  ~TestCa();
  TestCa(const TestCa&) = delete;
  TestCa& operator=(const TestCa&) = delete;

  const std::string& cert_pem() const { return cert_pem_; }

  // serverAuth, SAN IP 127.0.0.1, IP ::1 and DNS localhost.
  CertAndKey IssueServer() const;
  // clientAuth, subject CN=common_name and one O per organization, in order.
  CertAndKey IssueClient(const std::string& common_name,
                         const std::vector<std::string>& organizations) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
  std::string cert_pem_;
};

}  // namespace kite::http::testing
