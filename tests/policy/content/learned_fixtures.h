// Test helpers for the learned signals: read the hand-made labelled
// fixtures of tests/data/bayes (8 spam, 8 ham; GB2312 and UTF-8) and train
// a classifier on them.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "content/classifier.h"
#include "content/message.h"

namespace hive::policy::content::testing {

inline Message ReadFixture(const std::string& name) {
  std::ifstream in(std::string(HIVE_TEST_DATA_DIR) + "/bayes/" + name, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return SplitRawMessage(s.str());
}

// Learns spam-1..n and ham-1..n.
inline void TrainOnFixtures(Classifier& c, int n = 8) {
  for (int i = 1; i <= n; ++i) {
    c.Learn(ReadFixture("spam-" + std::to_string(i) + ".eml"), true);
    c.Learn(ReadFixture("ham-" + std::to_string(i) + ".eml"), false);
  }
}

inline Message PlainMessage(const std::string& subject, const std::string& body) {
  return Message{{{"From", "a@b.example"}, {"Subject", subject}, {"Content-Type", "text/plain; charset=utf-8"}},
                 body};
}

}  // namespace hive::policy::content::testing
