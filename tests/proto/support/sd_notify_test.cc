// hive::notify: the datagram the daemons send systemd, received on a real
// unix datagram socket (path and abstract namespace), and the no-op and
// error cases.
#include "support/sd_notify.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <string>

namespace hive::notify {
namespace {

using ::testing::HasSubstr;

// Binds a datagram socket at `name` ("@x": abstract) and points
// NOTIFY_SOCKET at it for the duration of the test.
class Receiver {
 public:
  explicit Receiver(const std::string& name) : name_(name) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, name.data(), name.size());
    if (name[0] == '@') addr.sun_path[0] = '\0';
    else unlink(name.c_str());
    bound_ = bind(fd_, reinterpret_cast<sockaddr*>(&addr),
                  static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size())) == 0;
    setenv("NOTIFY_SOCKET", name.c_str(), 1);
  }
  ~Receiver() {
    unsetenv("NOTIFY_SOCKET");
    close(fd_);
    if (name_[0] == '/') unlink(name_.c_str());
  }
  bool bound() const { return bound_; }
  std::string Receive() {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 2000) != 1) return "";
    char buf[1024];
    const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
  }

 private:
  std::string name_;
  int fd_ = -1;
  bool bound_ = false;
};

TEST(SdNotifyTest, WithoutNotifySocketNothingIsSentAndThatIsFine) {
  unsetenv("NOTIFY_SOCKET");
  EXPECT_TRUE(NotifyReady("x").ok());
  setenv("NOTIFY_SOCKET", "", 1);
  EXPECT_TRUE(NotifyReady("x").ok());
  unsetenv("NOTIFY_SOCKET");
}

TEST(SdNotifyTest, ReadySendsOneDatagramWithStatusOnOneLineAndThePid) {
  Receiver r("/tmp/hive-sd-notify-test-" + std::to_string(getpid()));
  ASSERT_TRUE(r.bound());
  ASSERT_TRUE(NotifyReady("listening\nINJECTED=1").ok());
  EXPECT_EQ(r.Receive(), "READY=1\nSTATUS=listening INJECTED=1\nMAINPID=" + std::to_string(getpid()) + "\n");
  ASSERT_TRUE(NotifyStopping().ok());
  EXPECT_EQ(r.Receive(), "STOPPING=1\n");
}

TEST(SdNotifyTest, AbstractNamespaceSocket) {
  Receiver r("@hive-sd-notify-test-" + std::to_string(getpid()));
  ASSERT_TRUE(r.bound());
  ASSERT_TRUE(NotifyReady("up").ok());
  EXPECT_THAT(r.Receive(), HasSubstr("READY=1\n"));
}

TEST(SdNotifyTest, ErrorsAreReturnedNotThrown) {
  setenv("NOTIFY_SOCKET", "relative/path", 1);
  EXPECT_EQ(NotifyReady("x").code(), absl::StatusCode::kInvalidArgument);
  setenv("NOTIFY_SOCKET", "/nonexistent-dir/hive-notify", 1);
  EXPECT_FALSE(NotifyReady("x").ok());
  setenv("NOTIFY_SOCKET", ("/" + std::string(200, 'x')).c_str(), 1);
  EXPECT_EQ(NotifyReady("x").code(), absl::StatusCode::kInvalidArgument);
  unsetenv("NOTIFY_SOCKET");
}

}  // namespace
}  // namespace hive::notify
