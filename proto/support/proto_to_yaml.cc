#include "support/proto_to_yaml.h"

#include <yaml-cpp/yaml.h>

#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/duration.pb.h>
#include <google/protobuf/reflection.h>

#include "absl/strings/str_cat.h"
#include "support/yaml_to_proto.h"

namespace hive::config {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

std::string DurationText(const Message& m) {
  google::protobuf::Duration d;
  d.CopyFrom(m);
  const std::int64_t ms = d.seconds() * 1000 + d.nanos() / 1'000'000;
  // As an operator writes it (1h, not 3600s); the reader takes ms at the
  // finest, finer durations are not configured.
  if (ms == 0) return "0s";
  for (const auto& [unit, unit_ms] : {std::pair{"w", 7 * 86'400'000LL}, {"d", 86'400'000LL}, {"h", 3'600'000LL},
                                      {"m", 60'000LL}, {"s", 1'000LL}}) {
    if (ms % unit_ms == 0) return absl::StrCat(ms / unit_ms, unit);
  }
  return absl::StrCat(ms, "ms");
}

void EmitMessage(YAML::Emitter& out, const Message& m);

void EmitValue(YAML::Emitter& out, const Message& m, const FieldDescriptor& f, int index) {
  const auto* r = m.GetReflection();
  const bool rep = f.is_repeated();
  switch (f.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32: out << (rep ? r->GetRepeatedInt32(m, &f, index) : r->GetInt32(m, &f)); break;
    case FieldDescriptor::CPPTYPE_INT64: out << (rep ? r->GetRepeatedInt64(m, &f, index) : r->GetInt64(m, &f)); break;
    case FieldDescriptor::CPPTYPE_UINT32: out << (rep ? r->GetRepeatedUInt32(m, &f, index) : r->GetUInt32(m, &f)); break;
    case FieldDescriptor::CPPTYPE_UINT64: out << (rep ? r->GetRepeatedUInt64(m, &f, index) : r->GetUInt64(m, &f)); break;
    case FieldDescriptor::CPPTYPE_DOUBLE: out << (rep ? r->GetRepeatedDouble(m, &f, index) : r->GetDouble(m, &f)); break;
    case FieldDescriptor::CPPTYPE_FLOAT: out << (rep ? r->GetRepeatedFloat(m, &f, index) : r->GetFloat(m, &f)); break;
    case FieldDescriptor::CPPTYPE_BOOL: out << (rep ? r->GetRepeatedBool(m, &f, index) : r->GetBool(m, &f)); break;
    case FieldDescriptor::CPPTYPE_ENUM:
      // In lower case as the docs write them (tempfail, messages).
      out << ShortEnumName(*(rep ? r->GetRepeatedEnum(m, &f, index) : r->GetEnum(m, &f)));
      break;
    case FieldDescriptor::CPPTYPE_STRING:
      // Double-quoted: regexes and globs keep every character.
      out << YAML::DoubleQuoted << (rep ? r->GetRepeatedString(m, &f, index) : r->GetString(m, &f));
      break;
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      const Message& sub = rep ? r->GetRepeatedMessage(m, &f, index) : r->GetMessage(m, &f);
      if (sub.GetDescriptor()->full_name() == "google.protobuf.Duration") {
        out << DurationText(sub);
      } else {
        EmitMessage(out, sub);
      }
      break;
    }
  }
}

void EmitMessage(YAML::Emitter& out, const Message& m) {
  std::vector<const FieldDescriptor*> fields;
  m.GetReflection()->ListFields(m, &fields);
  out << YAML::BeginMap;
  for (const FieldDescriptor* f : fields) {
    out << YAML::Key << f->name() << YAML::Value;
    if (f->is_repeated()) {
      out << YAML::BeginSeq;
      for (int i = 0; i < m.GetReflection()->FieldSize(m, f); ++i) EmitValue(out, m, *f, i);
      out << YAML::EndSeq;
    } else {
      EmitValue(out, m, *f, 0);
    }
  }
  out << YAML::EndMap;
}

}  // namespace

std::string ProtoToYaml(const Message& message) {
  YAML::Emitter out;
  out.SetDoublePrecision(17);
  EmitMessage(out, message);
  return absl::StrCat(out.c_str(), "\n");
}

}  // namespace hive::config
