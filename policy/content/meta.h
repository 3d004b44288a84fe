// Meta rules: boolean / counting expressions over other symbols, e.g.
//   "HTML_ONLY && URL_SHORTENER"
//   "(PILLS + CASINO + LOAN) >= 2 && !KNOWN_SENDER"
// A symbol name is 1 when it fired, else 0. Operators, loosest first:
// ||, &&, comparisons (>= > <= < ==), +, unary !, parentheses, integers.
//
// Contract: Parse() validates the syntax and that every name is known to
// `known` (a rule, a built-in check or an earlier meta), with a message
// saying what is wrong and where; nesting and length are bounded, so a
// config can never make evaluation deep or slow. Eval() is a walk over the
// compiled nodes.
//
// Thread-safety: immutable after Parse(); Eval() is thread-safe.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace hive::policy::content {

class MetaExpression {
 public:
  static constexpr std::size_t kMaxLength = 4096;
  static constexpr int kMaxNesting = 32;

  static absl::StatusOr<MetaExpression> Parse(std::string_view text,
                                              const std::function<bool(const std::string&)>& known);

  // True when the expression's value is non-zero.
  bool Eval(const std::function<bool(const std::string&)>& fired) const;

  const std::vector<std::string>& symbols() const { return symbols_; }

 private:
  enum class Op { kNumber, kSymbol, kNot, kAdd, kAnd, kOr, kGe, kGt, kLe, kLt, kEq };
  struct Node {
    Op op;
    long value = 0;     // kNumber; symbol index for kSymbol
    int left = -1, right = -1;
  };
  long Value(int node, const std::vector<bool>& fired) const;
  friend class MetaParser;

  std::vector<Node> nodes_;
  int root_ = -1;
  std::vector<std::string> symbols_;
};

struct MetaRule {
  std::string name;
  MetaExpression expression;
  double weight = 0;
};

}  // namespace hive::policy::content
