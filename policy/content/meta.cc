#include "content/meta.h"

#include <cctype>

#include "absl/strings/str_cat.h"

namespace hive::policy::content {

class MetaParser {
 public:
  MetaParser(std::string_view text, const std::function<bool(const std::string&)>& known, MetaExpression& out)
      : text_(text), known_(known), out_(out) {}

  absl::Status Run() {
    out_.root_ = Or(0);
    Skip();
    if (error_.empty() && pos_ < text_.size()) Fail("unexpected text");
    if (!error_.empty()) return absl::InvalidArgumentError(error_);
    return absl::OkStatus();
  }

 private:
  using Op = MetaExpression::Op;

  void Fail(const std::string& what) {
    if (error_.empty()) error_ = absl::StrCat(what, " at offset ", pos_, " of the expression");
  }
  void Skip() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool Eat(std::string_view token) {
    Skip();
    if (text_.compare(pos_, token.size(), token) != 0) return false;
    pos_ += token.size();
    return true;
  }
  int Add(Op op, long value, int left, int right) {
    // Bounds the tree (and so Eval's recursion): chains like A + B + ...
    // grow it without nesting.
    if (out_.nodes_.size() >= 512) {
      Fail("too many terms");
      return -1;
    }
    if (!error_.empty()) return -1;
    out_.nodes_.push_back({op, value, left, right});
    return static_cast<int>(out_.nodes_.size() - 1);
  }

  int Or(int depth) {
    int left = And(depth);
    while (error_.empty() && Eat("||")) left = Add(Op::kOr, 0, left, And(depth));
    return left;
  }
  int And(int depth) {
    int left = Compare(depth);
    while (error_.empty() && Eat("&&")) left = Add(Op::kAnd, 0, left, Compare(depth));
    return left;
  }
  int Compare(int depth) {
    int left = Sum(depth);
    static constexpr std::pair<std::string_view, Op> kOps[] = {
        {">=", Op::kGe}, {"<=", Op::kLe}, {"==", Op::kEq}, {">", Op::kGt}, {"<", Op::kLt}};
    for (const auto& [token, op] : kOps) {
      if (error_.empty() && Eat(token)) return Add(op, 0, left, Sum(depth));
    }
    return left;
  }
  int Sum(int depth) {
    int left = Unary(depth);
    while (error_.empty() && Eat("+")) left = Add(Op::kAdd, 0, left, Unary(depth));
    return left;
  }
  int Unary(int depth) {
    if (depth > MetaExpression::kMaxNesting) {
      Fail("nested too deeply");
      return -1;
    }
    if (Eat("!")) return Add(Op::kNot, 0, Unary(depth + 1), -1);
    if (Eat("(")) {
      const int inner = Or(depth + 1);
      if (!Eat(")")) Fail("missing ')'");
      return inner;
    }
    Skip();
    const std::size_t start = pos_;
    if (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
      long v = 0;
      while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_])) && v < 1000000) {
        v = v * 10 + (text_[pos_++] - '0');
      }
      return Add(Op::kNumber, v, -1, -1);
    }
    while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_' ||
                                   text_[pos_] == '-' || text_[pos_] == '.')) {
      ++pos_;
    }
    if (pos_ == start) {
      Fail(pos_ < text_.size() ? "expected a symbol, a number, '!' or '('" : "unexpected end");
      return -1;
    }
    const std::string name(text_.substr(start, pos_ - start));
    if (!known_(name)) {
      pos_ = start;
      Fail(absl::StrCat("unknown symbol '", name, "' (not a rule, a built-in check or an earlier meta)"));
      return -1;
    }
    long index = -1;
    for (std::size_t i = 0; i < out_.symbols_.size(); ++i) {
      if (out_.symbols_[i] == name) index = static_cast<long>(i);
    }
    if (index < 0) {
      out_.symbols_.push_back(name);
      index = static_cast<long>(out_.symbols_.size() - 1);
    }
    return Add(Op::kSymbol, index, -1, -1);
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  const std::function<bool(const std::string&)>& known_;
  MetaExpression& out_;
  std::string error_;
};

absl::StatusOr<MetaExpression> MetaExpression::Parse(std::string_view text,
                                                     const std::function<bool(const std::string&)>& known) {
  if (text.size() > kMaxLength) return absl::InvalidArgumentError(absl::StrCat("longer than ", kMaxLength, " bytes"));
  MetaExpression e;
  MetaParser parser(text, known, e);
  if (absl::Status s = parser.Run(); !s.ok()) return s;
  return e;
}

long MetaExpression::Value(int node, const std::vector<bool>& fired) const {
  const Node& n = nodes_[static_cast<std::size_t>(node)];
  auto v = [&](int child) { return Value(child, fired); };
  switch (n.op) {
    case Op::kNumber: return n.value;
    case Op::kSymbol: return fired[static_cast<std::size_t>(n.value)] ? 1 : 0;
    case Op::kNot: return v(n.left) == 0 ? 1 : 0;
    case Op::kAdd: return v(n.left) + v(n.right);
    case Op::kAnd: return (v(n.left) != 0 && v(n.right) != 0) ? 1 : 0;
    case Op::kOr: return (v(n.left) != 0 || v(n.right) != 0) ? 1 : 0;
    case Op::kGe: return v(n.left) >= v(n.right) ? 1 : 0;
    case Op::kGt: return v(n.left) > v(n.right) ? 1 : 0;
    case Op::kLe: return v(n.left) <= v(n.right) ? 1 : 0;
    case Op::kLt: return v(n.left) < v(n.right) ? 1 : 0;
    case Op::kEq: return v(n.left) == v(n.right) ? 1 : 0;
  }
  return 0;
}

bool MetaExpression::Eval(const std::function<bool(const std::string&)>& fired) const {
  if (root_ < 0) return false;
  std::vector<bool> values(symbols_.size());
  for (std::size_t i = 0; i < symbols_.size(); ++i) values[i] = fired(symbols_[i]);
  return Value(root_, values) != 0;
}

}  // namespace hive::policy::content
