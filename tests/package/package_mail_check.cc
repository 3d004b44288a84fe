// Mail through the INSTALLED daemons (tests/package/package_test.sh): a
// private Postfix wired to the milter at 127.0.0.1:MILTER_PORT, relaying to
// a sink; a clean message must be delivered with its pool header, a spam
// message refused with 550. Exit 0 when both hold; the reasons otherwise.
//
// usage: hive-package-mailcheck MILTER_PORT
#include <cstdio>
#include <cstdlib>
#include <string>

#include "harness/postfix.h"
#include "harness/sink.h"
#include "harness/smtp_client.h"
#include "harness/temp_dir.h"

int main(int argc, char** argv) {
  using namespace hive::testing;
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s MILTER_PORT\n", argv[0]);
    return 2;
  }
  TempDir dir;
  Sink sink(dir.Sub("sink"), dir.Sub("sink.log"));
  Postfix postfix(dir.Sub("postfix"), PostfixOptions{.milter = std::string("inet:127.0.0.1:") + argv[1],
                                                     .sink_port = sink.port()});
  int failures = 0;
  Transaction ham = SendMail(postfix.smtp_port(), "receipts@shop.example", {"bob@example.net"},
                             MakeMessage("receipts@shop.example", "bob@example.net", "Package receipt", "Thanks."));
  const std::string delivered = sink.WaitForMessageContaining("Package receipt", std::chrono::seconds(20));
  if (ham.data.code != 250 || delivered.find("X-Hive-Pool: transactional") == std::string::npos) {
    std::fprintf(stderr, "clean message: %s; delivered:\n%s\n", ham.data.ToString().c_str(), delivered.c_str());
    ++failures;
  }
  Transaction spam = SendMail(postfix.smtp_port(), "promo@spam.example", {"bob@example.net"},
                              MakeMessage("promo@spam.example", "bob@example.net", "FREE MONEY $$$", "cheap viagra"));
  if (spam.data.code != 550) {
    std::fprintf(stderr, "spam message: expected 550, got %s\n", spam.data.ToString().c_str());
    ++failures;
  }
  if (failures > 0) std::fprintf(stderr, "postfix log:\n%s\n", postfix.Log().c_str());
  std::printf("package mail check: %s\n", failures == 0 ? "ok" : "FAILED");
  return failures == 0 ? 0 : 1;
}
