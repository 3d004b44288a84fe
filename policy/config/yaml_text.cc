#include "config/yaml_text.h"

namespace hive::policy::config {

namespace {

bool IsKeyLine(std::string_view line, std::string_view key) {
  if (line.substr(0, key.size()) != key) return false;
  line.remove_prefix(key.size());
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  return !line.empty() && line.front() == ':';
}

bool StartsAtColumnZero(std::string_view line) {
  return !line.empty() && line.front() != ' ' && line.front() != '\t' && line.front() != '\n' && line.front() != '\r';
}

}  // namespace

std::string WithoutTopLevelSection(std::string_view yaml, std::string_view key) {
  std::string out;
  out.reserve(yaml.size());
  bool inside = false;
  std::size_t at = 0;
  while (at < yaml.size()) {
    std::size_t end = yaml.find('\n', at);
    end = end == std::string_view::npos ? yaml.size() : end + 1;
    const std::string_view line = yaml.substr(at, end - at);
    at = end;
    if (StartsAtColumnZero(line)) inside = IsKeyLine(line, key);
    if (!inside) out.append(line);
  }
  return out;
}

}  // namespace hive::policy::config
