#include "content/message.h"

#include "absl/strings/match.h"

namespace hive::policy::content {

const std::string* FindHeader(const std::vector<Header>& headers, std::string_view name) {
  for (const Header& h : headers) {
    if (absl::EqualsIgnoreCase(absl::string_view(h.name.data(), h.name.size()),
                               absl::string_view(name.data(), name.size()))) {
      return &h.value;
    }
  }
  return nullptr;
}

HeaderBlock ParseHeaderBlock(std::string_view text, std::size_t max_headers, std::vector<Header>& out) {
  HeaderBlock block;
  std::size_t pos = 0;
  bool last_kept = false;  // whether a fold continues a field we kept
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    const std::size_t next = eol == std::string_view::npos ? text.size() : eol + 1;
    std::string_view line = text.substr(pos, (eol == std::string_view::npos ? text.size() : eol) - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      block.body_offset = next;
      return block;
    }
    if (line[0] == ' ' || line[0] == '\t') {
      if (last_kept && !out.empty()) {
        out.back().value += "\r\n";
        out.back().value.append(line);
      }
    } else if (std::size_t colon = line.find(':'); colon != std::string_view::npos && colon > 0) {
      std::string_view name = line.substr(0, colon);
      while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
      if (out.size() < max_headers) {
        out.push_back({std::string(name), std::string(value)});
        last_kept = true;
      } else {
        block.too_many = true;
        last_kept = false;
      }
    } else {
      block.malformed = true;
      last_kept = false;
    }
    pos = next;
  }
  block.body_offset = text.size();
  return block;
}

Message SplitRawMessage(std::string_view raw, std::size_t max_headers) {
  if (raw.substr(0, 5) == "From ") {
    const std::size_t eol = raw.find('\n');
    raw = eol == std::string_view::npos ? std::string_view() : raw.substr(eol + 1);
  }
  Message m;
  const HeaderBlock block = ParseHeaderBlock(raw, max_headers, m.headers);
  m.body = std::string(raw.substr(block.body_offset));
  return m;
}

void NeutraliseHeaders(Message& message) {
  std::vector<Header> kept;
  for (Header& h : message.headers) {
    const absl::string_view n(h.name.data(), h.name.size());
    if (absl::EqualsIgnoreCase(n, "from") || absl::EqualsIgnoreCase(n, "to") || absl::EqualsIgnoreCase(n, "cc") ||
        absl::EqualsIgnoreCase(n, "subject") || absl::EqualsIgnoreCase(n, "date") ||
        absl::EqualsIgnoreCase(n, "message-id") || absl::EqualsIgnoreCase(n, "mime-version") ||
        absl::StartsWithIgnoreCase(n, "content-")) {
      kept.push_back(std::move(h));
    }
  }
  message.headers = std::move(kept);
}

}  // namespace hive::policy::content
