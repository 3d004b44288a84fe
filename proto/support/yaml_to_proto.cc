#include "support/yaml_to_proto.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>
#include <yaml-cpp/yaml.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace hive::config {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// FailureMode -> FAILURE_MODE_
std::string EnumPrefix(const google::protobuf::EnumDescriptor& type) {
  std::string prefix;
  for (char c : type.name()) {
    if (absl::ascii_isupper(c) && !prefix.empty()) prefix += '_';
    prefix += absl::ascii_toupper(c);
  }
  return prefix + "_";
}

// Distinguishes an enum number from an int32 value in the scalar sinks.
struct EnumNumber {
  int number;
};

class Converter {
 public:
  Converter(std::string_view source, SourceMap* positions) : source_(source), positions_(positions) {}

  absl::Status FillMessage(const YAML::Node& node, const std::string& path, Message& msg) {
    Remember(node, path);
    if (msg.GetDescriptor()->full_name() == "google.protobuf.Duration") {
      return FillDuration(node, path, msg);
    }
    if (node.IsNull()) return absl::OkStatus();
    if (!node.IsMap()) return Error(node, path, "expected a mapping of fields");
    const Descriptor* desc = msg.GetDescriptor();
    std::set<std::string> seen;
    for (const auto& item : node) {
      const YAML::Node& key = item.first;
      if (!key.IsScalar()) return Error(key, path, "field names must be plain strings");
      const std::string name = key.Scalar();
      const std::string field_path = path.empty() ? name : absl::StrCat(path, ".", name);
      if (!seen.insert(name).second) return Error(key, field_path, "duplicate field");
      const FieldDescriptor* field = desc->FindFieldByName(name);
      if (field == nullptr) field = desc->FindFieldByCamelcaseName(name);
      if (field == nullptr) {
        return Error(key, field_path, absl::StrCat("unknown field (", desc->name(), " has no field '", name, "')"));
      }
      if (absl::Status s = FillField(item.second, field_path, *field, msg); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

 private:
  absl::Status FillField(const YAML::Node& node, const std::string& path, const FieldDescriptor& field,
                         Message& msg) {
    Remember(node, path);
    if (node.IsNull()) return absl::OkStatus();
    if (field.is_map()) return FillMap(node, path, field, msg);
    if (field.is_repeated()) {
      if (!node.IsSequence()) return Error(node, path, "expected a list");
      for (std::size_t i = 0; i < node.size(); ++i) {
        const std::string elem_path = absl::StrCat(path, "[", i, "]");
        if (absl::Status s = AddValue(node[i], elem_path, field, msg); !s.ok()) return s;
      }
      return absl::OkStatus();
    }
    return SetValue(node, path, field, msg);
  }

  absl::Status FillMap(const YAML::Node& node, const std::string& path, const FieldDescriptor& field,
                       Message& msg) {
    if (!node.IsMap()) return Error(node, path, "expected a mapping");
    const Descriptor* entry = field.message_type();
    for (const auto& item : node) {
      Message* added = msg.GetReflection()->AddMessage(&msg, &field);
      const std::string key_path = absl::StrCat(path, "[", item.first.Scalar(), "]");
      if (absl::Status s = SetValue(item.first, key_path, *entry->map_key(), *added); !s.ok()) return s;
      if (absl::Status s = SetValue(item.second, key_path, *entry->map_value(), *added); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  // One scalar or message value into a singular field.
  absl::Status SetValue(const YAML::Node& node, const std::string& path, const FieldDescriptor& field,
                        Message& msg) {
    const Reflection* r = msg.GetReflection();
    if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      return FillMessage(node, path, *r->MutableMessage(&msg, &field));
    }
    return ConvertScalar(node, path, field, [&](auto value) {
      using T = decltype(value);
      if constexpr (std::is_same_v<T, int32_t>) r->SetInt32(&msg, &field, value);
      else if constexpr (std::is_same_v<T, int64_t>) r->SetInt64(&msg, &field, value);
      else if constexpr (std::is_same_v<T, uint32_t>) r->SetUInt32(&msg, &field, value);
      else if constexpr (std::is_same_v<T, uint64_t>) r->SetUInt64(&msg, &field, value);
      else if constexpr (std::is_same_v<T, double>) r->SetDouble(&msg, &field, value);
      else if constexpr (std::is_same_v<T, float>) r->SetFloat(&msg, &field, value);
      else if constexpr (std::is_same_v<T, bool>) r->SetBool(&msg, &field, value);
      else if constexpr (std::is_same_v<T, std::string>) r->SetString(&msg, &field, value);
      else r->SetEnumValue(&msg, &field, value.number);
    });
  }

  // One element of a repeated field.
  absl::Status AddValue(const YAML::Node& node, const std::string& path, const FieldDescriptor& field,
                        Message& msg) {
    const Reflection* r = msg.GetReflection();
    if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      return FillMessage(node, path, *r->AddMessage(&msg, &field));
    }
    if (node.IsNull()) return Error(node, path, "empty list element");
    Remember(node, path);
    return ConvertScalar(node, path, field, [&](auto value) {
      using T = decltype(value);
      if constexpr (std::is_same_v<T, int32_t>) r->AddInt32(&msg, &field, value);
      else if constexpr (std::is_same_v<T, int64_t>) r->AddInt64(&msg, &field, value);
      else if constexpr (std::is_same_v<T, uint32_t>) r->AddUInt32(&msg, &field, value);
      else if constexpr (std::is_same_v<T, uint64_t>) r->AddUInt64(&msg, &field, value);
      else if constexpr (std::is_same_v<T, double>) r->AddDouble(&msg, &field, value);
      else if constexpr (std::is_same_v<T, float>) r->AddFloat(&msg, &field, value);
      else if constexpr (std::is_same_v<T, bool>) r->AddBool(&msg, &field, value);
      else if constexpr (std::is_same_v<T, std::string>) r->AddString(&msg, &field, value);
      else r->AddEnumValue(&msg, &field, value.number);
    });
  }

  template <typename Sink>
  absl::Status ConvertScalar(const YAML::Node& node, const std::string& path, const FieldDescriptor& field,
                             Sink&& sink) {
    if (!node.IsScalar()) return Error(node, path, "expected a single value");
    const std::string& text = node.Scalar();
    switch (field.cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32: return Integer<int32_t>(node, path, text, sink);
      case FieldDescriptor::CPPTYPE_INT64: return Integer<int64_t>(node, path, text, sink);
      case FieldDescriptor::CPPTYPE_UINT32: return Integer<uint32_t>(node, path, text, sink);
      case FieldDescriptor::CPPTYPE_UINT64: return Integer<uint64_t>(node, path, text, sink);
      case FieldDescriptor::CPPTYPE_DOUBLE:
      case FieldDescriptor::CPPTYPE_FLOAT: {
        double value = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
          return Error(node, path, absl::StrCat("'", text, "' is not a number"));
        }
        if (field.cpp_type() == FieldDescriptor::CPPTYPE_FLOAT) sink(static_cast<float>(value));
        else sink(value);
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_BOOL: {
        const std::string lower = absl::AsciiStrToLower(text);
        if (lower == "true" || lower == "yes" || lower == "on") sink(true);
        else if (lower == "false" || lower == "no" || lower == "off") sink(false);
        else return Error(node, path, absl::StrCat("'", text, "' is not true or false"));
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_STRING: sink(std::string(text)); return absl::OkStatus();
      case FieldDescriptor::CPPTYPE_ENUM: {
        const EnumValueDescriptor* value = FindEnumValue(*field.enum_type(), text);
        if (value == nullptr || value->number() == 0) {
          std::string names;
          for (int i = 1; i < field.enum_type()->value_count(); ++i) {
            absl::StrAppend(&names, i > 1 ? ", " : "", ShortEnumName(*field.enum_type()->value(i)));
          }
          return Error(node, path, absl::StrCat("'", text, "' is not one of: ", names));
        }
        sink(EnumNumber{value->number()});
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_MESSAGE: break;
    }
    return Error(node, path, "unsupported field type");
  }

  template <typename T, typename Sink>
  absl::Status Integer(const YAML::Node& node, const std::string& path, const std::string& text, Sink& sink) {
    T value{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc::result_out_of_range) {
      return Error(node, path, absl::StrCat("'", text, "' is out of range"));
    }
    if (ec != std::errc() || end != text.data() + text.size()) {
      return Error(node, path, absl::StrCat("'", text, "' is not a whole number",
                                            std::is_unsigned_v<T> ? " >= 0" : ""));
    }
    sink(value);
    return absl::OkStatus();
  }

  static const EnumValueDescriptor* FindEnumValue(const google::protobuf::EnumDescriptor& type,
                                                  const std::string& text) {
    if (const auto* exact = type.FindValueByName(text)) return exact;
    return type.FindValueByName(EnumPrefix(type) + absl::AsciiStrToUpper(text));
  }

  absl::Status FillDuration(const YAML::Node& node, const std::string& path, Message& msg) {
    if (!node.IsScalar()) return Error(node, path, "expected a duration such as 250ms, 2s, 5m, 1h, 1d");
    absl::StatusOr<google::protobuf::Duration> d = ParseDuration(node.Scalar());
    if (!d.ok()) return Error(node, path, std::string(d.status().message()));
    msg.CopyFrom(*d);
    return absl::OkStatus();
  }

  std::string Location(const YAML::Node& node) const {
    const YAML::Mark mark = node.Mark();
    if (mark.is_null()) return source_;
    return absl::StrCat(source_, ":", mark.line + 1, ":", mark.column + 1);
  }

  void Remember(const YAML::Node& node, const std::string& path) {
    if (positions_ != nullptr && !path.empty()) positions_->Record(path, Location(node));
  }

  absl::Status Error(const YAML::Node& node, const std::string& path, std::string_view problem) const {
    return absl::InvalidArgumentError(
        absl::StrCat(Location(node), ": ", path.empty() ? "(top level)" : path, ": ", std::string(problem)));
  }

  std::string source_;
  SourceMap* positions_;
};

}  // namespace

std::string SourceMap::Locate(const std::string& field_path) const {
  std::string path = field_path;
  while (!path.empty()) {
    if (auto it = locations_.find(path); it != locations_.end()) return it->second;
    const std::size_t cut = path.find_last_of(".[");
    if (cut == std::string::npos) break;
    path.resize(cut);
  }
  return source_;
}

std::string SourceMap::Describe(const std::string& field_path, const std::string& problem) const {
  return absl::StrCat(Locate(field_path), ": ", field_path, ": ", problem);
}

absl::StatusOr<google::protobuf::Duration> ParseDuration(std::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("empty duration");
  int64_t total_ms = 0;
  std::string_view rest = text;
  while (!rest.empty()) {
    int64_t number = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), number);
    if (ec != std::errc() || number < 0) {
      return absl::InvalidArgumentError(absl::StrCat("'", std::string(text), "' is not a duration such as 250ms, 2s, 5m, 1h, 1d"));
    }
    rest.remove_prefix(end - rest.data());
    int64_t unit_ms = 0;
    if (rest.rfind("ms", 0) == 0) unit_ms = 1, rest.remove_prefix(2);
    else if (!rest.empty() && rest[0] == 's') unit_ms = 1000, rest.remove_prefix(1);
    else if (!rest.empty() && rest[0] == 'm') unit_ms = 60'000, rest.remove_prefix(1);
    else if (!rest.empty() && rest[0] == 'h') unit_ms = 3'600'000, rest.remove_prefix(1);
    else if (!rest.empty() && rest[0] == 'd') unit_ms = 86'400'000, rest.remove_prefix(1);
    else if (!rest.empty() && rest[0] == 'w') unit_ms = 7 * 86'400'000LL, rest.remove_prefix(1);
    else return absl::InvalidArgumentError(absl::StrCat("'", std::string(text), "' needs a unit: ms, s, m, h, d or w"));
    if (number > std::numeric_limits<int64_t>::max() / unit_ms / 2) {
      return absl::InvalidArgumentError(absl::StrCat("'", std::string(text), "' is too long"));
    }
    total_ms += number * unit_ms;
  }
  google::protobuf::Duration d;
  d.set_seconds(total_ms / 1000);
  d.set_nanos(static_cast<int32_t>(total_ms % 1000) * 1'000'000);
  return d;
}

absl::Status YamlToProto(std::string_view yaml_text, std::string_view source_name,
                         google::protobuf::Message& out, SourceMap* positions) {
  out.Clear();
  if (positions != nullptr) positions->SetSource(std::string(source_name));
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(source_name), ":", e.mark.line + 1, ":", e.mark.column + 1, ": invalid YAML: ", e.msg));
  }
  try {
    return Converter(source_name, positions).FillMessage(root, "", out);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(source_name), ": ", e.what()));
  }
}

std::string ShortEnumName(const google::protobuf::EnumValueDescriptor& value) {
  const std::string prefix = EnumPrefix(*value.type());
  const std::string& name = value.name();
  // Without the prefix only the full name reads back.
  if (name.rfind(prefix, 0) != 0) return name;
  return absl::AsciiStrToLower(name.substr(prefix.size()));
}

absl::StatusOr<std::string> ReadConfigFile(const std::string& path) {
  // A directory opens and reads as empty: it would load as an empty config.
  struct stat st {};
  if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": is a directory, not a configuration file"));
  }
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read error"));
  return text.str();
}

absl::Status YamlFileToProto(const std::string& path, google::protobuf::Message& out,
                             SourceMap* positions) {
  absl::StatusOr<std::string> text = ReadConfigFile(path);
  if (!text.ok()) return text.status();
  return YamlToProto(*text, path, out, positions);
}

}  // namespace hive::config
