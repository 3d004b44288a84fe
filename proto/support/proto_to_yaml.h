// Writes a protobuf message as YAML that support/yaml_to_proto reads back
// into an equal message: what an object-level change (ApplyObject,
// DeleteObject) writes to the policy file, and what hivectl shows of one
// object. Only fields that are set are
// written; enums by their short lower-case names (tempfail, messages), as
// the docs write them; google.protobuf.Duration in its largest whole unit
// ("250ms", "90s", "1h", "2w"). Comments of the operator's file do not survive such a rewrite
// (whole-policy applies keep the text as given).
//
// Thread-safe: pure.
#pragma once

#include <string>

#include <google/protobuf/message.h>

namespace hive::config {

std::string ProtoToYaml(const google::protobuf::Message& message);

}  // namespace hive::config
