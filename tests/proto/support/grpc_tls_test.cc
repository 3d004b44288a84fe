// grpc_tls.h without certificates (those are made and used over real gRPC
// in tests/integration/security_test.cc and tls_fault_test.cc): which
// addresses may be plaintext, and errors that name the config field.
#include "support/grpc_tls.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

namespace hive::tls {
namespace {

using ::testing::HasSubstr;

TEST(GrpcTlsTest, OnlyLoopbackAndUnixSocketsAreLocal) {
  for (const char* local : {"127.0.0.1:7450", "127.1.2.3:1", "[::1]:7450", "localhost:7450", "unix:/run/hive/p.sock",
                            "unix-abstract:hive", "ipv4:127.0.0.1:1,127.0.0.1:2", "127.0.0.1:1, 127.0.0.2:2"}) {
    EXPECT_TRUE(IsLocalAddress(local)) << local;
  }
  for (const char* remote : {"0.0.0.0:7450", "[::]:7450", "10.0.0.5:7450", "policy.example.net:7450",
                             "ipv4:127.0.0.1:1,10.0.0.1:2", "", "128.0.0.1:1", "[::2]:1"}) {
    EXPECT_FALSE(IsLocalAddress(remote)) << remote;
  }
}

TEST(GrpcTlsTest, SameListenAddressSeesThroughSpellings) {
  struct Case {
    const char* a;
    const char* b;
    bool same;
  };
  for (const Case& c : std::vector<Case>{{"127.0.0.1:7450", "127.0.0.1:7450", true},
                                         {"localhost:7450", "127.0.0.1:7450", true},
                                         {"0.0.0.0:7450", "127.0.0.1:7450", true},
                                         {"[::]:7450", "10.0.0.5:7450", true},
                                         {"[::1]:7450", "localhost:7450", true},
                                         {":7450", "192.0.2.1:7450", true},
                                         {"unix:/run/hive/a.sock", "unix:///run/hive/a.sock", true},
                                         {"127.0.0.1:7450", "127.0.0.1:7454", false},
                                         {"127.0.0.1:0", "127.0.0.1:0", false},
                                         {"10.0.0.5:7450", "10.0.0.6:7450", false},
                                         {"10.0.0.5:7450", "127.0.0.1:7450", false},
                                         {"unix:/run/hive/a.sock", "unix:/run/hive/b.sock", false},
                                         {"unix:/run/hive/a.sock", "127.0.0.1:7450", false}}) {
    EXPECT_EQ(SameListenAddress(c.a, c.b), c.same) << c.a << " " << c.b;
    EXPECT_EQ(SameListenAddress(c.b, c.a), c.same) << c.b << " " << c.a;
  }
}

TEST(GrpcTlsTest, PlaintextIsRefusedOffLoopback) {
  auto server = MakeServerCredentials({}, "0.0.0.0:7450", "server.tls", false);
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(std::string(server.status().message()), HasSubstr("plaintext gRPC on 0.0.0.0:7450 refused"));
  EXPECT_THAT(std::string(server.status().message()), HasSubstr("(set server.tls)"));
  EXPECT_TRUE(MakeServerCredentials({}, "127.0.0.1:7450", "server.tls", false).ok());
  EXPECT_TRUE(MakeServerCredentials({}, "unix:/tmp/x.sock", "server.admin.tls", true).ok());
  grpc::ChannelArguments args;
  auto client = MakeChannelCredentials({}, "10.0.0.5:7450", "policy_tls", args);
  ASSERT_FALSE(client.ok());
  EXPECT_THAT(std::string(client.status().message()), HasSubstr("plaintext gRPC to 10.0.0.5:7450 refused"));
  EXPECT_TRUE(MakeChannelCredentials({}, "127.0.0.1:7450", "policy_tls", args).ok());
}

TEST(GrpcTlsTest, IncompleteSettingsNameTheField) {
  hive::config::v1::ServerTls server;
  server.set_key_file("/k.pem");
  EXPECT_THAT(std::string(MakeServerCredentials(server, "127.0.0.1:1", "server.tls", false).status().message()),
              HasSubstr("server.tls.cert_file: required"));
  server.set_cert_file("/nonexistent/c.pem");
  server.set_require_client_cert(true);
  EXPECT_THAT(std::string(MakeServerCredentials(server, "127.0.0.1:1", "server.tls", false).status().message()),
              HasSubstr("server.tls.ca_file: required with require_client_cert"));
  server.set_require_client_cert(false);
  EXPECT_THAT(std::string(MakeServerCredentials(server, "127.0.0.1:1", "server.tls", false).status().message()),
              HasSubstr("server.tls.cert_file: cannot read '/nonexistent/c.pem'"));
  hive::config::v1::ClientTls client;
  client.set_cert_file("/c.pem");
  grpc::ChannelArguments args;
  EXPECT_THAT(std::string(MakeChannelCredentials(client, "127.0.0.1:1", "policy_tls", args).status().message()),
              HasSubstr("policy_tls.ca_file: required"));
}

}  // namespace
}  // namespace hive::tls
