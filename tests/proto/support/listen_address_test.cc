#include "support/listen_address.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace hive::support {
namespace {

using ::testing::HasSubstr;

TEST(ListenAddressTest, HostPortNeedsAPortUpTo65535) {
  EXPECT_TRUE(CheckHostPort("127.0.0.1:7450").ok());
  EXPECT_TRUE(CheckHostPort("[::1]:7450").ok());
  EXPECT_TRUE(CheckHostPort("localhost:0").ok());
  EXPECT_TRUE(CheckHostPort("127.0.0.1:65535").ok());
  // gRPC would bind 99999 % 65536 = 34463 and say it listens on 99999.
  EXPECT_THAT(CheckHostPort("127.0.0.1:99999").message(), HasSubstr("port 99999 is above 65535"));
  EXPECT_THAT(CheckHostPort("127.0.0.1:123456").message(), HasSubstr("not a port number"));
  EXPECT_THAT(CheckHostPort("127.0.0.1:").message(), HasSubstr("not a port number"));
  EXPECT_THAT(CheckHostPort("127.0.0.1:http").message(), HasSubstr("not a port number"));
  EXPECT_THAT(CheckHostPort("nonsense").message(), HasSubstr("expected HOST:PORT"));
  EXPECT_THAT(CheckHostPort(":7450").message(), HasSubstr("expected HOST:PORT"));
}

TEST(ListenAddressTest, GrpcAddressesMayBeUnixSockets) {
  EXPECT_TRUE(CheckGrpcAddress("unix:/run/hive/policyd.sock").ok());
  EXPECT_TRUE(CheckGrpcAddress("unix-abstract:hive").ok());
  EXPECT_FALSE(CheckGrpcAddress("unix:").ok());
  EXPECT_TRUE(CheckGrpcAddress("127.0.0.1:7450").ok());
  EXPECT_FALSE(CheckGrpcAddress("127.0.0.1:70000").ok());
}

TEST(ListenAddressTest, TargetsCheckOnlyANumericPort) {
  EXPECT_TRUE(CheckTargetPort("dns:///policy.example.net:7450").ok());
  EXPECT_TRUE(CheckTargetPort("unix:/run/hive/policyd.sock").ok());
  EXPECT_TRUE(CheckTargetPort("policy.example.net").ok());
  EXPECT_THAT(CheckTargetPort("127.0.0.1:99999").message(), HasSubstr("above 65535"));
}

TEST(ListenAddressTest, MilterSocketsInLibmiltersSyntax) {
  EXPECT_TRUE(CheckMilterSocket("inet:7451@127.0.0.1").ok());
  EXPECT_TRUE(CheckMilterSocket("inet6:7451@[::1]").ok());
  EXPECT_TRUE(CheckMilterSocket("inet:7451").ok());  // every address
  EXPECT_TRUE(CheckMilterSocket("inet:milter@127.0.0.1").ok());  // a service name
  EXPECT_TRUE(CheckMilterSocket("unix:/run/hive/milter.sock").ok());
  EXPECT_TRUE(CheckMilterSocket("local:/run/hive/milter.sock").ok());
  // libmilter would bind 99999 % 65536 = 34463.
  EXPECT_THAT(CheckMilterSocket("inet:99999@127.0.0.1").message(), HasSubstr("port 99999 is above 65535"));
  EXPECT_THAT(CheckMilterSocket("inet:@127.0.0.1").message(), HasSubstr("not a port number"));
  EXPECT_THAT(CheckMilterSocket("inet:7451@").message(), HasSubstr("expected inet:PORT@HOST"));
  EXPECT_THAT(CheckMilterSocket("127.0.0.1:7451").message(), HasSubstr("expected inet:PORT@HOST"));
  EXPECT_THAT(CheckMilterSocket("unix:").message(), HasSubstr("expected inet:PORT@HOST"));
}

}  // namespace
}  // namespace hive::support
